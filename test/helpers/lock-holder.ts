/** Another process holding the write lock of a SQLite file, as `llm`, Datasette or `llm-relay keys` may. */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** A process that holds the write lock of a database until released. */
export interface LockHolder {
  /** Commits, closes and waits for the process to exit. */
  release(): Promise<void>;
  /** Kills the process (cleanup after a failed test). */
  kill(): void;
}

/** Starts a process that takes the write lock of `dbPath` (`BEGIN IMMEDIATE`); resolves once it holds it. */
export async function holdWriteLock(dbPath: string): Promise<LockHolder> {
  const script = `
    const Database = require("better-sqlite3");
    const db = new Database(${JSON.stringify(dbPath)});
    db.exec("BEGIN IMMEDIATE");
    process.stdout.write("locked\\n");
    process.stdin.once("data", () => { db.exec("COMMIT"); db.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ["-e", script], { cwd: process.cwd(), stdio: ["pipe", "pipe", "inherit"] });
  const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  if (line !== "locked") throw new Error(`the lock holder said ${line}`);
  return {
    async release() {
      child.stdin.write("release\n");
      await once(child, "exit");
    },
    kill() {
      child.kill();
    },
  };
}
