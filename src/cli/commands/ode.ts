/**
 * `rfdyn ode <model.json>` (kind "ode"): order-parameter ODEs, integrated adaptively (GBS).
 *
 * mode "teacher-student" (Saad–Solla, isotropic inputs) writes
 *   ode.csv        t, eps (noise-free ½E[(y*−φ)²]), Q_ik (i ≤ k), R_in, v_i
 *   eps.svg        generalisation error vs t;  overlaps.svg  R and Q vs t
 * mode "mixture" (two-class task with circulant covariances, per Fourier mode) writes
 *   ode.csv        t, pmse (IG22 eq. 9), pmse per class, accuracy (Gaussian model, MC) and its SE,
 *                  b_k, v_k, |w_k|², Ω^μ_kk
 *   pmse.svg       pmse and accuracy vs t;  omega.svg  Ω^μ_kk vs t
 * and result.json (validated model, version, status, timings, RHS evaluations, final figures).
 * The initial state comes from the initial weights of the SGD run with the same seed.
 */
import { join } from "node:path";
import type { Runner } from "../runners.js";
import { progressBar, type RunContext } from "../common.js";
import { writeJsonAtomic } from "../../io/atomic.js";
import { writeCsv, type Cell } from "../../io/csv.js";
import { hconcat, lineChart, writePlot } from "../../plot/render.js";
import { expandVector, outputTimes, parseOdeModel, type CompareModel, type OdeModel } from "../../io/schema/ode.js";
import { integrateTeacherStudent, type TeacherStudentParams, type TeacherStudentRun, type TeacherStudentState } from "../../theory/saad-solla.js";
import { integrateMixture, type MixtureOdeParams, type MixtureRun } from "../../theory/mixture-ode.js";
import { getAccuracyMc } from "../../theory/get.js";
import { overlaps, teacherStudentInit } from "../../sim/teacher-student.js";
import { initNetwork, type NetworkConfig } from "../../sim/network.js";
import { makeClassSampler, type ClassSpec } from "../../data/task.js";
import { clipSpectrum, geometrySize, spectrumOfRow, type Geometry } from "../../data/kernels.js";
import { Rng } from "../../stats/rng.js";
import { IntegrationError } from "../../integrate/index.js";
import { rfdynVersion } from "../../io/version.js";


type TsModel = Extract<OdeModel | CompareModel, { mode: "teacher-student" }>;
type MixModel = Extract<OdeModel | CompareModel, { mode: "mixture" }>;

