/**
 * CORS for browser clients, as a browser speaks it: a preflight
 * (`OPTIONS` with `Origin`, `Access-Control-Request-Method` and
 * `Access-Control-Request-Headers`) from an origin listed in `cors_origins`
 * gets 204 with the `access-control-*` headers on every public route — with
 * no key, even where keys are required — and the actual request (JSON,
 * stream or error) carries `access-control-allow-origin` and the exposed
 * response headers. An origin not listed, a path outside the public API,
 * or a proxy without `cors_origins` gets no `access-control-*` header.
 * Last, a real browser (Debian's headless Chromium through playwright-core)
 * calls the proxy from a page of a listed origin and of an unlisted one.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { chatBody, openAIError, send, type Answer } from "../helpers/exchanges.js";
import { match } from "../helpers/matchers.js";
import { readSse } from "../helpers/sse.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import { listenOnLoopback, type Listening } from "../helpers/loopback-server.js";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus.js";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../helpers/chromium.js";

const APP = "http://localhost:5173";
/** The headers the openai SDK sends from a browser (`dangerouslyAllowBrowser`), as a browser lists them. */
const ASKED_HEADERS =
  "authorization,content-type,x-stainless-arch,x-stainless-lang,x-stainless-os,x-stainless-retry-count";

let proxy: TestProxy | null = null;
afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

function preflight(url: string, origin = APP, method = "POST", headers = ASKED_HEADERS): Promise<Answer> {
  return send(url, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
  });
}

/** The names of the answer's `access-control-*` headers. */
function corsHeaders(answer: Answer | Response): string[] {
  return [...answer.headers.keys()].filter((name) => name.startsWith("access-control-"));
}

describe("with cors_origins listing the app's origin", () => {
  it("answers a browser's preflight with 204 and the access-control headers on every public route", async () => {
    proxy = await startTestProxy({ corsOrigins: [APP, "https://chat.example.com"] });
    for (const route of [
      "/v1/chat/completions",
      "/openai/v1/chat/completions",
      "/v1/messages",
      "/v1/models",
      "/api/chat",
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
      "/health",
    ]) {
      const answer = await preflight(`${proxy.url}${route}`, APP, route === "/v1/models" ? "GET" : "POST");
      expect([route, answer.status]).toEqual([route, 204]);
      expect(answer.text).toBe("");
      expect(answer.headers.get("access-control-allow-origin")).toBe(APP);
      expect(answer.headers.get("access-control-allow-methods")?.split(/,\s*/)).toEqual(["GET", "HEAD", "POST"]);
      expect(answer.headers.get("access-control-allow-headers")?.split(/,\s*/)).toEqual(ASKED_HEADERS.split(","));
      expect(answer.headers.get("access-control-max-age")).toBe("600");
      expect(answer.headers.get("vary")).toMatch(/Origin/);
    }
    // The second listed origin is answered with itself.
    const other = await preflight(`${proxy.baseURL}/chat/completions`, "https://chat.example.com");
    expect(other.headers.get("access-control-allow-origin")).toBe("https://chat.example.com");
    // Anthropic's and Google's headers are allowed as asked.
    const anthropic = await preflight(
      `${proxy.baseURL}/messages`,
      APP,
      "POST",
      "anthropic-beta,anthropic-version,content-type,x-api-key",
    );
    expect(anthropic.headers.get("access-control-allow-headers")).toBe(
      "anthropic-beta,anthropic-version,content-type,x-api-key",
    );
  });

  it("sends access-control-allow-origin and the exposed headers on the actual requests, streamed or not", async () => {
    proxy = await startTestProxy({ corsOrigins: [APP] });
    const json = await send(`${proxy.baseURL}/chat/completions`, { body: chatBody("echo"), headers: { origin: APP } });
    expect(json.status).toBe(200);
    expect(json.headers.get("access-control-allow-origin")).toBe(APP);
    const exposed = json.headers.get("access-control-expose-headers")?.split(/,\s*/) ?? [];
    for (const name of [
      "x-request-id",
      "x-llm-relay-deployment",
      "x-llm-relay-attempts",
      "x-llm-relay-overhead-ms",
      "x-llm-relay-budget-remaining-usd",
      "x-ratelimit-remaining-requests",
      "x-ratelimit-reset-tokens",
      "retry-after",
    ])
      expect(exposed, name).toContain(name);

    const stream = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: APP },
      body: JSON.stringify(chatBody("echo", { stream: true })),
    });
    expect(stream.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(stream.headers.get("access-control-allow-origin")).toBe(APP);
    expect((await readSse(stream)).at(-1)).toBe("[DONE]");

    const models = await send(`${proxy.baseURL}/models`, { headers: { origin: APP } });
    expect(models.headers.get("access-control-allow-origin")).toBe(APP);
    const health = await send(`${proxy.url}/health`, { headers: { origin: APP } });
    expect(health.headers.get("access-control-allow-origin")).toBe(APP);
  });

  it("needs no key for a preflight where keys are required, and lets the browser read the 401 that follows", async () => {
    proxy = await startTestProxy({ corsOrigins: [APP], auth: "required" });
    const answer = await preflight(`${proxy.baseURL}/chat/completions`);
    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-origin")).toBe(APP);

    const refused = await send(`${proxy.baseURL}/chat/completions`, {
      body: chatBody("echo"),
      headers: { origin: APP },
    });
    expect(refused.status).toBe(401);
    expect(openAIError(refused).code).toBe("invalid_api_key");
    expect(refused.headers.get("access-control-allow-origin")).toBe(APP);
  });

  it("gives an origin not listed, a non-public path, or an OPTIONS that is no preflight no access-control header", async () => {
    proxy = await startTestProxy({ corsOrigins: [APP] });
    const stranger = await preflight(`${proxy.baseURL}/chat/completions`, "http://evil.example");
    expect(stranger.status).toBe(404);
    expect(corsHeaders(stranger)).toEqual([]);
    expect(openAIError(stranger).code).toBe("unknown_url");

    const post = await send(`${proxy.baseURL}/chat/completions`, {
      body: chatBody("echo"),
      headers: { origin: "http://localhost:5174" },
    });
    expect(post.status).toBe(200);
    expect(corsHeaders(post)).toEqual([]);

    for (const url of [`${proxy.url}/metrics`, `${proxy.url}/internal/usage`]) {
      expect(corsHeaders(await preflight(url, APP, "GET"))).toEqual([]);
      expect(corsHeaders(await send(url, { headers: { origin: APP } }))).toEqual([]);
    }

    const bare = await send(`${proxy.baseURL}/chat/completions`, { method: "OPTIONS", headers: { origin: APP } });
    expect(bare.status).toBe(404);
    expect(corsHeaders(bare)).toEqual([]);
  });
});

