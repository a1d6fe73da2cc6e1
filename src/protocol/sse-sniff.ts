/**
 * The one set of string checks made on pass-through SSE text (OpenAI's
 * `chat.completion.chunk` events as an upstream wrote them), without
 * parsing JSON on the hot path. Each check is a regex that allows any JSON
 * whitespace (spaces, tabs, CR, LF) around `:`, `[`, `{` — KoboldCpp and
 * Python servers write `"content": "Hi"`, llama-server `"content":"Hi"` —
 * and, since a `data:` payload may span several `data:` lines (joined by
 * LF), a `data:` field name after a line break inside an event's JSON.
 * Keys are matched only where a quote opens them that is not escaped, so
 * `\"content\"` inside a string value (e.g. tool-call arguments) does not
 * count; key order does not matter. Checks on a block answer "somewhere in
 * this text"; the caller splits events only when a check says so.
 */

/** JSON whitespace, or a `data:` field name continuing the payload on the next line. */
const WS = String.raw`(?:[ \t\r\n]|(?<=[\r\n])data:)*`;

/** A key, opened by an unescaped quote. */
function key(name: string): string {
  return String.raw`(?<!\\)"${name}"${WS}:${WS}`;
}

/**
 * Output: a `content`, `reasoning_content` (llama-server, DeepSeek, vLLM) or
 * `reasoning` (OpenRouter) that is a non-empty string (not `""` nor `null`),
 * or a `tool_calls` array that holds at least one call. Reasoning counts:
 * its tokens are the first the model generates (TTFT), and once the client
 * has them the answer has begun.
 */
const OUTPUT = new RegExp(
  String.raw`${key("content")}"[^"]|${key("reasoning_content")}"[^"]|${key("reasoning")}"[^"]|${key("tool_calls")}\[${WS}\{`,
);

/** A real `finish_reason` string (not `null`, nor KoboldCpp's string `"null"`). */
const FINISH = new RegExp(String.raw`${key("finish_reason")}"(?!null")`);

/** An empty `choices` array: the usage-only chunk sent last with `stream_options.include_usage`. */
const EMPTY_CHOICES = new RegExp(String.raw`${key("choices")}\[${WS}\]`);

/** Usage as an object (not `null`). */
const USAGE_OBJECT = new RegExp(String.raw`${key("usage")}\{`);

/** The key of an in-band error (`{"error": …}`); whether it is one is decided by parsing that event. */
const ERROR_KEY = new RegExp(key("error"));

/** `data: [DONE]`'s payload or an error key: where a block is worth splitting into events. */
const DONE_OR_ERROR = new RegExp(String.raw`\[DONE\]|${key("error")}`);

/** True when `text` (a block of SSE text or one `data:` payload) holds content text, reasoning text or a tool call. */
export function hasOutput(text: string): boolean {
  return OUTPUT.test(text);
}

/** True when `text` holds a real `finish_reason` (a string other than `"null"`). */
export function hasFinish(text: string): boolean {
  return FINISH.test(text);
}

/** True when `text` holds `"choices": []`. */
export function hasEmptyChoices(text: string): boolean {
  return EMPTY_CHOICES.test(text);
}

/** True when one `data:` payload is a usage-only chunk: empty `choices` and a `usage` object. */
export function isUsageOnlyPayload(data: string): boolean {
  return EMPTY_CHOICES.test(data) && USAGE_OBJECT.test(data);
}

/** True when `text` holds an `error` key (maybe an in-band error event; parse the event to know). */
export function hasErrorKey(text: string): boolean {
  return ERROR_KEY.test(text);
}

/** The index in `text` of the first `[DONE]` or `error` key, or -1 (one scan). */
export function firstDoneOrError(text: string): number {
  return DONE_OR_ERROR.exec(text)?.index ?? -1;
}

/** The sticky-free global form of the empty-choices check, for {@link nextEmptyChoices}. */
const EMPTY_CHOICES_G = new RegExp(EMPTY_CHOICES.source, "g");

/** The index of the first `"choices": []` in `text` at or after `from` (UTF-16 code units), or -1. */
export function nextEmptyChoices(text: string, from: number): number {
  EMPTY_CHOICES_G.lastIndex = from;
  return EMPTY_CHOICES_G.exec(text)?.index ?? -1;
}
