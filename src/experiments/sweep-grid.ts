/**
 * Parameter sweeps: grid enumeration over dotted paths of a base model, deterministic run seeds,
 * shard partitions, hashing, and aggregation of per-run summaries into mean ± sd per grid point.
 *
 * Determinism.  Grid points are enumerated in a fixed order (blocks in file order; within a block,
 * a cartesian product with the LAST axis varying fastest), so point p is the same in every process.
 * Run (p, r) uses replicate seed s_r = seeds.from + r and, in "per-point" mode, the run seed
 *   seed(p, r) = 53-bit draw of Rng.stream(s_r, p)
 * ("common" mode: seed(p, r) = s_r).  Shard i of n holds the points p ≡ i (mod n) (round-robin, so
 * slow regions of the grid are spread over shards).  Each run depends only on its own model, so a
 * sharded run merged back gives bit-identical tables to an unsharded one.
 */
import { createHash } from "node:crypto";
import { Rng } from "../stats/rng.js";
import { UserError } from "../run/errors.js";
import type { AxisValues, SweepBlock, SweepModel } from "../schema/sweep.js";

/** Parse "a.b[2].c" / "a.b.2.c" into segments. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.replace(/\[(\d+)\]/g, ".$1").split(".")) {
    if (part === "") throw new UserError(`sweep path "${path}": empty segment`);
    out.push(/^\d+$/.test(part) ? Number(part) : part);
  }
  return out;
}

/** Deep copy of JSON-like data. */
export function cloneJson<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Set `value` at a dotted path, creating missing objects; arrays must already have the index. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const seg = parsePath(path);
  let cur: unknown = obj;
  for (let i = 0; i < seg.length - 1; i++) {
    const s = seg[i];
    if (cur === null || typeof cur !== "object") throw new UserError(`sweep path "${path}": "${seg.slice(0, i).join(".")}" is not an object`);
    const c = cur as Record<string | number, unknown>;
    if (Array.isArray(c) && (typeof s !== "number" || s >= c.length)) throw new UserError(`sweep path "${path}": index ${String(s)} out of range (array length ${c.length})`);
    if (c[s] === undefined || c[s] === null) c[s] = {};
    cur = c[s];
  }
  if (cur === null || typeof cur !== "object") throw new UserError(`sweep path "${path}": parent is not an object`);
  const last = seg[seg.length - 1];
  if (Array.isArray(cur) && (typeof last !== "number" || last > cur.length)) throw new UserError(`sweep path "${path}": index ${String(last)} out of range`);
  (cur as Record<string | number, unknown>)[last] = cloneJson(value);
}

export function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const s of parsePath(path)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

/** Expand one axis specification to its list of values. */
export function axisList(v: AxisValues): unknown[] {
  if (Array.isArray(v)) return v;
  if ("linspace" in v) {
    const [a, b, n] = v.linspace;
    return Array.from({ length: n }, (_, k) => (n === 1 ? a : k === n - 1 ? b : a + ((b - a) * k) / (n - 1)));
  }
  if ("logspace" in v) {
    const [a, b, n] = v.logspace;
    return Array.from({ length: n }, (_, k) => Math.pow(10, n === 1 ? a : k === n - 1 ? b : a + ((b - a) * k) / (n - 1)));
  }
  return Array.from({ length: v.count }, (_, k) => v.from + k * v.step);
}

export interface GridPoint {
  /** Global point index. */
  index: number;
  block: number;
  blockName: string;
  /** Axis path → value at this point (block "set" values are not listed). */
  values: Record<string, unknown>;
}

export function blocksOf(model: SweepModel): SweepBlock[] {
  return Array.isArray(model.grid) ? model.grid : [model.grid];
}

/** Enumerate all grid points (see module doc for the order). */
export function enumerateGrid(model: SweepModel): GridPoint[] {
  const pts: GridPoint[] = [];
  blocksOf(model).forEach((b, bi) => {
    const paths = Object.keys(b.axes);
    for (const p of paths) if (p === model.seedPath) throw new UserError(`model.grid: axis "${p}" is the seed path; give replicate seeds in model.seeds`);
    const lists = paths.map((p) => axisList(b.axes[p]));
    const idx = new Array<number>(paths.length).fill(0);
    const total = lists.reduce((n, l) => n * l.length, 1);
    for (let k = 0; k < total; k++) {
      const values: Record<string, unknown> = {};
      paths.forEach((p, j) => (values[p] = lists[j][idx[j]]));
      pts.push({ index: pts.length, block: bi, blockName: b.name ?? `block${bi}`, values });
      for (let j = paths.length - 1; j >= 0; j--) {
        if (++idx[j] < lists[j].length) break;
        idx[j] = 0;
      }
    }
  });
  if (pts.length > 1_000_000) throw new UserError(`model.grid: ${pts.length} points (max 1000000)`);
  return pts;
}

