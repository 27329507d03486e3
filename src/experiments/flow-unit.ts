/**
 * The runs of kind "flow" (see ./flow.ts): one (gain, replicate) run — its data set, class
 * covariances, CP factors and integration — and the pool unit `flowRunUnit`.  Kept apart from
 * ./flow.ts, which validates models (zod, ~140 ms to load), so that a worker thread of a flow run
 * loads only what a run needs; the model arrives validated.
 */
import type { CpSource, FlowModel } from "../schema/flow.js";
import { effectiveCovariance } from "../schema/flow-defaults.js";
import { UserError } from "../run/errors.js";
import { subProgress, type AbortLike, type RunHooks } from "../run/hooks.js";
import { Rng } from "../stats/rng.js";
import { labelValues, makeClassSampler, Task, type ClassSampler, type ClassSpec, type SampleArray } from "../data/task.js";
import { releaseResident } from "../kernels/index.js";
import { geometrySize } from "../data/kernels.js";
import { nlgpKurtosis, toIg22Gain } from "../data/nlgp.js";
import { logTimes } from "../integrate/grid.js";
import { deriveFlowCoefficients, type FlowCoefficients } from "../theory/coefficients.js";
import { classDatasets, classesWithGain, integrateFlow, type FlowTrajectory } from "../theory/flow-trajectory.js";
import {
  buildSingleNeuronFlow, diagonalCumulantFactors, translationInvariantCovariance, type FlowClass,
} from "../theory/single-neuron.js";
import { makeCPTensor } from "../stats/cp-tensor.js";
import type { CpFactors } from "../analysis/cp-flow.js";
import { ImplicitCumulantLoss } from "../cp/loss.js";
import { decomposeAsync } from "../cp/decompose.js";

/** URL of this module (the pool units' module of flow runs). */
export const flowUnitModule = import.meta.url;

export interface FlowRunRecord {
  /** Gain of the sweep (null without a sweep). */
  gain: number | null;
  replicate: number;
  /** Samples per class actually used (after symmetrisation). */
  n: number[];
  weights: number[];
  /** CP factors used per class (cp variant), e.g. for plots. */
  cp?: (CpFactors | null)[];
  /** Final loss of computed factors (null: factors given, not computed). */
  cpLoss?: (number | null)[];
  trajectory: FlowTrajectory;
}

/** What every run of a model shares. */
export interface FlowSetup {
  model: FlowModel;
  D: number;
  labels: number[];
  coefficients: FlowCoefficients;
  P: number;
  times: number[];
  gains: (number | null)[];
  /** Initial weights given inline (init kind "inline"), checked. */
  w0: Float64Array | null;
}

/** Per-gain objects (class specs, samplers, task). */
export interface GainSetup {
  g: number | null;
  specs: ClassSpec[];
  samplers: ClassSampler[];
  task: Task;
}

export async function prepare(model: FlowModel): Promise<FlowSetup> {
  const D = geometrySize(model.task.geometry);
  const labels = labelValues(model.task.labels);
  const coefficients = await deriveFlowCoefficients({ v: model.neuron.v, b: model.neuron.b, labels, alpha1: model.neuron.alpha1, alpha3: model.neuron.alpha3 });
  const P = model.P ?? (model.alpha !== undefined ? Math.max(1, Math.round(model.alpha * D)) : 0);
  if (model.data?.precision === "float32") {
    if (P * D > 4e8) throw new UserError(`model.P: data set of P·D = ${P * D} float32 numbers exceeds the 4e8 limit (P = ${P}, D = ${D})`);
  } else if (P * D > 2e8) throw new UserError(`model.P: data set of P·D = ${P * D} doubles exceeds the 2e8 limit (P = ${P}, D = ${D})`);
  const it = model.integration;
  let times = logTimes(it.T, it.times, it.tMin ?? Math.min(it.T / 1e4, 0.01));
  if (it.method === "rk4" || it.method === "euler") {
    // Fixed-step methods: output times on multiples of dt, so that Euler with dt = η is exactly
    // full-batch gradient descent at every recorded time (no shortened steps).
    const snapped = times.map((t) => (t === 0 ? 0 : Math.min(it.T, Math.max(1, Math.round(t / it.dt)) * it.dt)));
    times = snapped.filter((t, k) => k === 0 || t > snapped[k - 1]);
  }
  return { model, D, labels, coefficients, P, times, gains: model.gains ?? [null], w0: initialWeights(model, D) };
}

export function gainSetup(s: FlowSetup, gi: number): GainSetup {
  const g = s.gains[gi];
  const specs = classesWithGain(s.model.task.classes, g);
  const samplers = specs.map((c) => makeClassSampler(s.model.task.geometry, c));
  return { g, specs, samplers, task: new Task(samplers, s.labels) };
}

