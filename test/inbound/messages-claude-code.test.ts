/**
 * The captured Claude Code 2.1 requests (../shared/fixtures/agents/anthropic-messages/:
 * the first turn, the turn that carries a tool result, the non-streamed
 * retry) replayed through the proxy with Claude Code's own headers, to
 * `echo` and to an OpenAI chat upstream, streamed: the events hold what the
 * fixtures' README says Claude Code needs (`message_start`,
 * `content_block_start`, `ping`, `content_block_delta`, `content_block_stop`,
 * `message_delta` with `stop_reason` and `usage`, `message_stop`, in that
 * order), and the record holds the tool loop as ONE conversation: the body
 * as received in `prompt_json`, the system prompt from the system blocks, the
 * tool call and the tool result in llm's tool tables, protocol `messages`.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { startChatScriptUpstream, type ChatScriptUpstream } from "./helpers/chat-script-upstream.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../../shared/fixtures/agents/anthropic-messages");

/** A captured request: its URL, its headers (as Claude Code sent them) and its body. */
function captured(name: string): { url: string; headers: Record<string, string>; body: Record<string, unknown> } {
  const headers = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.request.headers.json`), "utf8")) as {
    url: string;
    headers: Record<string, string>;
  };
  const body = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.request.body.json`), "utf8")) as Record<
    string,
    unknown
  >;
  return { url: headers.url, headers: headers.headers, body };
}

/** Claude Code's headers minus those of the connection (host, length, encoding). */
function clientHeaders(headers: Record<string, string>): Record<string, string> {
  const dropped = new Set(["host", "content-length", "connection", "accept-encoding"]);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.has(name)));
}

/** One SSE event as read: its `event:` name and its parsed data. */
interface Event {
  event: string;
  data: { type: string; [key: string]: unknown };
}

/** Sends `body` as Claude Code would and reads the whole stream. */
async function replay(proxy: TestProxy, name: string, body: Record<string, unknown>): Promise<Event[]> {
  const { url, headers } = captured(name);
  const response = await fetch(`${proxy.url}${url}`, {
    method: "POST",
    headers: clientHeaders(headers),
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const text = await response.text();
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .trim()
    .split("\n\n")
    .map((block) => {
      const lines = block.split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^event: /);
      expect(lines[1]).toMatch(/^data: /);
      const event: Event = {
        event: lines[0]!.slice("event: ".length),
        data: JSON.parse(lines[1]!.slice("data: ".length)) as Event["data"],
      };
      expect(event.data.type).toBe(event.event);
      return event;
    });
}

/** Checks the event sequence Claude Code needs (fixtures' README); returns the stream's content blocks as started. */
function expectClaudeCodeStream(events: Event[], stopReason: string): Record<string, unknown>[] {
  const names = events.map((e) => e.event);
  expect(names[0]).toBe("message_start");
  expect(names[1]).toBe("content_block_start");
  expect(names[2]).toBe("ping");
  expect(names.slice(-2)).toEqual(["message_delta", "message_stop"]);
  expect(names).toContain("content_block_delta");
  const start = events[0]!.data.message as { id: string; usage: { input_tokens: number; output_tokens: number } };
  expect(start.id).toMatch(/^msg_/);
  expect(start.usage.input_tokens).toBeGreaterThan(1000);
  // Every started block gets its deltas, then its stop, before the next starts.
  const blocks: Record<string, unknown>[] = [];
  let open: number | null = null;
  for (const { event, data } of events) {
    if (event === "content_block_start") {
      expect(open).toBeNull();
      expect(data.index).toBe(blocks.length);
      open = data.index as number;
      blocks.push(data.content_block as Record<string, unknown>);
    } else if (event === "content_block_delta") {
      expect(data.index).toBe(open);
      const delta = data.delta as { type: string };
      expect(["text_delta", "input_json_delta", "thinking_delta"]).toContain(delta.type);
    } else if (event === "content_block_stop") {
      expect(data.index).toBe(open);
      open = null;
    }
  }
  expect(open).toBeNull();
  expect(blocks.length).toBeGreaterThan(0);
  const delta = events.at(-2)!.data as unknown as { delta: { stop_reason: string }; usage: { output_tokens: number } };
  expect(delta.delta.stop_reason).toBe(stopReason);
  expect(delta.usage.output_tokens).toBeGreaterThan(0);
  return blocks;
}

/** The text of the streamed text deltas. */
function streamedText(events: Event[]): string {
  return events
    .filter((e) => e.event === "content_block_delta")
    .map((e) => (e.data.delta as { text?: string }).text ?? "")
    .join("");
}

describe("Claude Code to echo", () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startTestProxy();
  });
  afterAll(async () => {
    await proxy.close();
  });

  it("streams turn 1 and the tool-result turn as Claude Code needs them, and answers the non-streamed retry", async () => {
    const turn1 = captured("claude-code.turn1-stream");
    const events = await replay(proxy, "claude-code.turn1-stream", turn1.body);
    expect(expectClaudeCodeStream(events, "end_turn")).toEqual([{ type: "text", text: "" }]);
    expect(streamedText(events)).toContain("say hi");

    const turn2 = captured("claude-code.tool-result-turn2");
    const events2 = await replay(proxy, "claude-code.tool-result-turn2", turn2.body);
    expectClaudeCodeStream(events2, "end_turn");
    expect(streamedText(events2)).toContain("run echo tool-ran");

    const retry = captured("claude-code.nonstream-retry");
    const response = await fetch(`${proxy.url}${retry.url}`, {
      method: "POST",
      headers: clientHeaders(retry.headers),
      body: JSON.stringify(retry.body),
    });
    expect(response.status).toBe(200);
    const message = (await response.json()) as Record<string, unknown>;
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-opus-4-8",
      stop_reason: "end_turn",
    });
    expect((message.content as { text: string }[])[0]!.text).toContain("say hi");

    await proxy.server.ctx.recorder.flush();
    const recorded = rows<{ protocol: string; prompt_json: string; stream: number }>(
      proxy.dbPath,
      `SELECT e.protocol, r.prompt_json, e.stream FROM llm_relay_exchanges e JOIN responses r ON r.id = e.response_id ORDER BY r.id`,
    );
    expect(recorded.map((r) => [r.protocol, r.stream])).toEqual([
      ["messages", 1],
      ["messages", 1],
      ["messages", 0],
    ]);
    expect(recorded.map((r) => JSON.parse(r.prompt_json) as unknown)).toEqual([turn1.body, turn2.body, retry.body]);
  });
});

