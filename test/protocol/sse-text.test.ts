/**
 * Cutting SSE bytes into blocks of complete events (src/protocol/sse-text.ts),
 * checked at every split point of a stream that mixes LF, CRLF and CR line
 * ends, comments, multi-line data and multi-byte UTF-8: the blocks give back
 * the stream unchanged and a client's parser (eventsource-parser) reads the
 * same events from them as from the whole stream.
 */
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { SseEventCutter, sseDataOf, sseEvents, withoutEvents } from "../../src/protocol/sse-text.js";

const STREAM =
  'data: {"a":"Grüße 🦊"}\n\n' +
  ": comment\r\n\r\n" +
  "event: message\r\nid: 7\r\ndata: line one\r\ndata: line two\r\n\r\n" +
  "data: cr only\r\r" +
  'data: {"b":2}\n\n';

function clientEvents(text: string): string[] {
  const out: string[] = [];
  const parser = createParser({ onEvent: (e) => out.push(e.data) });
  parser.feed(text);
  parser.feed("\n\n");
  return out;
}

describe("SseEventCutter", () => {
  const bytes = Buffer.from(STREAM);
  const expected = clientEvents(STREAM);

  it("gives back the stream unchanged, in blocks of whole events, for every split of it into two reads", () => {
    expect(expected).toEqual(['{"a":"Grüße 🦊"}', "line one\nline two", "cr only", '{"b":2}']);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const cutter = new SseEventCutter();
      const blocks = [cutter.push(bytes.subarray(0, cut)), cutter.push(bytes.subarray(cut)), cutter.end()];
      expect(blocks.join(""), `cut at ${cut}`).toBe(STREAM);
      expect(sseDataOf(blocks.slice(0, 1)), `first block at cut ${cut}`).toEqual(
        expected.slice(0, sseDataOf(blocks.slice(0, 1)).length),
      );
      expect(sseDataOf(blocks)).toEqual(expected);
    }
  });

  it("holds an event until its blank line arrives, and ends a last event sent without one", () => {
    const cutter = new SseEventCutter();
    expect(cutter.push("data: one\n")).toBe("");
    expect(cutter.push("\ndata: tw")).toBe("data: one\n\n");
    expect(cutter.push("o")).toBe("");
    expect(cutter.end()).toBe("data: two\n\n");
    expect(new SseEventCutter().end()).toBe("");
  });

  it("drops the byte order mark a stream starts with, at every split of its three bytes, and keeps a U+FEFF later on", () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("data: \ufeffa\n\n")]);
    for (const cut of [0, 1, 2, 3, 4]) {
      const cutter = new SseEventCutter();
      const blocks = [cutter.push(withBom.subarray(0, cut)), cutter.push(withBom.subarray(cut)), cutter.end()];
      expect(blocks.join(""), `cut at ${cut}`).toBe("data: \ufeffa\n\n");
    }
  });

  it("reads an invalid UTF-8 byte as U+FFFD and a sequence cut off at the end as one U+FFFD", () => {
    const cutter = new SseEventCutter();
    expect(cutter.push(Buffer.from([0x64, 0x3a, 0x20, 0xff, 0x0a, 0x0a]))).toBe("d: \ufffd\n\n");
    expect(cutter.push(Buffer.from([0x64, 0x3a, 0x20, 0xf0, 0x9f]))).toBe("");
    expect(cutter.end()).toBe("d: \ufffd\n\n");
  });
});

describe("sseEvents and withoutEvents", () => {
  it("split a block into its events as sent, with each one's data", () => {
    const events = sseEvents(STREAM);
    expect(events.map((e) => e.raw).join("")).toBe(STREAM);
    expect(events.map((e) => e.data)).toEqual(['{"a":"Grüße 🦊"}', null, "line one\nline two", "cr only", '{"b":2}']);
  });

  it("remove only the selected events, whole", () => {
    expect(withoutEvents(STREAM, (data) => data === "cr only")).toBe(STREAM.replace("data: cr only\r\r", ""));
    expect(withoutEvents(STREAM, () => false)).toBe(STREAM);
  });

  it("find the events to remove by a mark in LF-only blocks, and fall back to a split for anything unusual", () => {
    const block = 'data: {"x":1}\n\ndata: {"drop":1}\n\n: note\n\ndata: {"x":2}\n\ndata:{"drop":2}\n\n';
    const drop = (data: string) => data.includes('"drop"');
    expect(withoutEvents(block, drop, '"drop"')).toBe('data: {"x":1}\n\n: note\n\ndata: {"x":2}\n\n');
    expect(withoutEvents(block, drop, '"drop"')).toBe(withoutEvents(block, drop));
    // The mark inside an event of two data lines: the general path decides.
    const multi = 'data: {"x":1}\n\ndata: {"drop":\ndata: 3}\n\n';
    expect(withoutEvents(multi, drop, '"drop"')).toBe('data: {"x":1}\n\n');
    // The mark in an event that is not dropped: unchanged.
    expect(withoutEvents('data: "drop" kept\n\n', () => false, '"drop"')).toBe('data: "drop" kept\n\n');
  });
});
