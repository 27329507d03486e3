/**
 * Kind "sweep": a grid of models of another kind (src/schema/sweep.ts), each run in memory through
 * `runModel` on worker threads (src/parallel/pool.ts, unit "model"), optionally one shard of the
 * grid.  Every run depends only on its own model and seed, so the records are the same for any
 * thread count and any sharding (see ./sweep-grid.ts).
 */
import { UserError } from "../run/errors.js";
import { parseWith } from "../schema/common.js";
import { sweepSchema, type SweepModel } from "../schema/sweep.js";
import type { RunStatus } from "../run/hooks.js";
import { enumerateGrid, modelHash, pointModel, runSeed, shardPoints, type GridPoint, type RunRecord, type Shard } from "./sweep-grid.js";
import { baseKinds, baseLoaders, checkKind, registryUrl, runModelUnit, type ModelUnitValue } from "./registry.js";
import { runUnitsDurably } from "./units.js";
import type { Experiment, ExperimentHooks, ResultBase } from "./types.js";

/** A validated sweep model whose base model is inline (a base given as a path is loaded by the caller). */
export type SweepRunModel = SweepModel & { base: Record<string, unknown> };

export interface SweepHooks extends ExperimentHooks {
  /** Run only this shard of the grid (default: all of it, 0/1). */
  shard?: Shard;
}

export interface SweepResult extends ResultBase<"sweep", SweepRunModel> {
  /** sha256 of the canonical model (shards of the same sweep share it). */
  modelHash: string;
  shard: Shard;
  nPoints: number;
  replicates: number;
  /** Grid points of this shard. */
  points: number[];
  /** Every run that finished, in (point, replicate) order. */
  runs: RunRecord[];
  /** All runs of the shard finished without error or interruption. */
  complete: boolean;
}

function describePoint(pt: GridPoint): string {
  return Object.entries(pt.values).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
}

/** Validate a sweep model whose base is inline. */
export function parseSweepModel(raw: unknown): SweepRunModel {
  const m = parseWith(sweepSchema, raw);
  if (typeof m.base !== "object" || m.base === null) throw new UserError(`model.base: must be a model object here (a path is resolved when the file is read)`);
  const base = m.base as Record<string, unknown>;
  if (typeof base.kind !== "string") throw new UserError(`model.base.kind: required (the kind of model to sweep)`);
  if (base.kind === "sweep") throw new UserError(`model.base.kind: a sweep cannot sweep another sweep`);
  return { ...m, base };
}

/**
 * Validate the model of every grid point (with its first replicate's seed) before any compute, so a
 * bad grid fails at once with one line naming the point — the CLI calls this before it creates the
 * output directory.
 */
export async function checkSweepPoints(model: SweepRunModel): Promise<void> {
  const base = await baseLoaders[checkKind(model.base, baseKinds, "model.base.kind")]();
  const points = enumerateGrid(model);
  for (const pt of points) {
    try {
      base.parse(pointModel(model, model.base, pt, runSeed(model, pt.index, 0)));
    } catch (e) {
      throw new UserError(`sweep point ${pt.index} (${describePoint(pt)}): ${(e as Error).message}`);
    }
  }
}

export async function runSweep(model: SweepRunModel, hooks: SweepHooks = {}): Promise<SweepResult> {
  const started = performance.now();
  const shard = hooks.shard ?? { index: 0, count: 1 };
  const points = enumerateGrid(model);
  const mine = shardPoints(points.length, shard);
  const R = model.seeds.count;
  await checkSweepPoints(model);
  const tasks: { id: number; payload: unknown; point: number; replicate: number; seed: number }[] = [];
  for (const p of mine) {
    for (let r = 0; r < R; r++) {
      const seed = runSeed(model, p, r);
      tasks.push({ id: tasks.length, payload: pointModel(model, model.base, points[p], seed), point: p, replicate: r, seed });
    }
  }
  const threads = Math.max(1, Math.min(hooks.threads ?? 1, tasks.length));
  hooks.log?.(`sweep ${model.name ?? ""}: ${points.length} points × ${R} seeds; shard ${shard.index}/${shard.count}: ${mine.length} points, ${tasks.length} runs on ${threads} thread(s)`);
  const { values } = await runUnitsDurably<unknown, ModelUnitValue>(tasks.map((t) => t.payload), {
    module: registryUrl,
    fn: "runModelUnit",
    inProcess: (raw, h) => runModelUnit(raw, h.signal ?? { aborted: false }, h),
    isFinal: (v) => v.status !== "interrupted",
    unit: "runs",
    describe: (id) => `sweep point ${tasks[id].point} (${describePoint(points[tasks[id].point])}), seed ${tasks[id].seed}`,
    label: (id) => `point ${tasks[id].point} seed ${tasks[id].seed}`,
  }, hooks);
  const runs: RunRecord[] = [];
  for (const t of tasks) {
    const v = values.get(t.id);
    if (!v) continue; // not finished (interrupted)
    const rec: RunRecord = { point: t.point, replicate: t.replicate, seed: t.seed, status: v.status, summary: v.summary };
    if (v.status === "error") rec.error = v.message;
    runs.push(rec);
  }
  const complete = runs.length === tasks.length && runs.every((r) => r.status !== "error" && r.status !== "interrupted");
  const errors = runs.filter((r) => r.status === "error");
  const interrupted = hooks.signal?.aborted === true && !complete;
  const status: RunStatus = interrupted ? "interrupted" : errors.length > 0 ? "failed" : complete ? "done" : "interrupted";
  const message = `${runs.length}/${tasks.length} runs${complete ? "" : " (incomplete)"}${errors.length ? `; ${errors.length} failed, first: ${errors[0].error}` : ""}`;
  return {
    kind: "sweep", status, message, model, seed: model.seeds.from,
    timings: { wall: (performance.now() - started) / 1000 },
    summary: { points: points.length, runs: runs.length, errors: errors.length },
    modelHash: modelHash(model), shard, nPoints: points.length, replicates: R, points: mine, runs, complete,
  };
}

export const sweepExperiment: Experiment<SweepRunModel, SweepResult> = {
  kind: "sweep",
  describe: "parameter sweep over any model kind, on worker threads; --shard i/n runs one part",
  parse: parseSweepModel,
  run: runSweep,
};
