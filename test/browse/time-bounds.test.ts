/**
 * The time filters against llm's `datetime_utc` text, which has no fraction on a whole second
 * (`2026-10-05T08:00:00+00:00`) and six digits otherwise: `since` keeps a row at exactly its instant,
 * `until` drops it, with dates, date-times and offsets, on a real SQLite logs.db.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openBrowseStore } from "../../src/browse/open.js";
import type { BrowseStore } from "../../src/browse/types.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import { ulidAt } from "../../src/recording/ulid.js";
import { tempDir } from "../helpers/proxy.js";
import { recordFor } from "../helpers/records.js";

const WHOLE = Date.parse("2026-10-05T08:00:00.000Z");
const FRACTION = Date.parse("2026-10-05T08:00:00.250Z");
let dir: string;
let browse: BrowseStore;

beforeAll(async () => {
  dir = tempDir();
  const file = path.join(dir, "logs.db");
  const store = SqliteStore.open(file);
  for (const [at, text] of [
    [WHOLE, "on the second"],
    [FRACTION, "a quarter later"],
  ] as const)
    store.writeBatch([
      recordFor(
        { model: "m", messages: [{ role: "user", content: text }] },
        { id: ulidAt(at), startedAt: at, startedAtUs: at * 1000 },
      ),
    ]);
  store.close();
  browse = await openBrowseStore({ dbPath: file });
});
afterAll(async () => {
  await browse.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const prompts = async (since?: string, until?: string): Promise<(string | null)[]> =>
  (
    await browse.exchanges(
      { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) },
      "newest",
      {},
    )
  ).items.map((e) => e.promptPreview);

it("keeps the row at `since` and drops the row at `until`, whole second or not", async () => {
  expect(await prompts("2026-10-05T08:00:00Z")).toEqual(["a quarter later", "on the second"]);
  expect(await prompts(undefined, "2026-10-05T08:00:00Z")).toEqual([]);
  expect(await prompts("2026-10-05T08:00:00.250Z")).toEqual(["a quarter later"]);
  expect(await prompts("2026-10-05T08:00:00.001Z", "2026-10-05T08:00:00.250Z")).toEqual([]);
  expect(await prompts("2026-10-05T10:00:00+02:00", "2026-10-05T10:00:00.250+02:00")).toEqual(["on the second"]);
  expect(await prompts("2026-10-05", "2026-10-06")).toEqual(["a quarter later", "on the second"]);
  expect(await prompts("2026-10-06")).toEqual([]);
});
