/**
 * The run helpers of the order-parameter ODE kinds (ode, compare): set-ups, integrations, the SGD runs
 * they describe, formatting.  Kept apart from ./ode.ts, which validates models (zod, ~140 ms to load),
 * so that a worker thread of a compare run (./compare-unit.ts) loads only what a seed needs.
 */
import { UserError } from "../run/errors.js";
import type { CompareModel, OdeModel } from "../schema/ode.js";
import { expandVector } from "../schema/ode-defaults.js";
import { logTimes } from "../integrate/grid.js";
import { integrateTeacherStudent, type TeacherStudentParams, type TeacherStudentRun } from "../theory/saad-solla.js";
import type { TeacherStudentState } from "../analysis/order-parameters.js";
import { integrateMixture, type MixtureOdeParams, type MixtureRun } from "../theory/mixture-ode.js";
import { getAccuracyMc } from "../theory/get.js";
import { integrateCumulant, type CumulantClass, type CumulantRun, type CumulantTheoryParams } from "../theory/cumulant-theory.js";
import { nlgpKurtosis, toIg22Gain } from "../data/nlgp.js";
import { overlaps, teacherStudentInit, type TeacherStudentSimConfig } from "../sim/teacher-student.js";
import type { SimulationConfig } from "../sim/simulate.js";
import { initNetwork, type NetworkConfig } from "../sim/network.js";
import { labelValues, makeClassSampler, type ClassSpec } from "../data/task.js";
import { clipSpectrum, geometrySize, spectrumOfRow, type Geometry } from "../data/kernels.js";
import { Rng } from "../stats/rng.js";
import type { RunHooks, RunStatus } from "../run/hooks.js";
import { DEFAULT_CHECKPOINT_SECONDS, type RunStore } from "../run/store.js";
import type { CheckpointOptions, SolverState } from "../integrate/index.js";

/** A teacher–student model of kind "ode" or "compare". */
export type TeacherStudentOdeModel = Extract<OdeModel | CompareModel, { mode: "teacher-student" }>;
/** A mixture model of kind "ode" or "compare". */
export type MixtureOdeModel = Extract<OdeModel | CompareModel, { mode: "mixture" }>;

/** Gaussian-model accuracy at one output time, with its Monte-Carlo standard error. */
export interface AccuracyEstimate {
  accuracy: number;
  se: number;
}

/** Output times: `points` times from 0 to end (log: 0 plus log-spaced from end·1e-3). */
export function outputTimes(t: OdeModel["time"]): number[] {
  if (t.spacing === "log") return logTimes(t.end, t.points, t.end * 1e-3);
  const out = [0];
  for (let j = 1; j < t.points; j++) out.push((t.end * j) / (t.points - 1));
  out[out.length - 1] = t.end;
  return out;
}

/** ODE parameters and initial state of a teacher–student model for SGD seed `seed`. */
export function teacherStudentSetup(m: TeacherStudentOdeModel, seed: number): { params: TeacherStudentParams; init: TeacherStudentState; v0: number[]; A: number[] } {
  const ts = m.teacherStudent;
  const { K, M, N } = ts;
  const v0 = expandVector(ts.secondLayer.value, K, "model.teacherStudent.secondLayer.value");
  const A = expandVector(ts.teacherSecondLayer, M, "model.teacherStudent.teacherSecondLayer");
  const { B, W } = teacherStudentInit({ N, K, M, initScale: ts.initScale, seed });
  const params: TeacherStudentParams = {
    K, M, lr: ts.lr, lrSecondLayer: ts.lrSecondLayer, trainSecondLayer: ts.secondLayer.mode === "trained",
    noise: ts.noise, weightDecay: ts.weightDecay, A, T: overlaps(B, M, B, M, N), secondOrder: ts.secondOrder,
  };
  return { params, init: { Q: overlaps(W, K, W, K, N), R: overlaps(W, K, B, M, N), v: Float64Array.from(v0) }, v0, A };
}

