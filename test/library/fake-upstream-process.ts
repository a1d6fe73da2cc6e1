/**
 * The fake OpenAI upstream in a child process, for the blocking (`…Sync`)
 * forms: while they wait, this thread's event loop is blocked, so a fake
 * served from it could never answer.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { FakeBehaviour } from "../helpers/fake-openai-upstream.js";

/** A fake upstream served by another process. */
export interface FakeUpstreamProcess {
  baseUrl: string;
  /** Sets the behaviour of the following requests (resolves once the child has it). */
  behave(behaviour: FakeBehaviour): Promise<void>;
  close(): Promise<void>;
}

/** Starts the fake in a child process (the child runs this file's `main` through tsx). */
export async function startFakeUpstreamProcess(): Promise<FakeUpstreamProcess> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child: ChildProcess = fork(new URL(import.meta.url), ["--child"], {
    execArgv: ["--import", tsx],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = () =>
    new Promise<{ baseUrl?: string }>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`fake upstream process exited with ${code}`));
      child.once("exit", onExit);
      child.once("message", (message) => {
        child.off("exit", onExit);
        resolve(message as { baseUrl?: string });
      });
    });
  const { baseUrl } = await next();
  return {
    baseUrl: baseUrl!,
    async behave(behaviour) {
      const ack = next();
      child.send(behaviour);
      await ack;
    },
    async close() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      await exited;
    },
  };
}

if (process.argv.includes("--child")) {
  const { startFakeUpstream } = await import("../helpers/fake-openai-upstream.js");
  const upstream = await startFakeUpstream();
  process.on("message", (behaviour: FakeBehaviour) => {
    upstream.behave(behaviour);
    process.send?.({});
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ baseUrl: upstream.baseUrl });
}
