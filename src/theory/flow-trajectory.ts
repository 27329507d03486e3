/**
 * Integration of one single-neuron flow (src/theory/single-neuron.ts) with `solveAsync`, recording
 * IPR(t), q^μ(t), |w|(t) and the weights on an output grid, plus the data-set helpers shared by the
 * "flow" and "attractors" experiments (src/experiments/flow.ts, attractors.ts): per-class data sets,
 * gain substitution.  No file I/O, no model files.
 */
import { runStatusOf, solveAsync, type Method, type OdeProblem, type OdeSolution } from "../integrate/index.js";
import type { RunHooks, RunStatus } from "../run/hooks.js";
import { logTimes } from "../integrate/grid.js";
import type { Rng } from "../stats/rng.js";
import type { ClassSpec, SampleArray, SamplePrecision, Task } from "../data/task.js";
import { ipr } from "../analysis/ipr.js";
import type { SingleNeuronFlow } from "./single-neuron.js";

export interface IntegrateFlowOptions {
  T: number;
  /** Output times (ascending in [0, T]); default: 0 and `count` log-spaced times in [tMin, T]. */
  times?: number[];
  count?: number;
  tMin?: number;
  method?: Method;
  rtol?: number;
  atol?: number;
  dt?: number;
  maxSteps?: number;
  steadyTol?: number;
  iprThreshold?: number;
}

export interface FlowTrajectory {
  t: number[];
  ipr: number[];
  norm: number[];
  /** q^μ at each output time (one array per class). */
  q: number[][];
  /** Weights at each output time (copies). */
  w: Float64Array[];
  wFinal: Float64Array;
  /** "diverged" / "failed": the trajectory ends at the last accepted state (e.g. a finite-time blow-up). */
  status: RunStatus;
  /** Event reason (status "event") or the failure message. */
  reason?: string;
  tEnd: number;
  nRhs: number;
  /** Jacobian evaluations (implicit methods rodas, bdf; 0 otherwise). */
  nJac: number;
  nSteps: number;
  wallSeconds: number;
}

/**
 * Integrate `flow` from w0 to T, recording IPR, |w| and q^μ on the output grid.  Cooperative
 * (solveAsync): Ctrl-C on the main thread is seen within ~40 ms for rkc/euler/rk4 and at the next
 * output time for gbs.
 */
export async function integrateFlow(flow: SingleNeuronFlow, w0: Float64Array, o: IntegrateFlowOptions, hooks: RunHooks = {}): Promise<FlowTrajectory> {
  const times = o.times ?? logTimes(o.T, o.count ?? 60, o.tMin);
  const thr = o.iprThreshold;
  const t0 = performance.now();
  const problem: OdeProblem = {
    rhs: flow.rhs,
    // Used by the implicit methods (rodas, bdf) only; the flow does not depend on t.
    jac: flow.jac,
    autonomous: true,
    y0: w0,
    tspan: [0, o.T],
    saveat: times,
    events: { steadyTol: o.steadyTol, stop: thr === undefined ? undefined : (_t, y) => (ipr(y) >= thr ? `IPR ≥ ${thr}` : false) },
  };
  const sol = await solveAsync(problem, o.method ?? "gbs", {
    rtol: o.rtol, atol: o.atol, dt: o.dt, maxSteps: o.maxSteps,
    signal: hooks.signal,
    onProgress: hooks.onProgress,
    progressMetrics: hooks.onProgress ? (_t, y) => ({ ipr: ipr(y) }) : undefined,
  });
  return finishTrajectory(flow, sol, t0);
}

function finishTrajectory(flow: SingleNeuronFlow, sol: OdeSolution, t0: number): FlowTrajectory {
  const M = flow.overlaps(sol.y[0]).length;
  const q: number[][] = Array.from({ length: M }, () => []);
  const iprs: number[] = [], norms: number[] = [];
  const buf = new Float64Array(M);
  for (const y of sol.y) {
    iprs.push(ipr(y));
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * y[i];
    norms.push(Math.sqrt(s));
    flow.overlaps(y, buf);
    for (let mu = 0; mu < M; mu++) q[mu].push(buf[mu]);
  }
  const status = runStatusOf(sol.retcode);
  return {
    t: sol.t,
    ipr: iprs,
    norm: norms,
    q,
    w: sol.y,
    wFinal: Float64Array.from(sol.y[sol.y.length - 1]),
    status,
    reason: status === "event" ? sol.reason : status === "diverged" || status === "failed" ? sol.message : undefined,
    tEnd: sol.tEnd,
    nRhs: sol.stats.nRhs,
    nJac: sol.stats.nJac,
    nSteps: sol.stats.nSteps,
    wallSeconds: (performance.now() - t0) / 1e3,
  };
}

// ---------------------------------------------------------------------------------------------
// Data sets
// ---------------------------------------------------------------------------------------------

/** Class specs with every gain replaced by g (classes without a gain — gp, field — unchanged). */
export function classesWithGain(classes: readonly ClassSpec[], g: number | null): ClassSpec[] {
  return classes.map((c) => (g === null || !("gain" in c) ? { ...c } : { ...c, gain: g }));
}

/**
 * Draw a data set of P examples and split it per class (optionally symmetrised: −x added after every
 * x), holding the samples once: the per-class arrays are contiguous blocks of one array
 * (`Task.datasetByClass`), in float64 or, with `precision` "float32", rounded to float32.
 */
export function classDatasets(task: Task, P: number, rng: Rng, symmetrise: boolean, precision?: "float64"): { X: Float64Array; n: number }[];
export function classDatasets(task: Task, P: number, rng: Rng, symmetrise: boolean, precision: SamplePrecision): { X: SampleArray; n: number }[];
export function classDatasets(task: Task, P: number, rng: Rng, symmetrise: boolean, precision: SamplePrecision = "float64"): { X: SampleArray; n: number }[] {
  return task.datasetByClass(P, rng, { symmetrise, precision });
}