/** The SGD run that the teacher–student ODE of `m` describes: same seed, same initial weights, recorded at `times`. */
export function teacherStudentSgdConfig(m: TeacherStudentOdeModel, seed: number, times: readonly number[]): TeacherStudentSimConfig {
  const ts = m.teacherStudent;
  const { v0, A } = teacherStudentSetup(m, seed);
  return {
    N: ts.N, K: ts.K, M: ts.M, lr: ts.lr, lrSecondLayer: ts.lrSecondLayer, trainSecondLayer: ts.secondLayer.mode === "trained",
    noise: ts.noise, weightDecay: ts.weightDecay, A, v0, initScale: ts.initScale, times, seed,
  };
}

/**
 * The online SGD run (`simulate`) that the mixture ODE of `m` describes — λ = w·x + b, θ ← θ − (η/D)∂L/∂θ,
 * t = steps/D, initial weights of the same seed — on `classes` (default the model's; e.g. their
 * Gaussian clone), logged at `points` log-spaced times up to the model's end time.
 */
export function mixtureSgdConfig(m: MixtureOdeModel, seed: number, o: { classes?: readonly ClassSpec[]; points?: number; testSize?: number; snapshots?: number } = {}): SimulationConfig {
  const geom = m.task.geometry as Geometry;
  const D = geometrySize(geom);
  const classes = (o.classes ?? m.task.classes) as ClassSpec[];
  return {
    task: { geometry: geom, classes: [classes[0], classes[1]], labels: m.task.labels },
    network: mixtureNetwork(m),
    training: { mode: "online", steps: Math.max(1, Math.round(m.time.end * D)), lr: m.training.lr, lrScaling: 1, lrBias: m.training.lrBias, lrSecondLayer: m.training.lrSecondLayer, weightDecay: m.training.weightDecay, batchSize: 1 },
    logging: { points: o.points ?? m.time.points, snapshots: o.snapshots ?? 0 },
    testSize: o.testSize ?? 10_000,
    seed,
  };
}

/** The Gaussian clone of a task's classes (NLGP / field → GP with the same covariance); the classes themselves if already Gaussian. */
export function gaussianClone(classes: readonly ClassSpec[]): ClassSpec[] {
  return classes.map((c): ClassSpec => (c.kind === "nlgp" ? { kind: "gp-clone", xi: c.xi, gain: c.gain, convention: c.convention }
    : c.kind === "field" ? { kind: "field-clone", xi: c.xi, marginal: c.marginal } : c));
}

/** Network configuration of a mixture model (as `rfdyn simulate` builds it). */
export function mixtureNetwork(m: MixtureOdeModel): NetworkConfig {
  return {
    K: m.network.K,
    activation: m.network.activation,
    secondLayer: m.network.secondLayer,
    bias: m.network.bias,
    initScale: m.network.initScale,
  };
}

/** Class spectra (eigenvalues of each class covariance, clipped at 0 as the GP sampler does). */
export function classSpectra(geom: Geometry, classes: readonly ClassSpec[]): Float64Array[] {
  return classes.map((c) => clipSpectrum(spectrumOfRow(geom, makeClassSampler(geom, c).covarianceRow())));
}

/** ODE parameters and initial weights of a mixture model for SGD seed `seed`. */
export function mixtureSetup(m: MixtureOdeModel, seed: number): { params: MixtureOdeParams; init: { W: Float64Array; b: Float64Array; v: Float64Array } } {
  const geom = m.task.geometry as Geometry;
  const D = geometrySize(geom);
  const net = initNetwork(mixtureNetwork(m), D, Rng.stream(seed, 0));
  const params: MixtureOdeParams = {
    K: m.network.K,
    geometry: geom,
    spectra: classSpectra(geom, m.task.classes as ClassSpec[]),
    labels: labelValues(m.task.labels),
    lr: m.training.lr,
    lrBias: m.training.lrBias,
    lrSecondLayer: m.training.lrSecondLayer,
    weightDecay: m.training.weightDecay,
    trainBias: m.network.bias.mode === "trained",
    trainSecondLayer: m.network.secondLayer.mode === "trained",
    secondOrder: m.training.secondOrder,
  };
  return { params, init: { W: net.W, b: net.b, v: net.v } };
}

