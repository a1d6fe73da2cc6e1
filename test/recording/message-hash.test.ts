import { describe, expect, it } from "vitest";
import type { LlmMessage } from "../../src/recording/llm-message.js";
import { llmCanonicalJson, MessageHashCache, messageHash, pythonJsonDumps } from "../../src/recording/message-hash.js";

const text = (role: LlmMessage["role"], t: string): LlmMessage => ({ role, parts: [{ type: "text", text: t }] });

describe("messageHash", () => {
  it("matches llm's hashes for the geography chain (docs/llm-logs-db.md)", () => {
    const chain = [
      text("system", "You are a concise geography tutor."),
      text("user", "What is the capital of France?"),
      text("assistant", "Paris."),
      text("user", "And of Germany?"),
      text("assistant", "Berlin."),
    ];
    const expected = [
      "b2:e08f6951c793620eb0821c588af0cd07",
      "b2:81c6fae86badd867df0f81cf83f6bd1a",
      "b2:c16dca6ea318e8360584bc32f8c2d65a",
      "b2:de68b4acf90f27372b26148b15e7fa43",
      "b2:96185b4f513ef74affec1953e0e6a507",
    ];
    let parent: string | null = null;
    const got: string[] = [];
    for (const m of chain) {
      parent = messageHash(m, parent);
      got.push(parent);
    }
    expect(got).toEqual(expected);
  });

  it("matches llm for non-ASCII, quotes, backslash and U+2028", () => {
    const m = text("user", 'Café – naïve 🐧 "q" \\ \u2028');
    expect(messageHash(m, null)).toBe("b2:5271307fd5c69bd2b3ef61dfe64042a4");
  });
});

describe("llmCanonicalJson", () => {
  it("sorts keys recursively and writes no spaces", () => {
    expect(llmCanonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
  it("escapes like Python json.dumps(ensure_ascii=False)", () => {
    expect(llmCanonicalJson("a\u0001\b\f\n\r\t\u001f\u007f\u2028é🐧")).toBe(
      '"a\\u0001\\b\\f\\n\\r\\t\\u001f\u007f\u2028é🐧"',
    );
  });
  it("sorts keys by code point like Python", () => {
    expect(llmCanonicalJson({ "\uffff": 1, "😀": 2 })).toBe('{"\uffff":1,"😀":2}');
  });
  it("writes floats as Python does", () => {
    expect(llmCanonicalJson([0.5, 1e-5, 1.25e-7, 1e22, -0.25, 3, 123.456])).toBe(
      "[0.5,1e-05,1.25e-07,10000000000000000000000,-0.25,3,123.456]",
    );
  });
});

describe("pythonJsonDumps", () => {
  it("uses Python's default separators and ASCII escapes", () => {
    expect(pythonJsonDumps({ name: "x", arguments: { q: "é🐧" } })).toBe(
      '{"name": "x", "arguments": {"q": "\\u00e9\\ud83d\\udc27"}}',
    );
  });
});

describe("MessageHashCache", () => {
  const chain = [
    text("system", "You are a concise geography tutor."),
    text("user", "What is the capital of France?"),
    text("assistant", "Paris."),
  ];

  it("gives messageHash's hashes, on a miss and on a hit", () => {
    const cache = new MessageHashCache();
    for (let round = 0; round < 2; round++) {
      let parent: string | null = null;
      for (const m of chain) {
        const entry = cache.lookup({ role: m.role, parts: m.parts.map((p) => ({ ...p })) }, parent);
        expect(entry.hash).toBe(messageHash(m, parent));
        parent = entry.hash;
      }
    }
    expect(cache.size).toBe(3);
  });

  it("keys on the parent: the same text after another parent is another message", () => {
    const cache = new MessageHashCache();
    const a = cache.lookup(text("user", "Hi"), null);
    const b = cache.lookup(text("user", "Hi"), a.hash);
    expect(b.hash).not.toBe(a.hash);
    expect(b.hash).toBe(messageHash(text("user", "Hi"), a.hash));
  });

  it("hashes tool parts through their canonical JSON (NaN and null differ)", () => {
    const cache = new MessageHashCache();
    const call = (args: unknown): LlmMessage => ({
      role: "assistant",
      parts: [{ type: "tool_call", name: "f", arguments: args, tool_call_id: "c1" }],
    });
    const withNull = cache.lookup(call({ x: null }), null);
    const withInf = cache.lookup(call({ x: Infinity }), null);
    expect(withNull.hash).toBe(messageHash(call({ x: null }), null));
    expect(withInf.hash).toBe(messageHash(call({ x: Infinity }), null));
    expect(withInf.hash).not.toBe(withNull.hash);
  });

  it("keeps at most maxEntries, evicting the least recently used, and starts evicted entries as not stored", () => {
    const cache = new MessageHashCache({ maxEntries: 2 });
    const first = cache.lookup(text("user", "one"), null);
    first.stored = true;
    cache.lookup(text("user", "two"), null);
    expect(cache.lookup(text("user", "one"), null).stored).toBe(true); // hit: now most recent
    cache.lookup(text("user", "three"), null); // evicts "two"
    expect(cache.size).toBe(2);
    expect(cache.lookup(text("user", "one"), null).stored).toBe(true);
    cache.lookup(text("user", "four"), null); // evicts "three"
    cache.lookup(text("user", "five"), null); // evicts "one"
    expect(cache.lookup(text("user", "one"), null).stored).toBe(false);
  });
});
