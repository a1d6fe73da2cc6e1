/** The exchange in progress lives in the exchange core (src/exchange/); re-exported for the server's routes. */
export { ATTEMPTS_HEADER, DEPLOYMENT_HEADER, Exchange } from "../exchange/exchange.js";
export type { ExchangeOutcome } from "../exchange/outcome.js";
