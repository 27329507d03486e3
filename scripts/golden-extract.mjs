/**
 * Golden-output extraction: reduce an rfdyn output directory to a flat map of the numbers that a
 * pure refactor must reproduce bit for bit (test/models-golden.test.ts compares these maps).
 *
 *   import { extractGolden } from "./golden-extract.mjs";
 *   extractGolden("/tmp/out")   // → { "result.json:final.pmse": 0.81…, "log.csv:last.pmse": …, … }
 *
 * Keys (paths are relative to outDir, "/"-separated, e.g. "runs/L=20_P=400_xi=3_g=1_s0/factors.csv"):
 *   files                              sorted, comma-separated list of the data files written
 *                                      (.json, .csv, .npy; plots .svg / .vl.json are not listed)
 *   result.json:<dotted.path>          every leaf of result.json (arrays as path[i]), minus the
 *                                      excluded keys below; booleans and null as strings
 *   <file>.csv:rows                    number of data rows
 *   <file>.csv:first.<col> / last.<col>  the first and the last data row
 *   <file>.csv:sum.<col>               sum over all rows of a column whose cells are all numbers
 *                                      (catches a change in any middle row at no cost)
 *   <file>.npy:dtype / shape           "<f8" / "<i4", "r,c"
 *   <file>.npy:length / sum / sumsq    element count, Σx, Σx² (in file order)
 *   <file>.npy:wsum                    Σ (i+1)·x_i (sensitive to reordering, which sum/sumsq are not)
 *
 * Values: finite numbers stay numbers (CSV cells are written with String(x), the shortest
 * round-trip form, so parsing them back is exact); non-finite numbers are strings ("inf", "nan",
 * "Infinity", "NaN"); other CSV cells stay strings ("" for an empty cell).
 *
 * Excluded (non-deterministic or not a result):
 *   - wall-clock measurements: timings.*, wallTime, trainTime, sgdWallTime, odeWallTime,
 *     stepsPerSecond, per-run "seconds" (result.json summary.runs[i].seconds and the CSV column
 *     "seconds" of flow finals.csv / cp runs.csv), "started" timestamps;
 *   - environment: version (package version), modelFile and any key naming a path/dir (absolute
 *     paths differ between output directories);
 *   - prose: description, conventions.* and message (documentation strings, not results; messages quote speeds).
 * Nothing else was found to vary between two runs of the same fixture (checked by running each
 * capture twice, see scripts/golden-capture.mjs --check).
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** A JSON key (one path segment) or CSV column that is excluded wherever it appears. */
const EXCLUDED_KEY = /^(timings|seconds|started|version|modelFile|description|conventions|message)$|wall|perSecond|trainTime|path|dir/i;

export function isExcludedKey(key) {
  return EXCLUDED_KEY.test(key);
}

function listFiles(dir, root = dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, root));
    else out.push(relative(root, p).split(sep).join("/"));
  }
  return out;
}

function scalar(v) {
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "string") return v;
  return String(v); // boolean, null
}

function flattenJson(v, prefix, out) {
  if (Array.isArray(v)) {
    if (v.length === 0) out[prefix] = "[]";
    v.forEach((x, i) => flattenJson(x, `${prefix}[${i}]`, out));
  } else if (v !== null && typeof v === "object") {
    const entries = Object.entries(v).filter(([k]) => !isExcludedKey(k));
    if (entries.length === 0 && Object.keys(v).length === 0) out[prefix] = "{}";
    for (const [k, x] of entries) flattenJson(x, prefix.endsWith(":") ? prefix + k : `${prefix}.${k}`, out);
  } else {
    out[prefix] = scalar(v);
  }
}

/** RFC 4180 CSV as written by src/io/csv.ts (quoted cells may hold commas, quotes and newlines). */
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false, i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { cell += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      cell += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ",") { row.push(cell); cell = ""; i++; continue; }
    if (c === "\n" || c === "\r") {
      row.push(cell); rows.push(row); row = []; cell = "";
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    cell += c; i++;
  }
  if (cell !== "" || row.length > 0) { row.push(cell); rows.push(row); }
  return rows;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const csvValue = (s) => (NUMBER.test(s) ? Number(s) : s);

