/**
 * Kind "sweep": a grid of models of another kind (src/schema/sweep.ts), each run in memory through
 * `runModel` on worker threads (./pool.ts, unit "model"), optionally one shard of the grid.  Every
 * run depends only on its own model and seed, so the records are the same for any thread count and
 * any sharding (see ./sweep-grid.ts).
 */
import { UserError } from "../run/errors.js";
import { parseWith } from "../schema/common.js";
import { sweepSchema, type SweepModel } from "../schema/sweep.js";
import type { RunStatus } from "../run/hooks.js";
import { enumerateGrid, modelHash, pointModel, runSeed, shardPoints, type GridPoint, type RunRecord, type Shard } from "./sweep-grid.js";
import { runUnits } from "../parallel/pool.js";
import { baseKinds, baseLoaders, checkKind, registryUrl } from "./registry.js";
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

export async function runSweep(model: SweepRunModel, hooks: SweepHooks = {}): Promise<SweepResult> {
  const started = performance.now();
  const shard = hooks.shard ?? { index: 0, count: 1 };
  const points = enumerateGrid(model);
  const mine = shardPoints(points.length, shard);
  const R = model.seeds.count;
  const base = await baseLoaders[checkKind(model.base, baseKinds, "model.base.kind")]();
  const tasks: { id: number; module: string; fn: string; payload: unknown; point: number; replicate: number; seed: number }[] = [];
  for (const p of mine) {
    for (let r = 0; r < R; r++) {
      const seed = runSeed(model, p, r);
      const m = pointModel(model, model.base, points[p], seed);
      if (r === 0) {
        // Validate every point before any compute, so a bad grid fails at once with one line.
        try {
          base.parse(m);
        } catch (e) {
          throw new UserError(`sweep point ${p} (${describePoint(points[p])}): ${(e as Error).message}`);
        }
      }
      tasks.push({ id: tasks.length, module: registryUrl, fn: "runModelUnit", payload: m, point: p, replicate: r, seed });
    }
  }
  const threads = Math.max(1, Math.min(hooks.threads ?? 1, tasks.length));
  hooks.log?.(`sweep ${model.name ?? ""}: ${points.length} points × ${R} seeds; shard ${shard.index}/${shard.count}: ${mine.length} points, ${tasks.length} runs on ${threads} thread(s)`);
  const results = await runUnits(tasks, {
    threads,
    signal: hooks.signal,
    onResult: (_r, done, total) => hooks.onProgress?.({ done, total, unit: "runs" }),
  });
  const byId = new Map(results.map((r) => [r.id, r]));
  const runs: RunRecord[] = [];
  let firstUserError: string | undefined;
  for (const t of tasks) {
    const r = byId.get(t.id);
    if (!r) continue; // not started (interrupted)
    const v = r.value as { status: RunStatus; summary: Record<string, number> } | undefined;
    const rec: RunRecord = { point: t.point, replicate: t.replicate, seed: t.seed, status: r.ok && v ? v.status : "error", summary: r.ok && v ? v.summary : {} };
    if (r.error !== undefined) rec.error = r.error;
    if (r.userError && firstUserError === undefined) firstUserError = `sweep point ${t.point} (${describePoint(points[t.point])}), seed ${t.seed}: ${r.error}`;
    runs.push(rec);
  }
  if (firstUserError) throw new UserError(firstUserError);
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
