import { describe, expect, it } from "vitest";
import { RelayError } from "../../src/protocol/errors.js";
import { checkBlock } from "../../src/providers/openai-compatible/sse-pass-through.js";

const chunk = (content: string): string =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}`;

/** Events (without their blank lines) joined as an upstream sends them, with `eol` line ends. */
const block = (events: string[], eol: string): string => events.map((e) => `${e}${eol}${eol}`).join("");

describe("checkBlock (what passes through of a block of upstream SSE events)", () => {
  for (const [name, eol] of [
    ["LF", "\n"],
    ["CRLF", "\r\n"],
  ] as const) {
    describe(`${name} line ends`, () => {
      const content = [
        chunk("The"),
        ": keep-alive comment",
        chunk(" quick"),
        'event: message\ndata: {"choices":[]}'.replace("\n", eol),
      ];

      it("passes a block without [DONE] or an error event on as the same text", () => {
        const text = block(content, eol);
        expect(checkBlock(text)).toEqual({ forward: text, error: null, done: false });
      });

      it("passes on every event before [DONE] byte for byte, and nothing after it", () => {
        const text = block([...content, "data: [DONE]", chunk(" late")], eol);
        expect(checkBlock(text)).toEqual({ forward: block(content, eol), error: null, done: true });
      });

      it("reads a [DONE] inside a chunk's text as text, and stops at the real one", () => {
        const tricky = [...content, chunk('say [DONE] and "error": now')];
        const text = block([...tricky, "data: [DONE]"], eol);
        expect(checkBlock(text)).toEqual({ forward: block(tricky, eol), error: null, done: true });
      });

      it("stops at an in-band error event, passing on what came before it", () => {
        const text = block(
          [...content, 'data: {"error":{"message":"overloaded","type":"server_error"}}', chunk(" after")],
          eol,
        );
        const checked = checkBlock(text);
        expect(checked.forward).toBe(block(content, eol));
        expect(checked.done).toBe(false);
        expect(checked.error).toBeInstanceOf(RelayError);
        expect(checked.error?.message).toContain("overloaded");
      });
    });
  }
});
