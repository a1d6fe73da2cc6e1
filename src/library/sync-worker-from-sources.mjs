// The blocking forms' worker when llm-relay runs from its TypeScript sources
// (vitest, tsx): registers tsx in this worker thread, then loads the real worker.
// The built package (dist/) starts dist/library/sync-worker.js directly.
import { register } from "tsx/esm/api";

register();
await import("./sync-worker.ts");
