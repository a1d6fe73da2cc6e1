/**
 * The raw engine's tool plan (what goes into the prompt for each format and
 * `tool_choice`) and its reader of answers (the unusable-call rule: text,
 * one warning, nothing after it read as a call).
 */
import { describe, expect, it } from "vitest";
import { chatCompletionRequestSchema, type ChatCompletionRequest } from "../../src/protocol/chat-request.js";
import { RelayError } from "../../src/protocol/errors.js";
import { getPromptFormat } from "../../src/prompt-formats/registry.js";
import { jinjaPromptFormat } from "../../src/prompt-formats/jinja-format.js";
import { hermes } from "../../src/prompt-formats/tools/hermes.js";
import { planTools, ToolOutputReader, type ToolOutputEvent } from "../../src/providers/raw/tool-calls.js";
import { TWO_TOOLS, TWO_TOOLS_HERMES } from "./helpers/tools.js";

function body(
  extra: Record<string, unknown>,
  messages: unknown[] = [{ role: "user", content: "Hi" }],
): ChatCompletionRequest {
  return chatCompletionRequestSchema.parse({ model: "m", messages, ...extra });
}

const chatml = getPromptFormat("chatml")!;

describe("planTools", () => {
  it("chatml: the tools follow the system message after a blank line, and the offered names are read", () => {
    const plan = planTools(
      chatml,
      body({ tools: TWO_TOOLS }, [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ]),
    );
    expect(plan.messages[0]).toEqual({ role: "system", content: `Be brief.\n\n${TWO_TOOLS_HERMES}` });
    expect(plan.messages[1]).toEqual({ role: "user", content: "Hi" });
    expect(plan.reading?.convention.name).toBe("hermes");
    expect([...plan.reading!.names]).toEqual(["get_weather", "get_time"]);
    expect(plan.templateTools).toBeUndefined();
  });

  it("without a system message the tools are a system turn of their own", () => {
    const plan = planTools(chatml, body({ tools: TWO_TOOLS }));
    expect(plan.messages).toEqual([
      { role: "system", content: TWO_TOOLS_HERMES },
      { role: "user", content: "Hi" },
    ]);
  });

  it("tool_choice none, no tools, or a format without a convention: the messages as they are, the answer is text", () => {
    const request = body({ tools: TWO_TOOLS, tool_choice: "none" });
    expect(planTools(chatml, request)).toEqual({ messages: request.messages, reading: null });
    const plain = body({});
    expect(planTools(chatml, plain)).toEqual({ messages: plain.messages, reading: null });
    const zephyr = body({ tools: TWO_TOOLS });
    expect(planTools(getPromptFormat("zephyr")!, zephyr)).toEqual({ messages: zephyr.messages, reading: null });
  });

  it("a convention placed before the system text (llama3-json) leads the system message", () => {
    const format = getPromptFormat("llama3")!;
    const plan = planTools(
      format,
      body({ tools: TWO_TOOLS }, [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ]),
    );
    const content = plan.messages[0]!.content as string;
    expect(content.startsWith("You have access to the following functions.")).toBe(true);
    expect(content.endsWith("}\n\nBe brief.")).toBe(true);
    expect(plan.reading?.convention.name).toBe("llama3-json");
  });

  it("a named function: only its name is read", () => {
    const plan = planTools(
      chatml,
      body({ tools: TWO_TOOLS, tool_choice: { type: "function", function: { name: "get_time" } } }),
    );
    expect([...plan.reading!.names]).toEqual(["get_time"]);
  });

  it("a jinja: template gets the tools as its variable", () => {
    const format = jinjaPromptFormat("jinja:t.jinja", "test", {
      template: "{% for tool in tools %}{{ tool.function.name }};{% endfor %}{{ messages[0].content }}",
      origin: "test",
    });
    const plan = planTools(format, body({ tools: TWO_TOOLS }));
    expect(plan.templateTools).toEqual(TWO_TOOLS);
    expect(plan.reading).toBeNull();
    expect(format.render(plan.messages, { tools: plan.templateTools })).toBe("get_weather;get_time;Hi");
  });

  it("tools that are not OpenAI's shape are a 400 naming the field", () => {
    for (const [extra, param] of [
      [{ tools: { type: "function" } }, "tools"],
      [{ tools: [{ type: "function", function: { description: "no name" } }] }, "tools"],
      [{ tools: TWO_TOOLS, tool_choice: "always" }, "tool_choice"],
    ] as const) {
      let caught: unknown;
      try {
        planTools(chatml, body(extra));
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(extra)).toBeInstanceOf(RelayError);
      expect((caught as RelayError).status).toBe(400);
      expect((caught as RelayError).param).toBe(param);
    }
  });
});

const PARIS = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const STOCK = '<tool_call>\n{"name": "get_stock", "arguments": {"symbol": "ACME"}}\n</tool_call>';

/** The events of `text` read in one piece, and the warnings. */
function read(text: string, names = ["get_weather", "get_time"]): { events: ToolOutputEvent[]; warnings: string[] } {
  const warnings: string[] = [];
  const reader = new ToolOutputReader(hermes, new Set(names), (problem) => warnings.push(problem));
  return { events: [...reader.push(text), ...reader.end()], warnings };
}

describe("ToolOutputReader", () => {
  it("a call to a function that was not offered is text, with one warning", () => {
    const { events, warnings } = read(`Let me see.\n${STOCK}\n${STOCK}`);
    expect(events.map((event) => ("content" in event ? event.content : "CALL")).join("")).toBe(
      `Let me see.\n${STOCK}\n${STOCK}`,
    );
    expect(warnings).toEqual(['the function "get_stock" was not offered']);
  });

  it("calls before an unusable one stand; it and every block after it are text", () => {
    const { events, warnings } = read(`${PARIS}\n${STOCK}\n${PARIS}`);
    expect(events.filter((event) => "call" in event)).toHaveLength(1);
    expect(events.map((event) => ("content" in event ? event.content : "")).join("")).toBe(`\n${STOCK}\n${PARIS}`);
    expect(warnings).toHaveLength(1);
  });

  it("each call gets its own call_ id", () => {
    const { events } = read(`${PARIS}\n${PARIS}`);
    const ids = events.flatMap((event) => ("call" in event ? [event.call.id] : []));
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(new Set(ids).size).toBe(2);
  });
});
