/**
 * Files of an "ode" result (result.json last):
 * mode "teacher-student" (Saad–Solla, isotropic inputs)
 *   ode.csv        t, eps (noise-free ½E[(y*−φ)²]), Q_ik (i ≤ k), R_in, v_i
 *   eps.svg        generalisation error vs t;  overlaps.svg  R and Q vs t
 * mode "mixture" (two-class task with circulant covariances, per Fourier mode)
 *   ode.csv        t, pmse (IG22 eq. 9), pmse per class, accuracy (Gaussian model, MC) and its SE,
 *                  b_k, v_k, |w_k|², Ω^μ_kk
 *   pmse.svg       pmse and accuracy vs t;  omega.svg  Ω^μ_kk vs t
 * and result.json (validated model, version, status, message, timings, RHS evaluations, final figures).
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../atomic.js";
import { writeCsv, type Cell } from "../csv.js";
import { hconcat, lineChart } from "../../plot/render.js";
import { writePlot } from "../plots.js";
import type { OdeMixtureResult, OdeResult, OdeTeacherStudentResult } from "../../experiments/ode.js";
import { rfdynVersion } from "../version.js";
import { peakRss } from "../resources.js";

export async function writeOdeResult(out: string, result: OdeResult): Promise<void> {
  if (result.mode === "teacher-student") return writeTeacherStudent(out, result);
  return writeMixture(out, result);
}

async function writeTeacherStudent(out: string, result: OdeTeacherStudentResult): Promise<void> {
  const { model: m, run } = result;
  const { K, M } = m.teacherStudent;
  const rows = run.t.map((t, j) => {
    const s = run.states[j];
    const r: Record<string, Cell> = { t, eps: run.eps[j] };
    for (let i = 0; i < K; i++) for (let k = i; k < K; k++) r[`Q_${i}${k}`] = s.Q[i * K + k];
    for (let i = 0; i < K; i++) for (let n = 0; n < M; n++) r[`R_${i}${n}`] = s.R[i * M + n];
    for (let i = 0; i < K; i++) r[`v_${i}`] = s.v[i];
    return r;
  });
  writeCsv(join(out, "ode.csv"), rows);
  await writePlot(join(out, "eps"), lineChart([{ name: "ODE ε", x: run.t, y: run.eps }], { title: "generalisation error ε = ½E[(y* − φ)²]", xLabel: "t = steps/N", yLabel: "ε", logY: true, logX: m.time.spacing === "log" }));
  const ser = [];
  for (let i = 0; i < K; i++) for (let n = 0; n < M; n++) ser.push({ name: `R_${i}${n}`, x: run.t, y: run.states.map((s) => s.R[i * M + n]) });
  const serQ = [];
  for (let i = 0; i < K; i++) for (let k = i; k < K; k++) serQ.push({ name: `Q_${i}${k}`, x: run.t, y: run.states.map((s) => s.Q[i * K + k]) });
  await writePlot(join(out, "overlaps"), hconcat([
    lineChart(ser, { title: "student–teacher overlaps R", xLabel: "t = steps/N", yLabel: "R = wBᵀ/N", logX: m.time.spacing === "log" }),
    lineChart(serQ, { title: "student–student overlaps Q", xLabel: "t = steps/N", yLabel: "Q = wwᵀ/N", logX: m.time.spacing === "log" }),
  ]));
  const last = run.t.length - 1;
  writeJsonAtomic(join(out, "result.json"), {
    kind: "ode", mode: m.mode, version: rfdynVersion(), status: result.status, message: result.message, seed: m.seed, model: m,
    wallTime: result.timings.wall, timings: peakRss(), nRhs: run.nRhs, nSteps: run.nSteps, tConverged: run.tConverged,
    final: { t: run.t[last], eps: run.eps[last], Q: run.states[last].Q, R: run.states[last].R, v: run.states[last].v },
    conventions: {
      eps: "noise-free generalisation error ½E[(Σ A_n g(ν_n) − φ)²], g = erf(·/√2)",
      converged: "status \"event\": ε ≤ 1e-13 at tConverged (perfect student to double precision); later rows repeat that state",
      time: "t = steps/N; SGD w ← w + (η/√N) v e g'(λ) x − (ηκ/N) w with λ = w·x/√N",
    },
    files: ["ode.csv", "eps.svg", "overlaps.svg"],
  });
}

async function writeMixture(out: string, result: OdeMixtureResult): Promise<void> {
  const { model: m, run, accuracy: acc } = result;
  const K = m.network.K;
  const rows = run.t.map((t, j) => {
    const s = run.states[j];
    const r: Record<string, Cell> = { t, pmse: run.pmse[j], pmse_class0: run.pmsePerClass[j][0], pmse_class1: run.pmsePerClass[j][1], accuracy: acc[j].accuracy, accuracy_se: acc[j].se };
    for (let k = 0; k < K; k++) r[`b_${k}`] = s.b[k];
    for (let k = 0; k < K; k++) r[`v_${k}`] = s.v[k];
    for (let k = 0; k < K; k++) r[`norm2_${k}`] = s.norms2[k];
    for (let mu = 0; mu < 2; mu++) for (let k = 0; k < K; k++) r[`omega${mu}_${k}${k}`] = s.omegas[mu][k * K + k];
    const c = result.cumulant;
    if (c && j < c.t.length) {
      const cs = c.states[j];
      r.cum_pmse = c.pmse[j];
      r.cum_pmse_gaussian_part = c.pmseGaussianPart[j];
      r.cum_accuracy = c.accuracy[j].accuracy;
      r.cum_accuracy_se = c.accuracy[j].se;
      r.cum_meanIpr = c.meanIprWithNoise[j];
      r.cum_meanIpr_weights = c.meanIpr[j];
      r.cum_meanStdCumulant = c.meanStdCumulant[j];
      for (let k = 0; k < K; k++) r[`cum_ipr_${k}`] = cs.iprWithNoise[k];
      for (let k = 0; k < K; k++) r[`cum_b_${k}`] = cs.b[k];
    }
    return r;
  });
  writeCsv(join(out, "ode.csv"), rows);
  const logX = m.time.spacing === "log";
  const cum = result.cumulant;
  await writePlot(join(out, "pmse"), hconcat([
    lineChart([{ name: "ODE pmse", x: run.t, y: run.pmse }, { name: "class 0", x: run.t, y: run.pmsePerClass.map((p) => p[0]) }, { name: "class 1", x: run.t, y: run.pmsePerClass.map((p) => p[1]) },
      ...(cum ? [{ name: "cumulant theory pmse", x: cum.t, y: cum.pmse }] : [])], { title: "pmse ⟨(y − φ)²⟩ (ODE / Gaussian equivalence)", xLabel: "t = steps/D", yLabel: "pmse", logX }),
    lineChart([{ name: "ODE accuracy (Gaussian model)", x: run.t, y: acc.map((a) => a.accuracy) }, ...(cum ? [{ name: "cumulant theory (Edgeworth)", x: cum.t, y: cum.accuracy.map((a) => a.accuracy) }] : [])], { title: "accuracy", xLabel: "t = steps/D", yLabel: "accuracy", logX }),
  ]));
  if (cum) {
    const ser = [{ name: "mean IPR", x: cum.t, y: cum.meanIprWithNoise }];
    for (let k = 0; k < K; k++) ser.push({ name: `IPR neuron ${k}`, x: cum.t, y: cum.states.map((s) => s.iprWithNoise[k]) });
    await writePlot(join(out, "ipr"), lineChart(ser, { title: "cumulant theory: IPR of the weights (with the SGD-noise part)", xLabel: "t = steps/D", yLabel: "IPR", logX }));
  }
  const om = [];
  for (let mu = 0; mu < 2; mu++) for (let k = 0; k < K; k++) om.push({ name: `Ω${mu}_${k}${k}`, x: run.t, y: run.states.map((s) => s.omegas[mu][k * K + k]) });
  await writePlot(join(out, "omega"), lineChart(om, { title: "pre-activation variances Ω^μ_kk = w_k C^μ w_k", xLabel: "t = steps/D", yLabel: "Ω_kk", logX }));
  const last = run.t.length - 1;
  writeJsonAtomic(join(out, "result.json"), {
    kind: "ode", mode: m.mode, version: rfdynVersion(), status: result.status, message: result.message, seed: m.seed, model: m,
    wallTime: result.timings.integrate ?? result.timings.wall, timings: peakRss(), nRhs: run.nRhs, nSteps: run.nSteps, modeGroups: run.groups,
    final: { t: run.t[last], pmse: run.pmse[last], accuracy: acc[last].accuracy, b: run.states[last].b, v: run.states[last].v, omegas: run.states[last].omegas },
    conventions: {
      pmse: "IG22 eq. (9): Σ_μ p_μ E_μ[(y_μ − φ)²], no factor ½ (same as rfdyn simulate)",
      accuracy: "Gaussian model of the pre-activations, Monte Carlo with 20 000 samples per class (accuracy_se)",
      time: "t = steps/D; SGD θ ← θ − (η/D) ∂L/∂θ with λ = w·x + b (rfdyn simulate with lrScaling 1)",
      inputs: "exact for GP classes; NLGP classes are replaced by Gaussians with the same covariance (GET)",
      ...(cum ? { cumulant: "cum_*: weight-space theory with the first Edgeworth (4th-cumulant) correction (src/theory/cumulant-theory.ts); cum_meanIpr includes the evenly spread SGD-noise part, cum_meanIpr_weights is the IPR of W alone; cum_accuracy is Monte Carlo under the Edgeworth density" } : {}),
    },
    ...(cum ? { cumulant: { status: cum.status, message: cum.message, nRhs: cum.nRhs, nSteps: cum.nSteps, final: { pmse: cum.pmse[cum.t.length - 1], meanIpr: cum.meanIprWithNoise[cum.t.length - 1] } } } : {}),
    files: ["ode.csv", "pmse.svg", "omega.svg", ...(cum ? ["ipr.svg"] : [])],
  });
}
