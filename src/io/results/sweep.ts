/**
 * Files of a "sweep" result, and `mergeShards` for `rfdyn merge`.
 *
 * Every sweep run writes, atomically:
 *   shard.json  sweep model (base inlined), its sha256, the shard, its points and every run record
 *   runs.csv    one row per run (point, replicate, seed, axis values, status, metrics)
 * and, when it covers the whole grid (no shard, or n = 1):
 *   summary.csv mean ± sd of each metric per grid point;  sweep.svg / sweep.vl.json;  result.json (last)
 *
 * Merging (each failure is a one-line UserError): every directory has a shard.json; all come from
 * the same sweep model (same sha256 of the canonical model, which is also re-computed from the
 * stored model); the same shard count n; shard indices are distinct and cover 0..n−1; point sets
 * are non-overlapping and each is exactly the set shard i must hold; every shard is complete.  The
 * merged directory holds shard.json (as one complete 0/1 shard, so merged outputs can be merged
 * again), runs.csv, summary.csv, the plot and result.json — the same bytes an unsharded run gives
 * for runs.csv and summary.csv.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../run/errors.js";
import { writeJsonAtomic } from "../atomic.js";
import { writeCsv } from "../csv.js";
import { rfdynVersion } from "../version.js";
import { writePlot } from "../plots.js";
import {
  aggregate, enumerateGrid, metricNames, modelHash, runRows, shardPoints, summaryRows, sweepPlotSpec, type RunRecord, type Shard,
} from "../../experiments/sweep-grid.js";
import type { SweepResult, SweepRunModel } from "../../experiments/sweep.js";
import { peakRss } from "../resources.js";

export const SHARD_FILE = "shard.json";

export interface ShardFile {
  format: "rfdyn-sweep-shard/1";
  version: string;
  modelHash: string;
  model: SweepRunModel;
  modelFile: string;
  shard: Shard;
  nPoints: number;
  replicates: number;
  points: number[];
  complete: boolean;
  runs: RunRecord[];
}

/** The shard file of a sweep result. */
export function shardFileOf(r: SweepResult, modelFile: string): ShardFile {
  return {
    format: "rfdyn-sweep-shard/1", version: rfdynVersion(), modelHash: r.modelHash, model: r.model, modelFile, shard: r.shard,
    nPoints: r.nPoints, replicates: r.replicates, points: r.points, complete: r.complete, runs: r.runs,
  };
}

/** Write a sweep result: shard files, and the aggregate when the result covers the whole grid. */
export async function writeSweepResult(out: string, r: SweepResult, modelFile = ""): Promise<void> {
  const sf = shardFileOf(r, modelFile);
  writeShardFiles(out, sf);
  if (r.shard.count === 1) await writeAggregate(out, sf, { status: r.status, message: r.message, timings: { seconds: r.timings.wall, ...peakRss() } });
}

/** Write summary.csv, the plot and result.json (last) for a complete set of runs. */
export async function writeAggregate(out: string, sf: ShardFile, extra: Record<string, unknown> = {}): Promise<void> {
  const model = sf.model;
  const points = enumerateGrid(model);
  const metrics = metricNames(model, sf.runs);
  const agg = aggregate(points, sf.runs, metrics);
  const { columns, rows } = summaryRows(model, agg, metrics);
  writeCsv(join(out, "summary.csv"), rows, columns);
  await writePlot(join(out, "sweep"), sweepPlotSpec(model, agg, metrics));
  const errors = sf.runs.filter((r) => r.status === "error").length;
  writeJsonAtomic(join(out, "result.json"), {
    kind: "sweep", version: sf.version, modelFile: sf.modelFile, modelHash: sf.modelHash, model,
    status: sf.complete ? "done" : "interrupted",
    summary: { points: points.length, runs: sf.runs.length, errors, metrics },
    ...extra,
  });
}

