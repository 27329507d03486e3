/**
 * Kind "cp": CP decomposition of a class's sample 4th-order cumulant (IG22 Fig. 4B/C/E, SI A.4).
 *
 * A model is a grid (the Cartesian product of sweep.{L, alpha, xi, gain}; one point without a
 * sweep) × `samples` independent data sets.  Each (grid point, sample) is one unit of work
 * (`cpPointUnit`, run by src/parallel/pool.ts on worker threads) whose seeds depend only on the sample
 * (data: Rng.stream(seed, 2s); decomposition: seed + 1000003·(s + 1)), so results are the same for
 * every thread count and order.  Runs are kept in (sample, grid point) order; an interrupted run
 * keeps the units that finished.
 */
import { parseCpModel, type CpModel } from "../schema/cp.js";
import { summarise, type Summary } from "../stats/summary.js";
import type { CpAnalysis } from "../cp/analyse.js";
import type { RunStatus } from "../run/hooks.js";
import { runUnitsDurably } from "./units.js";
import { computeCpPoint, cpGrid, cpUnitModule, type CpGridPoint, type CpPointTask } from "./cp-unit.js";
import type { Experiment, ExperimentHooks, ResultBase } from "./types.js";

export { computeCpPoint, cpGrid, cpPointUnit, sampleSeeds, type CpGridPoint, type CpPointTask } from "./cp-unit.js";

/** One finished decomposition. */
export interface CpRun {
  /** Index into `CpResult.grid`. */
  point: number;
  sample: number;
  analysis: CpAnalysis;
}

/** Per grid point statistics over its samples (sweeps). */
export interface CpPointStats {
  point: number;
  n: number;
  /** IPR of the leading factor. */
  leadingIpr: Summary;
  /** Max IPR among the first topK factors (IG22 Fig. 4E). */
  maxIpr: Summary;
  /** Mean relative reconstruction error (null unless every sample has one). */
  relErrorMean: number | null;
}

export interface CpResult extends ResultBase<"cp", CpModel> {
  /** Start of the run (ISO 8601). */
  started: string;
  grid: CpGridPoint[];
  samples: number;
  /** Finished decompositions, in (sample, grid point) order. */
  runs: CpRun[];
  /** Statistics per grid point with at least one finished run, in grid order (sweeps; else empty). */
  stats: CpPointStats[];
}

/** Run a validated cp model: every (grid point, sample), on `hooks.threads` worker threads. */
export async function runCp(m: CpModel, hooks: ExperimentHooks = {}): Promise<CpResult> {
  const started = new Date();
  const t0 = performance.now();
  const grid = cpGrid(m);
  const samples = m.sweep?.samples ?? 1;
  const total = grid.length * samples;
  // Unit id = s·|grid| + g: id order is the serial (sample, grid point) order.
  const unitOf = (id: number) => ({ point: id % grid.length, sample: Math.floor(id / grid.length) });
  const runs: CpRun[] = [];
  let status: RunStatus = "done";
  const report = (r: CpRun) => {
    const a = r.analysis;
    hooks.log?.(`cp: ${grid[r.point].tag} sample ${r.sample}: leading IPR ${a.leadingIpr.toFixed(4)}, max IPR(top ${m.output.topK}) ${a.maxIprTopK.toFixed(4)}, rel. error ${a.relError === null ? "n/a" : a.relError.toFixed(4)}, ${a.seconds.toFixed(1)} s`);
  };
  const { values, interrupted } = await runUnitsDurably<CpPointTask, CpAnalysis>(
    Array.from({ length: total }, (_, id) => ({ model: m, grid: unitOf(id).point, sample: unitOf(id).sample })),
    {
      module: cpUnitModule,
      fn: "cpPointUnit",
      inProcess: async (t, h, threads) => computeCpPoint(t, h, threads),
      isFinal: (a) => a.status === "done",
      unit: "decompositions",
      describe: (id) => `cp: decomposition ${id} (${grid[unitOf(id).point].tag} sample ${unitOf(id).sample})`,
      label: (id) => `${grid[unitOf(id).point].tag} s${unitOf(id).sample}`,
      onFinal: (id, a) => report({ ...unitOf(id), analysis: a }),
    },
    hooks,
  );
  for (let id = 0; id < total; id++) {
    const a = values.get(id);
    if (a) runs.push({ ...unitOf(id), analysis: a });
  }
  if (interrupted) status = "interrupted";

  const stats: CpPointStats[] = [];
  if (m.sweep) {
    grid.forEach((_, point) => {
      const rs = runs.filter((x) => x.point === point).map((x) => x.analysis);
      if (rs.length === 0) return;
      stats.push({
        point, n: rs.length,
        leadingIpr: summarise(rs.map((a) => a.leadingIpr)),
        maxIpr: summarise(rs.map((a) => a.maxIprTopK)),
        relErrorMean: rs.every((a) => a.relError !== null) ? summarise(rs.map((a) => a.relError!)).mean : null,
      });
    });
  }

  let summary: Record<string, number>;
  let message: string;
  if (!m.sweep) {
    const a = runs[0]?.analysis;
    const g = grid[0];
    summary = a
      ? {
        D: g.D, P: g.P, rank: a.r, loss: a.loss, leadingIpr: a.leadingIpr, maxIprTopK: a.maxIprTopK, argmaxIprTopK: a.argmaxIprTopK,
        topK: m.output.topK, bestRestart: a.best, seconds: a.seconds,
        ...(a.relError !== null ? { relativeReconstructionError: a.relError } : {}),
        ...(a.cumulantNormSq !== null ? { cumulantNormSq: a.cumulantNormSq } : {}),
      }
      : {};
    message = a
      ? `${status}: ${g.tag}, leading IPR ${a.leadingIpr.toFixed(4)}, max IPR(top ${m.output.topK}) ${a.maxIprTopK.toFixed(4)}, rel. error ${a.relError === null ? "n/a" : a.relError.toFixed(4)}`
      : `${status} before the decomposition finished`;
  } else {
    summary = { runs: runs.length, gridPoints: grid.length, samples, topK: m.output.topK };
    message = `${status}: ${runs.length} of ${total} decompositions (${grid.length} grid point${grid.length === 1 ? "" : "s"} × ${samples} sample${samples === 1 ? "" : "s"})`;
  }
  return {
    kind: "cp",
    status,
    message,
    model: m,
    seed: m.seed,
    timings: { wall: (performance.now() - t0) / 1000 },
    summary,
    started: started.toISOString(),
    grid,
    samples,
    runs,
    stats,
  };
}

export const cpExperiment: Experiment<CpModel, CpResult> = {
  kind: "cp",
  describe: "CP decomposition of a class's sample 4th-order cumulant (optionally swept)",
  parse: parseCpModel,
  run: runCp,
};
