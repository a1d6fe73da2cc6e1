/**
 * `ui:` in llm-relay.yaml and `LLM_RELAY_UI`: the conversation browser at `/ui` is on by default,
 * `ui: false` or `LLM_RELAY_UI=0` turns it off, and the variable wins over the file. Loaded from real
 * files, as a user writes them (what a proxy with `ui: false` answers: test/server/ui-auth.test.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { tempDir } from "../helpers/temp-dirs.js";

function load(yaml: string | null, env: NodeJS.ProcessEnv = {}) {
  const cwd = tempDir("llm-relay-ui-config-");
  if (yaml !== null) fs.writeFileSync(path.join(cwd, "llm-relay.yaml"), yaml);
  return loadConfig({ cwd, env });
}

describe("the ui setting", () => {
  it("is on without a config file and without the key in one", () => {
    expect(load(null).ui).toBe(true);
    expect(load("log_level: warn\n").ui).toBe(true);
  });

  it("is off with ui: false, or LLM_RELAY_UI=0 / false, and the variable wins over the file", () => {
    expect(load("ui: false\n").ui).toBe(false);
    expect(load(null, { LLM_RELAY_UI: "0" }).ui).toBe(false);
    expect(load(null, { LLM_RELAY_UI: "false" }).ui).toBe(false);
    expect(load("ui: false\n", { LLM_RELAY_UI: "1" }).ui).toBe(true);
    expect(load("ui: true\n", { LLM_RELAY_UI: "0" }).ui).toBe(false);
  });

  it("refuses a value that is not a boolean, naming the key", () => {
    expect(() => load("ui: maybe\n")).toThrow(ConfigError);
    expect(() => load("ui: maybe\n")).toThrow(/ui/);
  });
});