export function writeShardFiles(out: string, sf: ShardFile): void {
  const points = enumerateGrid(sf.model);
  const metrics = metricNames(sf.model, sf.runs);
  const { columns, rows } = runRows(sf.model, points, sf.runs, metrics);
  writeCsv(join(out, "runs.csv"), rows, columns);
  writeJsonAtomic(join(out, SHARD_FILE), sf);
}

export function readShard(dir: string): ShardFile {
  const p = join(dir, SHARD_FILE);
  if (!existsSync(p)) throw new UserError(`merge: "${dir}" has no ${SHARD_FILE} (not a sweep output directory)`);
  let sf: ShardFile;
  try {
    sf = JSON.parse(readFileSync(p, "utf8")) as ShardFile;
  } catch (e) {
    throw new UserError(`merge: ${p} is not valid JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  if (sf.format !== "rfdyn-sweep-shard/1") throw new UserError(`merge: ${p}: unknown format ${JSON.stringify(sf.format)}`);
  if (modelHash(sf.model) !== sf.modelHash) throw new UserError(`merge: ${p}: stored model does not match its hash (file edited?)`);
  return sf;
}

/** Merge shard files (validated as described above) into one complete ShardFile. */
export function mergeShards(dirs: readonly string[]): ShardFile {
  if (dirs.length === 0) throw new UserError("merge: give at least one shard directory");
  const shards = dirs.map((d) => ({ dir: d, sf: readShard(d) }));
  const first = shards[0].sf;
  const n = first.shard.count;
  const seen = new Map<number, string>();
  for (const { dir, sf } of shards) {
    if (sf.modelHash !== first.modelHash) throw new UserError(`merge: "${dir}" comes from a different sweep model (hash ${sf.modelHash.slice(0, 12)} ≠ ${first.modelHash.slice(0, 12)} of "${shards[0].dir}")`);
    if (sf.shard.count !== n) throw new UserError(`merge: "${dir}" is shard ${sf.shard.index}/${sf.shard.count}, but "${shards[0].dir}" has n = ${n}`);
    const other = seen.get(sf.shard.index);
    if (other !== undefined) throw new UserError(`merge: shard ${sf.shard.index}/${n} given twice ("${other}" and "${dir}")`);
    seen.set(sf.shard.index, dir);
    if (!sf.complete) throw new UserError(`merge: "${dir}" (shard ${sf.shard.index}/${n}) is incomplete (interrupted or failed runs); re-run it`);
  }
  const missing = [];
  for (let i = 0; i < n; i++) if (!seen.has(i)) missing.push(i);
  if (missing.length) throw new UserError(`merge: missing shard(s) ${missing.map((i) => `${i}/${n}`).join(", ")}`);
  const nPoints = enumerateGrid(first.model).length;
  const owner = new Map<number, string>();
  for (const { dir, sf } of shards) {
    const expect = shardPoints(nPoints, sf.shard);
    if (sf.points.length !== expect.length || sf.points.some((p, k) => p !== expect[k])) throw new UserError(`merge: "${dir}" does not hold exactly the points of shard ${sf.shard.index}/${n}`);
    for (const p of sf.points) {
      const o = owner.get(p);
      if (o !== undefined) throw new UserError(`merge: point ${p} appears in both "${o}" and "${dir}"`);
      owner.set(p, dir);
    }
    const want = sf.points.length * sf.replicates;
    const keys = new Set(sf.runs.map((r) => `${r.point}:${r.replicate}`));
    if (sf.runs.length !== want || keys.size !== want || sf.runs.some((r) => !owner.has(r.point) || owner.get(r.point) !== dir)) {
      throw new UserError(`merge: "${dir}" has ${sf.runs.length} run records, expected ${want} distinct ones for its points`);
    }
  }
  if (owner.size !== nPoints) throw new UserError(`merge: shards cover ${owner.size} of ${nPoints} grid points`);
  const runs = shards.flatMap((s) => s.sf.runs).sort((a, b) => a.point - b.point || a.replicate - b.replicate);
  return {
    ...first, shard: { index: 0, count: 1 }, points: shardPoints(nPoints, { index: 0, count: 1 }), complete: true, runs,
  };
}

