/**
 * Reading a model file for a run: JSON with clear one-line errors, a sweep's base model given as a
 * path (relative to the sweep file), and every data file a model refers to (CP factors, initial
 * weights) loaded inline — so that the experiment's `run` does no file I/O.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UserError } from "../run/errors.js";
import { resolveModelFiles } from "./model-files.js";

/** Read and JSON-parse a model file, with clear errors for missing files and bad JSON. */
export function readModelFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`cannot read model file "${path}"`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new UserError(`model file "${path}" is not valid JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new UserError(`model file "${path}" must contain a JSON object`);
  return obj as Record<string, unknown>;
}

/**
 * A raw model ready for `run`: read from `path`, a sweep's base inlined, and referenced data files
 * loaded (paths relative to the file that names them).
 */
export function loadModel(path: string): Record<string, unknown> {
  const raw = readModelFile(path);
  return inlineReferences(raw, dirname(resolve(path)));
}

/** Inline a sweep's base (path → object) and the data files a model refers to. */
export function inlineReferences(raw: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  if (raw.kind === "sweep") {
    let base = raw.base;
    let dir = baseDir;
    if (typeof base === "string") {
      const p = resolve(baseDir, base);
      base = readModelFile(p);
      dir = dirname(p);
    }
    if (base !== null && typeof base === "object" && !Array.isArray(base)) base = resolveModelFiles(base as Record<string, unknown>, dir);
    return { ...raw, base };
  }
  return resolveModelFiles(raw, baseDir);
}
