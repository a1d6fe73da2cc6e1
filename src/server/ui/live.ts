/**
 * `GET /ui/api/live`: the Live page's server-sent events (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 * Each `snapshot` event carries a {@link LiveSnapshot} (JSON): sent at once, then after every change —
 * an exchange starting or ending, the recorder's queue or health moving — at most
 * {@link LIVE_MAX_PER_SECOND} times a second; a comment line (`: heartbeat`) every 15 s keeps proxies
 * and the browser from timing the stream out. A stream ends when the client leaves or the server
 * stops ({@link LiveStreams.closeAll}, from the app's `preClose`): a stop never waits on it.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { errors } from "../../protocol/error-codes.js";
import type { LiveSnapshot } from "./api-types.js";
import type { LiveSource, UiContext } from "./ui-context.js";

/** Most snapshots per second on one stream. */
export const LIVE_MAX_PER_SECOND = 4;
/** Time between two heartbeat comments, in ms. */
export const LIVE_HEARTBEAT_MS = 15_000;
/** How often the recorder's queue and health are looked at for a change, in ms (they have no listener). */
const LIVE_POLL_MS = 500;

/** The snapshot of `source` now. */
export function liveSnapshot(source: LiveSource, now = Date.now()): LiveSnapshot {
  return {
    at: now,
    inFlight: source.inFlight().map((e) => ({
      id: e.id,
      model: e.model,
      protocol: e.protocol,
      tenant: e.tenant,
      startedMs: e.startedAt,
      elapsedMs: Math.max(0, now - e.startedAt),
      streaming: e.stream,
    })),
    recorderQueued: source.recorderQueued(),
    health: source.health(),
  };
}

/** What a snapshot says apart from the clock (two equal states send one event). */
function stateOf(snapshot: LiveSnapshot): string {
  return JSON.stringify([snapshot.inFlight.map((e) => e.id), snapshot.recorderQueued, snapshot.health]);
}

/** How long a stop waits for the end of the open streams to be written, in ms (then their sockets are closed anyway). */
const END_FLUSH_MS = 1000;

/** The open live streams of one app, so a stop can end them. */
export class LiveStreams {
  private readonly open = new Set<() => Promise<void>>();

  /** Number of open streams. */
  get size(): number {
    return this.open.size;
  }

  /** Ends every open stream (the server is stopping); resolves once their ends are written, or after {@link END_FLUSH_MS}. */
  async closeAll(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, END_FLUSH_MS);
    });
    await Promise.race([Promise.all([...this.open].map((end) => end())), late]);
    clearTimeout(timer);
  }

  /**
   * Streams snapshots of `source` on `reply` (hijacked: Fastify no longer answers it) until the client leaves or {@link closeAll}.
   * @param heartbeatMs time between heartbeat comments (default {@link LIVE_HEARTBEAT_MS})
   */
  serve(reply: FastifyReply, source: LiveSource, heartbeatMs = LIVE_HEARTBEAT_MS): void {
    reply.hijack();
    const raw = reply.raw;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (typeof value === "string") headers[name] = value;
    raw.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    const minGapMs = 1000 / LIVE_MAX_PER_SECOND;
    let lastSentAt = -Infinity;
    let lastState = "";
    let pending: NodeJS.Timeout | null = null;
    const send = () => {
      pending = null;
      const snapshot = liveSnapshot(source);
      lastState = stateOf(snapshot);
      lastSentAt = performance.now();
      raw.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    };
    const changed = () => {
      if (pending !== null) return;
      const wait = lastSentAt + minGapMs - performance.now();
      pending = setTimeout(send, Math.max(0, wait));
    };
    const poll = setInterval(() => {
      if (pending === null && stateOf(liveSnapshot(source)) !== lastState) changed();
    }, LIVE_POLL_MS);
    const heartbeat = setInterval(() => raw.write(": heartbeat\n\n"), heartbeatMs);
    const unsubscribe = source.onChange(changed);
    const end = (): Promise<void> => {
      if (!this.open.delete(end)) return Promise.resolve();
      unsubscribe();
      clearInterval(poll);
      clearInterval(heartbeat);
      if (pending !== null) clearTimeout(pending);
      raw.off("close", onClose);
      if (raw.writableEnded || raw.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        raw.once("close", () => resolve());
        raw.end(() => resolve());
      });
    };
    const onClose = () => void end();
    this.open.add(end);
    raw.on("close", onClose);
    send();
  }
}

/** The live streams of each app that serves them. */
const streamsOfApp = new WeakMap<FastifyInstance, LiveStreams>();

/**
 * Ends the open live streams of `app` (their last bytes written): call it first when stopping, before the
 * server closes its connections. An app without a live route resolves at once.
 */
export async function closeLiveStreams(app: FastifyInstance): Promise<void> {
  await streamsOfApp.get(app)?.closeAll();
}

/**
 * Registers `GET /ui/api/live` (404 envelope when there is no live source: `llm-relay ui`) and ends the
 * open streams when the app closes.
 */
export function registerUiLive(
  app: FastifyInstance,
  ui: UiContext,
  options: { heartbeatMs?: number } = {},
): LiveStreams {
  const streams = new LiveStreams();
  streamsOfApp.set(app, streams);
  // Also on any app close (a caller that did not call closeLiveStreams first).
  app.addHook("preClose", async () => {
    await streams.closeAll();
  });
  app.get("/ui/api/live", async (_request, reply) => {
    const source = ui.live;
    if (source === null)
      throw errors.notFound("No live view here: `llm-relay ui` reads the records and proxies nothing.");
    streams.serve(reply, source, options.heartbeatMs);
  });
  return streams;
}
