/**
 * Who may open the conversation browser. Once an API key exists the UI needs the master key: without
 * the `llm_relay_ui` cookie every page answers 401 with the login form and every `/ui/api/*` 401 in the
 * envelope; a wrong key gets the form again (401), the right one a signed, HttpOnly, SameSite=Strict
 * cookie and the pages; a forged, expired or cleared cookie opens nothing. Keys without a master key:
 * the login page says so and nothing else is served. No keys: open. Real proxy on 127.0.0.1, real
 * SQLite file, real tenancy store.
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { BudgetView } from "../../src/server/ui/api-types.js";
import { sessionToken, UI_COOKIE } from "../../src/server/ui/auth.js";
import { send } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const MASTER_KEY = "mk-ui-test-0123456789abcdef";

let proxy: TestProxy | null = null;
afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

/** A form POST of `key` to /ui/login, redirects not followed. */
function login(base: string, key: string): Promise<Response> {
  return fetch(`${base}/ui/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key }).toString(),
    redirect: "manual",
  });
}

/** GET with a cookie header (or none). */
function get(url: string, cookie?: string): Promise<Response> {
  return fetch(url, { redirect: "manual", ...(cookie ? { headers: { cookie } } : {}) });
}

describe("the UI once API keys exist, with a master key", () => {
  it("asks for the master key, sets a signed HttpOnly SameSite=Strict cookie for it, and then serves pages and API", async () => {
    proxy = await startTestProxy({
      masterKey: MASTER_KEY,
      tenantBudgets: { acme: { budgetUsd: 10, periodMs: null } },
    });
    const { tenancy } = proxy.server.ctx;
    const created = await tenancy.keys.create({ tenant: "acme", budgetUsd: 5 });
    await tenancy.ledger.record({ tenantId: "acme", keyId: created.key.id, model: "m", costUsd: 1.25 });

    // Without the cookie: the page is the login form (401), the API a 401 envelope.
    const page = await get(`${proxy.url}/ui/`);
    expect(page.status).toBe(401);
    const pageText = await page.text();
    expect(pageText).toContain('<form method="post" action="/ui/login"');
    expect(pageText).not.toContain("/ui/app.js");
    for (const path of ["/ui/api/conversations", "/ui/api/budgets", "/ui/api/live", "/ui/api/info"]) {
      const answer = await send(`${proxy.url}${path}`);
      expect(answer.status, path).toBe(401);
      expect(answer.json).toMatchObject({ success: false, data: null, error: { code: "invalid_api_key" } });
    }
    // The login page and its stylesheet are served without it.
    expect((await get(`${proxy.url}/ui/login`)).status).toBe(200);
    expect((await get(`${proxy.url}/ui/styles.css`)).status).toBe(200);

    const wrong = await login(proxy.url, "not-the-master-key");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    const wrongText = await wrong.text();
    expect(wrongText).toContain("That is not the master key.");
    expect(wrongText).toContain('<form method="post" action="/ui/login"');

    const right = await login(proxy.url, MASTER_KEY);
    expect(right.status).toBe(303);
    expect(right.headers.get("location")).toBe("/ui/");
    const setCookie = right.headers.get("set-cookie")!;
    expect(setCookie).toMatch(new RegExp(`^${UI_COOKIE}=\\d+\\.[A-Za-z0-9_-]{43}; `));
    const attributes = setCookie.split("; ").slice(1);
    expect(attributes).toEqual(expect.arrayContaining(["Path=/ui", "Max-Age=43200", "HttpOnly", "SameSite=Strict"]));
    const cookie = setCookie.split(";")[0]!;

    const signedIn = await get(`${proxy.url}/ui/`, cookie);
    expect(signedIn.status).toBe(200);
    expect(await signedIn.text()).toContain("/ui/app.js");
    const budgets = await (await get(`${proxy.url}/ui/api/budgets`, cookie)).json();
    expect((budgets as { data: BudgetView[] }).data).toEqual([
      {
        scope: "key",
        id: created.key.id,
        tenant: "acme",
        prefix: created.key.prefix,
        budgetUsd: 5,
        periodMs: null,
        spentUsd: 1.25,
        leftUsd: 3.75,
      },
      {
        scope: "tenant",
        id: "acme",
        tenant: "acme",
        prefix: null,
        budgetUsd: 10,
        periodMs: null,
        spentUsd: 1.25,
        leftUsd: 8.75,
      },
    ]);
    const info = await (await get(`${proxy.url}/ui/api/info`, cookie)).json();
    expect(info).toMatchObject({ success: true, data: { auth: true } });

    const logout = await fetch(`${proxy.url}/ui/logout`, { method: "POST", headers: { cookie }, redirect: "manual" });
    expect(logout.status).toBe(303);
    expect(logout.headers.get("location")).toBe("/ui/login");
    expect(logout.headers.get("set-cookie")).toContain(`${UI_COOKIE}=; Path=/ui; Max-Age=0`);
  });

  it("opens nothing for a forged, expired, malformed or cleared cookie", async () => {
    proxy = await startTestProxy({ masterKey: MASTER_KEY });
    await proxy.server.ctx.tenancy.keys.create({ tenant: "acme" });
    const inAnHour = Date.now() + 3_600_000;
    const good = sessionToken(MASTER_KEY, inAnHour);
    expect((await get(`${proxy.url}/ui/api/conversations`, `${UI_COOKIE}=${good}`)).status).toBe(200);
    const [expiry, signature] = good.split(".") as [string, string];
    const forged = [
      sessionToken("another-master-key", inAnHour),
      `${Number(expiry) + 86_400_000}.${signature}`,
      sessionToken(MASTER_KEY, Date.now() - 1000),
      `${expiry}.${signature.slice(0, -1)}`,
      "garbage",
      "",
    ];
    for (const token of forged) {
      const api = await get(`${proxy.url}/ui/api/conversations`, `${UI_COOKIE}=${token}`);
      expect(api.status, token).toBe(401);
      const page = await get(`${proxy.url}/ui/`, `other=1; ${UI_COOKIE}=${token}`);
      expect(page.status, token).toBe(401);
    }
  });
});

describe("the login check against other spellings of a path", () => {
  it("lets no spelling of a /ui path around the login", async () => {
    proxy = await startTestProxy({ masterKey: MASTER_KEY });
    await proxy.server.ctx.tenancy.keys.create({ tenant: "acme" });
    const { port } = new URL(proxy.url);
    const spellings = [
      "/ui/api/conversations",
      "//ui/api/conversations",
      "/ui/api/conversations/",
      "/ui//api/conversations",
      "/%75i/api/conversations",
      "/ui/%61pi/conversations",
      "/ui%2Fapi/conversations",
      "/./ui/api/conversations",
      "/ui/./api/conversations",
      "/x/../ui/api/conversations",
      "/UI/api/conversations",
      "/ui/api/conversations?x=1",
      "/ui/api/conversations#x",
      "/openai/v1/../../ui/api/conversations",
      "/ui/login/../api/conversations",
      "/ui/styles.css/../api/conversations",
      "/ui/index.html",
      "/ui/app.js",
    ];
    for (const target of spellings) {
      // Raw HTTP: fetch would normalize the path before sending it.
      const status = await rawStatus(Number(port), target);
      expect([401, 404, 400], target).toContain(status);
    }
  });
});

/** The status of a GET of `target` sent as it is (no client-side normalization). */
function rawStatus(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let head = "";
    socket.setEncoding("latin1");
    socket.on("data", (piece: string) => (head += piece));
    socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)));
    socket.on("error", reject);
  });
}

describe("the UI once API keys exist, without a master key", () => {
  it("says on the login page that the master key is needed, and serves nothing else", async () => {
    proxy = await startTestProxy({});
    await proxy.server.ctx.tenancy.keys.create({ tenant: "acme" });
    const loginPage = await get(`${proxy.url}/ui/login`);
    expect(loginPage.status).toBe(200);
    const text = await loginPage.text();
    expect(text).toContain("LLM_RELAY_MASTER_KEY");
    expect(text).not.toContain("<form");
    const posted = await login(proxy.url, "anything");
    expect(posted.status).toBe(401);
    expect(posted.headers.get("set-cookie")).toBeNull();
    const page = await get(`${proxy.url}/ui/`);
    expect(page.status).toBe(401);
    expect(await page.text()).toContain("LLM_RELAY_MASTER_KEY");
    const api = await send(`${proxy.url}/ui/api/conversations`);
    expect(api.status).toBe(401);
    expect(api.json).toMatchObject({ error: { code: "invalid_api_key" } });
    expect((api.json as { error: { message: string } }).error.message).toContain("LLM_RELAY_MASTER_KEY");
  });
});

describe("the UI without API keys", () => {
  it("is open: pages and API without a cookie, and the login page sends to /ui/", async () => {
    proxy = await startTestProxy({ masterKey: MASTER_KEY });
    expect((await get(`${proxy.url}/ui/`)).status).toBe(200);
    expect((await send(`${proxy.url}/ui/api/conversations`)).status).toBe(200);
    const loginPage = await get(`${proxy.url}/ui/login`);
    expect(loginPage.status).toBe(303);
    expect(loginPage.headers.get("location")).toBe("/ui/");
  });

  it("is not served at all with ui: false", async () => {
    proxy = await startTestProxy({ ui: false });
    expect((await get(`${proxy.url}/ui/`)).status).toBe(404);
    expect((await send(`${proxy.url}/ui/api/conversations`)).status).toBe(404);
    expect((await send(`${proxy.baseURL}/models`)).status).toBe(200);
  });
});
