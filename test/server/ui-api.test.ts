/**
 * The conversation browser's JSON API (`/ui/api/*`) on exchanges recorded through the real proxy:
 * a two-turn chat conversation and an Anthropic Messages exchange answered by `echo`, and a failure
 * from a fake upstream (400). Each route answers what was recorded, in the internal envelope; filters,
 * keyset pages, a bad cursor or parameter (400 envelope), an unknown id (404 envelope), the security
 * headers of every `/ui` answer, and `/ui` left out of the request metrics. Once on SQLite, once on
 * PostgreSQL (a throw-away schema).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  ConversationDetail,
  ConversationSummary,
  ExchangeDetail,
  ExchangeSummary,
  Facets,
  Page,
  UsageReport,
} from "../../src/browse/types.js";
import type { BudgetView, UiInfo } from "../../src/server/ui/api-types.js";
import { send, type Answer } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

/** The internal envelope as the API answers it. */
interface Envelope<T> {
  success: boolean;
  message: string;
  data: T | null;
  metadata: Record<string, unknown>;
  error: { type: string; code: string | null; message: string; details: Record<string, unknown> | null } | null;
}

const FIRST_QUESTION = "Hello relay browser, tell me about wombats";
const SECOND_QUESTION = "And what do wombats eat";
const ANTHROPIC_QUESTION = "Quokkas smile on Rottnest";
const UPSTREAM_ERROR = "The model broke on purpose";

const engines = [
  { engine: "sqlite" as const, withSchema: false },
  { engine: "postgresql" as const, withSchema: true },
];

