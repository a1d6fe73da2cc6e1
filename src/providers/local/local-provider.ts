/** PLACEHOLDER (in-process node-llama-cpp): replaced by the provider's real module. */
import type { Deployment } from "../../config/schema.js";
import { RelayError } from "../../protocol/errors.js";
import type { ChatProvider, ProviderContext } from "../types.js";

/** PLACEHOLDER: throws until the local provider is built. */
export function createLocalProvider(_deployment: Deployment, _context: ProviderContext): ChatProvider {
  throw new RelayError({ status: 501, message: "The local provider is not built yet", type: "server_error", errorClass: "internal" });
}
