/**
 * Kind "attractors": attractor dynamics of the cp single-neuron flow between CP factors (IG22 Fig. S2).
 *
 * Draws the data set (if samples are needed), derives the flow coefficients, obtains the CP factors
 * of each class (given inline, exact diagonal, or computed from the class's samples by src/cp), builds
 * the cp flow and its dense stability system, and runs src/cp/attractors.ts `runAttractors` from
 * noisy starts near the tracked class's factors.  No file I/O: .npy factor files are loaded into the
 * model beforehand (src/io/model-files.ts `resolveModelFiles`).
 */
import { parseAttractorsModel, type AttractorCpSource, type AttractorsModel } from "../schema/attractors.js";
import { UserError } from "../run/errors.js";
import { subProgress } from "../run/hooks.js";
import { denseFromRow, geometrySize, type Geometry } from "../data/kernels.js";
import { labelValues, twoClassTask, type ClassSpec } from "../data/task.js";
import { nlgpKurtosis, toIg22Gain } from "../data/nlgp.js";
import { Rng } from "../stats/rng.js";
import { deriveFlowCoefficients, type FlowCoefficients } from "../theory/coefficients.js";
import { classDatasets } from "../theory/flow-trajectory.js";
import { releaseResident } from "../kernels/index.js";
import {
  buildSingleNeuronFlow, diagonalCumulantFactors, translationInvariantCovariance, type FlowClass,
} from "../theory/single-neuron.js";
import { makeCPTensor } from "../stats/cp-tensor.js";
import type { CpFactors, CpFlowSystem } from "../analysis/cp-flow.js";
import { ImplicitCumulantLoss, secondMoment } from "../cp/loss.js";
import { decomposeAsync } from "../cp/decompose.js";
import { runAttractors, type AttractorResult } from "../cp/attractors.js";
import { factorsFromRows } from "./flow.js";
import type { Experiment, ExperimentHooks, ResultBase } from "./types.js";

export interface AttractorsResult extends ResultBase<"attractors", AttractorsModel> {
  D: number;
  /** Samples drawn (0: none needed). */
  P: number;
  coefficients: FlowCoefficients;
  classWeights: number[];
  /** CP factors used per class (null: no cumulant, or not obtained because the run was interrupted). */
  factors: (CpFactors | null)[];
  /** Where each class's factors came from (source, and for computed ones n, rank, loss, restarts, best). */
  cpInfo: Record<string, unknown>[];
  /** Class whose factors are tracked (m_r), and its factors (null if interrupted before they existed). */
  track: number;
  tracked: CpFactors | null;
  attractors: AttractorResult;
}

