/**
 * `llm-relay bench` replays what Claude Code, Codex, the `ollama` client and
 * Gemini CLI sent, and a legacy completion, recorded in their own protocols
 * (`prompt_json` is the body as received), against a chat-only candidate: the
 * real CLI in a child process on the logs.db the proxy wrote, the candidate a
 * real HTTP server speaking Chat Completions.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runCli } from "../helpers/cli.js";
import { rows } from "../helpers/db.js";
import { fakeDeployment, startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import { startFakeCandidate, type FakeCandidate } from "../bench-replay/helpers/fake-candidate.js";

const AGENTS = path.resolve(import.meta.dirname, "../../../shared/fixtures/agents");

function capturedBody(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(AGENTS, file), "utf8")) as Record<string, unknown>;
}

let proxy: TestProxy;
let candidate: FakeCandidate;
let cwd: string;
const claudeCode = capturedBody("anthropic-messages/claude-code.nonstream-retry.request.body.json");
const codex = capturedBody("openai-responses/codex.turn1.request.body.json");
const ollamaChat = capturedBody("ollama-native/ollama-js.chat-nonstream.request.body.json");
const geminiCli = capturedBody("gemini-generatecontent/gemini-cli.router-generateContent.request.body.json");

async function post(url: string, body: unknown): Promise<void> {
  const answer = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(answer.status, await answer.text()).toBe(200);
}

beforeAll(async () => {
  proxy = await startTestProxy();
  const messages = await fetch(`${proxy.url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(claudeCode),
  });
  expect(messages.status).toBe(200);
  const responses = await fetch(`${proxy.url}/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(codex),
  });
  expect(responses.status).toBe(200);
  await responses.text(); // Codex streams: read to the end
  await post(`${proxy.url}/api/chat`, ollamaChat);
  await post(`${proxy.url}/v1beta/models/gemini-3.5-flash-lite:generateContent`, geminiCli);
  await post(`${proxy.url}/v1/completions`, { model: "gpt-3.5-turbo-instruct", prompt: "Once upon a time" });
  await proxy.server.ctx.recorder.flush();
  candidate = await startFakeCandidate({ firstChunkDelayMs: 0, chunkDelayMs: 0, chunkCount: 2, answer: () => "ok" });
  cwd = tempDir("llm-relay-bench-agents-");
  fs.writeFileSync(
    path.join(cwd, "llm-relay.yaml"),
    stringify({ db: proxy.dbPath, models: { "chat-only": fakeDeployment(candidate.baseUrl) } }),
  );
}, 60_000);

afterAll(async () => {
  await candidate?.close();
  await proxy?.close();
});

describe("bench on recorded agent turns", () => {
  it("replays Claude Code, Codex, ollama, Gemini CLI and legacy completion turns as chat requests, and stores every result", async () => {
    const recorded = rows<{ protocol: string }>(
      proxy.dbPath,
      "SELECT protocol FROM llm_relay_exchanges ORDER BY response_id",
    );
    expect(recorded.map((r) => r.protocol)).toEqual(["messages", "responses", "ollama", "gemini", "completions"]);

    const result = await runCli(["bench", "--candidates", "chat-only"], { cwd, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(candidate.requests).toHaveLength(5);
    const bodies = candidate.requests.map((r) => r.body as { messages: { role: string; content: unknown }[] });
    const including = (text: string) => bodies.find((b) => JSON.stringify(b.messages).includes(text));
    const fromClaude = including("You are a Claude agent");
    const fromOllama = bodies.find((b) => b.messages.length === 1 && JSON.stringify(b.messages).includes("say hi"));
    const fromGemini = including("This is the Gemini CLI");
    const fromLegacy = including("Once upon a time");
    const fromCodex = bodies.find((b) => ![fromClaude, fromOllama, fromGemini, fromLegacy].includes(b));
    // Claude Code's system blocks became the leading system message, its user blocks the user turn.
    expect(fromClaude?.messages[0]?.role).toBe("system");
    expect(fromClaude?.messages.some((m) => m.role === "user")).toBe(true);
    expect(fromClaude).toHaveProperty("tools");
    // Codex's developer and user items became chat messages (developer → system).
    expect(fromCodex?.messages.map((m) => m.role)).not.toContain("developer");
    expect(fromCodex?.messages.at(-1)?.role).toBe("user");
    // The ollama client's chat, Gemini CLI's contents and the legacy prompt became chat messages too.
    expect(fromOllama?.messages).toEqual([{ role: "user", content: "say hi" }]);
    expect(fromGemini?.messages.at(-1)?.role).toBe("user");
    expect(fromLegacy?.messages).toEqual([{ role: "user", content: "Once upon a time" }]);
    expect(rows(proxy.dbPath, "SELECT COUNT(*) AS n FROM bench_results WHERE error IS NULL")).toEqual([{ n: 5 }]);
  }, 90_000);
});
