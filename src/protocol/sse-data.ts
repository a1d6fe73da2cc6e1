/**
 * Reads the `data:` payloads of a Server-Sent Events byte stream, as the
 * WHATWG HTML "Server-sent events" section defines the format, with
 * eventsource-parser. Tolerates a final event without its blank line
 * (KoboldCpp ends its streams that way).
 */
import { createParser } from "eventsource-parser";

/**
 * Yields each event's `data` (multi-line data joined with `\n`) as soon as
 * its bytes have arrived.
 * @param body the response body, as chunks of bytes
 * @throws whatever reading `body` throws (connection reset, timeout)
 */
export async function* sseData(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  let pending: string[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event.data) });
  const decoder = new TextDecoder();
  for await (const bytes of body) {
    parser.feed(typeof bytes === "string" ? bytes : decoder.decode(bytes, { stream: true }));
    if (pending.length > 0) {
      const ready = pending;
      pending = [];
      yield* ready;
    }
  }
  // End the open line and the open event: a last event without its blank line (KoboldCpp) is
  // dispatched too (`reset({ consume: true })` only parses the line, it dispatches nothing).
  parser.feed(`${decoder.decode()}\n\n`);
  yield* pending;
}
