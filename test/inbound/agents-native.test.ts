/**
 * Both captured agents' tool loops through the proxy to an upstream that
 * speaks their own protocol (issue 18's "same-protocol upstream"): Claude
 * Code's two turns to an Anthropic deployment, Codex's two turns to an
 * `openai-compatible` deployment that lists `responses`. The upstream is a
 * real HTTP server on loopback answering with the answers each agent
 * accepted (../shared/fixtures/agents/); the client gets those bytes back
 * unchanged, and the record holds each loop as one conversation with its
 * tool rows. Turn 1 of each loop is turn 2's request without its last two
 * items (the tool call and its result), as the agent sent it.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentDefaults } from "../../src/config/schema.js";
import { rows } from "../helpers/db.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const AGENTS = path.resolve(import.meta.dirname, "../../../shared/fixtures/agents");

function fixture(file: string): string {
  return fs.readFileSync(path.join(AGENTS, file), "utf8");
}

function body(file: string): Record<string, unknown> {
  return JSON.parse(fixture(file)) as Record<string, unknown>;
}

/** A loopback server answering each POST with the next of `answers` (SSE text), keeping the requests' bodies. */
async function scriptedUpstream(
  answers: string[],
): Promise<{ url: string; paths: string[]; bodies: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      paths.push(req.url ?? "");
      bodies.push(Buffer.concat(chunks).toString("utf8"));
      const answer = answers.shift();
      if (answer === undefined) {
        res.writeHead(500, { "content-type": "application/json" }).end('{"error":"no more answers"}');
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" }).end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Recorded {
  id: string;
  conversation_id: string;
  protocol: string;
  status: string;
  model: string;
}

function recorded(proxy: TestProxy, protocol: string): Recorded[] {
  return rows<Recorded>(
    proxy.dbPath,
    `SELECT r.id, r.conversation_id, x.protocol, x.status, r.model FROM responses r
       JOIN llm_relay_exchanges x ON x.response_id = r.id WHERE x.protocol = ? ORDER BY r.id`,
    protocol,
  );
}

describe("the captured agents' tool loops to a same-protocol upstream", () => {
  let proxy: TestProxy;
  let anthropic: Awaited<ReturnType<typeof scriptedUpstream>>;
  let responses: Awaited<ReturnType<typeof scriptedUpstream>>;
  const claudeAnswers = [
    fixture("anthropic-messages/claude-code.tool-use.accepted-response.sse"),
    fixture("anthropic-messages/claude-code.tool-result-turn2.accepted-response.sse"),
  ];
  const codexAnswers = [
    fixture("openai-responses/codex.function-call.accepted-response.sse"),
    fixture("openai-responses/codex.function-call-output-turn2.accepted-response.sse"),
  ];

  beforeAll(async () => {
    anthropic = await scriptedUpstream([...claudeAnswers]);
    responses = await scriptedUpstream([...codexAnswers]);
    proxy = await startTestProxy(
      {
        models: {
          // Both agents asked for the model "echo" when captured: here it names the native deployments.
          echo: { ...deploymentDefaults("anthropic"), base_url: anthropic.url, api_key_env: "TEST_ANTHROPIC_KEY" },
          "echo-codex": {
            ...deploymentDefaults("openai-compatible"),
            base_url: `${responses.url}/v1`,
            model: "echo",
            protocols: ["chat", "responses"],
          },
        },
      },
      { env: { TEST_ANTHROPIC_KEY: "sk-ant-test" } },
    );
  });

  afterAll(async () => {
    await proxy?.close();
    await anthropic?.close();
    await responses?.close();
  });

  it("Claude Code: both turns go to /v1/messages as sent, the answers come back byte for byte, one conversation", async () => {
    const turn2 = body("anthropic-messages/claude-code.tool-result-turn2.request.body.json");
    const messages = turn2.messages as unknown[];
    const turn1 = { ...turn2, messages: messages.slice(0, -2) };
    for (const [i, request] of [turn1, turn2].entries()) {
      const sent = JSON.stringify(request);
      const res = await fetch(`${proxy.url}/v1/messages?beta=true`, {
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "unused" },
        body: sent,
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(claudeAnswers[i]);
      expect(anthropic.bodies[i]).toBe(sent);
    }
    expect(anthropic.paths).toEqual(["/v1/messages", "/v1/messages"]);
    await proxy.server.ctx.recorder.flush();
    const turns = recorded(proxy, "messages");
    expect(turns.map((t) => t.status)).toEqual(["ok", "ok"]);
    expect(turns[1]!.conversation_id).toBe(turns[0]!.conversation_id);
    expect(rows(proxy.dbPath, "SELECT name, tool_call_id FROM tool_calls WHERE response_id = ?", turns[0]!.id)).toEqual(
      [{ name: "Bash", tool_call_id: "toolu_stub1" }],
    );
    expect(rows(proxy.dbPath, "SELECT name, output FROM tool_results WHERE response_id = ?", turns[1]!.id)).toEqual([
      { name: "Bash", output: "tool-ran" },
    ]);
  });

  it("Codex: both turns go to /v1/responses as sent (model renamed), the answers come back byte for byte, one conversation", async () => {
    const turn2 = body("openai-responses/codex.function-call-output-turn2.request.body.json");
    const input = turn2.input as unknown[];
    const turns = [
      { ...turn2, model: "echo-codex", input: input.slice(0, -2) },
      { ...turn2, model: "echo-codex" },
    ];
    for (const [i, request] of turns.entries()) {
      const res = await fetch(`${proxy.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer unused" },
        body: JSON.stringify(request),
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(codexAnswers[i]);
      expect(JSON.parse(responses.bodies[i]!)).toEqual({ ...request, model: "echo" });
    }
    expect(responses.paths).toEqual(["/v1/responses", "/v1/responses"]);
    await proxy.server.ctx.recorder.flush();
    const recordedTurns = recorded(proxy, "responses");
    expect(recordedTurns.map((t) => t.status)).toEqual(["ok", "ok"]);
    expect(recordedTurns[1]!.conversation_id).toBe(recordedTurns[0]!.conversation_id);
    expect(
      rows(proxy.dbPath, "SELECT tool_call_id FROM tool_calls WHERE response_id = ?", recordedTurns[0]!.id),
    ).toEqual([{ tool_call_id: "call_stub1" }]);
    expect(
      rows<{ n: number }>(
        proxy.dbPath,
        "SELECT COUNT(*) AS n FROM tool_results WHERE response_id = ?",
        recordedTurns[1]!.id,
      ),
    ).toEqual([{ n: 1 }]);
  });
});
