/**
 * The page's files when `dist/ui` was not built: every page answers 503 with a page that says to run
 * `npm run build` (with the /ui security headers), while the JSON API still answers. Real proxy on
 * 127.0.0.1 with its UI pointed at an empty directory.
 */
import path from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import { send } from "../helpers/exchanges.js";
import { tempDir } from "../helpers/temp-dirs.js";

let server: RelayServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe("the /ui page files", () => {
  it("answer 503 with 'run npm run build' when dist/ui is missing, and the API still answers", async () => {
    const dir = tempDir();
    const config = loadConfig({ cwd: dir, env: {}, db: path.join(dir, "logs.db"), port: 0 });
    server = await startRelayServer(config, {
      logger: pino({ level: "silent" }),
      env: {},
      ui: { distDir: tempDir("llm-relay-no-dist-") },
    });
    for (const page of ["/ui/", "/ui/app.js"]) {
      const answer = await send(`${server.url}${page}`);
      expect(answer.status, page).toBe(503);
      expect(answer.headers.get("content-type")).toContain("text/html");
      expect(answer.text).toContain("run <code>npm run build</code>");
      expect(answer.headers.get("content-security-policy")).toContain("default-src 'self'");
    }
    expect((await send(`${server.url}/ui/api/conversations`)).status).toBe(200);
  });
});
