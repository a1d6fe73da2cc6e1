/** PLACEHOLDER (vLLM): replaced by the provider's real module. */
import type { Deployment } from "../../config/schema.js";
import { RelayError } from "../../protocol/errors.js";
import type { ChatProvider, ProviderContext } from "../types.js";

/** PLACEHOLDER: throws until the vllm provider is built. */
export function createVllmProvider(_deployment: Deployment, _context: ProviderContext): ChatProvider {
  throw new RelayError({ status: 501, message: "The vllm provider is not built yet", type: "server_error", errorClass: "internal" });
}
