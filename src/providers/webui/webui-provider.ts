/** PLACEHOLDER (text-generation-webui): replaced by the provider's real module. */
import type { Deployment } from "../../config/schema.js";
import { RelayError } from "../../protocol/errors.js";
import type { ChatProvider, ProviderContext } from "../types.js";

/** PLACEHOLDER: throws until the webui provider is built. */
export function createWebuiProvider(_deployment: Deployment, _context: ProviderContext): ChatProvider {
  throw new RelayError({ status: 501, message: "The webui provider is not built yet", type: "server_error", errorClass: "internal" });
}
