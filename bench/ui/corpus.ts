/**
 * The text of the synthetic conversations: a vocabulary of a few hundred
 * words drawn with a Zipf-like law (so a search finds common words in most
 * exchanges and rare ones in a few), system prompts, and the two words the
 * bench searches for.
 */
import { pick, type Random } from "./random.js";

/** The most frequent word of the vocabulary (rank 1): a search for it matches most exchanges. */
export const COMMON_WORD = "function";
/** A word put into about one user message in {@link RARE_EVERY}: a search for it matches a handful of exchanges. */
export const RARE_WORD = "quixotic";
/** One user message in this many carries {@link RARE_WORD}. */
export const RARE_EVERY = 40_000;

const WORDS = `function the code test error value file return type string list data user request model server
query index table page cache token stream config module class method object array number field key
build deploy commit branch merge review change update fix bug issue log trace metric latency memory
thread lock queue worker batch retry timeout limit budget cost price tenant account session cookie
header body json schema parse format render template view route handler client proxy gateway upstream
provider prompt answer reply message conversation history context window chunk event socket buffer
byte encode decode compress hash sign verify secret password permission role admin policy rule filter
search sort order group count sum average median percentile histogram chart graph node edge tree
root leaf parent child sibling path folder directory import export package version release tag note
readme document comment docstring example sample fixture mock stub spy assert expect describe suite
case scenario benchmark profile measure optimize refactor rename extract inline move split join
python typescript javascript rust golang java kotlin swift ruby shell bash docker kubernetes terraform
postgres sqlite redis kafka nginx linux windows macos browser chrome firefox safari mobile desktop
tablet pixel layout grid flex margin padding border color font icon image video audio upload download
stream backoff jitter circuit breaker fallback replica shard partition leader follower consensus raft
paxos gossip vector clock snapshot checkpoint journal wal vacuum analyze explain plan scan seek join
nested loop hash sort merge aggregate window cte recursive trigger view materialized sequence serial
uuid ulid timestamp timezone calendar schedule cron job task pipeline stage artifact runner agent
license copyright author maintainer contributor sponsor donation community forum chat email newsletter
invoice receipt payment refund subscription plan tier quota overage discount coupon voucher credit
debit ledger balance transfer currency dollar euro yen pound rate exchange market order trade
weather forecast rain snow wind storm cloud sunny river mountain forest ocean island desert valley
recipe flour sugar butter oven bake pasta sauce garlic onion tomato pepper salt lemon cheese bread
guitar piano violin drum melody chord rhythm tempo concert album lyric poem novel chapter story
planet galaxy orbit rocket telescope comet nebula quantum photon electron neutron proton gravity`
  .split(/\s+/)
  .filter((w, i, all) => w.length > 0 && all.indexOf(w) === i);

/** The vocabulary, most frequent first. */
export const VOCABULARY: readonly string[] = WORDS;

/** Cumulative Zipf weights (s = 1) of the vocabulary's ranks. */
const CUMULATIVE = (() => {
  const out = new Float64Array(WORDS.length);
  let sum = 0;
  for (let i = 0; i < WORDS.length; i++) out[i] = sum += 1 / (i + 1);
  return out;
})();

/** One word, drawn by rank with a Zipf law. */
export function zipfWord(random: Random): string {
  const x = random() * CUMULATIVE[CUMULATIVE.length - 1]!;
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return WORDS[lo]!;
}

/** A sentence-like run of `count` words, capitalised, ending with a full stop. */
export function sentence(random: Random, count: number): string {
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push(zipfWord(random));
  const text = words.join(" ");
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

/** Text of about `words` words in sentences of 6–14 words. */
export function paragraph(random: Random, words: number): string {
  const out: string[] = [];
  for (let left = words; left > 0;) {
    const n = Math.min(left, 6 + Math.floor(random() * 9));
    out.push(sentence(random, n));
    left -= n;
  }
  return out.join(" ");
}

const SYSTEM_PROMPTS = [
  "You are a helpful assistant.",
  "You are an expert software engineer. Answer with code when it helps, and keep explanations short.",
  "Act as a careful reviewer: point out bugs, risks and missing tests.",
  "You are a support agent for an online shop. Be polite and precise.",
  "Translate the user's text and explain idioms briefly.",
];

/** A system prompt, one of a few. */
export function systemPrompt(random: Random): string {
  return pick(random, SYSTEM_PROMPTS);
}