describe.each(engines)("the /ui API on $engine", ({ engine, withSchema }) => {
  let schema: TestSchema | null = null;
  let upstream: FakeUpstream;
  let proxy: TestProxy;
  /** `x-request-id`s are not exchange ids; the exchanges are found through the API by their model. */
  let firstAnswer: string;

  const api = async <T>(path: string): Promise<{ answer: Answer; body: Envelope<T> }> => {
    const answer = await send(`${proxy.url}${path}`);
    return { answer, body: answer.json as Envelope<T> };
  };
  const data = async <T>(path: string): Promise<T> => {
    const { answer, body } = await api<T>(path);
    expect(answer.status, answer.text).toBe(200);
    expect(body.success).toBe(true);
    expect(body.error).toBeNull();
    return body.data as T;
  };

  beforeAll(async () => {
    if (withSchema) schema = await createTestSchema();
    upstream = await startFakeUpstream({
      kind: "status",
      status: 400,
      body: JSON.stringify({
        error: { message: UPSTREAM_ERROR, type: "invalid_request_error", param: null, code: null },
      }),
    });
    proxy = await startTestProxy({
      ...(schema ? { databaseUrl: schema.url } : {}),
      models: { broken: fakeDeployment(upstream.baseUrl) },
    });
    const chat = (body: unknown) => send(`${proxy.baseURL}/chat/completions`, { body });
    const first = await chat({ model: "chat-model", messages: [{ role: "user", content: FIRST_QUESTION }] });
    expect(first.status).toBe(200);
    firstAnswer = (first.json as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
    const second = await chat({
      model: "chat-model",
      messages: [
        { role: "user", content: FIRST_QUESTION },
        { role: "assistant", content: firstAnswer },
        { role: "user", content: SECOND_QUESTION },
      ],
    });
    expect(second.status).toBe(200);
    const anthropic = await send(`${proxy.baseURL}/messages`, {
      body: { model: "claude-ish", max_tokens: 64, messages: [{ role: "user", content: ANTHROPIC_QUESTION }] },
      headers: { "anthropic-version": "2023-06-01" },
    });
    expect(anthropic.status).toBe(200);
    const failed = await chat({ model: "broken", messages: [{ role: "user", content: "Break please" }] });
    expect(failed.status).toBe(400);
    await proxy.server.ctx.recorder.flush();
    await until("the four exchanges in /ui/api/exchanges", async () => {
      const page = await data<Page<ExchangeSummary>>("/ui/api/exchanges");
      return page.items.length === 4;
    });
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
    await schema?.drop();
  });

  it("lists the conversations, newest activity first, each with its last exchange's facts", async () => {
    const page = await data<Page<ConversationSummary>>("/ui/api/conversations");
    expect(page.items).toHaveLength(3);
    expect(page.items.map((c) => c.model)).toEqual(["broken", "claude-ish", "chat-model"]);
    expect(page.count).toEqual({ value: 3, exact: true });
    expect(page.nextCursor).toBeNull();
    const chat = page.items[2]!;
    expect(chat).toMatchObject({ turns: 2, protocol: "chat", lastStatus: "ok", provider: "echo", tenantId: "default" });
    expect(chat.inputTokens).toBeGreaterThan(0);
    expect(chat.outputTokens).toBeGreaterThan(0);
    expect(page.items[0]!.lastStatus).toBe("error");
    expect(page.items[1]!.protocol).toBe("messages");
  });

  it("shows a conversation as its turns, each with only the messages it added", async () => {
    const list = await data<Page<ConversationSummary>>("/ui/api/conversations?model=chat-model");
    expect(list.items).toHaveLength(1);
    const detail = await data<ConversationDetail>(`/ui/api/conversations/${list.items[0]!.id}`);
    expect(detail.nextCursor).toBeNull();
    expect(detail.turns).toHaveLength(2);
    // A page of one turn, then the next by its cursor: the same two turns.
    const first = await data<ConversationDetail>(`/ui/api/conversations/${list.items[0]!.id}?limit=1`);
    expect(first.turns).toEqual(detail.turns.slice(0, 1));
    const second = await data<ConversationDetail>(
      `/ui/api/conversations/${list.items[0]!.id}?limit=1&cursor=${first.nextCursor!}`,
    );
    expect(second.turns).toEqual(detail.turns.slice(1));
    expect(second.nextCursor).toBeNull();
    const [one, two] = detail.turns;
    expect(one!.input).toEqual([{ role: "user", parts: [{ type: "text", text: FIRST_QUESTION }] }]);
    expect(one!.output).toEqual({ role: "assistant", parts: [{ type: "text", text: firstAnswer }] });
    expect(two!.input).toEqual([{ role: "user", parts: [{ type: "text", text: SECOND_QUESTION }] }]);
    expect(two!.exchange).toMatchObject({ model: "chat-model", status: "ok", protocol: "chat" });
  });

  it("filters exchanges by status, protocol, model and words, and orders errors first", async () => {
    const errors = await data<Page<ExchangeSummary>>("/ui/api/exchanges?status=error");
    expect(errors.items).toHaveLength(1);
    expect(errors.items[0]).toMatchObject({ model: "broken", status: "error", httpStatus: 400 });
    expect(errors.items[0]!.error).toContain(UPSTREAM_ERROR);
    const messages = await data<Page<ExchangeSummary>>("/ui/api/exchanges?protocol=messages");
    expect(messages.items.map((e) => e.model)).toEqual(["claude-ish"]);
    const searched = await data<Page<ExchangeSummary>>("/ui/api/exchanges?search=quokkas");
    expect(searched.items.map((e) => e.model)).toEqual(["claude-ish"]);
    const byModel = await data<Page<ExchangeSummary>>("/ui/api/exchanges?model=chat-model");
    expect(byModel.items.map((e) => e.promptPreview)).toEqual([
      expect.stringContaining(SECOND_QUESTION),
      expect.stringContaining(FIRST_QUESTION),
    ]);
    const errorsFirst = await data<Page<ExchangeSummary>>("/ui/api/exchanges?order=errors-first");
    expect(errorsFirst.items[0]!.status).toBe("error");
    // Time bounds: a date, a date-time, with or without Z.
    const today = new Date().toISOString().slice(0, 10);
    expect((await data<Page<ExchangeSummary>>(`/ui/api/exchanges?since=${today}`)).items).toHaveLength(4);
    expect((await data<Page<ExchangeSummary>>("/ui/api/exchanges?since=2999-01-01T00:00Z")).items).toHaveLength(0);
    expect((await data<Page<ExchangeSummary>>(`/ui/api/exchanges?until=${today}T00:00:00`)).items).toHaveLength(0);
    expect((await data<Page<ConversationSummary>>("/ui/api/conversations?until=2999-01-01")).items).toHaveLength(3);
    // An empty value is "any" (a cleared filter field).
    expect((await data<Page<ExchangeSummary>>("/ui/api/exchanges?model=&status=")).items).toHaveLength(4);
  });

  it("pages exchanges by cursor, without overlap", async () => {
    const first = await data<Page<ExchangeSummary>>("/ui/api/exchanges?limit=3");
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).not.toBeNull();
    const second = await data<Page<ExchangeSummary>>(
      `/ui/api/exchanges?limit=3&cursor=${encodeURIComponent(first.nextCursor!)}`,
    );
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    const all = await data<Page<ExchangeSummary>>("/ui/api/exchanges");
    expect([...first.items, ...second.items].map((e) => e.id)).toEqual(all.items.map((e) => e.id));
  });

  it("shows an exchange with its attempts and the request as recorded", async () => {
    const list = await data<Page<ExchangeSummary>>("/ui/api/exchanges?model=broken");
    const detail = await data<ExchangeDetail>(`/ui/api/exchanges/${list.items[0]!.id}`);
    expect(detail.turn.exchange.status).toBe("error");
    expect(detail.attempts.length).toBeGreaterThanOrEqual(1);
    expect(detail.attempts[0]).toMatchObject({ status: "error", httpStatus: 400 });
    expect(detail.requestJson).toMatchObject({
      model: "broken",
      messages: [{ role: "user", content: "Break please" }],
    });
  });

  it("answers the facets, the usage by model, the budgets and the server's facts", async () => {
    const facets = await data<Facets>("/ui/api/facets");
    expect(facets.models).toEqual(expect.arrayContaining(["chat-model", "claude-ish", "broken"]));
    expect(facets.protocols).toEqual(expect.arrayContaining(["chat", "messages"]));
    expect(facets.tenants).toEqual(["default"]);
    await until("the usage roll-up of chat-model", async () => {
      const usage = await data<UsageReport>("/ui/api/usage?by=model");
      return usage.rows.some((r) => r.group === "chat-model" && r.requests === 2);
    });
    const usage = await data<UsageReport>("/ui/api/usage");
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.by).toBe("model");
    expect(usage.until > today && usage.since < today).toBe(true);
    expect(usage.rows.find((r) => r.group === "chat-model")).toMatchObject({ day: today, requests: 2 });
    expect(await data<BudgetView[]>("/ui/api/budgets")).toEqual([]);
    const info = await data<UiInfo>("/ui/api/info");
    expect(info).toMatchObject({ live: true, auth: false });
    expect(info.store).toEqual(
      engine === "sqlite" ? { engine: "sqlite", path: proxy.dbPath } : { engine: "postgresql", path: null },
    );
    expect(await data<unknown[]>("/ui/api/bench/runs")).toEqual([]);
  });

  it("refuses a bad cursor, an unknown parameter and a bad value with a 400 envelope naming it", async () => {
    for (const [query, param] of [
      ["cursor=not-a-cursor", "cursor"],
      ["colour=blue", "colour"],
      ["status=maybe", "status"],
      ["limit=5000", "limit"],
      ["since=yesterday", "since"],
    ] as const) {
      const { answer, body } = await api<null>(`/ui/api/exchanges?${query}`);
      expect(answer.status, query).toBe(400);
      expect(body).toMatchObject({ success: false, data: null, error: { type: "invalid_request_error" } });
      expect(body.error!.details).toMatchObject({ param });
    }
    const usage = await api<null>("/ui/api/usage?since=2026-12-10&until=2026-12-01");
    expect(usage.answer.status).toBe(400);
    expect(usage.body.error!.message).toContain("since must be before until");
  });

  it("answers 404 in the envelope for an unknown conversation, exchange or API path", async () => {
    for (const path of [
      "/ui/api/conversations/01nosuchconversation0000",
      "/ui/api/exchanges/01nosuch",
      "/ui/api/nope",
    ]) {
      const { answer, body } = await api<null>(path);
      expect(answer.status, path).toBe(404);
      expect(body).toMatchObject({ success: false, data: null, error: { type: "invalid_request_error" } });
    }
  });

  it("serves the page and sends the security headers on every /ui answer", async () => {
    const page = await send(`${proxy.url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.text).toContain('<script type="module" src="/ui/app.js"></script>');
    const bare = await fetch(`${proxy.url}/ui`, { redirect: "manual" });
    expect(bare.status).toBe(302);
    expect(bare.headers.get("location")).toBe("/ui/");
    for (const path of ["/ui/", "/ui/app.js", "/ui/api/conversations", "/ui/api/nope", "/ui/missing.png"]) {
      const answer = await fetch(`${proxy.url}${path}`);
      await answer.arrayBuffer();
      expect(answer.headers.get("content-security-policy"), path).toBe(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      );
      expect(answer.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(answer.headers.get("referrer-policy"), path).toBe("no-referrer");
    }
    expect((await send(`${proxy.url}/ui/api/conversations`)).headers.get("cache-control")).toBe("no-store");
    // The API's answers are not proxied requests: /metrics counts none of them.
    const metrics = await send(`${proxy.url}/metrics`);
    expect(metrics.text).toContain('route="/v1/chat/completions"');
    expect(metrics.text).not.toContain('route="/ui');
  });
});