describe("cors_origins: ['*']", () => {
  it("allows any origin with access-control-allow-origin: *", async () => {
    proxy = await startTestProxy({ corsOrigins: ["*"] });
    const answer = await preflight(`${proxy.baseURL}/chat/completions`, "https://anything.example");
    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    const post = await send(`${proxy.baseURL}/chat/completions`, {
      body: chatBody("echo"),
      headers: { origin: "https://anything.example" },
    });
    expect(post.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("without cors_origins (the default)", () => {
  it("sends no access-control header at all, and a preflight is the usual 404", async () => {
    proxy = await startTestProxy();
    const answer = await preflight(`${proxy.baseURL}/chat/completions`);
    expect(answer.status).toBe(404);
    expect(corsHeaders(answer)).toEqual([]);
    const post = await send(`${proxy.baseURL}/chat/completions`, { body: chatBody("echo"), headers: { origin: APP } });
    expect(post.status).toBe(200);
    expect(corsHeaders(post)).toEqual([]);
  });

  it("reads cors_origins from the config file, refusing an origin with a path", () => {
    const dir = tempDir("llm-relay-cors-");
    const file = path.join(dir, "llm-relay.yaml");
    fs.writeFileSync(file, `cors_origins: ["${APP}", "*"]\n`);
    expect(loadConfig({ cwd: dir, env: {} }).corsOrigins).toEqual([APP, "*"]);
    fs.writeFileSync(file, "");
    expect(loadConfig({ cwd: dir, env: {} }).corsOrigins).toEqual([]);
    fs.writeFileSync(file, `cors_origins: ["${APP}/"]\n`);
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/cors_origins\.0: must be an origin/);
  });
});

/** A page server on 127.0.0.1: its origin is `http://127.0.0.1:<port>`. */
async function startPage(): Promise<Listening & { origin: string }> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end("<!doctype html><title>app</title><p>app</p>");
  });
  const listening = await listenOnLoopback(server);
  return { ...listening, origin: `http://127.0.0.1:${listening.port}` };
}

/** What the page's `fetch` of a chat completion gave: the answer's readable parts, or the error the browser raised. */
type PageResult =
  | { ok: true; status: number; requestId: string | null; deployment: string | null; content: string }
  | { ok: false; error: string };

describe("a real browser", () => {
  it("calls the proxy from a listed origin (preflight, then the POST, its headers readable) and is blocked from another", async () => {
    const [app, stranger] = [await startPage(), await startPage()];
    proxy = await startTestProxy({ corsOrigins: [app.origin] });
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const callFrom = async (origin: string): Promise<PageResult> => {
        const page = await browser.newPage();
        await page.goto(`${origin}/`);
        return page.evaluate(async (base: string): Promise<PageResult> => {
          try {
            // Authorization and content-type: application/json make the browser send a preflight first.
            const response = await fetch(`${base}/chat/completions`, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                authorization: "Bearer unused",
                "x-stainless-os": "Linux",
              },
              body: JSON.stringify({ model: "echo", messages: [{ role: "user", content: "Hello from a page" }] }),
            });
            const body = (await response.json()) as { choices: { message: { content: string } }[] };
            return {
              ok: true,
              status: response.status,
              requestId: response.headers.get("x-request-id"),
              deployment: response.headers.get("x-llm-relay-deployment"),
              content: body.choices[0]!.message.content,
            };
          } catch (error) {
            return { ok: false, error: String(error) };
          }
        }, proxy!.baseURL);
      };

      const allowed = await callFrom(app.origin);
      expect(allowed).toEqual({
        ok: true,
        status: 200,
        requestId: match.stringMatching(/^req_/),
        deployment: "echo",
        content: "Hello from a page",
      });
      const blocked = await callFrom(stranger.origin);
      expect(blocked).toEqual({ ok: false, error: match.stringContaining("Failed to fetch") });

      // Both pages sent a preflight: the listed origin's was answered 204, the other's was the usual 404 (no route).
      const metrics = parsePrometheusText((await send(`${proxy.url}/metrics`)).text);
      expect(sampleValue(metrics, "llm_relay_requests_total", { route: "*", status: "204" })).toBe(1);
      expect(sampleValue(metrics, "llm_relay_requests_total", { route: "unknown", status: "404" })).toBe(1);
      // The blocked page's POST itself was never sent.
      expect(sampleValue(metrics, "llm_relay_requests_total", { route: "/v1/chat/completions", status: "200" })).toBe(
        1,
      );
    } finally {
      await browser.close();
      await app.close();
      await stranger.close();
    }
  }, 60_000);
});
