/**
 * Kind "sweep" / `rfdyn sweep <model> [--shard i/n] [-j threads]`: runs a grid of models of another
 * kind (see src/io/schema/sweep.ts) on worker threads, optionally only one shard of the grid.
 *
 * Every invocation writes, atomically:
 *   shard.json  sweep model (base inlined), its sha256, the shard, its points and every run record
 *   runs.csv    one row per run (point, replicate, seed, axis values, status, metrics)
 * and, when the run covers the whole grid (no --shard, or n = 1):
 *   summary.csv mean ± sd of each metric per grid point;  sweep.svg / sweep.vl.json;  result.json
 * Shards are joined by `rfdyn merge` (./merge.ts), which produces the same summary.csv byte for byte.
 *
 * SLURM: `#SBATCH --array=0-7` and `rfdyn sweep model.json --shard $SLURM_ARRAY_TASK_ID/8
 * -o results/x/shard-$SLURM_ARRAY_TASK_ID`, then `rfdyn merge results/x/shard-* -o results/x`.
 */
import { dirname, join, resolve } from "node:path";
import type { RunContext } from "../common.js";
import { makeContext, progressBar, runCli, defaultOutDir } from "../common.js";
import { UserError } from "../../io/errors.js";
import { parseWith, readModelFile } from "../../io/schema/common.js";
import { sweepSchema, type SweepModel } from "../../io/schema/sweep.js";
import {
  aggregate, enumerateGrid, metricNames, modelHash, parseShard, pointModel, runRows, runSeed, shardPoints, summaryRows, sweepPlotSpec,
  type GridPoint, type RunRecord, type Shard,
} from "../../io/sweep.js";
import { writeJsonAtomic } from "../../io/atomic.js";
import { writeCsv } from "../../io/csv.js";
import { rfdynVersion } from "../../io/version.js";

export const SHARD_FILE = "shard.json";

export interface ShardFile {
  format: "rfdyn-sweep-shard/1";
  version: string;
  modelHash: string;
  model: SweepModel & { base: Record<string, unknown> };
  modelFile: string;
  shard: Shard;
  nPoints: number;
  replicates: number;
  points: number[];
  complete: boolean;
  runs: RunRecord[];
}

/** Validate a sweep model and inline its base model (a path is resolved relative to the sweep file). */
export function resolveSweepModel(raw: unknown, modelPath: string): SweepModel & { base: Record<string, unknown> } {
  const m = parseWith(sweepSchema, raw);
  let base: Record<string, unknown>;
  if (typeof m.base === "string") base = readModelFile(resolve(dirname(modelPath), m.base));
  else base = m.base;
  if (typeof base.kind !== "string") throw new UserError(`model.base.kind: required (the kind of model to sweep)`);
  if (base.kind === "sweep") throw new UserError(`model.base.kind: a sweep cannot sweep another sweep`);
  return { ...m, base };
}

function describePoint(pt: GridPoint): string {
  return Object.entries(pt.values).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
}

