/**
 * The seeds of kind "compare" (see ./compare.ts): one seed's ODE and SGD runs, and the pool unit
 * `compareSeedUnit`.  Kept apart from ./compare.ts, which validates models (zod, ~140 ms to load), so
 * that a worker thread of a compare run loads only what a seed needs; the model arrives validated.
 */
import type { CompareModel } from "../schema/ode.js";
import { simulateTeacherStudent, type TeacherStudentSimResult } from "../sim/teacher-student.js";
import { simulate, type SimulationResult } from "../sim/simulate.js";
import type { ClassSpec } from "../data/task.js";
import type { MixtureRun } from "../theory/mixture-ode.js";
import type { TeacherStudentRun } from "../theory/saad-solla.js";
import type { CumulantRun, CumulantTheoryParams } from "../theory/cumulant-theory.js";
import { subProgress, type AbortLike, type RunHooks, type RunStatus } from "../run/hooks.js";
import { cumulantOptions, cumulantTheoryParams, gaussianClone, mixtureAccuracy, mixtureSgdConfig, odeFailed, odeFailureMessage, outputTimes, runCumulantTheory, runMixtureOde, runTeacherStudentOde, teacherStudentSgdConfig, type AccuracyEstimate } from "./ode-run.js";

/** URL of this module (the pool units' module of compare runs). */
export const compareUnitModule = import.meta.url;

export type TsCompare = Extract<CompareModel, { mode: "teacher-student" }>;
export type MixCompare = Extract<CompareModel, { mode: "mixture" }>;

/** Payload of the `compareSeedUnit` pool unit: seed index s of a validated compare model. */
export interface CompareSeedPayload {
  model: CompareModel;
  s: number;
}

/** One teacher–student seed: its ODE, then (unless the ODE failed) its SGD run. */
export interface TsSeedValue {
  ode: TeacherStudentRun;
  sim: TeacherStudentSimResult | null;
  odeWall: number;
  sgdWall: number;
  interrupted: boolean;
}

/** One seed: its ODE (η² pair sums on `threads` threads) and its SGD run. */
export async function teacherStudentSeed(m: TsCompare, s: number, hooks: RunHooks, threads = 1): Promise<TsSeedValue> {
  const seed = m.seed + s;
  const times = outputTimes(m.time);
  const to = performance.now();
  const ode = await runTeacherStudentOde(m, seed, times, { signal: hooks.signal, onProgress: subProgress(hooks.onProgress, 0, 2, "ODE"), threads });
  const odeWall = (performance.now() - to) / 1000;
  if (ode.status === "interrupted" || odeFailed(ode.status)) return { ode, sim: null, odeWall, sgdWall: 0, interrupted: ode.status === "interrupted" };
  const tsg = performance.now();
  const sim = await simulateTeacherStudent(teacherStudentSgdConfig(m, seed, times), { signal: hooks.signal, onProgress: subProgress(hooks.onProgress, 1, 2, "SGD") });
  return { ode, sim, odeWall, sgdWall: (performance.now() - tsg) / 1000, interrupted: sim.status === "interrupted" };
}

/** Pool unit (src/parallel/worker.ts): one seed of a compare model, either mode. */
export async function compareSeedUnit(p: CompareSeedPayload, signal: AbortLike): Promise<unknown> {
  return p.model.mode === "teacher-student" ? teacherStudentSeed(p.model, p.s, { signal }) : mixtureSeed(p.model, p.s, { signal });
}

/** Name of a task's data set in compare outputs: nlgp / field when non-Gaussian, else gp. */
export function datasetName(classes: readonly ClassSpec[]): string {
  return classes.some((c) => c.kind === "nlgp") ? "nlgp" : classes.some((c) => c.kind === "field") ? "field" : "gp";
}

/** What a finished seed of a mixture compare keeps (the durable unit of a resumed run). */
export interface MixtureSeed {
  sims: Record<string, SimulationResult>;
  ode: MixtureRun;
  acc: AccuracyEstimate[];
  sgdWall: number;
  odeWall: number;
  cum?: CumulantRun;
}

/** One mixture seed: its SGD runs (task, Gaussian clone), then its ODE; `failed` if one of them failed. */
export interface MixtureSeedValue extends MixtureSeed {
  ode: MixtureRun;
  failed?: { status: RunStatus; failure: string };
  interrupted: boolean;
}