/** ODE parameters and initial state of a teacher–student model for SGD seed `seed`. */
export function teacherStudentSetup(m: TsModel, seed: number): { params: TeacherStudentParams; init: TeacherStudentState; v0: number[]; A: number[] } {
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
export function mixtureNetwork(m: MixModel): NetworkConfig {
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

export function labelPair(labels: "pm1" | "01"): [number, number] {
  return labels === "pm1" ? [-1, 1] : [0, 1];
}

/** ODE parameters and initial weights of a mixture model for SGD seed `seed`. */
export function mixtureSetup(m: MixModel, seed: number): { params: MixtureOdeParams; init: { W: Float64Array; b: Float64Array; v: Float64Array } } {
  const geom = m.task.geometry as Geometry;
  const D = geometrySize(geom);
  const net = initNetwork(mixtureNetwork(m), D, Rng.stream(seed, 0));
  const params: MixtureOdeParams = {
    K: m.network.K,
    geometry: geom,
    spectra: classSpectra(geom, m.task.classes as ClassSpec[]),
    labels: labelPair(m.task.labels),
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

/** Run the teacher–student ODE for a model (initial state of seed `seed`). */
export function runTeacherStudentOde(m: TsModel, seed: number, times: number[], ctx?: Pick<RunContext, "signal">, onProgress?: (f: number, info: string) => void): TeacherStudentRun {
  const { params, init } = teacherStudentSetup(m, seed);
  return integrateTeacherStudent(params, init, {
    times, method: m.solver.method, rtol: m.solver.rtol, atol: m.solver.atol, hMax: m.solver.hMax, maxSteps: m.solver.maxSteps,
    signal: ctx?.signal,
    onProgress: onProgress ? (f, i) => onProgress(f, `t = ${i.t.toPrecision(4)}  eps = ${i.eps.toExponential(3)}`) : undefined,
  });
}

/** Run the mixture ODE for a model (initial weights of seed `seed`). */
export function runMixtureOde(m: MixModel, seed: number, times: number[], ctx?: Pick<RunContext, "signal">, onProgress?: (f: number, info: string) => void): MixtureRun {
  const { params, init } = mixtureSetup(m, seed);
  return integrateMixture(params, init, {
    times, method: m.solver.method, rtol: m.solver.rtol, atol: m.solver.atol, hMax: m.solver.hMax, maxSteps: m.solver.maxSteps,
    signal: ctx?.signal,
    onProgress: onProgress ? (f, i) => onProgress(f, `t = ${i.t.toPrecision(4)}`) : undefined,
  });
}

/** Gaussian-model accuracy along a mixture ODE trajectory (MC over the K pre-activations). */
export function mixtureAccuracy(run: MixtureRun, m: MixModel, samples = 20_000): { accuracy: number; se: number }[] {
  const labels = labelPair(m.task.labels);
  return run.states.map((s, j) => getAccuracyMc(s.omegas, s.b, s.v, labels, [0.5, 0.5], m.network.K, samples, 1000 + j));
}

function wrapIntegration<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof IntegrationError) throw new IntegrationError(`ODE integration failed at t = ${e.tReached.toPrecision(6)}: ${e.message} (try a smaller model.time.end or larger model.solver.rtol)`, e.tReached);
    throw e;
  }
}

export const runOde: Runner = async (raw, ctx) => {
  const m = parseOdeModel(raw);
  const times = outputTimes(m.time);
  const t0 = performance.now();
  const bar = progressBar(ctx, "ode");
  const upd = (f: number, info: string) => bar.update(f, info);
  if (m.mode === "teacher-student") {
    let run: TeacherStudentRun;
    try {
      run = wrapIntegration(() => runTeacherStudentOde(m, m.seed, times, ctx, upd));
    } finally {
      bar.stop();
    }
    const wall = (performance.now() - t0) / 1000;
    const { K, M } = m.teacherStudent;
    const rows = run.t.map((t, j) => {
      const s = run.states[j];
      const r: Record<string, Cell> = { t, eps: run.eps[j] };
      for (let i = 0; i < K; i++) for (let k = i; k < K; k++) r[`Q_${i}${k}`] = s.Q[i * K + k];
      for (let i = 0; i < K; i++) for (let n = 0; n < M; n++) r[`R_${i}${n}`] = s.R[i * M + n];
      for (let i = 0; i < K; i++) r[`v_${i}`] = s.v[i];
      return r;
    });
    writeCsv(join(ctx.out, "ode.csv"), rows);
    await writePlot(join(ctx.out, "eps"), lineChart([{ name: "ODE ε", x: run.t, y: run.eps }], { title: "generalisation error ε = ½E[(y* − φ)²]", xLabel: "t = steps/N", yLabel: "ε", logY: true, logX: m.time.spacing === "log" }));
    const ser = [];
    for (let i = 0; i < K; i++) for (let n = 0; n < M; n++) ser.push({ name: `R_${i}${n}`, x: run.t, y: run.states.map((s) => s.R[i * M + n]) });
    const serQ = [];
    for (let i = 0; i < K; i++) for (let k = i; k < K; k++) serQ.push({ name: `Q_${i}${k}`, x: run.t, y: run.states.map((s) => s.Q[i * K + k]) });
    await writePlot(join(ctx.out, "overlaps"), hconcat([
      lineChart(ser, { title: "student–teacher overlaps R", xLabel: "t", yLabel: "R", logX: m.time.spacing === "log" }),
      lineChart(serQ, { title: "student–student overlaps Q", xLabel: "t", yLabel: "Q", logX: m.time.spacing === "log" }),
    ]));
    const last = run.t.length - 1;
    writeJsonAtomic(join(ctx.out, "result.json"), {
      kind: "ode", mode: m.mode, version: rfdynVersion(), status: run.status, seed: m.seed, model: m,
      wallTime: wall, nRhs: run.nRhs, nSteps: run.nSteps, tConverged: run.tConverged,
      final: { t: run.t[last], eps: run.eps[last], Q: run.states[last].Q, R: run.states[last].R, v: run.states[last].v },
      conventions: {
        eps: "noise-free generalisation error ½E[(Σ A_n g(ν_n) − φ)²], g = erf(·/√2)",
        converged: "status \"converged\": ε ≤ 1e-13 at tConverged (perfect student to double precision); later rows repeat that state",
        time: "t = steps/N; SGD w ← w + (η/√N) v e g'(λ) x − (ηκ/N) w with λ = w·x/√N",
      },
      files: ["ode.csv", "eps.svg", "overlaps.svg"],
    });
    ctx.log(`rfdyn ode: ${run.status} at t = ${run.t[last]} (${run.nRhs} RHS evaluations, ${wall.toFixed(2)} s): eps = ${run.eps[last].toExponential(4)}`);
    return;
  }
  let run: MixtureRun;
  try {
    run = wrapIntegration(() => runMixtureOde(m, m.seed, times, ctx, upd));
  } finally {
    bar.stop();
  }
  const wall = (performance.now() - t0) / 1000;
  const acc = mixtureAccuracy(run, m);
  const K = m.network.K;
  const rows = run.t.map((t, j) => {
    const s = run.states[j];
    const r: Record<string, Cell> = { t, pmse: run.pmse[j], pmse_class0: run.pmsePerClass[j][0], pmse_class1: run.pmsePerClass[j][1], accuracy: acc[j].accuracy, accuracy_se: acc[j].se };
    for (let k = 0; k < K; k++) r[`b_${k}`] = s.b[k];
    for (let k = 0; k < K; k++) r[`v_${k}`] = s.v[k];
    for (let k = 0; k < K; k++) r[`norm2_${k}`] = s.norms2[k];
    for (let mu = 0; mu < 2; mu++) for (let k = 0; k < K; k++) r[`omega${mu}_${k}${k}`] = s.omegas[mu][k * K + k];
    return r;
  });
  writeCsv(join(ctx.out, "ode.csv"), rows);
  const logX = m.time.spacing === "log";
  await writePlot(join(ctx.out, "pmse"), hconcat([
    lineChart([{ name: "ODE pmse", x: run.t, y: run.pmse }, { name: "class 0", x: run.t, y: run.pmsePerClass.map((p) => p[0]) }, { name: "class 1", x: run.t, y: run.pmsePerClass.map((p) => p[1]) }], { title: "pmse ⟨(y − φ)²⟩ (ODE / Gaussian equivalence)", xLabel: "t = steps/D", yLabel: "pmse", logX }),
    lineChart([{ name: "ODE accuracy (Gaussian model)", x: run.t, y: acc.map((a) => a.accuracy) }], { title: "accuracy", xLabel: "t = steps/D", yLabel: "accuracy", logX }),
  ]));
  const om = [];
  for (let mu = 0; mu < 2; mu++) for (let k = 0; k < K; k++) om.push({ name: `Ω${mu}_${k}${k}`, x: run.t, y: run.states.map((s) => s.omegas[mu][k * K + k]) });
  await writePlot(join(ctx.out, "omega"), lineChart(om, { title: "pre-activation variances Ω^μ_kk = w_k C^μ w_k", xLabel: "t = steps/D", yLabel: "Ω_kk", logX }));
  const last = run.t.length - 1;
  writeJsonAtomic(join(ctx.out, "result.json"), {
    kind: "ode", mode: m.mode, version: rfdynVersion(), status: run.status, seed: m.seed, model: m,
    wallTime: wall, nRhs: run.nRhs, nSteps: run.nSteps, modeGroups: run.groups,
    final: { t: run.t[last], pmse: run.pmse[last], accuracy: acc[last].accuracy, b: run.states[last].b, v: run.states[last].v, omegas: run.states[last].omegas },
    conventions: {
      pmse: "IG22 eq. (9): Σ_μ p_μ E_μ[(y_μ − φ)²], no factor ½ (same as rfdyn simulate)",
      accuracy: "Gaussian model of the pre-activations, Monte Carlo with 20 000 samples per class (accuracy_se)",
      time: "t = steps/D; SGD θ ← θ − (η/D) ∂L/∂θ with λ = w·x + b (rfdyn simulate with lrScaling 1)",
      inputs: "exact for GP classes; NLGP classes are replaced by Gaussians with the same covariance (GET)",
    },
    files: ["ode.csv", "pmse.svg", "omega.svg"],
  });
  ctx.log(`rfdyn ode: ${run.status} at t = ${run.t[last]} (${run.nRhs} RHS evaluations, ${run.groups} mode groups, ${wall.toFixed(2)} s): pmse = ${run.pmse[last].toFixed(4)}, accuracy ≈ ${(100 * acc[last].accuracy).toFixed(1)}%`);
};