/** Write summary.csv, the plot and result.json for a complete set of runs. */
export async function writeAggregate(out: string, sf: ShardFile, extra: Record<string, unknown> = {}): Promise<void> {
  const model = sf.model;
  const points = enumerateGrid(model);
  const metrics = metricNames(model, sf.runs);
  const agg = aggregate(points, sf.runs, metrics);
  const { columns, rows } = summaryRows(model, agg, metrics);
  writeCsv(join(out, "summary.csv"), rows, columns);
  const { writePlot } = await import("../../plot/render.js");
  await writePlot(join(out, "sweep"), sweepPlotSpec(model, agg, metrics));
  const errors = sf.runs.filter((r) => r.status === "error").length;
  writeJsonAtomic(join(out, "result.json"), {
    kind: "sweep", version: sf.version, modelFile: sf.modelFile, modelHash: sf.modelHash, model,
    status: sf.complete ? "done" : "incomplete",
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

/** Run a sweep model (or one shard of it) into ctx.out. */
export async function runSweep(raw: Record<string, unknown>, ctx: RunContext, modelPath: string, shardArg?: string): Promise<ShardFile> {
  const started = Date.now();
  const model = resolveSweepModel(raw, modelPath);
  const hash = modelHash(model);
  const shard = parseShard(shardArg);
  const points = enumerateGrid(model);
  const mine = shardPoints(points.length, shard);
  const R = model.seeds.count;
  const kind = model.base.kind as string;

  const { validators, computers } = await import("../worker.js");
  const { runners } = await import("../runners.js");
  if (!computers[kind] && !runners[kind]) throw new UserError(`model.base.kind: no runner for kind "${kind}" (known: ${[...new Set([...Object.keys(computers), ...Object.keys(runners)])].join(", ")})`);
  const validate = validators[kind] ? await validators[kind]() : undefined;
  const tasks = [];
  for (const p of mine) {
    for (let r = 0; r < R; r++) {
      const seed = runSeed(model, p, r);
      const m = pointModel(model, model.base, points[p], seed);
      if (validate && r === 0) {
        try {
          validate(m);
        } catch (e) {
          throw new UserError(`sweep point ${p} (${describePoint(points[p])}): ${(e as Error).message}`);
        }
      }
      tasks.push({ id: tasks.length, kind, model: m, modelPath, runDir: join(ctx.out, "runs", `p${p}-r${r}`), point: p, replicate: r, seed });
    }
  }
  ctx.log(`sweep ${model.name ?? ""}: ${points.length} points × ${R} seeds; shard ${shard.index}/${shard.count}: ${mine.length} points, ${tasks.length} runs on ${Math.min(ctx.threads, tasks.length)} thread(s)`);
  const bar = progressBar(ctx, "sweep");
  const { runTasks } = await import("../pool.js");
  let results;
  try {
    results = await runTasks(tasks, {
      threads: ctx.threads,
      signal: ctx.signal,
      onResult: (_r, done, total) => bar.update(done / total, `${done}/${total} runs`),
    });
  } finally {
    bar.stop();
  }
  const byId = new Map(results.map((r) => [r.id, r]));
  const runs: RunRecord[] = [];
  let firstUserError: string | undefined;
  for (const t of tasks) {
    const r = byId.get(t.id);
    if (!r) continue; // not started (interrupted)
    const rec: RunRecord = { point: t.point, replicate: t.replicate, seed: t.seed, status: r.status, summary: r.summary };
    if (r.error !== undefined) rec.error = r.error;
    if (r.userError && firstUserError === undefined) firstUserError = `sweep point ${t.point} (${describePoint(points[t.point])}), seed ${t.seed}: ${r.error}`;
    runs.push(rec);
  }
  const complete = runs.length === tasks.length && runs.every((r) => r.status !== "error" && r.status !== "interrupted");
  const sf: ShardFile = {
    format: "rfdyn-sweep-shard/1", version: rfdynVersion(), modelHash: hash, model, modelFile: modelPath, shard,
    nPoints: points.length, replicates: R, points: mine, complete, runs,
  };
  writeShardFiles(ctx.out, sf);
  if (shard.count === 1) await writeAggregate(ctx.out, sf, { timings: { seconds: (Date.now() - started) / 1000 } });
  const errors = runs.filter((r) => r.status === "error");
  if (firstUserError) throw new UserError(firstUserError);
  if (errors.length > 0) ctx.log(`sweep: ${errors.length} run(s) failed, first: ${errors[0].error}`);
  ctx.log(`sweep: ${runs.length}/${tasks.length} runs${complete ? "" : " (incomplete)"} → ${ctx.out}`);
  return sf;
}

/** Runner for `rfdyn run` on a sweep file (the shard comes from RFDYN_SHARD=i/n if set). */
export async function runSweepCommand(model: Record<string, unknown>, ctx: RunContext, modelPath: string): Promise<void> {
  await runSweep(model, ctx, modelPath, process.env.RFDYN_SHARD);
}

interface SweepArgs {
  model: string;
  out?: string;
  quiet?: boolean;
  threads?: number;
  shard?: string;
}

/** yargs command module for `rfdyn sweep`. */
export const sweepCommand = {
  command: "sweep <model>",
  describe: "parameter sweep over any model kind, on worker threads; --shard i/n runs one part (kind: sweep)",
  builder: (y: import("yargs").Argv) =>
    y
      .positional("model", { type: "string", describe: "sweep model file (JSON, kind \"sweep\")", demandOption: true })
      .option("out", { alias: "o", type: "string", describe: "output directory (default results/<model name>[/shard-i-of-n])" })
      .option("quiet", { alias: "q", type: "boolean", describe: "no progress bar or status lines" })
      .option("threads", { alias: "j", type: "number", describe: "worker threads (default 1)" })
      .option("shard", { type: "string", describe: "run only shard i of n (0 ≤ i < n), e.g. --shard 3/8 (points p ≡ i mod n)" }),
  handler: (argv: SweepArgs) =>
    runCli(async () => {
      const raw = readModelFile(argv.model);
      if (raw.kind !== "sweep") throw new UserError(`model.kind: "${String(raw.kind)}" cannot be run by \`rfdyn sweep\` (must be "sweep")`);
        const shard = parseShard(argv.shard);
      const out = argv.out ?? (shard.count > 1 ? join(defaultOutDir(argv.model), `shard-${shard.index}-of-${shard.count}`) : undefined);
      const ctx = makeContext({ ...argv, out }, argv.model);
      await runSweep(raw, ctx, argv.model, argv.shard);
      if (ctx.signal.aborted) process.exitCode = 130;
    }),
};
