/**
 * Reads newline-delimited JSON (NDJSON, https://github.com/ndjson/ndjson-spec),
 * the stream format of Ollama's `/api/chat` and `/api/generate`.
 */

/**
 * Yields each non-empty line of `body` as soon as it is complete, and a
 * last line without its newline at the end of the body.
 * @param body the response body, as chunks of bytes
 * @throws whatever reading `body` throws (connection reset, timeout)
 */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of body) {
    buffer += typeof bytes === "string" ? bytes : decoder.decode(bytes, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield line;
      newline = buffer.indexOf("\n");
    }
  }
  buffer += decoder.decode();
  const last = buffer.trim();
  if (last) yield last;
}
