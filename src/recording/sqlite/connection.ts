/**
 * How llm-relay's connections to a logs.db are set up, shared by the
 * record store and the tenancy store (see the SQLite documentation,
 * "Write-Ahead Logging", on checkpoints).
 */
import type { Database } from "better-sqlite3";

/**
 * WAL pages after which a commit checkpoints (SQLite's default is 1000,
 * about 4 MB). A checkpoint copies the WAL into the database file and
 * syncs it; under load, at the default, the recorder checkpointed after
 * nearly every batch and it cost about a quarter of its time. With 10 000
 * (about 40 MB) a busy recorder checkpoints rarely, and
 * {@link IdleCheckpointer} checkpoints as soon as writes pause.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Sets the pragmas of a writing connection: the busy timeout (ms), WAL
 * with `synchronous = NORMAL` (a commit survives a crash of the process;
 * only an OS crash or power loss may roll back the last ones), the
 * checkpoint threshold, and foreign keys off as llm leaves them.
 * @throws when the file is not a database or cannot be switched to WAL
 */
export function configureWriter(db: Database, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  // better-sqlite3 turns foreign keys on by default; llm leaves them off.
  db.pragma("foreign_keys = OFF");
}

/**
 * Runs a PASSIVE checkpoint once writes have paused for `idleMs`, so that
 * the WAL a burst of writes left behind goes into the database file while
 * nothing waits on it. Timers are unref'd: they never keep the process
 * alive. A failed checkpoint is ignored (the next one, or SQLite's own at
 * {@link WAL_AUTOCHECKPOINT_PAGES}, does the work).
 */
export class IdleCheckpointer {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database,
    private readonly idleMs = 250,
  ) {}

  /** Call after each write: (re)starts the idle countdown. */
  wrote(): void {
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(() => this.checkpoint(), this.idleMs);
      this.timer.unref();
    }
  }

  /** Cancels a pending checkpoint (before the connection closes). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private checkpoint(): void {
    this.timer = null;
    if (!this.db.open || this.db.inTransaction) return;
    try {
      this.db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // busy or closing: a later checkpoint does it
    }
  }
}

/**
 * Whether a better-sqlite3 error is lock contention (another connection holds
 * the lock: SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED), which a later
 * attempt may get past, rather than a failure of the statement itself.
 */
export function isLockContention(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED" || code === "SQLITE_BUSY_SNAPSHOT";
}

/**
 * Runs `op` (synchronous work on `db`) with SQLite's busy timeout at 0:
 * a lock held by another connection fails at once instead of sleeping on
 * this thread. better-sqlite3 waits for a lock synchronously, so on the
 * server's main thread a busy wait would hold up every request.
 * @throws the SQLITE_BUSY error (see {@link isLockContention}) when the lock is taken; whatever else `op` throws
 */
export function withoutLockWait<T>(db: Database, op: () => T): T {
  const timeoutMs = db.pragma("busy_timeout", { simple: true }) as number;
  db.pragma("busy_timeout = 0");
  try {
    return op();
  } finally {
    db.pragma(`busy_timeout = ${timeoutMs}`);
  }
}

/**
 * How long a single write of the request path keeps trying while another
 * connection holds the lock, in ms (the busy timeout the connections had).
 */
export const LOCK_GIVE_UP_MS = 5000;

/** Waits between the tries of {@link whenLockFree}, in ms: the first, and the most (doubling in between). */
export const LOCK_RETRY_MS = { first: 2, max: 100 } as const;

/**
 * Runs `op` on `db` without waiting for a lock on this thread: when another
 * connection holds it, `op` is tried again after a timer (2 ms, doubling up
 * to 100 ms) until `giveUpAfterMs` has passed.
 * @throws the lock error once `giveUpAfterMs` has passed; whatever else `op` throws, at once
 */
export async function whenLockFree<T>(db: Database, op: () => T, giveUpAfterMs: number): Promise<T> {
  const started = Date.now();
  for (let waitMs: number = LOCK_RETRY_MS.first; ; waitMs = Math.min(waitMs * 2, LOCK_RETRY_MS.max)) {
    try {
      return withoutLockWait(db, op);
    } catch (error) {
      if (!isLockContention(error) || Date.now() - started >= giveUpAfterMs) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
