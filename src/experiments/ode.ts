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
 * and `rfdyn simulate` / the teacher–student simulator start from the same point. *
 * Checkpoints (hooks.store, mixture mode): the solver state at output times is put under "ode/state"
 * every hooks.checkpointSeconds (default 30) and on interruption; a run whose store holds it resumes
 * there and ends bit-identical to an uninterrupted run (src/integrate/solve.ts, CheckpointOptions).
 */
import { UserError } from "../run/errors.js";
import { parseOdeModel, type OdeModel } from "../schema/ode.js";
import type { CumulantRun } from "../theory/cumulant-theory.js";
import type { MixtureRun } from "../theory/mixture-ode.js";
import type { TeacherStudentRun } from "../theory/saad-solla.js";
import type { Experiment, ExperimentHooks, ResultBase } from "./types.js";
import { fmtNumber, mixtureAccuracy, odeFailed, odeFailureMessage, outputTimes, runCumulantTheory, runMixtureOde, runTeacherStudentOde, type AccuracyEstimate } from "./ode-run.js";

export * from "./ode-run.js";

export interface OdeTeacherStudentResult extends ResultBase<"ode", Extract<OdeModel, { mode: "teacher-student" }>> {
  mode: "teacher-student";
  run: TeacherStudentRun;
}

export interface OdeMixtureResult extends ResultBase<"ode", Extract<OdeModel, { mode: "mixture" }>> {
  mode: "mixture";
  run: MixtureRun;
  /** Gaussian-model accuracy at each output time (`mixtureAccuracy`). */
  accuracy: AccuracyEstimate[];
  /** With `"theory": "cumulant"`: the weight-space Edgeworth theory from the same initial weights. */
  cumulant?: CumulantRun;
}

export type OdeResult = OdeTeacherStudentResult | OdeMixtureResult;

/** Validate an ode model of one mode (UserError if it is another), typed for that mode's setup functions. */
export function parseOdeModelOf<Mode extends OdeModel["mode"]>(mode: Mode, raw: unknown): Extract<OdeModel, { mode: Mode }> {
  const m = parseOdeModel(raw);
  if (m.mode !== mode) throw new UserError(`model.mode: must be "${mode}" here (got "${m.mode}")`);
  return m as Extract<OdeModel, { mode: Mode }>;
}

export async function runOde(model: OdeModel, hooks: ExperimentHooks = {}): Promise<OdeResult> {
  const times = outputTimes(model.time);
  const t0 = performance.now();
  if (model.mode === "teacher-student") {
    const run = await runTeacherStudentOde(model, model.seed, times, hooks);
    const wall = (performance.now() - t0) / 1000;
    const last = run.t.length - 1;
    const tLast = last >= 0 ? run.t[last] : NaN, epsLast = last >= 0 ? run.eps[last] : NaN;
    const head = odeFailed(run.status) ? odeFailureMessage(run) : run.status === "event" ? run.message : last >= 0 ? `${run.status} at t = ${tLast}` : `${run.status} before the first output time`;
    const message = `${head} (${run.nRhs} RHS evaluations, ${wall.toFixed(2)} s): eps = ${fmtNumber(epsLast, 4, true)}`;
    const summary: Record<string, number> = { t: tLast, eps: epsLast, nRhs: run.nRhs, nSteps: run.nSteps };
    if (run.tConverged !== undefined) summary.tConverged = run.tConverged;
    return { kind: "ode", mode: "teacher-student", status: run.status, message, model, seed: model.seed, timings: { wall, integrate: wall }, summary, run };
  }
  const run = await runMixtureOde(model, model.seed, times, hooks);
  const integrate = (performance.now() - t0) / 1000;
  const accuracy = mixtureAccuracy(run, model);
  let cumulant: CumulantRun | undefined;
  if (model.theory === "cumulant" && !odeFailed(run.status) && run.status !== "interrupted") {
    cumulant = await runCumulantTheory(model, model.seed, times, { signal: hooks.signal, onProgress: hooks.onProgress });
  }
  const wall = (performance.now() - t0) / 1000;
  const last = run.t.length - 1;
  const tLast = last >= 0 ? run.t[last] : NaN, pmseLast = last >= 0 ? run.pmse[last] : NaN, accLast = last >= 0 ? accuracy[last].accuracy : NaN;
  const head = odeFailed(run.status) ? odeFailureMessage(run) : last >= 0 ? `${run.status} at t = ${tLast}` : `${run.status} before the first output time`;
  let message = `${head} (${run.nRhs} RHS evaluations, ${run.groups} mode groups, ${integrate.toFixed(2)} s): pmse = ${fmtNumber(pmseLast)}, accuracy ≈ ${fmtNumber(100 * accLast, 1)}%`;
  const summary: Record<string, number> = { t: tLast, pmse: pmseLast, accuracy: accLast, nRhs: run.nRhs, nSteps: run.nSteps };
  let status = run.status;
  if (cumulant) {
    const cl = cumulant.t.length - 1;
    if (cumulant.status !== "done") status = cumulant.status;
    summary.cumulant_pmse = cl >= 0 ? cumulant.pmse[cl] : NaN;
    summary.cumulant_accuracy = cl >= 0 ? cumulant.accuracy[cl].accuracy : NaN;
    summary.cumulant_meanIpr = cl >= 0 ? cumulant.meanIprWithNoise[cl] : NaN;
    summary.cumulant_nRhs = cumulant.nRhs;
    message += `; cumulant theory ${cumulant.status} (${cumulant.nRhs} RHS): pmse = ${fmtNumber(summary.cumulant_pmse)}, mean IPR = ${fmtNumber(summary.cumulant_meanIpr)}`;
  }
  return {
    kind: "ode", mode: "mixture", status, message, model, seed: model.seed,
    timings: { wall: (performance.now() - t0) / 1000, integrate },
    summary,
    run, accuracy, ...(cumulant ? { cumulant } : {}),
  };
}

export const odeExperiment: Experiment<OdeModel, OdeResult> = {
  kind: "ode",
  describe: "order-parameter ODEs (Saad–Solla teacher–student, or the two-class mixture per Fourier mode)",
  parse: (raw) => parseOdeModel(raw),
  run: runOde,
};