describe("Claude Code to an OpenAI chat upstream: the tool loop", () => {
  let upstream: ChatScriptUpstream;
  let proxy: TestProxy;
  beforeAll(async () => {
    upstream = await startChatScriptUpstream();
    // Both captured models (claude-opus-4-8 through default_model, and echo) go to the chat upstream.
    proxy = await startTestProxy({ defaultModel: "echo", models: { echo: fakeDeployment(upstream.baseUrl) } });
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("streams the tool call and the answer to its result, recorded as one conversation with its tool rows", async () => {
    const turn2 = captured("claude-code.tool-result-turn2");
    const messages = turn2.body.messages as { role: string; content: unknown }[];
    // Turn 1 of that session: the history of turn 2 before the assistant's tool call.
    const turn1Body = { ...turn2.body, messages: messages.slice(0, -2) };
    const toolUse = (messages.at(-2)!.content as { id: string; name: string; input: Record<string, unknown> }[])[0]!;
    upstream.enqueue(
      {
        toolCalls: [
          {
            id: toolUse.id,
            name: toolUse.name,
            pieces: ['{"command": "echo tool', '-ran", "description": "Print tool-ran"}'],
          },
        ],
        usage: { prompt_tokens: 9000, completion_tokens: 20, total_tokens: 9020 },
      },
      {
        text: ["The command ", "printed tool-ran."],
        usage: { prompt_tokens: 9100, completion_tokens: 6, total_tokens: 9106 },
      },
    );

    const events1 = await replay(proxy, "claude-code.tool-result-turn2", turn1Body);
    const blocks = expectClaudeCodeStream(events1, "tool_use");
    expect(blocks).toEqual([{ type: "tool_use", id: toolUse.id, name: "Bash", input: {} }]);
    const json = events1
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (e.data.delta as { partial_json: string }).partial_json)
      .join("");
    expect(JSON.parse(json)).toEqual(toolUse.input);
    expect((events1.at(-2)!.data.usage as Record<string, number>).output_tokens).toBe(20);

    const events2 = await replay(proxy, "claude-code.tool-result-turn2", turn2.body);
    expectClaudeCodeStream(events2, "end_turn");
    expect(streamedText(events2)).toBe("The command printed tool-ran.");

    // What the chat upstream got for turn 2: the system blocks, the history, the call and its result.
    const sent = upstream.bodies.at(-1)!;
    const systemBlocks = turn2.body.system as { text: string }[];
    const chatMessages = sent.messages as Record<string, unknown>[];
    expect(chatMessages[0]).toEqual({ role: "system", content: systemBlocks.map((b) => b.text).join("\n") });
    expect(chatMessages.map((m) => m.role)).toEqual(["system", "user", "system", "assistant", "tool"]);
    expect(chatMessages[3]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: toolUse.id, type: "function", function: { name: "Bash", arguments: JSON.stringify(toolUse.input) } },
      ],
    });
    expect(chatMessages[4]).toEqual({ role: "tool", tool_call_id: toolUse.id, content: "tool-ran" });
    expect((sent.tools as unknown[]).length).toBe(24);
    expect(sent).not.toHaveProperty("thinking");
    expect(sent).not.toHaveProperty("context_management");
    expect(sent).not.toHaveProperty("output_config");
    expect(sent.stream_options).toEqual({ include_usage: true });

    await proxy.server.ctx.recorder.flush();
    const recorded = rows<{
      id: string;
      conversation_id: string;
      system: string | null;
      prompt: string | null;
      prompt_json: string;
      protocol: string;
      input_tokens: number;
      output_tokens: number;
    }>(
      proxy.dbPath,
      `SELECT r.id, r.conversation_id, r.system, r.prompt, r.prompt_json, e.protocol, r.input_tokens, r.output_tokens
         FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id ORDER BY r.id`,
    );
    expect(recorded).toHaveLength(2);
    const [first, second] = recorded as [(typeof recorded)[0], (typeof recorded)[0]];
    expect(second.conversation_id).toBe(first.conversation_id);
    expect(recorded.map((r) => r.protocol)).toEqual(["messages", "messages"]);
    expect(JSON.parse(first.prompt_json)).toEqual(turn1Body);
    expect(JSON.parse(second.prompt_json)).toEqual(turn2.body);
    expect(first.system).toBe(systemBlocks.map((b) => b.text).join("\n"));
    // The prompt is the user's text, though Claude Code sends a system message after it; the tool-result turn has none.
    expect(first.prompt).toMatch(/^<system-reminder>[^]*\nrun echo tool-ran$/);
    expect(second.prompt).toBeNull();
    expect([first.input_tokens, first.output_tokens, second.input_tokens, second.output_tokens]).toEqual([
      9000, 20, 9100, 6,
    ]);
    expect(rows(proxy.dbPath, "SELECT COUNT(*) AS n FROM conversations")).toEqual([{ n: 1 }]);
    expect(rows(proxy.dbPath, "SELECT COUNT(*) AS n FROM threads")).toEqual([{ n: 1 }]);

    const calls = rows<{ response_id: string; name: string; arguments: string; tool_call_id: string }>(
      proxy.dbPath,
      "SELECT response_id, name, arguments, tool_call_id FROM tool_calls",
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ response_id: first.id, name: "Bash", tool_call_id: toolUse.id });
    expect(JSON.parse(calls[0]!.arguments)).toEqual(toolUse.input);
    const results = rows<{ response_id: string; name: string; output: string; tool_call_id: string }>(
      proxy.dbPath,
      "SELECT response_id, name, output, tool_call_id FROM tool_results",
    );
    expect(results).toEqual([{ response_id: second.id, name: "Bash", output: "tool-ran", tool_call_id: toolUse.id }]);
    const tools = rows<{ n: number }>(
      proxy.dbPath,
      "SELECT COUNT(*) AS n FROM tool_responses WHERE response_id = ?",
      first.id,
    );
    expect(tools).toEqual([{ n: 24 }]);
  });
});
