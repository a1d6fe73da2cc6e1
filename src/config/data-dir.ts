/**
 * Where llm-relay keeps its data by default: the OS's per-user data
 * directory, as `llm` and other CLI tools use it.
 */
import os from "node:os";
import path from "node:path";

/**
 * The default `logs.db` path: `$LLM_RELAY_DB`, else
 * `<OS data dir>/llm-relay/logs.db` (Linux: `$XDG_DATA_HOME` or
 * `~/.local/share`; macOS: `~/Library/Application Support`; Windows:
 * `%LOCALAPPDATA%`).
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LLM_RELAY_DB) return path.resolve(env.LLM_RELAY_DB);
  return path.join(osDataDir(env), "llm-relay", "logs.db");
}

function osDataDir(env: NodeJS.ProcessEnv): string {
  const home = os.homedir();
  if (process.platform === "darwin") return path.join(home, "Library", "Application Support");
  if (process.platform === "win32") return env.LOCALAPPDATA ?? path.join(home, "AppData", "Local");
  return env.XDG_DATA_HOME || path.join(home, ".local", "share");
}
