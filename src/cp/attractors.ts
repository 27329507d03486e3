/**
 * Attractor dynamics of the cp single-neuron flow between CP factors (IG22 Fig. S2, SI A.2).
 *
 * For each chosen factor u_s and seed k: w0 = u_s + σ_n ε (ε i.i.d. N(0, 1)), integrate the flow
 * (the flow module's cp RHS, via `integrateFlow`), record the normalised overlaps
 * m_r(t) = w·u_r/(|w||u_r|) with every tracked factor, refine the end point to a fixed point by
 * Newton's method with the analytic Jacobian (src/analysis/cp-flow.ts), and classify it by the
 * Jacobian's eigenvalues.  Fixed points reached by several runs are identified up to the symmetry
 * w → −w.  The run "ends on" factor r if |m_r| at the fixed point is the largest overlap and
 * ≥ `matchThreshold`; the basin table counts (start factor → end factor).
 *
 * Independently of integration, every tracked factor u_a is examined directly: along the ray w = s u_a
 * the flow's projection is u_a·f(s u_a) = A s + B s³, so s² = −A/B is the candidate amplitude; Newton
 * from s u_a gives the nearby fixed point and its classification ("factor fixed points").
 */
import type { SingleNeuronFlow } from "../theory/single-neuron.js";
import { integrateFlow, type FlowTrajectory, type IntegrateFlowOptions } from "../theory/flow-trajectory.js";
import { subProgress, yieldToEventLoop, type RunHooks, type RunStatus } from "../run/hooks.js";
import type { RunStore } from "../run/store.js";
import { ipr } from "../analysis/ipr.js";
import { classifyJacobian, newtonFixedPoint, type FixedPointKind, type StabilityReport } from "../analysis/stability.js";
import { cpFlowJacobian, cpFlowVector, type CpFlowSystem } from "../analysis/cp-flow.js";
import type { CPTensor } from "../stats/cp-tensor.js";
import { Rng } from "../stats/rng.js";

/** Integration settings (as `integrateFlow`'s: horizon T, `count` log-spaced output times from tMin, solver). */
export interface AttractorOptions extends Pick<IntegrateFlowOptions, "T" | "count" | "tMin" | "method" | "rtol" | "atol" | "dt" | "maxSteps" | "steadyTol"> {
  /** Factor indices (0-based, into the tracked factors) to start from. */
  starts: number[];
  /** Runs (noise seeds) per start. */
  seeds: number;
  /** Noise amplitude σ_n of w0 = u_s + σ_n ε. */
  sigma: number;
  seed: number;
  /** Newton tolerance on ‖f‖∞ (relative to max(1, ‖w‖∞)). Default 1e-11. */
  newtonTol?: number;
  /** Relative eigenvalue tolerance for "zero". Default 1e-9. */
  eigTol?: number;
  /** |m_r| needed to say a run ends on factor r. Default 0.5. */
  matchThreshold?: number;
  /** Two fixed points are the same if ‖w1 ∓ w2‖ ≤ fpTol·max(‖w1‖, ‖w2‖, 1e-12). Default 1e-6. */
  fpTol?: number;
}

export interface FixedPointRecord {
  id: number;
  w: Float64Array;
  norm: number;
  ipr: number;
  /** m_r with every tracked factor. */
  overlaps: Float64Array;
  /** Index of the factor with the largest |m_r| (−1 if below the threshold). */
  factor: number;
  stability: StabilityReport;
  kind: FixedPointKind;
  newtonResidual: number;
  newtonConverged: boolean;
  /** Number of runs that ended here. */
  hits: number;
}

export interface AttractorRun {
  start: number;
  seed: number;
  t: number[];
  /** Overlaps m_r(t): times × r row-major. */
  overlaps: Float64Array;
  w0: Float64Array;
  /** End of integration (before Newton). */
  wEnd: Float64Array;
  status: RunStatus;
  tEnd: number;
  /** Index into `fixedPoints` (−1 if Newton failed). */
  fixedPoint: number;
  /** Factor the run ends on (−1: none). */
  endFactor: number;
  /** Overlap with the end factor at the fixed point (signed). */
  endOverlap: number;
}

export interface FactorFixedPoint {
  factor: number;
  /** Candidate amplitude s along u_a (NaN if −A/B ≤ 0: no fixed point on the ray). */
  amplitude: number;
  /** Refined fixed point (null if none). */
  fixedPoint: FixedPointRecord | null;
}

