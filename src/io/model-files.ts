/**
 * Load the files a model refers to into the model itself, so that `experiment.run` does no file I/O:
 *
 *   flow        init { kind: "file", path }          → { kind: "inline", w, from: path }
 *               cp.factors[μ] { file: "f.json" }     → { inline: { gamma, U }, from: "f.json" }
 *               cp.factors[μ] { npy: { U, gamma } }  → { inline: { gamma, U (r·D, row-major) }, from: { U, gamma } }
 *   attractors  cp.classes[μ] { npy: { U, gamma } }  → { inline: { gamma, U }, from: { U, gamma } }
 *   sweep       an inline base model is resolved the same way
 *
 * Relative paths are resolved against `baseDir` (the model file's directory); `from` keeps the path
 * as written.  Other kinds and sources are returned unchanged.  The input is not modified.  Errors
 * are UserErrors naming the field (unreadable file, not a .npy / JSON array, wrong shape).
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { decodeNpy } from "./npy.js";
import { UserError } from "../run/errors.js";

type Raw = Record<string, unknown>;

const isObject = (x: unknown): x is Raw => x !== null && typeof x === "object" && !Array.isArray(x);

function resolvePath(p: string, baseDir: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/** D of a raw model's task geometry, if it is well formed (else undefined: the schema will say why). */
function rawD(raw: Raw): number | undefined {
  const task = raw.task;
  if (!isObject(task) || !isObject(task.geometry)) return undefined;
  const { dim, L } = task.geometry;
  if (typeof L !== "number" || !Number.isInteger(L) || L < 1) return undefined;
  return dim === 1 ? L : dim === 2 ? L * L : undefined;
}

/** A .npy file, or (other extensions) a JSON array of numbers. */
function readArrayFile(path: string, field: string): { data: number[]; shape: number[] } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    throw new UserError(`${field}: cannot read "${path}"`);
  }
  if (path.endsWith(".npy")) {
    try {
      const { data, shape } = decodeNpy(new Uint8Array(buf));
      return { data: Array.from(data), shape };
    } catch (e) {
      throw new UserError(`${field}: "${path}" is not a readable .npy file (${(e as Error).message.split("\n")[0]})`);
    }
  }
  let j: unknown;
  try {
    j = JSON.parse(buf.toString("utf8"));
  } catch {
    throw new UserError(`${field}: "${path}" must be a .npy file or a JSON array`);
  }
  if (Array.isArray(j) && j.every((x) => typeof x === "number")) return { data: j as number[], shape: [j.length] };
  throw new UserError(`${field}: "${path}" must contain a JSON array of numbers`);
}

/** CP factors from a pair of .npy files (U: r×D, gamma: r). */
function npyFactors(src: { U?: unknown; gamma?: unknown }, field: string, baseDir: string, D: number | undefined): Raw {
  if (typeof src.U !== "string" || typeof src.gamma !== "string") return { npy: src }; // the schema reports it
  const U = readArrayFile(resolvePath(src.U, baseDir), `${field}.npy.U`);
  const g = readArrayFile(resolvePath(src.gamma, baseDir), `${field}.npy.gamma`);
  if (D !== undefined && U.data.length !== g.data.length * D) {
    throw new UserError(`${field}.npy.U: need r×D = ${g.data.length}×${D} entries (got shape [${U.shape.join(", ")}])`);
  }
  return { inline: { gamma: g.data, U: U.data }, from: { U: src.U, gamma: src.gamma } };
}

/** CP factors from a JSON file {"gamma": [...], "U": [[...], ...]}. */
function jsonFactors(file: string, field: string, baseDir: string): Raw {
  const p = resolvePath(file, baseDir);
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(p, "utf8"));
  } catch {
    throw new UserError(`${field}.file: cannot read JSON factors from "${p}"`);
  }
  if (!isObject(j)) throw new UserError(`${field}.file: "${p}" must hold an object {"gamma": [...], "U": [[...], ...]}`);
  const { gamma, U } = j;
  if (!Array.isArray(gamma) || gamma.length === 0 || !gamma.every((x) => typeof x === "number")) throw new UserError(`${field}.file.gamma: must be an array of numbers`);
  const rows = Array.isArray(U) && U.length > 0 && U.every((row) => Array.isArray(row) && row.length > 0 && row.every((x) => typeof x === "number"));
  const flat = Array.isArray(U) && U.length > 0 && U.every((x) => typeof x === "number");
  if (!rows && !flat) throw new UserError(`${field}.file.U: must be an array of r rows of numbers`);
  return { inline: { gamma, U }, from: file };
}

function resolveFlow(raw: Raw, baseDir: string): Raw {
  const out: Raw = { ...raw };
  const D = rawD(raw);
  const init = raw.init;
  if (isObject(init) && init.kind === "file" && typeof init.path === "string") {
    const { data } = readArrayFile(resolvePath(init.path, baseDir), "model.init.path");
    if (D !== undefined && data.length !== D) throw new UserError(`model.init.path: need ${D} weights (got ${data.length})`);
    out.init = { kind: "inline", w: data, from: init.path };
  }
  const cp = raw.cp;
  if (isObject(cp) && Array.isArray(cp.factors)) {
    out.cp = {
      ...cp,
      factors: cp.factors.map((src: unknown, mu: number) => {
        const field = `model.cp.factors[${mu}]`;
        if (!isObject(src)) return src;
        if (typeof src.file === "string" && Object.keys(src).length === 1) return jsonFactors(src.file, field, baseDir);
        if (isObject(src.npy) && Object.keys(src).length === 1) return npyFactors(src.npy, field, baseDir, D);
        return src;
      }),
    };
  }
  return out;
}

function resolveAttractors(raw: Raw, baseDir: string): Raw {
  const cp = raw.cp;
  if (!isObject(cp) || !Array.isArray(cp.classes)) return raw;
  const D = rawD(raw);
  return {
    ...raw,
    cp: {
      ...cp,
      classes: cp.classes.map((src: unknown, mu: number) =>
        isObject(src) && isObject(src.npy) && Object.keys(src).length === 1 ? npyFactors(src.npy, `model.cp.classes[${mu}]`, baseDir, D) : src),
    },
  };
}

/**
 * The model with every file it refers to loaded inline (see the module comment); `baseDir` is the
 * directory relative paths are resolved against.
 */
export function resolveModelFiles(raw: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  switch (raw.kind) {
    case "flow": return resolveFlow(raw, baseDir);
    case "attractors": return resolveAttractors(raw, baseDir);
    case "sweep": return isObject(raw.base) ? { ...raw, base: resolveModelFiles(raw.base, baseDir) } : raw;
    default: return raw;
  }
}