/** The concrete model of one run. */
export function pointModel(model: SweepModel, base: Record<string, unknown>, pt: GridPoint, seed: number): Record<string, unknown> {
  const m = cloneJson(base);
  const b = blocksOf(model)[pt.block];
  for (const [p, v] of Object.entries(b.set)) setPath(m, p, v);
  for (const [p, v] of Object.entries(pt.values)) setPath(m, p, v);
  setPath(m, model.seedPath, seed);
  return m;
}

/** Run seed for point p, replicate r. */
export function runSeed(model: SweepModel, p: number, r: number): number {
  const s = model.seeds.from + r;
  if (model.seedMode === "common") return s;
  const rng = Rng.stream(s, p);
  const hi = rng.nextUint32() >>> 11; // 21 bits
  return hi * 4294967296 + rng.nextUint32(); // < 2^53
}

export interface Shard {
  index: number;
  count: number;
}

/** Parse "i/n" (0 ≤ i < n). */
export function parseShard(s: string | undefined, source = "--shard"): Shard {
  if (s === undefined) return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) throw new UserError(`${source}: must look like i/n with 0 ≤ i < n (got "${s}")`);
  const index = Number(m[1]), count = Number(m[2]);
  if (!(count >= 1 && index < count)) throw new UserError(`${source}: must satisfy 0 ≤ i < n, n ≥ 1 (got "${s}")`);
  return { index, count };
}

/**
 * The shard of this process, numbered 0 ≤ i < n everywhere: `--shard i/n`, else RFDYN_SHARD=i/n,
 * else a SLURM array job's variables (i = SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN, n =
 * SLURM_ARRAY_TASK_COUNT or MAX − MIN + 1; so `--array=0-7` and `--array=1-8` both give 0/8 … 7/8).
 */
export function resolveShard(flag: string | undefined, env: Record<string, string | undefined>): Shard {
  if (flag !== undefined) return parseShard(flag, "--shard");
  if (env.RFDYN_SHARD !== undefined && env.RFDYN_SHARD !== "") return parseShard(env.RFDYN_SHARD, "RFDYN_SHARD");
  const id = env.SLURM_ARRAY_TASK_ID;
  if (id === undefined || id === "") return { index: 0, count: 1 };
  const int = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    if (!/^\d+$/.test(v.trim())) throw new UserError(`${name}: must be a non-negative integer (got "${v}")`);
    return Number(v);
  };
  const task = int("SLURM_ARRAY_TASK_ID")!;
  const min = int("SLURM_ARRAY_TASK_MIN") ?? 0;
  const max = int("SLURM_ARRAY_TASK_MAX");
  const count = int("SLURM_ARRAY_TASK_COUNT") ?? (max !== undefined ? max - min + 1 : undefined);
  if (count === undefined) throw new UserError("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is: cannot tell the number of shards (use --shard i/n)");
  const index = task - min;
  if (!(count >= 1 && index >= 0 && index < count)) throw new UserError(`SLURM array: task ${task} with min ${min} and count ${count} is not a shard 0 ≤ i < n`);
  return { index, count };
}

/** Points of shard i/n: p ≡ i (mod n). */
export function shardPoints(nPoints: number, shard: Shard): number[] {
  const out: number[] = [];
  for (let p = shard.index; p < nPoints; p += shard.count) out.push(p);
  return out;
}

/** Canonical JSON (sorted keys) → sha256 hex: identifies a sweep model independently of formatting. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

export function modelHash(v: unknown): string {
  return createHash("sha256").update(canonicalJson(v)).digest("hex");
}

/** One finished run. */
export interface RunRecord {
  point: number;
  replicate: number;
  seed: number;
  status: string;
  summary: Record<string, number>;
  error?: string;
}

export interface PointAggregate {
  point: GridPoint;
  n: number;
  mean: Record<string, number>;
  sd: Record<string, number>;
}

/** Metric names: model.metrics, or every numeric summary key seen (sorted). */
export function metricNames(model: SweepModel, runs: readonly RunRecord[]): string[] {
  if (model.metrics) return model.metrics;
  const s = new Set<string>();
  for (const r of runs) for (const [k, v] of Object.entries(r.summary)) if (typeof v === "number") s.add(k);
  return [...s].sort();
}

/**
 * Mean and sample sd (n − 1; NaN for n = 1) per point over its replicates, summing in replicate
 * order so the result does not depend on how runs were scheduled.
 */
