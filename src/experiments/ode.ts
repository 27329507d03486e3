/**
 * Kind "ode": order-parameter ODEs, integrated adaptively (GBS, or RKC for stiff runs).
 *
 * mode "teacher-student" (Saad–Solla, isotropic inputs): ε and the overlaps Q, R, v at the output
 *   times (src/theory/saad-solla.ts).  Status "event" when ε reached 1e-13 (perfect student to
 *   double precision) at `run.tConverged`; later rows repeat that state.
 * mode "mixture" (two-class task with circulant covariances, per Fourier mode; src/theory/mixture-ode.ts):
 *   pmse, pmse per class, the Gaussian-model accuracy (Monte Carlo) and b, v, |w_k|², Ω^μ.
 *
 * The initial state comes from the initial weights of the SGD run with the same seed, so the ODE
 * and `rfdyn simulate` / the teacher–student simulator start from the same point.
 */
import { expandVector, outputTimes, parseOdeModel, type CompareModel, type OdeModel } from "../schema/ode.js";
import { integrateTeacherStudent, type TeacherStudentParams, type TeacherStudentRun, type TeacherStudentState } from "../theory/saad-solla.js";
import { integrateMixture, type MixtureOdeParams, type MixtureRun } from "../theory/mixture-ode.js";
import { getAccuracyMc } from "../theory/get.js";
import { overlaps, teacherStudentInit } from "../sim/teacher-student.js";
import { initNetwork, type NetworkConfig } from "../sim/network.js";
import { labelValues } from "../sim/simulate.js";
import { makeClassSampler, type ClassSpec } from "../data/task.js";
import { clipSpectrum, geometrySize, spectrumOfRow, type Geometry } from "../data/kernels.js";
import { Rng } from "../stats/rng.js";
import type { RunHooks, RunStatus } from "../run/hooks.js";
import type { Experiment, ExperimentHooks, ResultBase } from "./types.js";

/** A teacher–student model of kind "ode" or "compare". */
export type TeacherStudentOdeModel = Extract<OdeModel | CompareModel, { mode: "teacher-student" }>;
/** A mixture model of kind "ode" or "compare". */
export type MixtureOdeModel = Extract<OdeModel | CompareModel, { mode: "mixture" }>;

/** Gaussian-model accuracy at one output time, with its Monte-Carlo standard error. */
export interface AccuracyEstimate {
  accuracy: number;
  se: number;
}

export interface OdeTeacherStudentResult extends ResultBase<"ode", Extract<OdeModel, { mode: "teacher-student" }>> {
  mode: "teacher-student";
  run: TeacherStudentRun;
}

export interface OdeMixtureResult extends ResultBase<"ode", Extract<OdeModel, { mode: "mixture" }>> {
  mode: "mixture";
  run: MixtureRun;
  /** Gaussian-model accuracy at each output time (`mixtureAccuracy`). */
  accuracy: AccuracyEstimate[];
}

export type OdeResult = OdeTeacherStudentResult | OdeMixtureResult;

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

/** Run the teacher–student ODE of a model (initial state of seed `seed`) at `times`. */
export function runTeacherStudentOde(m: TeacherStudentOdeModel, seed: number, times: readonly number[], hooks: RunHooks = {}): Promise<TeacherStudentRun> {
  const { params, init } = teacherStudentSetup(m, seed);
  return integrateTeacherStudent(params, init, {
    times, method: m.solver.method, rtol: m.solver.rtol, atol: m.solver.atol, hMax: m.solver.hMax, maxSteps: m.solver.maxSteps,
  }, hooks);
}

/** Run the mixture ODE of a model (initial weights of seed `seed`) at `times`. */
export function runMixtureOde(m: MixtureOdeModel, seed: number, times: readonly number[], hooks: RunHooks = {}): Promise<MixtureRun> {
  const { params, init } = mixtureSetup(m, seed);
  return integrateMixture(params, init, {
    times, method: m.solver.method, rtol: m.solver.rtol, atol: m.solver.atol, hMax: m.solver.hMax, maxSteps: m.solver.maxSteps,
  }, hooks);
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

/** The message of a failed ODE run, with the time reached and what to try. */
export function odeFailureMessage(run: { t: number[]; message: string }): string {
  const tEnd = run.t.length > 0 ? run.t[run.t.length - 1] : NaN;
  return `ODE integration failed at t = ${tEnd.toPrecision(6)}: ${run.message} (try a smaller model.time.end or larger model.solver.rtol)`;
}

export async function runOde(model: OdeModel, hooks: ExperimentHooks = {}): Promise<OdeResult> {
  const times = outputTimes(model.time);
  const t0 = performance.now();
  if (model.mode === "teacher-student") {
    const run = await runTeacherStudentOde(model, model.seed, times, hooks);
    const wall = (performance.now() - t0) / 1000;
    const last = run.t.length - 1;
    const head = odeFailed(run.status) ? odeFailureMessage(run) : run.status === "event" ? run.message : `${run.status} at t = ${run.t[last]}`;
    const message = `${head} (${run.nRhs} RHS evaluations, ${wall.toFixed(2)} s): eps = ${run.eps[last].toExponential(4)}`;
    const summary: Record<string, number> = { t: run.t[last], eps: run.eps[last], nRhs: run.nRhs, nSteps: run.nSteps };
    if (run.tConverged !== undefined) summary.tConverged = run.tConverged;
    return { kind: "ode", mode: "teacher-student", status: run.status, message, model, seed: model.seed, timings: { wall, integrate: wall }, summary, run };
  }
  const run = await runMixtureOde(model, model.seed, times, hooks);
  const integrate = (performance.now() - t0) / 1000;
  const accuracy = mixtureAccuracy(run, model);
  const wall = (performance.now() - t0) / 1000;
  const last = run.t.length - 1;
  const head = odeFailed(run.status) ? odeFailureMessage(run) : `${run.status} at t = ${run.t[last]}`;
  const message = `${head} (${run.nRhs} RHS evaluations, ${run.groups} mode groups, ${integrate.toFixed(2)} s): pmse = ${run.pmse[last].toFixed(4)}, accuracy ≈ ${(100 * accuracy[last].accuracy).toFixed(1)}%`;
  return {
    kind: "ode", mode: "mixture", status: run.status, message, model, seed: model.seed,
    timings: { wall, integrate },
    summary: { t: run.t[last], pmse: run.pmse[last], accuracy: accuracy[last].accuracy, nRhs: run.nRhs, nSteps: run.nSteps },
    run, accuracy,
  };
}

export const odeExperiment: Experiment<OdeModel, OdeResult> = {
  kind: "ode",
  describe: "order-parameter ODEs (Saad–Solla teacher–student, or the two-class mixture per Fourier mode)",
  parse: (raw) => parseOdeModel(raw),
  run: runOde,
};
