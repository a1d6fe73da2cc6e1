/** Moved to the exchange core (src/exchange/start-clock.ts); kept here for the server's other routes. */
export { startTime, type StartTime } from "../exchange/start-clock.js";