export interface AttractorResult {
  runs: AttractorRun[];
  fixedPoints: FixedPointRecord[];
  /** basin[i][j]: runs started at starts[i] that ended on factor j (j = r: none). */
  basin: number[][];
  factorFixedPoints: FactorFixedPoint[];
  /** "interrupted" (by the signal) or "done"; individual runs carry their own status. */
  status: RunStatus;
}

/** m_r = w·u_r/(|w||u_r|) for all r. */
export function factorOverlaps(w: ArrayLike<number>, f: CPTensor, out = new Float64Array(f.r)): Float64Array {
  const { r, D, factors: U } = f;
  let nw = 0;
  for (let i = 0; i < D; i++) nw += w[i] * w[i];
  nw = Math.sqrt(nw);
  for (let a = 0; a < r; a++) {
    let s = 0, nu = 0;
    for (let i = 0; i < D; i++) {
      s += w[i] * U[a * D + i];
      nu += U[a * D + i] ** 2;
    }
    out[a] = nw > 0 && nu > 0 ? s / (nw * Math.sqrt(nu)) : NaN;
  }
  return out;
}

/** Dominant factor: argmax |m_r| if ≥ threshold, else −1. */
function dominant(m: Float64Array, threshold: number): number {
  let best = -1, bv = -1;
  for (let a = 0; a < m.length; a++) if (Math.abs(m[a]) > bv) { bv = Math.abs(m[a]); best = a; }
  return bv >= threshold ? best : -1;
}

/** Refine `w` by Newton and classify (no registration). */
export function refineFixedPoint(
  sys: CpFlowSystem, factors: CPTensor, w: Float64Array, o: { newtonTol?: number; eigTol?: number; matchThreshold?: number } = {},
): Omit<FixedPointRecord, "id" | "hits"> {
  const f = (x: Float64Array, out: Float64Array) => { cpFlowVector(sys, x, out); };
  const jac = (x: Float64Array, J: Float64Array) => { cpFlowJacobian(sys, x, J); };
  const nr = newtonFixedPoint(f, jac, w, { tol: o.newtonTol ?? 1e-11, maxIter: 60 });
  const J = cpFlowJacobian(sys, nr.w);
  const stab = classifyJacobian(J, sys.D, o.eigTol ?? 1e-9);
  const m = factorOverlaps(nr.w, factors);
  let n2 = 0;
  for (let i = 0; i < sys.D; i++) n2 += nr.w[i] ** 2;
  return {
    w: nr.w, norm: Math.sqrt(n2), ipr: n2 > 0 ? ipr(nr.w) : NaN, overlaps: m, factor: dominant(m, o.matchThreshold ?? 0.5),
    stability: stab, kind: stab.kind, newtonResidual: nr.residual, newtonConverged: nr.converged,
  };
}

/** Fixed points of the flow on the rays w = s u_a (see the module comment). */
export function factorFixedPoints(
  sys: CpFlowSystem, factors: CPTensor, o: { newtonTol?: number; eigTol?: number; matchThreshold?: number } = {},
): FactorFixedPoint[] {
  const { r, D, factors: U } = factors;
  const out: FactorFixedPoint[] = [];
  const u = new Float64Array(D), su = new Float64Array(D), fv = new Float64Array(D);
  const proj = (s: number) => {
    for (let i = 0; i < D; i++) su[i] = s * u[i];
    cpFlowVector(sys, su, fv);
    let p = 0;
    for (let i = 0; i < D; i++) p += u[i] * fv[i];
    return p;
  };
  for (let a = 0; a < r; a++) {
    let n = 0;
    for (let i = 0; i < D; i++) n += U[a * D + i] ** 2;
    n = Math.sqrt(n);
    for (let i = 0; i < D; i++) u[i] = U[a * D + i] / n;
    // g(s) = A s + B s³ exactly (f is cubic and odd in w).
    const g1 = proj(1), g2 = proj(2);
    const B = (g2 - 2 * g1) / 6, A = g1 - B;
    const s2 = -A / B;
    if (!(s2 > 0 && Number.isFinite(s2))) {
      out.push({ factor: a, amplitude: NaN, fixedPoint: null });
      continue;
    }
    const s = Math.sqrt(s2);
    const w0 = new Float64Array(D);
    for (let i = 0; i < D; i++) w0[i] = s * u[i];
    const fp = refineFixedPoint(sys, factors, w0, o);
    out.push({ factor: a, amplitude: s, fixedPoint: { ...fp, id: -1, hits: 0 } });
  }
  return out;
}

/**
 * Run the attractor experiment; see the module comment.  Progress is reported in runs (starts ×
 * seeds); on abort the result holds the runs that finished (status "interrupted", no factor fixed points).
 */