/** Cumulant options of a mixture model with their defaults. */
export function cumulantOptions(m: MixtureOdeModel): { source: "samples" | "iid"; samples: number; seed: number; seeds?: number; accuracySamples: number; order: 0 | 1 } {
  return { source: "samples", samples: 10_000, seed: 12345, accuracySamples: 20_000, order: 1, ...(m.cumulant ?? {}) };
}

/**
 * Parameters of the weight-space cumulant theory of a mixture model (src/theory/cumulant-theory.ts):
 * the class spectra of the GET ODE plus each class's fourth-cumulant source — a fixed set of
 * `cumulant.samples` inputs per class drawn with `cumulant.seed` (the same for every SGD seed), or the
 * exact i.i.d. value for NLGP classes with xi = 0.
 */
export function cumulantTheoryParams(m: MixtureOdeModel): CumulantTheoryParams {
  const geom = m.task.geometry as Geometry;
  const D = geometrySize(geom);
  const opt = cumulantOptions(m);
  const labels = labelValues(m.task.labels);
  const classes = m.task.classes as ClassSpec[];
  const spectra = classSpectra(geom, classes);
  const cls: CumulantClass[] = classes.map((c, mu) => {
    if (opt.source === "iid") {
      if (c.kind !== "nlgp" || c.xi !== 0) throw new UserError(`model.task.classes[${mu}]: cumulant source "iid" needs an NLGP class with xi = 0`);
      return { label: labels[mu], spectrum: spectra[mu], cumulant: { kind: "iid", excessKurtosis: nlgpKurtosis(toIg22Gain(c.gain, c.convention ?? "ig22")) - 3 } };
    }
    const sampler = makeClassSampler(geom, c);
    const rng = Rng.stream(opt.seed, 100 + mu);
    const P = opt.samples;
    const X = new Float64Array(P * D);
    for (let i = 0; i < P; i++) sampler.sample(X.subarray(i * D, (i + 1) * D), rng);
    return { label: labels[mu], spectrum: spectra[mu], cumulant: { kind: "samples", X, n: P } };
  });
  return {
    K: m.network.K, geometry: geom, classes: cls, lr: m.training.lr, lrBias: m.training.lrBias, lrSecondLayer: m.training.lrSecondLayer,
    weightDecay: m.training.weightDecay, trainBias: m.network.bias.mode === "trained", trainSecondLayer: m.network.secondLayer.mode === "trained",
    secondOrder: m.training.secondOrder, order: opt.order,
  };
}

/** Run the cumulant theory of a mixture model from the initial weights of seed `seed` (params reusable across seeds). */
export function runCumulantTheory(m: MixtureOdeModel, seed: number, times: readonly number[], hooks: RunHooks = {}, params: CumulantTheoryParams = cumulantTheoryParams(m)): Promise<CumulantRun> {
  const { init } = mixtureSetup(m, seed);
  return integrateCumulant(params, init, {
    times, method: m.solver.method, rtol: m.solver.rtol, atol: m.solver.atol, hMax: m.solver.hMax, maxSteps: m.solver.maxSteps,
    accuracySamples: cumulantOptions(m).accuracySamples,
  }, { signal: hooks.signal, onProgress: hooks.onProgress });
}

/**
 * Run the teacher–student ODE of a model (initial state of seed `seed`) at `times`; `hooks.threads`
 * threads share the η² pair sums (results bit-identical for every count).
 */
export function runTeacherStudentOde(m: TeacherStudentOdeModel, seed: number, times: readonly number[], hooks: RunHooks & { store?: RunStore; checkpointSeconds?: number; threads?: number } = {}): Promise<TeacherStudentRun> {
  const { params, init } = teacherStudentSetup(m, seed);
  return integrateTeacherStudent(params, init, {
    times, method: m.solver.method, rtol: m.solver.rtol, atol: m.solver.atol, hMax: m.solver.hMax, maxSteps: m.solver.maxSteps,
    threads: hooks.threads,
  }, { signal: hooks.signal, onProgress: hooks.onProgress }, odeCheckpointing(hooks));
}

