/**
 * Message hashes of whole conversations, remembered between exchanges. A
 * client such as aider re-sends its entire history with every request;
 * the history of the next request is, message for message, the chain of
 * the previous one plus its reply. So the store remembers each written
 * chain under its last (assistant) message and, for a new request,
 * compares the candidate chain message by message (string equality, no
 * allocation) instead of looking up and hashing every message again.
 * Anything that does not match falls back to the per-message
 * {@link MessageHashCache}.
 *
 * A stored reply with reasoning comes back from the client without it
 * (clients drop `reasoning_content`), so its hash differs from the stored
 * one. Remembered chains are therefore compared as the client sends them
 * (reasoning parts left out) and give the stored hashes; on a miss, a
 * {@link ReplyAliasResolver} swaps the hash of such a message for the
 * stored reply's (see {@link ReplyAliases}).
 */
import { MessageHashCache, type CachedHash } from "./message-hash.js";
import { withoutReasoning, type LlmMessage } from "./llm-message.js";

/** A chain of messages and their cache entries, `entries[i]` for `messages[i]`. */
interface Chain {
  messages: readonly LlmMessage[];
  entries: readonly CachedHash[];
  chars: number;
}

/** Limits of a {@link ChainHasher}. */
export interface ChainHasherOptions {
  /** Most chains remembered (default 2,000). */
  maxChains?: number;
  /** Most text characters held by remembered chains, summed (default 64 M). */
  maxChars?: number;
}

/**
 * Given an assistant message of the input (as the client sent it) and its
 * hash entry in the chain, the entry of the stored reply it stands for
 * (the same message with its reasoning), or null when it is not one.
 */
export type ReplyAliasResolver = (message: LlmMessage, entry: CachedHash) => CachedHash | null;

/**
 * The stored replies with reasoning this store wrote or looked up: the hash
 * the reply has without its reasoning (what the client's re-sent history
 * hashes to) → the stored reply's hash entry. A bounded LRU (the file's
 * `llm_relay_reply_aliases` table holds them all).
 */
export class ReplyAliases {
  private readonly entries = new Map<string, CachedHash>();

  constructor(private readonly maxEntries = 20_000) {}

  /** The stored reply's entry for the hash `bareHash` of its reasoning-less form, or undefined. */
  get(bareHash: string): CachedHash | undefined {
    const hit = this.entries.get(bareHash);
    if (hit) {
      this.entries.delete(bareHash);
      this.entries.set(bareHash, hit);
    }
    return hit;
  }

  /** Remembers that `bareHash` stands for the stored reply `entry`. */
  set(bareHash: string, entry: CachedHash): void {
    this.entries.delete(bareHash);
    this.entries.set(bareHash, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/**
 * True when `a` (a remembered message, possibly with reasoning) as the client
 * sends it back and `b` are both text-only with the same role and texts.
 */
function sameTextMessage(known: LlmMessage, b: LlmMessage): boolean {
  const a = withoutReasoning(known);
  if (a.role !== b.role || a.parts.length !== b.parts.length) return false;
  for (let i = 0; i < a.parts.length; i++) {
    const pa = a.parts[i]!;
    const pb = b.parts[i]!;
    if (pa.type !== "text" || pb.type !== "text" || pa.text !== pb.text) return false;
  }
  return true;
}

/** The key a chain is remembered under: the text of its last message, if that is (without reasoning) a text-only assistant message. */
function tipKey(remembered: LlmMessage): string | null {
  const message = withoutReasoning(remembered);
  if (message.role !== "assistant" || message.parts.length !== 1) return null;
  const part = message.parts[0]!;
  return part.type === "text" ? part.text : null;
}

/**
 * Hashes message chains with two levels of memory: whole remembered
 * chains, then single messages. One per store (the `stored` flags of the
 * entries refer to that store's file).
 */
export class ChainHasher {
  private readonly chains = new Map<string, Chain>();
  private chars = 0;
  private readonly maxChains: number;
  private readonly maxChars: number;

  constructor(
    /** The per-message cache behind the chains. */
    readonly messages: MessageHashCache = new MessageHashCache(),
    options: ChainHasherOptions = {},
  ) {
    this.maxChains = options.maxChains ?? 2_000;
    this.maxChars = options.maxChars ?? 64_000_000;
  }

  /**
   * The cache entries (hash, stored flag) of `chain`, in order, the first
   * message having no parent.
   * @param resolve asked for each assistant message hashed here (not for a
   *   remembered prefix): a stored reply with reasoning it stands for, whose
   *   entry then replaces its own (and is the parent of the next message)
   */
  hashChain(chain: readonly LlmMessage[], resolve?: ReplyAliasResolver): CachedHash[] {
    const out: CachedHash[] = [];
    const known = this.knownPrefix(chain);
    if (known) out.push(...known);
    let parent = out.length > 0 ? out[out.length - 1]!.hash : null;
    for (let i = out.length; i < chain.length; i++) {
      const message = chain[i]!;
      let entry = this.messages.lookup(message, parent);
      if (resolve && message.role === "assistant") entry = resolve(message, entry) ?? entry;
      out.push(entry);
      parent = entry.hash;
    }
    return out;
  }

  /** Remembers a written chain (input messages plus reply) for the next request of its conversation. */
  remember(chain: readonly LlmMessage[], entries: readonly CachedHash[]): void {
    const last = chain[chain.length - 1];
    const key = last ? tipKey(last) : null;
    if (key === null || entries.length !== chain.length) return;
    let chars = 0;
    for (const m of chain) for (const p of m.parts) chars += p.type === "text" ? p.text.length : 0;
    this.forget(key);
    this.chains.set(key, { messages: chain, entries, chars });
    this.chars += chars;
    while (this.chains.size > this.maxChains || (this.chars > this.maxChars && this.chains.size > 1)) {
      this.forget(this.chains.keys().next().value as string);
    }
  }

  /** The entries of the longest remembered chain that `chain` starts with, ending at its last assistant message. */
  private knownPrefix(chain: readonly LlmMessage[]): readonly CachedHash[] | null {
    let tip = chain.length - 1;
    while (tip >= 0 && chain[tip]!.role !== "assistant") tip--;
    if (tip < 0) return null;
    const key = tipKey(chain[tip]!);
    const known = key === null ? undefined : this.chains.get(key);
    if (!known || known.messages.length !== tip + 1) return null;
    for (let i = tip; i >= 0; i--) {
      if (!sameTextMessage(known.messages[i]!, chain[i]!)) return null;
    }
    return known.entries;
  }

  private forget(key: string): void {
    const old = this.chains.get(key);
    if (!old) return;
    this.chains.delete(key);
    this.chars -= old.chars;
  }
}
