/** The shared fixtures (../shared next to the repo). */
import fs from "node:fs";

/** The canonical input: a real 12-message aider request (model `TestModelName`, stream true). */
export function aiderRequest(): AiderRequest {
  return JSON.parse(
    fs.readFileSync(new URL("../../../shared/fixtures/aider-chat-request.json", import.meta.url), "utf8"),
  ) as AiderRequest;
}

/** The shape of the aider request fixture (a type, not an interface: it is a plain JSON body). */
export type AiderRequest = {
  model: string;
  stream: boolean;
  temperature: number;
  messages: { role: "system" | "user" | "assistant"; content: string }[];
};
