/**
 * The tool rows as llm writes them (llm-tools.ts), against values computed
 * with Python's hashlib and json.dumps (see test/fixtures/llm-golden/README.md),
 * and the reasoning part of a reply as llm 0.32's `ReasoningPart` is stored.
 */
import { describe, expect, it } from "vitest";
import { partColumns, replyToLlmMessage, withoutReasoning } from "../../src/recording/llm-message.js";
import { exchangeToolRows, requestTools, toolHash } from "../../src/recording/llm-tools.js";

describe("requestTools / toolHash", () => {
  it("hashes a tool as llm's Tool.hash() does: sha256 of json.dumps({name, description, input_schema}), key order kept, non-ASCII escaped", () => {
    // python3 -c 'import json,hashlib; print(hashlib.sha256(json.dumps({"name":"météo","description":None,"input_schema":{"type":"object","properties":{"x":{"type":"number","minimum":0.5}}}}).encode()).hexdigest())'
    expect(toolHash("météo", null, { type: "object", properties: { x: { type: "number", minimum: 0.5 } } })).toBe(
      "10ee49c769efa678a7a28b0c5f2ae3fc8e3a26b6cf565f03084a9832e2b3279f",
    );
  });

  it("reads tools[].function and the legacy functions[], once per distinct tool, {} without parameters", () => {
    const weather = {
      name: "get_weather",
      description: "Get the current weather for a city",
      parameters: { properties: { city: { type: "string" } }, required: ["city"], type: "object" },
    };
    const tools = requestTools({
      tools: [
        { type: "function", function: weather },
        { type: "function", function: weather },
        { type: "function", function: { name: "now" } },
        { type: "web_search" },
        "junk",
      ],
      functions: [
        { name: "legacy_fn", description: "Old style", parameters: { type: "object" } },
        { description: "no name" },
      ],
    });
    expect(tools).toEqual([
      {
        hash: "e187451b2ec0389fe644103b53c9838b4a067a32135260b9b0cd71979d6d6ce8",
        name: "get_weather",
        description: weather.description,
        input_schema: '{"properties": {"city": {"type": "string"}}, "required": ["city"], "type": "object"}',
      },
      { hash: toolHash("now", null, {}), name: "now", description: null, input_schema: "{}" },
      {
        hash: toolHash("legacy_fn", "Old style", { type: "object" }),
        name: "legacy_fn",
        description: "Old style",
        input_schema: '{"type": "object"}',
      },
    ]);
    expect(requestTools({ messages: [] })).toEqual([]);
  });

  it("gives each call and result the tool of its name (the last of that name, as llm's dict), or none", () => {
    const rows = exchangeToolRows(requestTools({ tools: [{ type: "function", function: { name: "a" } }] }), [
      {
        responseId: "r1",
        hasTurn: false,
        reply: {
          role: "assistant",
          parts: [
            { type: "tool_call", name: "a", arguments: { n: 1.5, s: "é" }, tool_call_id: "c1" },
            { type: "tool_call", name: "zz", arguments: "not json" },
          ],
        },
        inputs: [
          { role: "tool", parts: [{ type: "tool_result", name: "a", output: "ok", tool_call_id: "c0" }] },
          { role: "user", parts: [{ type: "text", text: "hi" }] },
        ],
      },
    ]);
    const a = toolHash("a", null, {});
    expect(rows.toolResponses).toEqual([{ tool_hash: a, response_id: "r1" }]);
    expect(rows.turnTools).toEqual([]);
    expect(rows.toolCalls).toEqual([
      { response_id: "r1", tool_hash: a, name: "a", arguments: '{"n": 1.5, "s": "\\u00e9"}', tool_call_id: "c1" },
      { response_id: "r1", tool_hash: null, name: "zz", arguments: '"not json"', tool_call_id: null },
    ]);
    expect(rows.toolResults).toEqual([
      { response_id: "r1", tool_hash: a, name: "a", output: "ok", tool_call_id: "c0" },
    ]);
  });
});

describe("reasoning in a reply", () => {
  it("is a reasoning part before the text and the tool calls, stored with its text in `text` and no payload", () => {
    const reply = replyToLlmMessage("42", [{ id: "c1", name: "calc", arguments: "{}" }], "6 x 7")!;
    expect(reply.parts.map((p) => p.type)).toEqual(["reasoning", "text", "tool_call"]);
    expect(partColumns(reply.parts[0]!)).toEqual({ toolName: null, text: "6 x 7", payload: null });
    expect(withoutReasoning(reply)).toEqual({ role: "assistant", parts: reply.parts.slice(1) });
    expect(replyToLlmMessage("", [], "only thinking")).toEqual({
      role: "assistant",
      parts: [{ type: "reasoning", text: "only thinking" }],
    });
    expect(replyToLlmMessage("", [], "")).toBeNull();
    const plain = replyToLlmMessage("hi", [], null)!;
    expect(withoutReasoning(plain)).toBe(plain);
  });
});
