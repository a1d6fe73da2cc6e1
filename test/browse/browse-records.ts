/**
 * The records the browse contract test writes into both stores: seven one-turn conversations to
 * page through (model `m-page`, the word "zebra"), a three-turn conversation with an image, a tool
 * call with reasoning, its tool result and an error turn with two attempts (model `m-tools`), and
 * one Anthropic Messages exchange (model `m-claude`). Built once, so both stores get the same ids.
 */
import type { ChatMessage } from "../../src/protocol/chat-request.js";
import type { ExchangeRecord } from "../../src/recording/types.js";
import { recordFor } from "../helpers/records.js";

/** The page conversations' records, oldest first. */
export const PAGE_RECORDS: ExchangeRecord[] = Array.from({ length: 7 }, (_, i) =>
  recordFor(
    { model: "m-page", messages: [{ role: "user", content: `page question ${i} about the zebra` }] },
    {
      responseText: `page answer ${i}`,
      provider: i < 4 ? "echo" : "openai-compatible",
      tenantId: i % 2 === 1 ? "acme" : "default",
      keyId: i % 2 === 1 ? "key_acme" : null,
      costUsd: 0.001 * (i + 1),
      client: "curl/8.5.0",
      usage: { input: 10 + i, output: 5, estimated: false },
    },
  ),
);

const TOOLS = [
  {
    type: "function",
    function: { name: "lookup", description: "Looks a thing up", parameters: { type: "object", properties: {} } },
  },
];
const CALL = { id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"cat"}' } };
const TURN1: ChatMessage[] = [
  { role: "system", content: "You describe pictures." },
  {
    role: "user",
    content: [
      { type: "text", text: "what is in this picture" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
    ],
  },
];
const TURN2: ChatMessage[] = [
  ...TURN1,
  { role: "assistant", content: null, tool_calls: [CALL] },
  { role: "tool", tool_call_id: "call_1", content: "a cat on a mat" },
];
const TURN3: ChatMessage[] = [
  ...TURN2,
  { role: "assistant", content: "It is a cat." },
  { role: "user", content: "and the mat?" },
];

/** The tool conversation's three records. */
export const TOOL_RECORDS: ExchangeRecord[] = [
  recordFor(
    { model: "m-tools", messages: TURN1, tools: TOOLS },
    {
      responseText: "",
      toolCalls: [{ id: "call_1", name: "lookup", arguments: '{"q":"cat"}' }],
      reasoning: "I should look it up.",
      finishReason: "tool_calls",
      responseJson: {
        id: "chatcmpl-t1",
        object: "chat.completion",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: null,
              reasoning_content: "I should look it up.",
              tool_calls: [CALL],
            },
            finish_reason: "tool_calls",
          },
        ],
      },
      client: "agent/1.0",
      costUsd: 0.01,
      usage: {
        input: 100,
        output: 20,
        estimated: false,
        details: { prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 12 } },
      },
    },
  ),
  recordFor(
    { model: "m-tools", messages: TURN2, tools: TOOLS },
    { responseText: "It is a cat.", client: "agent/1.0", costUsd: 0.02 },
  ),
  recordFor(
    { model: "m-tools", messages: TURN3, tools: TOOLS },
    {
      responseText: "",
      status: "error",
      httpStatus: 502,
      error: "upstream failed",
      finishReason: null,
      usage: null,
      responseJson: { error: { message: "upstream failed", type: "upstream_error" } },
      client: "agent/1.0",
      attempts: [
        {
          model: "m-tools",
          deployment: "primary",
          provider: "openai-compatible",
          upstreamModel: "tools-1",
          status: "timeout",
          httpStatus: null,
          startedMs: 0,
          durationMs: 1000,
          error: "timed out",
        },
        {
          model: "m-tools",
          deployment: "backup",
          provider: "openai-compatible",
          upstreamModel: "tools-2",
          status: "error",
          httpStatus: 502,
          startedMs: 1001,
          durationMs: 30,
          error: "upstream failed",
        },
      ],
    },
  ),
];

/** One exchange in Anthropic's Messages protocol (its body as received is `prompt_json`). */
export const CLAUDE_RECORD: ExchangeRecord = recordFor(
  { model: "m-claude", messages: [{ role: "user", content: "hello claude" }] },
  {
    protocol: "messages",
    receivedBody: {
      model: "m-claude",
      max_tokens: 100,
      system: "be brief",
      messages: [{ role: "user", content: [{ type: "text", text: "hello claude" }] }],
    },
    responseText: "Hello.",
    tenantId: "acme",
    keyId: "key_claude",
  },
);

/** Every record, in the order they are written (one batch each). */
export const ALL_RECORDS: ExchangeRecord[] = [...PAGE_RECORDS, ...TOOL_RECORDS, CLAUDE_RECORD];