export function aggregate(points: readonly GridPoint[], runs: readonly RunRecord[], metrics: readonly string[]): PointAggregate[] {
  const byPoint = new Map<number, RunRecord[]>();
  for (const r of runs) {
    if (r.status === "error" || r.status === "interrupted") continue;
    let l = byPoint.get(r.point);
    if (!l) byPoint.set(r.point, (l = []));
    l.push(r);
  }
  const out: PointAggregate[] = [];
  for (const pt of points) {
    const l = (byPoint.get(pt.index) ?? []).slice().sort((a, b) => a.replicate - b.replicate);
    const mean: Record<string, number> = {}, sd: Record<string, number> = {};
    for (const m of metrics) {
      const v = l.map((r) => r.summary[m]).filter((x): x is number => typeof x === "number" && Number.isFinite(x));
      const n = v.length;
      let s = 0;
      for (const x of v) s += x;
      const mu = n > 0 ? s / n : NaN;
      let q = 0;
      for (const x of v) q += (x - mu) * (x - mu);
      mean[m] = mu;
      sd[m] = n > 1 ? Math.sqrt(q / (n - 1)) : NaN;
    }
    out.push({ point: pt, n: l.length, mean, sd });
  }
  return out;
}

/** Axis paths over all blocks, in order of first appearance. */
export function axisPaths(model: SweepModel): string[] {
  const s: string[] = [];
  for (const b of blocksOf(model)) for (const p of Object.keys(b.axes)) if (!s.includes(p)) s.push(p);
  return s;
}

function cellOf(v: unknown): string | number | boolean | null {
  if (v === undefined) return null;
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean" || v === null) return v;
  return JSON.stringify(v);
}

/** Rows of the summary table: point, block, axis values, n, <metric>_mean, <metric>_sd. */
export function summaryRows(model: SweepModel, agg: readonly PointAggregate[], metrics: readonly string[]): { columns: string[]; rows: Record<string, string | number | boolean | null>[] } {
  const axes = axisPaths(model);
  const columns = ["point", "block", ...axes, "n", ...metrics.flatMap((m) => [`${m}_mean`, `${m}_sd`])];
  const rows = agg.map((a) => {
    const r: Record<string, string | number | boolean | null> = { point: a.point.index, block: a.point.blockName, n: a.n };
    for (const p of axes) r[p] = cellOf(a.point.values[p]);
    for (const m of metrics) { r[`${m}_mean`] = a.mean[m]; r[`${m}_sd`] = a.sd[m]; }
    return r;
  });
  return { columns, rows };
}

/** Rows of the per-run table. */
export function runRows(model: SweepModel, points: readonly GridPoint[], runs: readonly RunRecord[], metrics: readonly string[]): { columns: string[]; rows: Record<string, string | number | boolean | null>[] } {
  const axes = axisPaths(model);
  const columns = ["point", "replicate", "seed", "block", ...axes, "status", ...metrics, "error"];
  const rows = runs.map((r) => {
    const pt = points[r.point];
    const row: Record<string, string | number | boolean | null> = { point: r.point, replicate: r.replicate, seed: r.seed, block: pt.blockName, status: r.status, error: r.error ?? null };
    for (const p of axes) row[p] = cellOf(pt.values[p]);
    for (const m of metrics) row[m] = r.summary[m] ?? null;
    return row;
  });
  return { columns, rows };
}

/** Vega-Lite spec: mean ± sd of y against x (an axis path or a metric's mean), one series per block. */
export function sweepPlotSpec(model: SweepModel, agg: readonly PointAggregate[], metrics: readonly string[]): Record<string, unknown> {
  const axes = axisPaths(model);
  const y = model.plot.y ?? metrics[0];
  const x = model.plot.x ?? axes[0] ?? "point";
  const values: Record<string, unknown>[] = [];
  for (const a of agg) {
    const xv = x === "point" ? a.point.index : axes.includes(x) && a.point.values[x] !== undefined ? a.point.values[x] : a.mean[x];
    const yv = a.mean[y], sd = a.sd[y];
    if (typeof xv !== "number" || !Number.isFinite(xv) || !Number.isFinite(yv)) continue;
    if ((model.plot.logX && xv <= 0) || (model.plot.logY && yv <= 0)) continue;
    const s = Number.isFinite(sd) ? sd : 0;
    values.push({ series: a.point.blockName, x: xv, y: yv, lo: model.plot.logY ? Math.max(yv - s, yv * 1e-3) : yv - s, hi: yv + s });
  }
  const xs = { field: "x", type: "quantitative", title: x, ...(model.plot.logX ? { scale: { type: "log" } } : {}) };
  const ys = { field: "y", type: "quantitative", title: `${y} (mean ± sd)`, ...(model.plot.logY ? { scale: { type: "log" } } : {}) };
  return {
    title: model.plot.title ?? model.name ?? "sweep",
    width: 460,
    height: 300,
    data: { values },
    layer: [
      { mark: { type: "line", point: true }, encoding: { x: xs, y: ys, color: { field: "series", type: "nominal", title: null } } },
      { mark: { type: "rule" }, encoding: { x: xs, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color: { field: "series", type: "nominal", title: null } } },
    ],
  };
}