export async function runAttractors(flow: SingleNeuronFlow, sys: CpFlowSystem, factors: CPTensor, o: AttractorOptions, hooks: RunHooks & { store?: RunStore } = {}): Promise<AttractorResult> {
  const { r, D, factors: U } = factors;
  if (flow.D !== D || sys.D !== D) throw new RangeError(`runAttractors: dimensions differ (flow ${flow.D}, system ${sys.D}, factors ${D})`);
  for (const s of o.starts) if (!(Number.isInteger(s) && s >= 0 && s < r)) throw new RangeError(`runAttractors: start factor ${s} out of range [0, ${r - 1}]`);
  const thr = o.matchThreshold ?? 0.5;
  const fpTol = o.fpTol ?? 1e-6;
  const fixedPoints: FixedPointRecord[] = [];
  const runs: AttractorRun[] = [];
  const total = o.starts.length * o.seeds;
  let status: AttractorResult["status"] = "done";

  const register = (fp: Omit<FixedPointRecord, "id" | "hits">): number => {
    if (!fp.newtonConverged) return -1;
    for (const q of fixedPoints) {
      let dm = 0, dp = 0;
      for (let i = 0; i < D; i++) {
        dm += (fp.w[i] - q.w[i]) ** 2;
        dp += (fp.w[i] + q.w[i]) ** 2;
      }
      const scale = Math.max(fp.norm, q.norm, 1e-12);
      if (Math.sqrt(Math.min(dm, dp)) <= fpTol * scale) {
        q.hits++;
        return q.id;
      }
    }
    const id = fixedPoints.length;
    fixedPoints.push({ ...fp, id, hits: 1 });
    return id;
  };

  outer: for (let si = 0; si < o.starts.length; si++) {
    const s = o.starts[si];
    let nu = 0;
    for (let i = 0; i < D; i++) nu += U[s * D + i] ** 2;
    nu = Math.sqrt(nu);
    for (let k = 0; k < o.seeds; k++) {
      await yieldToEventLoop(); // runs may be too short to pause inside: let a Ctrl-C handler run between them
      if (hooks.signal?.aborted) { status = "interrupted"; break outer; }
      const rng = Rng.stream(o.seed, 1 + si * o.seeds + k);
      const w0 = new Float64Array(D);
      for (let i = 0; i < D; i++) w0[i] = U[s * D + i] / nu + o.sigma * rng.normal();
      const done = runs.length;
      // One (start, seed) run is a durable unit: a resumed run replays finished ones from the store
      // (in the same order, so fixed points get the same ids).
      const key = `start/${si}/${k}`;
      const saved = hooks.store?.get<{ tr: FlowTrajectory; fp: ReturnType<typeof refineFixedPoint> }>(key);
      const tr = saved ? saved.tr : await integrateFlow(flow, w0, {
        T: o.T, count: o.count ?? 80, tMin: o.tMin, method: o.method, rtol: o.rtol, atol: o.atol, dt: o.dt,
        maxSteps: o.maxSteps, steadyTol: o.steadyTol,
      }, { signal: hooks.signal, onProgress: subProgress(hooks.onProgress, done, total, `start u${s + 1} seed ${k}`) });
      if (tr.status === "interrupted") { status = "interrupted"; break outer; }
      const nt = tr.t.length;
      const ov = new Float64Array(nt * r);
      for (let j = 0; j < nt; j++) factorOverlaps(tr.w[j], factors, ov.subarray(j * r, (j + 1) * r));
      const fp = saved ? saved.fp : refineFixedPoint(sys, factors, tr.wFinal, o);
      if (!saved) hooks.store?.put(key, { tr, fp });
      const id = register(fp);
      const endFactor = fp.newtonConverged ? fp.factor : dominant(ov.subarray((nt - 1) * r), thr);
      runs.push({
        start: s, seed: k, t: tr.t, overlaps: ov, w0, wEnd: tr.wFinal, status: tr.status, tEnd: tr.tEnd,
        fixedPoint: id, endFactor, endOverlap: endFactor >= 0 ? (fp.newtonConverged ? fp.overlaps[endFactor] : ov[(nt - 1) * r + endFactor]) : NaN,
      });
    }
  }
  const basin = o.starts.map(() => new Array<number>(r + 1).fill(0));
  for (const run of runs) basin[o.starts.indexOf(run.start)][run.endFactor >= 0 ? run.endFactor : r]++;
  const ffp = status === "done" ? factorFixedPoints(sys, factors, o) : [];
  return { runs, fixedPoints, basin, factorFixedPoints: ffp, status };
}
