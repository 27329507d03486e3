/**
 * Shared helpers of the CLI fault tests (test/interrupt.test.ts, test/faults.test.ts): spawning
 * `rfdyn run` from src/ via tsx, waiting for a run to start, long and short model variants built
 * from the golden fixtures, a seeded RNG, a small process pool, and output-directory checks
 * (corrupt files, temp files, byte comparison with wall-clock fields masked).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const ROOT = join(__dirname, "..");

export function golden(name: string): any {
  return JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "golden", `${name}.model.json`), "utf8"));
}

export interface CliRun {
  child: ChildProcess;
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (null if killed by a signal) and the signal, and the time of exit. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Spawn `node --import tsx src/cli/index.ts run <model> -o <out> …` from the repo root. */
export function spawnRun(model: string, out: string, extra: string[] = []): CliRun {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/index.ts", "run", model, "-o", out, ...extra], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })));
  return { child, stderr: () => err, exited };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll until `path` exists (or the process exits / the timeout passes); true if it exists. */
export async function waitForFile(path: string, run: CliRun, timeoutMs = 30_000): Promise<boolean> {
  let done = false;
  void run.exited.then(() => (done = true));
  const t0 = Date.now();
  while (!existsSync(path)) {
    if (done || Date.now() - t0 > timeoutMs) return existsSync(path);
    await sleep(20);
  }
  return true;
}

/** Resolve with the exit, or with undefined after `ms`. */
export async function exitWithin(run: CliRun, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([run.exited, new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), ms)))]);
  clearTimeout(timer);
  return r;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run async tasks with at most `n` at a time; results in task order. */
export async function limit<T>(n: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
  return out;
}

/** Every file under `dir` (relative paths, sorted); `.rfdyn` bookkeeping excluded unless asked. */
export function listFiles(dir: string, withBookkeeping = false): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name === ".rfdyn" && !withBookkeeping) continue;
        walk(p);
      } else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Temp files of atomic writes (`*.tmp`) anywhere under `dir`, bookkeeping included. */
export function tempFiles(dir: string): string[] {
  return listFiles(dir, true).filter((f) => f.endsWith(".tmp"));
}

/**
 * Problems of the files under `dir` (empty when none): every .json parses, every .npy has a valid
 * v1/v2 header whose shape and dtype account for the file's byte length exactly, every .csv has
 * the header's column count on every row (quoted fields allowed), every .svg is a closed <svg>,
 * every .png has the PNG signature and ends with IEND.
 */
export function corruptFiles(dir: string): string[] {
  const bad: string[] = [];
  for (const f of listFiles(dir, true)) {
    const p = join(dir, f);
    const buf = readFileSync(p);
    try {
      if (f.endsWith(".json")) JSON.parse(buf.toString("utf8"));
      else if (f.endsWith(".npy")) checkNpy(buf);
      else if (f.endsWith(".csv")) checkCsv(buf.toString("utf8"));
      else if (f.endsWith(".png")) {
        if (buf.length < 45 || buf.toString("latin1", 1, 4) !== "PNG" || buf.toString("latin1", buf.length - 8, buf.length - 4) !== "IEND") throw new Error("not a complete PNG");
      } else if (f.endsWith(".svg")) {
        const s = buf.toString("utf8").trim();
        if (!s.startsWith("<svg") || !s.endsWith("</svg>")) throw new Error("not a closed <svg> element");
      }
    } catch (e) {
      bad.push(`${f}: ${(e as Error).message}`);
    }
  }
  return bad;
}

function checkNpy(buf: Buffer): void {
  if (buf.length < 10 || buf.toString("latin1", 0, 6) !== "\x93NUMPY") throw new Error("bad magic");
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if ((start + hlen) % 16 !== 0 && (start + hlen) % 64 !== 0) throw new Error("header not aligned");
  const header = buf.toString("latin1", start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shape === undefined || !/'fortran_order':\s*False/.test(header)) throw new Error(`bad header ${header}`);
  const size = Number(/\d+$/.exec(descr)?.[0]);
  const n = shape.split(",").map((s) => s.trim()).filter((s) => s !== "").reduce((a, s) => a * Number(s), 1);
  if (!(size > 0) || !Number.isInteger(n)) throw new Error(`bad header ${header}`);
  if (buf.length !== start + hlen + n * size) throw new Error(`length ${buf.length} ≠ ${start + hlen} + ${n}·${size}`);
}

