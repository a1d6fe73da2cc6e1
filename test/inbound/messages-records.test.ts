/**
 * What the record keeps of Messages exchanges translated to a chat upstream
 * (issue 18, item 4): the reply's thinking as llm's reasoning, the next turn
 * (which sends the thinking block back, signature and all) threaded into the
 * same conversation, cache reads in `token_details`, and the body as received
 * in `prompt_json` with the fields chat cannot carry.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { startChatScriptUpstream, type ChatScriptUpstream } from "./helpers/chat-script-upstream.js";

let upstream: ChatScriptUpstream;
let proxy: TestProxy;
let client: Anthropic;

beforeAll(async () => {
  upstream = await startChatScriptUpstream();
  proxy = await startTestProxy({ models: { chat: fakeDeployment(upstream.baseUrl) } });
  client = new Anthropic({ baseURL: proxy.url, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

describe("records of translated Messages exchanges", () => {
  it("keeps thinking as reasoning, threads the turn that sends it back, and keeps cache reads", async () => {
    upstream.enqueue(
      {
        reasoning: ["The user ", "greets me."],
        text: ["Hello!"],
        usage: {
          prompt_tokens: 50,
          completion_tokens: 4,
          total_tokens: 54,
          prompt_tokens_details: { cached_tokens: 32 },
        },
      },
      { text: ["Fine, thanks."] },
    );
    const system = "You are friendly.";
    const first = { role: "user" as const, content: "Hi" };
    const turn1 = await client.messages
      .stream({
        model: "chat",
        max_tokens: 100,
        system,
        thinking: { type: "enabled", budget_tokens: 64 },
        messages: [first],
      })
      .finalMessage();
    expect(turn1.usage).toMatchObject({ input_tokens: 18, cache_read_input_tokens: 32, output_tokens: 4 });
    const turn2Body = {
      model: "chat",
      max_tokens: 100,
      system,
      thinking: { type: "enabled" as const, budget_tokens: 64 },
      messages: [
        first,
        { role: "assistant" as const, content: turn1.content },
        { role: "user" as const, content: "How are you?" },
      ],
    };
    const turn2 = await client.messages.create(turn2Body);
    expect(turn2.content).toEqual([{ type: "text", text: "Fine, thanks." }]);

    await proxy.server.ctx.recorder.flush();
    const recorded = rows<{
      conversation_id: string;
      prompt: string;
      response: string;
      reasoning: string | null;
      token_details: string | null;
      prompt_json: string;
    }>(
      proxy.dbPath,
      "SELECT conversation_id, prompt, response, reasoning, token_details, prompt_json FROM responses ORDER BY id",
    );
    expect(recorded).toHaveLength(2);
    expect(recorded[1]!.conversation_id).toBe(recorded[0]!.conversation_id);
    expect(recorded.map((r) => [r.prompt, r.response, r.reasoning])).toEqual([
      ["Hi", "Hello!", "The user greets me."],
      ["How are you?", "Fine, thanks.", null],
    ]);
    expect(JSON.parse(recorded[0]!.token_details ?? "null")).toEqual({ prompt_tokens_details: { cached_tokens: 32 } });
    // The body as received: the thinking config and the thinking block with its signature, which chat cannot carry.
    expect(JSON.parse(recorded[1]!.prompt_json)).toEqual(JSON.parse(JSON.stringify(turn2Body)));
    expect(upstream.bodies.at(-1)).not.toHaveProperty("thinking");
    expect((upstream.bodies.at(-1)!.messages as Record<string, unknown>[])[2]).toEqual({
      role: "assistant",
      content: "Hello!",
      reasoning_content: "The user greets me.",
    });
  });
});