/** Inline initial weights, checked (null for random initial weights). */
function initialWeights(model: FlowModel, D: number): Float64Array | null {
  const init = model.init;
  if (init.kind === "random") return null;
  if (init.kind === "file") throw new UserError(`model.init.path: the file "${init.path}" was not loaded (resolve model files before running)`);
  const field = init.from !== undefined ? "model.init.path" : "model.init.w";
  if (init.w.length !== D) throw new UserError(`${field}: need ${D} weights (got ${init.w.length})`);
  const w = Float64Array.from(init.w);
  for (let i = 0; i < D; i++) if (!Number.isFinite(w[i])) throw new UserError(`${field}: weight ${i} is not finite`);
  return w;
}

/** CP factors from γ (r numbers) and U (r rows of D, or r·D numbers row-major). */
export function factorsFromRows(gamma: unknown, U: unknown, D: number, field: string): CpFactors {
  if (!Array.isArray(gamma) || !gamma.every((x) => typeof x === "number")) throw new UserError(`${field}.gamma: must be an array of numbers`);
  if (!Array.isArray(U)) throw new UserError(`${field}.U: must be an array of r rows`);
  const r = gamma.length;
  let flat: number[];
  if (U.every((row) => Array.isArray(row))) {
    if (U.length !== r) throw new UserError(`${field}.U: need r = ${r} rows (one per gamma), got ${U.length}`);
    for (const row of U as unknown[][]) if (row.length !== D) throw new UserError(`${field}.U: every row must have D = ${D} entries (got ${row.length})`);
    flat = (U as number[][]).flat();
  } else flat = U as number[];
  if (flat.length !== r * D) throw new UserError(`${field}.U: need r·D = ${r * D} entries (got ${flat.length})`);
  try {
    return makeCPTensor(gamma as number[], flat, D);
  } catch (e) {
    throw new UserError(`${field}: ${(e as Error).message}`);
  }
}

/** One class's given CP factors (inline or exact diagonal; `compute` is done per data set). */
function givenCpFactors(src: Exclude<CpSource, null>, D: number, mu: number, spec: ClassSpec): CpFactors {
  const field = `model.cp.factors[${mu}]`;
  if ("inline" in src) {
    const sub = src.from === undefined ? "inline" : typeof src.from === "string" ? "file" : "npy";
    return factorsFromRows(src.inline.gamma, src.inline.U, D, `${field}.${sub}`);
  }
  if ("diagonal" in src) {
    if (spec.kind !== "nlgp" || spec.xi !== 0) throw new UserError(`${field}.diagonal: only exact for an nlgp class with xi = 0 (class ${mu} is ${spec.kind} with xi = ${spec.xi})`);
    return diagonalCumulantFactors(D, nlgpKurtosis(toIg22Gain(spec.gain, spec.convention ?? "ig22")) - 3);
  }
  if ("file" in src || "npy" in src) throw new UserError(`${field}: the factor files were not loaded (resolve model files before running)`);
  throw new UserError(`${field}: unsupported source`);
}

export interface RunOutcome {
  /** null: interrupted before the integration started (during a CP decomposition). */
  record: FlowRunRecord | null;
  interrupted: boolean;
}

/** Run (gain index gi, replicate r); see the module comment. */
export async function flowRun(s: FlowSetup, gs: GainSetup, r: number, hooks: RunHooks, threads = 1): Promise<RunOutcome> {
  const { model, P } = s;
  // The samples are held once (per-class blocks of one array), in float64 (resident in the SIMD
  // kernels' memory when that backend is on) or float32 storage; freed as soon as the run is done.
  const data = P > 0 ? classDatasets(gs.task, P, Rng.stream(model.seed, 2 * r), model.symmetrise, model.data?.precision ?? "float64") : null;
  try {
    return await flowRunOn(s, gs, r, hooks, data, threads);
  } finally {
    const X = data?.[0]?.X;
    if (X instanceof Float64Array) releaseResident(X);
  }
}