/** Split CSV text into rows of fields (RFC 4180 quoting). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = "", q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\n") row.push(field), rows.push(row), (row = []), (field = "");
    else if (c !== "\r") field += c;
  }
  if (q) throw new Error("unterminated quote");
  if (field !== "" || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

function checkCsv(text: string): void {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("no final newline");
  const rows = parseCsv(text);
  if (rows.length === 0) throw new Error("empty");
  const n = rows[0].length;
  rows.forEach((r, i) => {
    if (r.length !== n) throw new Error(`row ${i} has ${r.length} columns, header ${n}`);
  });
}

/**
 * Wall-clock content of the outputs, masked before comparing two runs of the same model (found by
 * diffing two uninterrupted runs of every kind; nothing else may differ):
 *   - result.json: any key named `timings` (object), `wallTime`, `trainTime`, `odeWallTime`,
 *     `sgdWallTime`, `stepsPerSecond`, `seconds` (also flow's summary.runs[i].seconds), `started`,
 *     and in `message` the numbers of "<x> s" and "<x> steps/s" (e.g. "ODE 9.9 s", "138301 steps/s");
 *   - CSV columns named `seconds` (cp runs.csv, flow finals.csv).
 */
export const WALL_KEYS = /^(timings|wallTime|trainTime|odeWallTime|sgdWallTime|stepsPerSecond|seconds|started)$/;

export function maskMessage(s: string): string {
  return s.replace(/\d+(\.\d+)?(e[+-]?\d+)? (steps\/s|s)\b/g, "<wall> $3");
}

function maskJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskJson);
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = WALL_KEYS.test(k) ? "<wall>" : k === "message" && typeof x === "string" ? maskMessage(x) : maskJson(x);
    return o;
  }
  return v;
}

/** File content with wall-clock fields masked (see WALL_KEYS); other files unchanged. */
export function masked(path: string): Buffer | string {
  const buf = readFileSync(path);
  if (path.endsWith(".json") && path.split("/").pop() === "result.json") return JSON.stringify(maskJson(JSON.parse(buf.toString("utf8"))), null, 1);
  if (path.endsWith(".csv")) {
    const rows = parseCsv(buf.toString("utf8"));
    const cols = rows[0]?.map((h, i) => (h === "seconds" ? i : -1)).filter((i) => i >= 0) ?? [];
    if (cols.length === 0) return buf;
    return rows.map((r) => r.map((f, i) => (cols.includes(i) ? "<wall>" : f)).join(",")).join("\n");
  }
  return buf;
}

/** Differences between two output directories (file lists and masked contents); empty when equal. */
export function diffDirs(ref: string, dir: string): string[] {
  const a = listFiles(ref), b = listFiles(dir);
  const out: string[] = [];
  for (const f of a) if (!b.includes(f)) out.push(`missing ${f}`);
  for (const f of b) if (!a.includes(f)) out.push(`extra ${f}`);
  for (const f of a) {
    if (!b.includes(f)) continue;
    const x = masked(join(ref, f)), y = masked(join(dir, f));
    const eq = typeof x === "string" || typeof y === "string" ? String(x) === String(y) : x.equals(y);
    if (!eq) out.push(`differs ${f}${firstDiff(String(x), String(y))}`);
  }
  return out;
}

function firstDiff(x: string, y: string): string {
  if (x.length > 5_000_000) return "";
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  return ` at ${i}: …${JSON.stringify(x.slice(Math.max(0, i - 60), i + 60))} vs …${JSON.stringify(y.slice(Math.max(0, i - 60), i + 60))}`;
}

export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, "utf8"));
}

export function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}
