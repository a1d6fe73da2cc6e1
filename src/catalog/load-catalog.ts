/**
 * Reads and validates the catalog data files (`data/<provider>.json`,
 * resolved relative to this module so the same code works from `src/`
 * and from the built `dist/`). Files are read once, on first use.
 */
import fs from "node:fs";
import { catalogFileSchema, type CatalogFile } from "./catalog-schema.js";

/** The directory holding one JSON file per provider. */
export const CATALOG_DATA_DIR = new URL("./data/", import.meta.url);

/** A catalog data file that is not valid JSON or does not match the schema. */
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogError";
  }
}

let cached: ReadonlyMap<string, CatalogFile> | null = null;

/**
 * Every catalog data file, keyed by provider (preset) name.
 * @throws CatalogError when a file is unreadable, not JSON, fails the schema, or names another provider than its file name
 */
export function loadCatalogFiles(): ReadonlyMap<string, CatalogFile> {
  cached ??= readCatalogDir(CATALOG_DATA_DIR);
  return cached;
}

/**
 * Reads every `*.json` file of `dir` (uncached; for tests and tools).
 * @throws CatalogError as {@link loadCatalogFiles}
 */
export function readCatalogDir(dir: URL): Map<string, CatalogFile> {
  const out = new Map<string, CatalogFile>();
  for (const name of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()) {
    const file = new URL(name, dir);
    const provider = name.slice(0, -".json".length);
    out.set(provider, parseCatalogFile(fs.readFileSync(file, "utf8"), provider, name));
  }
  return out;
}

/**
 * Parses and validates one data file's text.
 * @param expectedProvider the provider the file name promises
 * @param label the file name, for error messages
 * @throws CatalogError when the text is not JSON, fails the schema, or names another provider
 */
export function parseCatalogFile(text: string, expectedProvider: string, label: string): CatalogFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CatalogError(`Catalog file ${label} is not JSON: ${(error as Error).message}`);
  }
  const result = catalogFileSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues
      .map((i) => `${i.path.map(String).join(".") || "(top level)"}: ${i.message}`)
      .join("; ");
    throw new CatalogError(`Invalid catalog file ${label}: ${issues}`);
  }
  if (result.data.provider !== expectedProvider) {
    throw new CatalogError(
      `Invalid catalog file ${label}: provider is '${result.data.provider}', expected '${expectedProvider}'`,
    );
  }
  const seen = new Set<string>();
  for (const model of result.data.models) {
    for (const name of [model.id, ...model.aliases]) {
      if (seen.has(name)) throw new CatalogError(`Invalid catalog file ${label}: model name '${name}' appears twice`);
      seen.add(name);
    }
  }
  return result.data;
}
