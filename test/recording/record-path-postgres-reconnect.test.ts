/**
 * A lost PostgreSQL connection drops nothing: while the record store's
 * connections are cut (a TCP relay on loopback in front of the server
 * that resets every connection), requests are still answered, their
 * records are kept (`/health` 503), and once the database is reachable
 * again they are written, in order, with none counted as failed.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import { chat, chatBody, send } from "../helpers/exchanges.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { tempDir, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

/** A TCP relay on 127.0.0.1 to `target`; `cut()` resets every connection and refuses new ones until `restore()`. */
interface TcpRelay {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

async function startTcpRelay(target: { host: string; port: number }): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  let down = false;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  };
  const server = net.createServer((client) => {
    track(client);
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    cut() {
      down = true;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    restore() {
      down = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let schema: TestSchema;
let relay: TcpRelay | undefined;
let server: RelayServer | undefined;
let dir: string | undefined;
beforeEach(async () => {
  schema = await createTestSchema();
});
afterEach(async () => {
  relay?.restore();
  await server?.close();
  await relay?.close();
  await schema.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  relay = server = dir = undefined;
});

interface Health {
  status: string;
  recorder: { state: string; kept: number; written: number; failed_writes: number; last_error: string | null };
}

it("keeps the records while the store's PostgreSQL connection is lost, and writes them in order once it is back", async () => {
  const direct = new URL(schema.url);
  relay = await startTcpRelay({ host: direct.hostname, port: Number(direct.port || 5432) });
  const relayed = new URL(schema.url);
  relayed.port = String(relay.port);
  // The records go through the relay; keys and the ledger (the tenancy store) straight to the server.
  const store = await PgStore.open(relayed.href);
  dir = tempDir();
  const config = {
    ...loadConfig({ cwd: dir, env: {}, db: path.join(dir, "unused.db"), port: 0 }),
    databaseUrl: schema.url,
  };
  server = await startRelayServer(config, {
    logger: pino({ level: "silent" }),
    env: {},
    store,
    recorder: { flushIntervalMs: 5 },
  });
  const proxy = { baseURL: `${server.url}/v1` } as TestProxy;
  const health = async () => {
    const answer = await send(`${server!.url}/health`);
    return { status: answer.status, body: answer.json as Health };
  };
  const recorded = async () =>
    (await schema.rows<{ request_id: string }>("SELECT request_id FROM llm_relay_exchanges ORDER BY response_id")).map(
      (row) => row.request_id,
    );

  expect((await chat(proxy, chatBody("echo"), { "x-request-id": "pg-0" })).status).toBe(200);
  await until("the first exchange recorded", async () => (await recorded()).length === 1);

  relay.cut();
  const ids = ["pg-1", "pg-2", "pg-3", "pg-4", "pg-5"];
  for (const id of ids)
    expect(
      (await chat(proxy, chatBody("echo", { messages: [{ role: "user", content: id }] }), { "x-request-id": id }))
        .status,
    ).toBe(200);
  await until("/health degraded with records kept", async () => {
    const h = await health();
    return h.status === 503 && h.body.recorder.kept > 0;
  });
  expect((await health()).body.recorder).toMatchObject({ state: "retrying", failed_writes: 0 });
  expect(await recorded()).toEqual(["pg-0"]);

  relay.restore();
  await until("all 6 exchanges recorded", async () => (await recorded()).length === 6, { timeoutMs: 30_000 });
  expect(await recorded()).toEqual(["pg-0", ...ids]);
  await until("/health ok again", async () => (await health()).status === 200, { timeoutMs: 30_000 });
  expect((await health()).body.recorder).toMatchObject({ state: "ok", kept: 0, written: 6, failed_writes: 0 });
}, 60_000);
