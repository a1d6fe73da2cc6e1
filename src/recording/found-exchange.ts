/**
 * One recorded exchange read back as an inbound adapter needs it
 * (`RecordStore.findExchange`): the row both stores select from
 * `responses` ⋈ `llm_relay_exchanges`, turned into a {@link RecordedExchangeLookup}.
 */
import { decodeTime } from "ulid";
import { INBOUND_PROTOCOLS, type InboundProtocol, type RecordedExchangeLookup } from "../protocol/inbound.js";

/** The columns `findExchange` selects, as either store returns them. */
export interface FoundExchangeRow {
  id: string;
  /** `llm_relay_exchanges.protocol`; NULL on rows older than the column means chat. */
  protocol: string | null;
  prompt_json: string | null;
  response_json: string | null;
  status: string;
}

/**
 * The lookup of a found row: `prompt_json` and `response_json` parsed (a
 * value that is not a JSON object reads as `{}` and null), the start time
 * from the id (a ULID carries it).
 */
export function foundExchange(row: FoundExchangeRow): RecordedExchangeLookup {
  return {
    id: row.id,
    protocol: protocolOf(row.protocol),
    request: jsonObject(row.prompt_json) ?? {},
    response: jsonObject(row.response_json),
    status: row.status,
    startedAt: startedAtOf(row.id),
  };
}

function protocolOf(value: string | null): InboundProtocol {
  return (INBOUND_PROTOCOLS as readonly string[]).includes(value ?? "") ? (value as InboundProtocol) : "chat";
}

function jsonObject(text: string | null): Record<string, unknown> | null {
  if (text === null || text === "") return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function startedAtOf(id: string): number {
  try {
    return decodeTime(id.toUpperCase());
  } catch {
    return 0;
  }
}
