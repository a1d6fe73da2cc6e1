/**
 * The `echo` provider module: answers with the prompt itself, for trying the proxy without a backend.
 */
import { defineProvider } from "../provider-module.js";
import { createEchoProvider } from "./echo-provider.js";

/** The `echo` provider, as `src/providers/modules.ts` lists it. */
export const echoModule = defineProvider({
  kind: "echo",
  factory: createEchoProvider,
  local: true,
  protocols: ["chat"],
  nativeProtocols: ["chat"],
});