async function flowRunOn(s: FlowSetup, gs: GainSetup, r: number, hooks: RunHooks, data: { X: SampleArray; n: number }[] | null, threads: number): Promise<RunOutcome> {
  const { model, D, labels, coefficients, P } = s;
  const { g, specs, samplers, task } = gs;
  const cov = effectiveCovariance(model);
  const nTot = data ? data.reduce((a, d) => a + d.n, 0) : 0;
  const weights = data && model.classWeights === "empirical" ? data.map((d) => d.n / nTot) : Array.from(task.probs);
  if (data) data.forEach((d, mu) => { if (d.n === 0) throw new UserError(`model.P: class ${mu} received no samples (P = ${P}); increase P`); });
  const cpUsed: (CpFactors | null)[] = [];
  const cpLoss: (number | null)[] = [];
  const computes = model.variant === "cp" && model.cp!.factors.some((f) => f !== null && "compute" in f);
  // Progress: a run with CP decompositions reports them as its first half.
  const cpProgress = computes ? subProgress(hooks.onProgress, 0, 2) : undefined;
  const integrationProgress = computes ? subProgress(hooks.onProgress, 1, 2) : hooks.onProgress;
  if (model.variant === "cp") {
    const srcs = model.cp!.factors;
    for (let mu = 0; mu < srcs.length; mu++) {
      const src = srcs[mu];
      if (src === null) { cpUsed.push(null); cpLoss.push(null); continue; }
      if ("compute" in src) {
        const d = data![mu];
        if (!(d.X instanceof Float64Array)) throw new UserError('model.data.precision: cp.factors "compute" needs float64 samples');
        const obj = new ImplicitCumulantLoss(d.X, d.n, D, src.compute.rank, { threads });
        let dec;
        try {
          dec = await decomposeAsync(obj, {
            restarts: src.compute.restarts,
            maxIter: src.compute.maxIter,
            gtol: src.compute.gtol,
            method: src.compute.method,
            seed: (model.seed % 2 ** 32) * 7919 + 31 * r + mu + 1,
          }, { signal: hooks.signal, onProgress: subProgress(cpProgress, mu, srcs.length, `CP class ${mu}`) });
        } finally {
          obj.close();
        }
        if (dec.status === "interrupted") return { record: null, interrupted: true };
        cpUsed.push({ weights: dec.weights, factors: dec.factors, r: dec.r, D });
        cpLoss.push(dec.loss);
      } else {
        cpUsed.push(givenCpFactors(src, D, mu, specs[mu]));
        cpLoss.push(null);
      }
    }
  }
  const classes: FlowClass[] = specs.map((_c, mu) => ({
    label: labels[mu],
    weight: weights[mu],
    X: data?.[mu].X,
    n: data?.[mu].n,
    cov: model.variant === "exact" ? undefined : cov === "sample" ? "sample" : translationInvariantCovariance(model.task.geometry, samplers[mu].covarianceRow()),
    cp: model.variant === "cp" ? cpUsed[mu] : undefined,
  }));
  const flow = buildSingleNeuronFlow({ variant: model.variant, D, v: model.neuron.v, b: model.neuron.b, classes, activation: model.neuron.activation ?? "erf", threads }, coefficients);
  let w0: Float64Array;
  if (s.w0) w0 = Float64Array.from(s.w0);
  else {
    const rng = Rng.stream(model.seed, 2 * r + 1);
    w0 = new Float64Array(D);
    const sd = (model.init.kind === "random" ? model.init.scale : 1) / Math.sqrt(D);
    for (let i = 0; i < D; i++) w0[i] = sd * rng.normal();
  }
  const it = model.integration;
  let traj;
  try {
    traj = await integrateFlow(flow, w0, {
      T: it.T,
      times: s.times,
      method: it.method,
      rtol: it.rtol,
      atol: it.atol,
      dt: it.dt,
      maxSteps: it.maxSteps,
      steadyTol: it.stop.steadyTol,
      iprThreshold: it.stop.iprThreshold,
    }, { signal: hooks.signal, onProgress: integrationProgress });
  } finally {
    flow.close();
  }
  const record: FlowRunRecord = {
    gain: g, replicate: r, n: data ? data.map((d) => d.n) : [], weights,
    cp: model.variant === "cp" ? cpUsed : undefined, cpLoss: model.variant === "cp" ? cpLoss : undefined, trajectory: traj,
  };
  return { record, interrupted: traj.status === "interrupted" };
}

/** Payload of the `flowRunUnit` unit: one run (gain index × replicates + replicate) of a validated model. */
export interface FlowRunPayload {
  model: FlowModel;
  run: number;
}

/** The value of a `flowRunUnit` unit. */
export interface FlowRunValue {
  record: FlowRunRecord | null;
  interrupted: boolean;
}

/** Pool unit: one (gain, replicate) run of a flow model (worker threads; see src/parallel/worker.ts). */
export async function flowRunUnit(payload: FlowRunPayload, signal: AbortLike): Promise<FlowRunValue> {
  const s = await prepare(payload.model);
  const R = payload.model.replicates;
  const gi = Math.floor(payload.run / R), r = payload.run % R;
  return flowRun(s, gainSetup(s, gi), r, { signal });
}
