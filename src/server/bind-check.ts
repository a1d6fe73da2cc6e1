/**
 * The check made before the proxy listens: on an address other machines can
 * reach, a proxy that needs no API key lends the upstream keys it holds to
 * anyone who finds the port. It refuses to start that way unless the operator
 * says so (`--allow-unauthenticated`), and warns when it does.
 */
import net from "node:net";
import type { Logger } from "pino";

/** Whether `host` only accepts connections from this machine: 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z), `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (net.isIPv4(name)) return name.startsWith("127.");
  if (net.isIPv6(name)) {
    if (name === "::1" || name === "0:0:0:0:0:0:0:1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(name);
    return mapped !== null && mapped[1]!.startsWith("127.");
  }
  return false;
}

/** The proxy would serve a non-loopback address with no authentication; the message says what to do. */
export class UnsafeBindError extends Error {
  constructor(host: string) {
    super(
      `refusing to listen on ${host} without authentication: anyone who can reach this port could use the upstream API keys this proxy holds. ` +
        "Create an API key (llm-relay keys create --tenant <name>) so requests need one, or set auth: required, or set LLM_RELAY_MASTER_KEY; " +
        "or pass --allow-unauthenticated (allow_unauthenticated: true, LLM_RELAY_ALLOW_UNAUTHENTICATED=1) to serve anyone anyway, or bind 127.0.0.1.",
    );
    this.name = "UnsafeBindError";
  }
}

/** What {@link checkBind} looks at. */
export interface BindFacts {
  /** The address to listen on (`--host`). */
  host: string;
  /** `--allow-unauthenticated` / `allow_unauthenticated` / LLM_RELAY_ALLOW_UNAUTHENTICATED. */
  allowUnauthenticated: boolean;
  /** Whether LLM_RELAY_MASTER_KEY is set. */
  hasMasterKey: boolean;
  /** Whether `/v1` requests need an API key now (`auth: required`, or `auto` with a key in the store). */
  keysRequired: () => Promise<boolean>;
  logger: Logger;
}

/**
 * Passes for a loopback host or when requests need a key. Otherwise passes
 * with a warning in the log when a master key is set or unauthenticated
 * serving was allowed.
 * @throws UnsafeBindError on a non-loopback host with no key required, no master key and no `--allow-unauthenticated`
 */
export async function checkBind(facts: BindFacts): Promise<void> {
  if (isLoopbackHost(facts.host) || (await facts.keysRequired())) return;
  if (!facts.allowUnauthenticated && !facts.hasMasterKey) throw new UnsafeBindError(facts.host);
  facts.logger.warn(
    { host: facts.host, allowUnauthenticated: facts.allowUnauthenticated },
    `serving ${facts.host} without authentication: /v1 requests need no API key, so anyone who can reach this port uses the upstream keys this proxy holds (create one with llm-relay keys create)`,
  );
}
