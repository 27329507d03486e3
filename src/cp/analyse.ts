/**
 * One CP analysis of a class's 4th-order cumulant: draw P samples, decompose the sample cumulant,
 * and summarise the factors (IPR of each, leading-factor IPR, max IPR among the first k factors —
 * IG22 Fig. 4B/4E) and the relative reconstruction error ‖ΔT − T̂‖/‖ΔT‖.
 */
import { ipr } from "../analysis/ipr.js";
import type { Geometry } from "../data/kernels.js";
import { geometrySize } from "../data/kernels.js";
import { makeClassSampler, type ClassSpec } from "../data/task.js";
import type { Rng } from "../stats/rng.js";
import { yieldToEventLoop, type RunHooks } from "../run/hooks.js";
import { allocResident, releaseResident } from "../kernels/index.js";
import { decomposeAsync, type CpDecomposition, type DecomposeOptions } from "./decompose.js";
import {
  EXPLICIT_MAX_D, ImplicitCumulantLoss, cpToTensor, sampleCumulantNormSq, sampleCumulantNormSqCost, sampleCumulantTensor,
} from "./loss.js";
import type { CPTensor } from "../stats/cp-tensor.js";

export type ReconstructionErrorMode = "auto" | "explicit" | "implicit" | "none";

export interface CpAnalysisSpec {
  geometry: Geometry;
  cls: ClassSpec;
  P: number;
  rank: number;
  decompose: DecomposeOptions;
  /** k of "max IPR among the first k factors". */
  topK: number;
  reconstructionError: ReconstructionErrorMode;
  /** For "auto": largest P²D for the implicit ‖ΔT‖². */
  implicitMaxFlops: number;
  /** Threads for the loss's pass over the samples (src/kernels/parallel.ts; same results for any). */
  threads?: number;
}

export interface CpAnalysis extends CpDecomposition {
  P: number;
  /** IPR of every (unit) factor, in the order of the weights. */
  ipr: Float64Array;
  leadingIpr: number;
  maxIprTopK: number;
  /** Index (0-based) of the factor with the largest IPR among the first k. */
  argmaxIprTopK: number;
  /** ‖ΔT − T̂‖/‖ΔT‖ (null if not computed) and how it was obtained. */
  relError: number | null;
  relErrorMethod: "explicit" | "implicit" | "none";
  cumulantNormSq: number | null;
  seconds: number;
}

/**
 * Sample P inputs of one class (P×D row-major), into `out` when given (its first P·D entries; e.g. a
 * resident array from `allocResident`), else into a new array.
 */
export function sampleClass(geometry: Geometry, cls: ClassSpec, P: number, rng: Rng, out?: Float64Array): Float64Array {
  const s = makeClassSampler(geometry, cls);
  const D = s.D;
  if (out !== undefined && out.length < P * D) throw new RangeError(`sampleClass: out has ${out.length} entries, need P·D = ${P * D}`);
  const X = out ?? new Float64Array(P * D);
  // One row buffer, copied into place (not a subarray view per row: P small objects per data set).
  const row = new Float64Array(D);
  for (let n = 0; n < P; n++) {
    s.sample(row, rng);
    X.set(row, n * D);
  }
  return X;
}

/** Summaries of a decomposition: IPR of each factor, of the leading one, and the top-k maximum. */
export function factorIprs(cp: CPTensor, topK: number): { ipr: Float64Array; leading: number; maxTopK: number; argmax: number } {
  const { r, D, factors } = cp;
  const v = new Float64Array(r);
  for (let a = 0; a < r; a++) v[a] = ipr(factors, a * D, D);
  let mx = -Infinity, arg = -1;
  for (let a = 0; a < Math.min(r, topK); a++) if (v[a] > mx) { mx = v[a]; arg = a; }
  return { ipr: v, leading: v[0], maxTopK: mx, argmax: arg };
}

/**
 * Relative reconstruction error ‖ΔT − T̂‖/‖ΔT‖ of the CP tensor T̂ against the sample cumulant ΔT
 * of the P rows of X (P×D).  "explicit" forms ΔT (D ≤ 40) and T̂ and compares entry by entry;
 * "implicit" uses ‖ΔT − T̂‖² = L + ‖ΔT‖² with the implicit loss L and the O(P²D) norm.
 */
export function relativeReconstructionError(
  X: Float64Array, P: number, cp: CPTensor, mode: ReconstructionErrorMode, implicitMaxFlops = 2e10,
): { relError: number | null; method: "explicit" | "implicit" | "none"; normSq: number | null } {
  const { r, D } = cp;
  let m: "explicit" | "implicit" | "none";
  if (mode === "auto") m = D <= EXPLICIT_MAX_D ? "explicit" : sampleCumulantNormSqCost(P, D) <= implicitMaxFlops ? "implicit" : "none";
  else m = mode;
  if (m === "none") return { relError: null, method: "none", normSq: null };
  if (m === "explicit") {
    const T = sampleCumulantTensor(X, P, D);
    const That = cpToTensor(cp);
    let num = 0, den = 0;
    for (let k = 0; k < T.length; k++) {
      num += (T[k] - That[k]) ** 2;
      den += T[k] * T[k];
    }
    return { relError: Math.sqrt(num / den), method: "explicit", normSq: den };
  }
  const L = new ImplicitCumulantLoss(X, P, D, r);
  try {
    const th = new Float64Array(L.n);
    th.set(cp.weights, 0);
    th.set(cp.factors, r);
    const loss = L.fg(th, new Float64Array(L.n));
    const n2 = sampleCumulantNormSq(X, P, D, L.C);
    return { relError: Math.sqrt(Math.max(0, 1 + loss / n2)), method: "implicit", normSq: n2 };
  } finally {
    L.close();
  }
}

/**
 * Draw the data with `dataRng`, decompose (cooperatively: `decomposeAsync`, so a Ctrl-C on the main
 * thread is seen within ~40 ms; hooks: see `decompose`), summarise.
 */
export async function analyseCumulant(spec: CpAnalysisSpec, dataRng: Rng, hooks: RunHooks = {}): Promise<CpAnalysis> {
  const t0 = performance.now();
  const D = geometrySize(spec.geometry);
  // The samples live in the SIMD kernels' memory (read there in place: no pinned copy) and are freed
  // when the analysis is done, so that the next analysis on this thread reuses the same block instead
  // of a fresh one per analysis (fresh pages, copies and garbage-collector pressure: grid runs draw
  // hundreds of data sets).  A plain array on the TS backend.
  const X = allocResident(spec.P * D);
  try {
    sampleClass(spec.geometry, spec.cls, spec.P, dataRng, X);
    const obj = new ImplicitCumulantLoss(X, spec.P, D, spec.rank, { threads: spec.threads });
    let dec;
    try {
      await yieldToEventLoop(); // sampling and setup take ~0.4 s at D = 100, P = 10⁴: let a Ctrl-C in
      dec = await decomposeAsync(obj, spec.decompose, hooks);
    } finally {
      obj.close();
    }
    const f = factorIprs(dec, spec.topK);
    const rec = dec.status === "done"
      ? relativeReconstructionError(X, spec.P, dec, spec.reconstructionError, spec.implicitMaxFlops)
      : { relError: null, method: "none" as const, normSq: null };
    return {
      ...dec,
      P: spec.P,
      ipr: f.ipr,
      leadingIpr: f.leading,
      maxIprTopK: f.maxTopK,
      argmaxIprTopK: f.argmax,
      relError: rec.relError,
      relErrorMethod: rec.method,
      cumulantNormSq: rec.normSq,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    releaseResident(X);
  }
}
