/**
 * An embeddings record's id carries the exchange's start, even when other
 * exchanges made ids in later milliseconds while its upstream was still
 * answering (the ULID factory is monotonic: an id made late would take the
 * later time, and the id's time would no longer be the row's `datetime_utc`).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { decodeTime } from "ulid";
import { afterAll, beforeAll, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { chat, chatBody, send } from "../helpers/exchanges.js";
import { micros } from "../helpers/llm-times.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

let proxy: TestProxy;
let upstream: http.Server;
let received = 0;
let release: () => void = () => undefined;
const released = new Promise<void>((resolve) => {
  release = resolve;
});

beforeAll(async () => {
  // An embeddings upstream that holds its answer until the test releases it.
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      void released.then(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            object: "list",
            data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }],
            model: "embed-upstream",
            usage: { prompt_tokens: 2, total_tokens: 2 },
          }),
        );
      });
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const { port } = upstream.address() as AddressInfo;
  proxy = await startTestProxy({ models: { embed: fakeDeployment(`http://127.0.0.1:${port}/v1`) } });
});

afterAll(async () => {
  release();
  await proxy?.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

it("keeps the start's millisecond in the id of an embedding answered after later exchanges", async () => {
  const pending = send(`${proxy.baseURL}/embeddings`, {
    body: { model: "embed", input: "held" },
    headers: { "x-request-id": "held-embedding" },
  });
  await until("the upstream has the embeddings request", () => received === 1);
  const heldSince = Date.now();
  await until("a later millisecond", () => Date.now() > heldSince + 1);
  // A chat exchange now makes an id in a later millisecond than the embedding's start.
  expect((await chat(proxy, chatBody("echo"), { "x-request-id": "later-chat" })).status).toBe(200);
  release();
  expect((await pending).status).toBe(200);
  await until("the embedding recorded", () => rows(proxy.dbPath, "select id from llm_relay_embeddings").length === 1);
  const [row] = rows<{ id: string; t: string }>(proxy.dbPath, "select id, datetime_utc as t from llm_relay_embeddings");
  expect(decodeTime(row!.id.toUpperCase())).toBe(Math.floor(micros(row!.t) / 1000));
  const [chatRow] = rows<{ id: string }>(proxy.dbPath, "select response_id as id from llm_relay_exchanges");
  expect(row!.id < chatRow!.id).toBe(true);
});