export async function mixtureSeed(m: MixCompare, s: number, hooks: RunHooks): Promise<MixtureSeedValue> {
  const seed = m.seed + s;
  const classes = m.task.classes as ClassSpec[];
  const clone = m.sgd.gaussianClone && classes.some((c) => c.kind === "nlgp" || c.kind === "field") ? gaussianClone(classes) : null;
  const datasets: { name: string; classes: ClassSpec[] }[] = [{ name: datasetName(classes), classes }];
  if (clone) datasets.push({ name: "gp", classes: clone });
  const parts = datasets.length + 1;
  const sims: Record<string, SimulationResult> = {};
  let sgdWall = 0;
  let logT: number[] | null = null;
  const none = null as unknown as MixtureRun;
  for (let k = 0; k < datasets.length; k++) {
    const ds = datasets[k];
    const cfg = mixtureSgdConfig(m, seed, { classes: ds.classes, testSize: m.sgd.testSize, snapshots: m.sgd.snapshots });
    const ts = performance.now();
    const sim = await simulate(cfg, { signal: hooks.signal, onProgress: subProgress(hooks.onProgress, k, parts, `SGD ${ds.name}`) });
    sgdWall += (performance.now() - ts) / 1000;
    if (sim.status === "interrupted") return { sims, ode: none, acc: [], sgdWall, odeWall: 0, interrupted: true };
    if (sim.status !== "done") {
      const failure = sim.status === "diverged" ? `seed ${seed}: SGD on ${ds.name} ${sim.divergence ?? "diverged (non-finite test error or weights)"}: reduce model.training.lr` : "";
      return { sims, ode: none, acc: [], sgdWall, odeWall: 0, failed: { status: sim.status, failure }, interrupted: false };
    }
    sims[ds.name] = sim;
    logT ??= sim.log.map((r) => r.t);
  }
  const to = performance.now();
  const run = await runMixtureOde(m, seed, logT!, { signal: hooks.signal, onProgress: subProgress(hooks.onProgress, parts - 1, parts, "ODE") });
  const odeWall = (performance.now() - to) / 1000;
  if (run.status === "interrupted") return { sims, ode: run, acc: [], sgdWall, odeWall, interrupted: true };
  if (run.status !== "done") return { sims, ode: run, acc: [], sgdWall, odeWall, failed: { status: run.status, failure: odeFailed(run.status) ? `seed ${seed}: ${odeFailureMessage(run)}` : "" }, interrupted: false };
  const acc = mixtureAccuracy(run, m);
  // The weight-space cumulant theory (model.theory "cumulant") on the first cumulant.seeds seeds.
  if (m.theory === "cumulant" && s < Math.min(m.sgd.seeds, cumulantOptions(m).seeds ?? m.sgd.seeds)) {
    const tc = performance.now();
    const cum = await runCumulantTheory(m, seed, logT!, { signal: hooks.signal, onProgress: hooks.onProgress }, cumulantParamsOf(m));
    const cumWall = (performance.now() - tc) / 1000;
    if (cum.status === "interrupted") return { sims, ode: run, acc: [], sgdWall, odeWall: odeWall + cumWall, interrupted: true };
    if (cum.status !== "done") return { sims, ode: run, acc: [], sgdWall, odeWall: odeWall + cumWall, cum, failed: { status: cum.status, failure: odeFailed(cum.status) ? `seed ${seed}: cumulant theory: ${odeFailureMessage(cum)}` : "" }, interrupted: false };
    return { sims, ode: run, acc, cum, sgdWall, odeWall: odeWall + cumWall, interrupted: false };
  }
  return { sims, ode: run, acc, sgdWall, odeWall, interrupted: false };
}

/** The cumulant theory's parameters (sample sets drawn once per model object and process). */
const cumulantParamsCache = new WeakMap<object, CumulantTheoryParams>();
export function cumulantParamsOf(m: MixCompare): CumulantTheoryParams {
  let p = cumulantParamsCache.get(m);
  if (!p) cumulantParamsCache.set(m, (p = cumulantTheoryParams(m)));
  return p;
}
