/**
 * The pool unit of kind "cp" (one (grid point, sample) decomposition) and what it needs — the grid,
 * the seeds — in a module of its own: a worker thread loads only this module for its units (see
 * src/parallel/worker.ts and `unitModulesFor` in ./registry.ts), not ./cp.ts with the model schema
 * (zod: about 0.12 s of start-up per worker thread, on the core that the main thread's own loading
 * needs at the same moment).  ./cp.ts re-exports everything here.
 */
import type { CpModel } from "../schema/cp.js";
import type { Geometry } from "../data/kernels.js";
import type { ClassSpec } from "../data/task.js";
import { Rng } from "../stats/rng.js";
import { analyseCumulant, type CpAnalysis, type CpAnalysisSpec } from "../cp/analyse.js";
import type { AbortLike, RunHooks } from "../run/hooks.js";

/** URL of this module (the pool units of cp runs name it). */
export const cpUnitModule = import.meta.url;

export interface CpGridPoint {
  gain: number | null;
  xi: number;
  alpha: number | null;
  L: number;
  D: number;
  P: number;
  /** "L=…_P=…_xi=…[_g=…]" (directory names of the runs). */
  tag: string;
}

/** The sweep grid (a single point without a sweep). */
export function cpGrid(m: CpModel): CpGridPoint[] {
  const c = m.data.class;
  const gains: (number | null)[] = m.sweep?.gain ?? ["gain" in c ? c.gain : null];
  const xis = m.sweep?.xi ?? [c.xi];
  const alphas: (number | null)[] = m.sweep?.alpha ?? [m.data.alpha ?? null];
  const Ls = m.sweep?.L ?? [m.data.geometry.L];
  const out: CpGridPoint[] = [];
  for (const L of Ls) {
    const D = m.data.geometry.dim === 1 ? L : L * L;
    for (const alpha of alphas) {
      const P = alpha === null ? m.data.P! : Math.round(alpha * D);
      for (const xi of xis) {
        for (const gain of gains) {
          const parts = [`L=${L}`, `P=${P}`, `xi=${xi}`];
          if (gain !== null) parts.push(`g=${gain}`);
          out.push({ gain, xi, alpha, L, D, P, tag: parts.join("_") });
        }
      }
    }
  }
  return out;
}

function specFor(m: CpModel, g: CpGridPoint): CpAnalysisSpec {
  const geometry = { dim: m.data.geometry.dim, L: g.L } as Geometry;
  const c = m.data.class;
  const cls: ClassSpec = c.kind === "gp" ? { kind: "gp", xi: g.xi }
    : c.kind === "field" || c.kind === "field-clone" ? { kind: c.kind, xi: g.xi, marginal: c.marginal }
    : { kind: c.kind, xi: g.xi, gain: g.gain!, convention: c.convention };
  const d = m.decomposition;
  return {
    geometry, cls, P: g.P, rank: d.rank, topK: m.output.topK,
    decompose: { restarts: d.restarts, maxIter: d.maxIter, gtol: d.gtol, ftol: d.ftol, m: d.memory, method: d.method },
    reconstructionError: m.output.reconstructionError, implicitMaxFlops: m.output.implicitMaxFlops,
  };
}

/** Data stream and decomposition seed of sample s (independent of the grid point). */
export function sampleSeeds(seed: number, s: number): { data: Rng; decompose: number } {
  return { data: Rng.stream(seed, 2 * s), decompose: seed + 1_000_003 * (s + 1) };
}

/** One unit of work of a cp model: grid point `grid` (index into cpGrid) of sample `sample`. */
export interface CpPointTask {
  /** The validated model. */
  model: CpModel;
  grid: number;
  sample: number;
}

/**
 * Decompose the cumulant of one (grid point, sample).  Seeds depend only on the sample, so the
 * result is the same whichever thread runs it and in whatever order.  Cooperative (returns to the
 * event loop every ~40 ms), so an abort of `hooks.signal` by a Ctrl-C handler is seen promptly.
 */
export async function computeCpPoint(t: CpPointTask, hooks: RunHooks = {}, threads = 1): Promise<CpAnalysis> {
  const m = t.model;
  const g = cpGrid(m)[t.grid];
  const spec = { ...specFor(m, g), threads };
  const seeds = sampleSeeds(m.seed, t.sample);
  spec.decompose.seed = seeds.decompose;
  return analyseCumulant(spec, seeds.data, hooks);
}

/** Pool unit (src/parallel/worker.ts): one (grid point, sample), structured-clonable in and out. */
export async function cpPointUnit(payload: CpPointTask, signal: AbortLike): Promise<CpAnalysis> {
  return computeCpPoint(payload, { signal });
}