async function classFactors(
  src: Exclude<AttractorCpSource, null>, mu: number, D: number, spec: ClassSpec, X: Float64Array | undefined, n: number, seed: number, hooks: ExperimentHooks, progressPart: number,
): Promise<{ f: CpFactors | null; info: Record<string, unknown> }> {
  const field = `model.cp.classes[${mu}]`;
  if ("inline" in src) {
    const from = src.from;
    const f = factorsFromRows(src.inline.gamma, src.inline.U, D, `${field}.${from ? "npy" : "inline"}`);
    return { f, info: from ? { source: "npy", U: from.U, gamma: from.gamma } : { source: "inline" } };
  }
  if ("npy" in src) throw new UserError(`${field}.npy: the factor files were not loaded (resolve model files before running)`);
  if ("diagonal" in src) {
    if (spec.kind !== "nlgp") throw new UserError(`${field}.diagonal: class ${mu} is not nlgp`);
    return { f: diagonalCumulantFactors(D, nlgpKurtosis(toIg22Gain(spec.gain, spec.convention ?? "ig22")) - 3), info: { source: "diagonal" } };
  }
  if (!X) throw new UserError(`${field}: computing factors needs samples (model.alpha or model.P)`);
  const t0 = performance.now();
  const obj = new ImplicitCumulantLoss(X, n, D, src.rank);
  const dec = await decomposeAsync(obj, { restarts: src.restarts, maxIter: src.maxIter, gtol: src.gtol, method: src.method, seed }, {
    signal: hooks.signal,
    onProgress: subProgress(hooks.onProgress, progressPart, 3, `CP class ${mu}`),
  });
  if (dec.status === "interrupted") return { f: null, info: { class: mu, source: "computed", interrupted: true } };
  hooks.log?.(`attractors: CP of class ${mu} (n = ${n}, rank ${src.rank}): loss ${dec.loss.toPrecision(6)}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { f: makeCPTensor(dec.weights, dec.factors, D), info: { source: "computed", n, rank: src.rank, loss: dec.loss, restarts: dec.restarts, best: dec.best } };
}

export async function runAttractorsModel(m: AttractorsModel, hooks: ExperimentHooks = {}): Promise<AttractorsResult> {
  const wall0 = performance.now();
  const geom = m.task.geometry as Geometry;
  const D = geometrySize(geom);
  const labels = labelValues(m.task.labels);
  const specs = m.task.classes as unknown as ClassSpec[];
  const task = twoClassTask(geom, specs[0], specs[1], m.task.labels);
  const P = m.P ?? (m.alpha !== undefined ? Math.round(m.alpha * D) : 0);
  const data = P > 0 ? classDatasets(task, P, Rng.stream(m.seed, 0), false) : null;
  const coefficients = await deriveFlowCoefficients({ v: m.neuron.v, b: m.neuron.b, labels, alpha1: m.neuron.alpha1, alpha3: m.neuron.alpha3 });
  const track = m.track!;

  const weights = m.classWeights === "uniform" || !data ? [0.5, 0.5] : data.map((d) => d.n / P);
  const factors: (CpFactors | null)[] = [];
  const cpInfo: Record<string, unknown>[] = [];
  const flowClasses: FlowClass[] = [];
  const sys: CpFlowSystem = { D, c4: coefficients.c4, classes: [] };
  let interrupted = false;
  for (let mu = 0; mu < 2; mu++) {
    const src = m.cp.classes[mu];
    const X = data?.[mu].X, n = data?.[mu].n ?? 0;
    let f: CpFactors | null = null;
    if (src !== null) {
      const lf = await classFactors(src, mu, D, specs[mu], X, n, m.seed + 7919 * (mu + 1), hooks, mu);
      if (!lf.f) {
        interrupted = true;
        break;
      }
      f = lf.f;
      cpInfo.push({ class: mu, ...lf.info, r: f.r });
    } else cpInfo.push({ class: mu, source: null });
    factors.push(f);
    let C: Float64Array;
    let cov: FlowClass["cov"];
    if (m.covariance === "exact") {
      const row = task.classes[mu].covarianceRow();
      C = denseFromRow(geom, row);
      cov = translationInvariantCovariance(geom, row);
    } else {
      C = secondMoment(X!, n, D);
      cov = "sample";
    }
    flowClasses.push({ label: labels[mu], weight: weights[mu], X, n, cov, cp: f });
    sys.classes.push({ weight: weights[mu], c2: coefficients.c2[mu], C, cp: f });
  }
  while (factors.length < 2) factors.push(null);

  const tracked = interrupted ? null : factors[track]!;
  let attractors: AttractorResult;
  if (interrupted || !tracked) {
    attractors = { runs: [], fixedPoints: [], basin: m.starts.factors.map(() => []), factorFixedPoints: [], status: "interrupted" };
  } else {
    for (const s of m.starts.factors) if (s > tracked.r) throw new UserError(`model.starts.factors: factor ${s} exceeds the ${tracked.r} factors of class ${track}`);
    const flow = buildSingleNeuronFlow({ variant: "cp", D, v: m.neuron.v, b: m.neuron.b, classes: flowClasses, alpha1: m.neuron.alpha1, alpha3: m.neuron.alpha3 }, coefficients);
    const it = m.integration, an = m.analysis;
    const computes = m.cp.classes.some((c) => c !== null && "rank" in c);
    attractors = await runAttractors(flow, sys, tracked, {
      starts: m.starts.factors.map((s) => s - 1), seeds: m.starts.seeds, sigma: m.starts.sigma, seed: m.seed,
      T: it.T, count: it.times, tMin: it.tMin, method: it.method, rtol: it.rtol, atol: it.atol, dt: it.dt, steadyTol: it.steadyTol, maxSteps: it.maxSteps,
      newtonTol: an.newtonTol, eigTol: an.eigTol, matchThreshold: an.matchThreshold, fpTol: an.fpTol,
    }, { signal: hooks.signal, onProgress: computes ? subProgress(hooks.onProgress, 2, 3, "runs") : hooks.onProgress, store: hooks.store });
  }
  if (data) releaseResident(data[0].X); // the samples (resident in the SIMD kernels' memory) are done with
  const res = attractors;
  const status = res.status;
  const message = status === "interrupted" && res.runs.length === 0 && !tracked
    ? "interrupted during the CP decomposition"
    : `${status}: ${res.runs.length} run(s); basin ${JSON.stringify(res.basin)}; ${res.fixedPoints.length} distinct fixed point(s): ${res.fixedPoints.map((f) => `${f.kind}${f.factor >= 0 ? ` on u${f.factor + 1}` : ""} ×${f.hits}`).join(", ")}`;
  const onStart = res.runs.filter((r) => r.endFactor === r.start).length;
  return {
    kind: "attractors",
    status,
    message,
    model: m,
    seed: m.seed,
    timings: { wall: (performance.now() - wall0) / 1000 },
    summary: {
      D,
      runs: res.runs.length,
      fixedPoints: res.fixedPoints.length,
      attractors: res.fixedPoints.filter((f) => f.kind === "attractor").length,
      endOnStart: res.runs.length > 0 ? onStart / res.runs.length : NaN,
    },
    D,
    P,
    coefficients,
    classWeights: weights,
    factors,
    cpInfo,
    track,
    tracked,
    attractors: res,
  };
}

export const attractorsExperiment: Experiment<AttractorsModel, AttractorsResult> = {
  kind: "attractors",
  describe: "attractor dynamics of the cp single-neuron flow between CP factors (IG22 Fig. S2)",
  parse: parseAttractorsModel,
  run: runAttractorsModel,
};
