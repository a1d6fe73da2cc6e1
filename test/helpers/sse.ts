/** Reads a whole SSE response into its `data:` payloads, with eventsource-parser. */
import { createParser } from "eventsource-parser";

/** The `data` of every event of `response`, in order (read until the server closes). */
export async function readSse(response: Response): Promise<string[]> {
  const events: string[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event.data) });
  const decoder = new TextDecoder();
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>)
    parser.feed(decoder.decode(bytes, { stream: true }));
  parser.reset({ consume: true });
  return events;
}