function extractCsv(rel, text, out) {
  const [header = [], ...rows] = parseCsv(text);
  out[`${rel}:rows`] = rows.length;
  const cols = header.map((name, j) => ({ name, j })).filter((c) => !isExcludedKey(c.name));
  if (rows.length === 0) return;
  for (const [tag, r] of [["first", rows[0]], ["last", rows[rows.length - 1]]]) {
    for (const { name, j } of cols) out[`${rel}:${tag}.${name}`] = csvValue(r[j] ?? "");
  }
  for (const { name, j } of cols) {
    let s = 0, numeric = true;
    for (const r of rows) {
      const v = csvValue(r[j] ?? "");
      if (typeof v !== "number") { numeric = false; break; }
      s += v;
    }
    if (numeric) out[`${rel}:sum.${name}`] = scalar(s);
  }
}

/** .npy v1/v2 (little-endian float64 or int32, C order) as written by src/io/npy.ts. */
export function decodeNpy(buf) {
  if (buf[0] !== 0x93 || buf.subarray(1, 6).toString("latin1") !== "NUMPY") throw new Error("not an .npy file");
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hoff = major === 1 ? 10 : 12;
  const header = buf.subarray(hoff, hoff + hlen).toString("latin1");
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error("npy: Fortran order not supported");
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const bytes = buf.subarray(hoff + hlen);
  const copy = new Uint8Array(bytes); // aligned copy
  let data;
  if (descr === "<f8") data = new Float64Array(copy.buffer, 0, copy.byteLength / 8);
  else if (descr === "<i4") data = new Int32Array(copy.buffer, 0, copy.byteLength / 4);
  else if (descr === "<i8") data = Array.from(new BigInt64Array(copy.buffer, 0, copy.byteLength / 8), Number);
  else throw new Error(`npy: unsupported dtype ${descr}`);
  return { descr, shape, data };
}

function extractNpy(rel, buf, out) {
  const { descr, shape, data } = decodeNpy(buf);
  let sum = 0, sumsq = 0, wsum = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    sum += x;
    sumsq += x * x;
    wsum += (i + 1) * x;
  }
  out[`${rel}:dtype`] = descr;
  out[`${rel}:shape`] = shape.join(",");
  out[`${rel}:length`] = data.length;
  out[`${rel}:sum`] = scalar(sum);
  out[`${rel}:sumsq`] = scalar(sumsq);
  out[`${rel}:wsum`] = scalar(wsum);
}

/** Flat map of the golden numbers of one rfdyn output directory (keys in a stable order). */
export function extractGolden(outDir) {
  const files = listFiles(outDir);
  const out = {};
  out.files = files.filter((f) => /\.(json|csv|npy)$/.test(f) && !f.endsWith(".vl.json")).join(",");
  for (const rel of files) {
    const p = join(outDir, rel);
    if (rel === "result.json") flattenJson(JSON.parse(readFileSync(p, "utf8")), "result.json:", out);
    else if (rel.endsWith(".csv")) extractCsv(rel, readFileSync(p, "utf8"), out);
    else if (rel.endsWith(".npy")) extractNpy(rel, readFileSync(p), out);
  }
  return out;
}

/**
 * Compare an extracted map with the expected one: integers and strings exactly, other numbers to
 * a relative tolerance.  Returns one readable line per mismatch (missing / extra keys included).
 */
export function compareGolden(expected, got, relTol = 1e-12) {
  const problems = [];
  for (const [k, e] of Object.entries(expected)) {
    if (!(k in got)) { problems.push(`${k}: expected ${JSON.stringify(e)}, got <missing>`); continue; }
    const g = got[k];
    let ok;
    if (typeof e === "number" && typeof g === "number" && !Number.isInteger(e)) {
      ok = e === g || Math.abs(e - g) <= relTol * Math.max(Math.abs(e), Math.abs(g));
    } else ok = e === g;
    if (!ok) {
      const rel = typeof e === "number" && typeof g === "number" && e !== 0 ? ` (rel. diff ${((g - e) / Math.abs(e)).toExponential(2)})` : "";
      problems.push(`${k}: expected ${JSON.stringify(e)}, got ${JSON.stringify(g)}${rel}`);
    }
  }
  for (const k of Object.keys(got)) if (!(k in expected)) problems.push(`${k}: expected <missing>, got ${JSON.stringify(got[k])}`);
  return problems;
}