/** Store key of the checkpoint of a single ODE run (kind "ode"). */
export const ODE_CHECKPOINT_KEY = "ode/state";

/**
 * Checkpoint options of a single ODE run with a store: resume from the SolverState under `key` if
 * there is one, and save there every `checkpointSeconds` (default 30) and on interruption.
 */
export function odeCheckpointing(hooks: { store?: RunStore; checkpointSeconds?: number }, key = ODE_CHECKPOINT_KEY): CheckpointOptions {
  const store = hooks.store;
  if (!store) return {};
  return {
    resumeFrom: store.get<SolverState>(key),
    checkpoint: { every: hooks.checkpointSeconds ?? DEFAULT_CHECKPOINT_SECONDS, save: (s) => store.put(key, s) },
  };
}

/**
 * Run the mixture ODE of a model (initial weights of seed `seed`) at `times`.  With `hooks.store`
 * the integration is checkpointed under "ode/state" and resumed from it (one run per store: callers
 * running several ODEs, e.g. compare's seeds, pass no store).
 */
export function runMixtureOde(m: MixtureOdeModel, seed: number, times: readonly number[], hooks: RunHooks & { store?: RunStore; checkpointSeconds?: number } = {}): Promise<MixtureRun> {
  const { params, init } = mixtureSetup(m, seed);
  return integrateMixture(params, init, {
    times, method: m.solver.method, rtol: m.solver.rtol, atol: m.solver.atol, hMax: m.solver.hMax, maxSteps: m.solver.maxSteps,
  }, { signal: hooks.signal, onProgress: hooks.onProgress }, odeCheckpointing(hooks));
}

/** Gaussian-model accuracy along a mixture ODE trajectory (MC over the K pre-activations). */
export function mixtureAccuracy(run: MixtureRun, m: MixtureOdeModel, samples = 20_000): AccuracyEstimate[] {
  const labels = labelValues(m.task.labels);
  return run.states.map((s, j) => getAccuracyMc(s.omegas, s.b, s.v, labels, [0.5, 0.5], m.network.K, samples, 1000 + j));
}

/** True for the statuses of a numerical failure of the ODE (the hint below applies). */
export function odeFailed(status: RunStatus): boolean {
  return status === "diverged" || status === "failed";
}

/**
 * A number for a one-line message: `digits` decimals (or significant digits with `exp`), and "n/a"
 * for NaN/±∞ — messages never print "NaN".
 */
export function fmtNumber(x: number, digits = 4, exp = false): string {
  if (!Number.isFinite(x)) return "n/a";
  return exp ? x.toExponential(digits) : x.toFixed(digits);
}

/**
 * "mean ± se" for a message, without NaN: "0.1234 ± 0.0012"; with no standard error (fewer than two
 * finite values: se NaN) "0.1234 (n = 1, no SE)"; with no value at all "n/a (no finished seed)".
 * `n` is the number of values the mean is over (meanSe's n).
 */
export function fmtMeanSe(mean: number, se: number, n: number, digits = 4): string {
  if (!Number.isFinite(mean) || n === 0) return "n/a (no finished seed)";
  if (!Number.isFinite(se)) return `${mean.toFixed(digits)} (n = ${n}, no SE)`;
  return `${mean.toFixed(digits)} ± ${se.toFixed(digits)}`;
}

/** The message of a failed ODE run, with the time reached and what to try. */
export function odeFailureMessage(run: { t: number[]; message: string }): string {
  const where = run.t.length > 0 ? `at t = ${run.t[run.t.length - 1].toPrecision(6)}` : "before the first output time";
  return `ODE integration failed ${where}: ${run.message} (try a smaller model.time.end or larger model.solver.rtol)`;
}
