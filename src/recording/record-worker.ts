/**
 * Entry point of the recorder's worker thread: opens its own connection to
 * the logs.db and writes the batches the main thread posts, one at a time.
 */
import { parentPort, workerData } from "node:worker_threads";
import { RecordWriter } from "./record-writer.js";
import type { WorkerReply, WorkerRequest, WorkerStart } from "./record-sinks.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";

const port = parentPort!;
const reply = (message: WorkerReply) => port.postMessage(message);

let writer: RecordWriter;
try {
  // This thread may wait on another process's lock without holding up requests.
  const { dbPath, busyTimeoutMs } = workerData as WorkerStart;
  writer = new RecordWriter(SqliteStore.open(dbPath, { busyTimeoutMs }));
  reply({ type: "ready" });
} catch (error) {
  reply({ type: "failed", error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

port.on("message", (message: WorkerRequest) => {
  if (message.type === "write") {
    writer.write(message.batch).then(
      (result) => reply({ type: "written", result }),
      (error: unknown) => reply({ type: "failed", error: String(error) }),
    );
  } else if (message.type === "write-embeddings") {
    writer.writeEmbeddings(message.records).then(
      (result) => reply({ type: "written", result }),
      (error: unknown) => reply({ type: "failed", error: String(error) }),
    );
  } else {
    writer.close().then(
      () => reply({ type: "closed" }),
      () => reply({ type: "closed" }),
    );
  }
});
