/**
 * Kind "compare": the order-parameter ODE side by side with N SGD runs (seeds seed, seed+1, …),
 * each ODE started from the initial weights of its own SGD seed.  Each seed (SGD, then its ODE) is a
 * durable unit (src/experiments/units.ts): on -j N the seeds run on worker threads, with the same
 * results; progress phases read "seed 2/5 SGD nlgp", "seed 2/5 ODE".
 *
 * For every observable the result gives the ODE (mean over the seeds' ODE runs), the SGD mean and
 * standard error (SE = sd/√N) and two deviation scores:
 *   z        = (ODE mean − SGD mean) / SGD SE
 *   z_paired = mean_s(SGD_s − ODE_s) / SE_s(SGD_s − ODE_s)      (removes the initial-condition noise)
 *
 * mode "teacher-student": observables ε (noise-free generalisation error), mean_i Q_ii, mean_i max_n R_in,
 *   at the model's output times.
 * mode "mixture": SGD by `rfdyn simulate`'s simulator, on the task as given and, with
 *   sgd.gaussianClone, on its Gaussian clone (NLGP classes → GP with the same covariance).  At the SGD
 *   log times: test pmse and accuracy (held-out test set), mean IPR; at the snapshot times also the GET
 *   pmse of the SGD weights (IG22 Fig. 3 crosses) and the pre-activation variances mean_k Ω^μ_kk.
 */
import { parseCompareModel, type CompareModel } from "../schema/ode.js";
import type { TeacherStudentSimResult } from "../sim/teacher-student.js";
import type { SimulationResult } from "../sim/simulate.js";
import { labelValues, type ClassSpec } from "../data/task.js";
import { meanSe } from "../stats/summary.js";
import { getTestError } from "../theory/get.js";
import { geometrySize, type Geometry } from "../data/kernels.js";
import type { MixtureRun } from "../theory/mixture-ode.js";
import type { TeacherStudentRun } from "../theory/saad-solla.js";
import type { RunStatus } from "../run/hooks.js";
import { runUnitsDurably } from "./units.js";
import { compareUnitModule, datasetName, mixtureSeed, teacherStudentSeed, type CompareSeedPayload, type MixCompare, type MixtureSeedValue, type TsCompare, type TsSeedValue } from "./compare-unit.js";
import type { CumulantRun } from "../theory/cumulant-theory.js";
import { classSpectra, fmtMeanSe, fmtNumber, gaussianClone, odeFailed, odeFailureMessage, outputTimes, type AccuracyEstimate } from "./ode-run.js";
import type { Experiment, ExperimentHooks, ResultBase } from "./types.js";

export { compareSeedUnit, type CompareSeedPayload } from "./compare-unit.js";

/** Deviation scores of the ODE values (per seed) from the SGD values (per seed). */
export function deviation(ode: readonly number[], sgd: readonly number[]): { ode: number; sgd: number; se: number; z: number; zPaired: number } {
  const o = meanSe(ode), s = meanSe(sgd);
  const d = meanSe(sgd.map((x, i) => x - ode[i]));
  return { ode: o.mean, sgd: s.mean, se: s.se, z: (o.mean - s.mean) / s.se, zPaired: d.mean / d.se };
}

export interface ZSummary {
  maxAbsZ: number;
  rmsZ: number;
}

/** Largest |z| and root-mean-square z over the finite scores. */
export function zSummary(zs: readonly number[]): ZSummary {
  const f = zs.filter((z) => Number.isFinite(z));
  return { maxAbsZ: f.reduce((a, z) => Math.max(a, Math.abs(z)), 0), rmsZ: Math.sqrt(f.reduce((a, z) => a + z * z, 0) / Math.max(1, f.length)) };
}


/** One row of a table (compare.csv, runs.csv, snapshots.csv): column → value. */
export type Row = Record<string, number>;

export interface CompareTeacherStudentResult extends ResultBase<"compare", TsCompare> {
  mode: "teacher-student";
  /** Output times. */
  times: number[];
  /** Seeds that finished (SGD and ODE). */
  seeds: number;
  /** ODE RHS evaluations, all seeds. */
  nRhs: number;
  observables: readonly string[];
  /** Per output time: ode_<o>, sgd_<o>, sgd_<o>_se, z_<o>, zpaired_<o> for each observable o. */
  table: Row[];
  /** Per seed and output time: ode_<o>, sgd_<o>. */
  runs: Row[];
  /** Per observable: summaries of z and z_paired over the output times. */
  deviations: Record<string, { z: ZSummary; zPaired: ZSummary }>;
  /** The ODE and SGD runs of the finished seeds. */
  ode: TeacherStudentRun[];
  sgd: TeacherStudentSimResult[];
}

export interface CompareMixtureResult extends ResultBase<"compare", MixCompare> {
  mode: "mixture";
  D: number;
  K: number;
  /** Data sets SGD ran on: the task as given ("nlgp" / "field" / "gp"), then "gp" for the Gaussian clone. */
  datasets: string[];
  /** Seeds that finished (every SGD run and the ODE). */
  seeds: number;
  /** SGD log times (the ODE's output times); empty when no seed finished. */
  times: number[];
  nRhs: number;
  /** Fourier-mode groups of the ODE (0 when no seed finished). */
  modeGroups: number;
  /** Per log time (compare.csv). */
  table: Row[];
  /** Per snapshot time: GET of the SGD weights and Ω^μ vs the ODE (snapshots.csv). */
  snapshots: Row[];
  /** Per seed and log time (runs.csv). */
  runs: Row[];
  /** Per data set: deviation summaries and final figures (result.json "summary"). */
  deviations: Record<string, {
    pmse: { z: ZSummary; zPaired: ZSummary };
    getOfSgdWeights: { zPaired: ZSummary };
    final: { ode_pmse: number; sgd_pmse: number; sgd_pmse_se: number; z: number; meanIpr: number };
  }>;
  ode: MixtureRun[];
  odeAccuracy: AccuracyEstimate[][];
  sgd: Record<string, SimulationResult[]>;
  /** `"theory": "cumulant"`: the weight-space Edgeworth theory of the first `cumulant.seeds` seeds. */
  cumulant: CumulantRun[];
  /** Cumulant-theory summary per data set (gap to SGD closed, IPR rise); empty without the theory. */
  cumulantSummary: Record<string, Record<string, number>>;
}

export type CompareResult = CompareTeacherStudentResult | CompareMixtureResult;

export async function runCompare(model: CompareModel, hooks: ExperimentHooks = {}): Promise<CompareResult> {
  return model.mode === "teacher-student" ? compareTeacherStudent(model, hooks) : compareMixture(model, hooks);
}

export const compareExperiment: Experiment<CompareModel, CompareResult> = {
  kind: "compare",
  describe: "order-parameter ODE vs SGD over several seeds (deviation scores)",
  parse: (raw) => parseCompareModel(raw),
  run: runCompare,
};

/** Last-row figures as summary entries (all columns but the given ones). */
function finalFigures(row: Row | undefined, skip: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (row) for (const [k, v] of Object.entries(row)) if (!skip.includes(k)) out[k] = v;
  return out;
}

async function compareTeacherStudent(m: TsCompare, hooks: ExperimentHooks): Promise<CompareTeacherStudentResult> {
  const t0 = performance.now();
  const times = outputTimes(m.time);
  const ts = m.teacherStudent;
  const { K, M, N } = ts;
  const S = m.sgd.seeds;
  hooks.log?.(`compare (teacher-student): K = ${K}, M = ${M}, N = ${N}, ${S} SGD seeds, t ≤ ${m.time.end}`);
  const obs = ["eps", "meanQdiag", "meanRmax"] as const;
  const per: Record<string, { ode: number[][]; sgd: number[][] }> = {};
  for (const o of obs) per[o] = { ode: times.map(() => []), sgd: times.map(() => []) };
  const runRows: Row[] = [];
  const odeRuns: TeacherStudentRun[] = [];
  const sims: TeacherStudentSimResult[] = [];
  let status: RunStatus = "done";
  let failure = "";
  let nRhs = 0, odeWall = 0, sgdWall = 0;
  const summarise = (Q: Float64Array, R: Float64Array) => {
    let q = 0, r = 0;
    for (let i = 0; i < K; i++) {
      q += Q[i * K + i];
      let mx = -Infinity;
      for (let n = 0; n < M; n++) mx = Math.max(mx, R[i * M + n]);
      r += mx;
    }
    return { meanQdiag: q / K, meanRmax: r / K };
  };
  // A seed (its ODE and its SGD run) is one durable unit (src/experiments/units.ts): on -j N the seeds
  // run on worker threads; a resumed run takes finished seeds from the store.  The seeds are then
  // taken in order up to the first that failed or was interrupted (as a serial run would stop there).
  const { values } = await runUnitsDurably<CompareSeedPayload, TsSeedValue>(
    Array.from({ length: S }, (_, s) => ({ model: m, s })),
    {
      module: compareUnitModule, fn: "compareSeedUnit",
      inProcess: (p, h, threads) => teacherStudentSeed(m, p.s, h, threads),
      isFinal: (v) => !v.interrupted, unit: "seeds",
      describe: (s) => `compare seed ${m.seed + s}`, label: (s) => `seed ${s + 1}/${S}`,
    },
    hooks,
  );
  for (let s = 0; s < S; s++) {
    const seed = m.seed + s;
    const v = values.get(s);
    if (!v) {
      status = "interrupted";
      break;
    }
    const ode = v.ode;
    odeWall += v.odeWall;
    nRhs += ode.nRhs;
    if (odeFailed(ode.status)) {
      status = ode.status;
      failure = `seed ${seed}: ${odeFailureMessage(ode)}`;
      break;
    }
    const sim = v.sim!;
    sgdWall += v.sgdWall;
    if (sim.status !== "done") {
      status = sim.status;
      if (sim.status === "diverged") failure = `seed ${seed}: SGD ${sim.divergence ?? `diverged by t = ${sim.t[sim.t.length - 1].toPrecision(4)}`} (reduce model.teacherStudent.lr)`;
      break;
    }
    odeRuns.push(ode);
    sims.push(sim);
    times.forEach((t, j) => {
      const so = summarise(ode.states[j].Q, ode.states[j].R), ss = summarise(sim.states[j].Q, sim.states[j].R);
      per.eps.ode[j].push(ode.eps[j]);
      per.eps.sgd[j].push(sim.eps[j]);
      per.meanQdiag.ode[j].push(so.meanQdiag);
      per.meanQdiag.sgd[j].push(ss.meanQdiag);
      per.meanRmax.ode[j].push(so.meanRmax);
      per.meanRmax.sgd[j].push(ss.meanRmax);
      runRows.push({ seed, t, ode_eps: ode.eps[j], sgd_eps: sim.eps[j], ode_meanQdiag: so.meanQdiag, sgd_meanQdiag: ss.meanQdiag, ode_meanRmax: so.meanRmax, sgd_meanRmax: ss.meanRmax });
    });
  }
  const nDone = per.eps.sgd[0].length;
  const rows = times.map((t, j) => {
    const r: Row = { t };
    for (const o of obs) {
      const d = deviation(per[o].ode[j], per[o].sgd[j]);
      r[`ode_${o}`] = d.ode;
      r[`sgd_${o}`] = d.sgd;
      r[`sgd_${o}_se`] = d.se;
      r[`z_${o}`] = d.z;
      r[`zpaired_${o}`] = d.zPaired;
    }
    return r;
  });
  const col = (k: string) => rows.map((r) => r[k]);
  const deviations = Object.fromEntries(obs.map((o) => [o, { z: zSummary(col(`z_${o}`)), zPaired: zSummary(col(`zpaired_${o}`)) }]));
  const summary: Record<string, number> = { seeds: nDone };
  for (const o of obs) {
    summary[`${o}_zMaxAbs`] = deviations[o].z.maxAbsZ;
    summary[`${o}_zRms`] = deviations[o].z.rmsZ;
    summary[`${o}_zPairedMaxAbs`] = deviations[o].zPaired.maxAbsZ;
    summary[`${o}_zPairedRms`] = deviations[o].zPaired.rmsZ;
  }
  Object.assign(summary, finalFigures(rows[rows.length - 1], ["t"]));
  const sz = deviations.eps.zPaired;
  const wall = (performance.now() - t0) / 1000;
  const message = nDone === 0 ? failure || `${status} before the first seed finished`
    : `${failure ? failure + "; " : ""}${status}, ${nDone} seeds; ε: max |z_paired| = ${fmtNumber(sz.maxAbsZ, 2)}, rms = ${fmtNumber(sz.rmsZ, 2)}`;
  return {
    kind: "compare", mode: "teacher-student", status, message, model: m, seed: m.seed,
    timings: { wall, ode: odeWall, sgd: sgdWall },
    summary,
    times, seeds: nDone, nRhs, observables: obs, table: rows, runs: runRows, deviations, ode: odeRuns, sgd: sims,
  };
}


function meanDiag(Om: ArrayLike<number>, K: number): number {
  let s = 0;
  for (let k = 0; k < K; k++) s += Om[k * K + k];
  return s / K;
}

async function compareMixture(m: MixCompare, hooks: ExperimentHooks): Promise<CompareMixtureResult> {
  const t0 = performance.now();
  const geom = m.task.geometry as Geometry;
  const D = geometrySize(geom);
  const K = m.network.K;
  const S = m.sgd.seeds;
  const steps = Math.max(1, Math.round(m.time.end * D));
  const classes = m.task.classes as ClassSpec[];
  const clone = m.sgd.gaussianClone && classes.some((c) => c.kind === "nlgp" || c.kind === "field") ? gaussianClone(classes) : null;
  const datasets: { name: string; classes: ClassSpec[] }[] = [{ name: datasetName(classes), classes }];
  if (clone) datasets.push({ name: "gp", classes: clone });
  const labels = labelValues(m.task.labels);
  const spectra = classSpectra(geom, classes);
  hooks.log?.(`compare (mixture): D = ${D}, K = ${K}, ${S} seeds × [${datasets.map((d) => d.name).join(", ")}], t ≤ ${m.time.end} (${steps} steps)`);
  let status: RunStatus = "done";
  let failure = "";
  const odeRuns: MixtureRun[] = [];
  const odeAcc: AccuracyEstimate[][] = [];
  const sims: Record<string, SimulationResult[]> = Object.fromEntries(datasets.map((d) => [d.name, []]));
  let logT: number[] | null = null;
  let nRhs = 0, odeWall = 0, sgdWall = 0;
  const cumRuns: CumulantRun[] = [];
  // A seed (its SGD runs and its ODE) is one durable unit (see the teacher–student mode).
  const { values } = await runUnitsDurably<CompareSeedPayload, MixtureSeedValue>(
    Array.from({ length: S }, (_, s) => ({ model: m, s })),
    {
      module: compareUnitModule, fn: "compareSeedUnit",
      inProcess: (p, h) => mixtureSeed(m, p.s, h),
      isFinal: (v) => !v.interrupted, unit: "seeds",
      describe: (s) => `compare seed ${m.seed + s}`, label: (s) => `seed ${s + 1}/${S}`,
    },
    hooks,
  );
  for (let s = 0; s < S; s++) {
    const v = values.get(s);
    if (!v) {
      status = "interrupted";
      break;
    }
    sgdWall += v.sgdWall;
    for (const ds of datasets) if (v.sims[ds.name]) sims[ds.name].push(v.sims[ds.name]);
    const first = v.sims[datasets[0].name];
    if (first) logT ??= first.log.map((r) => r.t);
    if (v.failed) {
      status = v.failed.status;
      failure = v.failed.failure;
      if (v.ode) { odeWall += v.odeWall; nRhs += v.ode.nRhs; }
      break;
    }
    odeWall += v.odeWall;
    nRhs += v.ode!.nRhs;
    if (v.cum) { cumRuns.push(v.cum); nRhs += v.cum.nRhs; }
    odeRuns.push(v.ode!);
    odeAcc.push(v.acc!);
  }
  const nSeeds = odeRuns.length;
  const base = {
    kind: "compare" as const, mode: "mixture" as const, status, model: m, seed: m.seed, D, K, datasets: datasets.map((d) => d.name), nRhs,
    ode: odeRuns, odeAccuracy: odeAcc, sgd: sims, cumulant: cumRuns, cumulantSummary: {} as Record<string, Record<string, number>>,
  };
  if (nSeeds === 0 || logT === null) {
    const wall = (performance.now() - t0) / 1000;
    return {
      ...base, message: failure || `${status} before the first seed finished`,
      timings: { wall, ode: odeWall, sgd: sgdWall }, summary: { seeds: 0 },
      seeds: 0, times: [], modeGroups: 0, table: [], snapshots: [], runs: [], deviations: {},
    };
  }
  for (const ds of datasets) sims[ds.name] = sims[ds.name].slice(0, nSeeds);
  const T = logT;

  // Log-time table.
  const rows = T.map((t, j) => {
    const odeP = odeRuns.map((r) => r.pmse[j]);
    const odeA = odeAcc.map((a) => a[j].accuracy);
    const r: Row = { t, steps: Math.round(t * D), ode_pmse: meanSe(odeP).mean, ode_accuracy: meanSe(odeA).mean };
    for (const ds of datasets) {
      const sp = sims[ds.name].map((sim) => sim.log[j].pmse);
      const sa = sims[ds.name].map((sim) => sim.log[j].accuracy);
      const si = sims[ds.name].map((sim) => sim.log[j].meanIpr);
      const dp = deviation(odeP, sp), da = deviation(odeA, sa), di = meanSe(si);
      r[`sgd_${ds.name}_pmse`] = dp.sgd;
      r[`sgd_${ds.name}_pmse_se`] = dp.se;
      r[`z_${ds.name}_pmse`] = dp.z;
      r[`zpaired_${ds.name}_pmse`] = dp.zPaired;
      r[`sgd_${ds.name}_accuracy`] = da.sgd;
      r[`sgd_${ds.name}_accuracy_se`] = da.se;
      r[`z_${ds.name}_accuracy`] = da.z;
      r[`sgd_${ds.name}_meanIpr`] = di.mean;
      r[`sgd_${ds.name}_meanIpr_se`] = di.se;
    }
    const nc = Math.min(cumRuns.length, nSeeds);
    if (nc > 0) {
      const cp = cumRuns.slice(0, nc).map((c) => c.pmse[j]), ca = cumRuns.slice(0, nc).map((c) => c.accuracy[j].accuracy), ci = cumRuns.slice(0, nc).map((c) => c.meanIprWithNoise[j]);
      r.cum_pmse = meanSe(cp).mean;
      r.cum_accuracy = meanSe(ca).mean;
      r.cum_meanIpr = meanSe(ci).mean;
      r.cum_meanIpr_weights = meanSe(cumRuns.slice(0, nc).map((c) => c.meanIpr[j])).mean;
      r.cum_meanStdCumulant = meanSe(cumRuns.slice(0, nc).map((c) => c.meanStdCumulant[j])).mean;
      for (const ds of datasets) {
        const sub = sims[ds.name].slice(0, nc);
        const dp = deviation(cp, sub.map((sim) => sim.log[j].pmse));
        r[`z_cum_${ds.name}_pmse`] = (r.cum_pmse - r[`sgd_${ds.name}_pmse`]) / r[`sgd_${ds.name}_pmse_se`];
        r[`zpaired_cum_${ds.name}_pmse`] = dp.zPaired;
        r[`z_cum_${ds.name}_accuracy`] = (r.cum_accuracy - r[`sgd_${ds.name}_accuracy`]) / r[`sgd_${ds.name}_accuracy_se`];
        r[`z_cum_${ds.name}_meanIpr`] = (r.cum_meanIpr - r[`sgd_${ds.name}_meanIpr`]) / r[`sgd_${ds.name}_meanIpr_se`];
        r[`gap_closed_${ds.name}`] = (r.ode_pmse - r.cum_pmse) / (r.ode_pmse - r[`sgd_${ds.name}_pmse`]);
      }
    }
    return r;
  });

  // Snapshot table: GET of the SGD weights and pre-activation variances, vs the ODE.
  const snapSteps = sims[datasets[0].name][0].snapshots.steps;
  const snapRows: Row[] = [];
  snapSteps.forEach((st, q) => {
    const j = sims[datasets[0].name][0].log.findIndex((r) => r.steps === st);
    if (j < 0) return;
    const odeOm = [0, 1].map((mu) => odeRuns.map((run) => meanDiag(run.states[j].omegas[mu], K)));
    const r: Row = { t: T[j], steps: st, ode_pmse: meanSe(odeRuns.map((run) => run.pmse[j])).mean, ode_omega0: meanSe(odeOm[0]).mean, ode_omega1: meanSe(odeOm[1]).mean };
    for (const ds of datasets) {
      const gets: number[] = [], om0: number[] = [], om1: number[] = [];
      for (const sim of sims[ds.name]) {
        const W = sim.snapshots.W.subarray(q * K * D, (q + 1) * K * D);
        const b = sim.biases.subarray(j * K, (j + 1) * K), v = sim.secondLayer.subarray(j * K, (j + 1) * K);
        const g = getTestError({ W, b, v, K }, geom, spectra, labels);
        gets.push(g.pmse);
        om0.push(meanDiag(g.omegas[0], K));
        om1.push(meanDiag(g.omegas[1], K));
      }
      const dg = deviation(odeRuns.map((run) => run.pmse[j]), gets);
      const d0 = deviation(odeOm[0], om0), d1 = deviation(odeOm[1], om1);
      r[`sgd_${ds.name}_get_pmse`] = dg.sgd;
      r[`sgd_${ds.name}_get_pmse_se`] = dg.se;
      r[`zpaired_${ds.name}_get_pmse`] = dg.zPaired;
      r[`sgd_${ds.name}_test_pmse`] = meanSe(sims[ds.name].map((sim) => sim.log[j].pmse)).mean;
      r[`sgd_${ds.name}_omega0`] = d0.sgd;
      r[`zpaired_${ds.name}_omega0`] = d0.zPaired;
      r[`sgd_${ds.name}_omega1`] = d1.sgd;
      r[`zpaired_${ds.name}_omega1`] = d1.zPaired;
    }
    snapRows.push(r);
  });
  const runRows: Row[] = [];
  for (let s = 0; s < nSeeds; s++) {
    T.forEach((t, j) => {
      const r: Row = { seed: m.seed + s, t, ode_pmse: odeRuns[s].pmse[j], ode_accuracy: odeAcc[s][j].accuracy };
      if (s < cumRuns.length) {
        r.cum_pmse = cumRuns[s].pmse[j];
        r.cum_accuracy = cumRuns[s].accuracy[j].accuracy;
        r.cum_meanIpr = cumRuns[s].meanIprWithNoise[j];
        // Per-neuron IPR of the theory (W + noise part) and of the same seed's SGD weights (neuron k ↔ neuron k: same initial weights).
        for (let k = 0; k < K; k++) r[`cum_ipr_${k}`] = cumRuns[s].states[j].iprWithNoise[k];
        for (const ds of datasets) for (let k = 0; k < K; k++) r[`sgd_${ds.name}_ipr_${k}`] = sims[ds.name][s].ipr[j * K + k];
      }
      for (const ds of datasets) {
        const row = sims[ds.name][s].log[j];
        r[`sgd_${ds.name}_pmse`] = row.pmse;
        r[`sgd_${ds.name}_accuracy`] = row.accuracy;
        r[`sgd_${ds.name}_meanIpr`] = row.meanIpr;
      }
      runRows.push(r);
    });
  }

  const col = (k: string) => rows.map((r) => r[k]);
  const last = rows[rows.length - 1];
  const deviations: CompareMixtureResult["deviations"] = Object.fromEntries(datasets.map((ds) => [ds.name, {
    pmse: { z: zSummary(col(`z_${ds.name}_pmse`)), zPaired: zSummary(col(`zpaired_${ds.name}_pmse`)) },
    getOfSgdWeights: { zPaired: zSummary(snapRows.map((r) => r[`zpaired_${ds.name}_get_pmse`])) },
    final: { ode_pmse: last.ode_pmse, sgd_pmse: last[`sgd_${ds.name}_pmse`], sgd_pmse_se: last[`sgd_${ds.name}_pmse_se`], z: last[`z_${ds.name}_pmse`], meanIpr: last[`sgd_${ds.name}_meanIpr`] },
  }]));
  const summary: Record<string, number> = { seeds: nSeeds, ...finalFigures(last, ["t", "steps"]) };
  for (const ds of datasets) {
    const dv = deviations[ds.name];
    summary[`${ds.name}_pmse_zMaxAbs`] = dv.pmse.z.maxAbsZ;
    summary[`${ds.name}_pmse_zPairedMaxAbs`] = dv.pmse.zPaired.maxAbsZ;
    summary[`${ds.name}_pmse_zPairedRms`] = dv.pmse.zPaired.rmsZ;
    summary[`${ds.name}_get_zPairedMaxAbs`] = dv.getOfSgdWeights.zPaired.maxAbsZ;
    const zs = dv.pmse.zPaired;
    hooks.log?.(`compare: SGD on ${ds.name}: final pmse ${fmtMeanSe(last[`sgd_${ds.name}_pmse`], last[`sgd_${ds.name}_pmse_se`], nSeeds)} vs ODE ${fmtNumber(last.ode_pmse)}; max |z_paired| = ${fmtNumber(zs.maxAbsZ, 2)}, mean IPR ${fmtNumber(last[`sgd_${ds.name}_meanIpr`])}`);
  }
  const cumulantSummary: Record<string, Record<string, number>> = {};
  if (cumRuns.length > 0) {
    for (const ds of datasets) {
      const ipr = col(`sgd_${ds.name}_meanIpr`);
      const i0 = ipr[0], iMax = Math.max(...ipr);
      // Window where the SGD IPR rises: from the first time it has made 10 % of its total rise.
      const j0 = ipr.findIndex((x) => x - i0 >= 0.1 * (iMax - i0));
      let num = 0, den = 0;
      for (let j = Math.max(0, j0); j < rows.length; j++) {
        const gap = rows[j].ode_pmse - rows[j][`sgd_${ds.name}_pmse`], cl = rows[j].ode_pmse - rows[j].cum_pmse;
        num += cl * gap;
        den += gap * gap;
      }
      const cIpr = col("cum_meanIpr");
      const cs: Record<string, number> = {
        cumSeeds: Math.min(cumRuns.length, nSeeds),
        windowStart: j0 >= 0 ? rows[j0].t : NaN,
        gapClosedWindow: num / den,
        gapClosedFinal: last[`gap_closed_${ds.name}`],
        cum_pmse_final: last.cum_pmse,
        get_pmse_final: last.ode_pmse,
        sgd_pmse_final: last[`sgd_${ds.name}_pmse`],
        sgd_pmse_se_final: last[`sgd_${ds.name}_pmse_se`],
        z_cum_pmse_final: last[`z_cum_${ds.name}_pmse`],
        z_get_pmse_final: last[`z_${ds.name}_pmse`],
        sgd_meanIpr_initial: i0,
        sgd_meanIpr_final: last[`sgd_${ds.name}_meanIpr`],
        cum_meanIpr_initial: cIpr[0],
        cum_meanIpr_final: last.cum_meanIpr,
        iprRiseRatio: (last.cum_meanIpr - cIpr[0]) / (last[`sgd_${ds.name}_meanIpr`] - i0),
        z_cum_meanIpr_final: last[`z_cum_${ds.name}_meanIpr`],
        cum_accuracy_final: last.cum_accuracy,
        sgd_accuracy_final: last[`sgd_${ds.name}_accuracy`],
        get_accuracy_final: last.ode_accuracy,
      };
      cumulantSummary[ds.name] = cs;
      summary[`${ds.name}_cum_gapClosedWindow`] = cs.gapClosedWindow;
      summary[`${ds.name}_cum_gapClosedFinal`] = cs.gapClosedFinal;
      summary[`${ds.name}_cum_iprRiseRatio`] = cs.iprRiseRatio;
      hooks.log?.(`compare: cumulant theory vs SGD on ${ds.name}: final pmse ${fmtNumber(cs.cum_pmse_final)} (GET ${fmtNumber(cs.get_pmse_final)}, SGD ${fmtNumber(cs.sgd_pmse_final)}); gap closed ${fmtNumber(100 * cs.gapClosedWindow, 1)} % over the IPR window (final ${fmtNumber(100 * cs.gapClosedFinal, 1)} %); mean IPR ${fmtNumber(cs.cum_meanIpr_initial)} → ${fmtNumber(cs.cum_meanIpr_final)} (SGD ${fmtNumber(i0)} → ${fmtNumber(cs.sgd_meanIpr_final)})`);
    }
  }
  const d0 = datasets[0].name;
  const cumMsg = cumRuns.length > 0 ? `; cumulant theory (${Math.min(cumRuns.length, nSeeds)} seeds): final pmse ${fmtNumber(last.cum_pmse)}, gap closed ${fmtNumber(100 * cumulantSummary[d0].gapClosedWindow, 1)} % over the IPR window, mean IPR ${fmtNumber(last.cum_meanIpr)} (SGD ${fmtNumber(last[`sgd_${d0}_meanIpr`])})` : "";
  const message = `${failure ? failure + "; " : ""}${status}, ${nSeeds} seeds, ODE ${odeWall.toFixed(1)} s (${nRhs} RHS), SGD ${sgdWall.toFixed(1)} s; ${d0}: final pmse ${fmtMeanSe(last[`sgd_${d0}_pmse`], last[`sgd_${d0}_pmse_se`], nSeeds)} vs ODE ${fmtNumber(last.ode_pmse)}, max |z_paired| = ${fmtNumber(deviations[d0].pmse.zPaired.maxAbsZ, 2)}${cumMsg}`;
  const wall = (performance.now() - t0) / 1000;
  return {
    ...base, message,
    timings: { wall, ode: odeWall, sgd: sgdWall },
    summary,
    seeds: nSeeds, times: T, modeGroups: odeRuns[0].groups, table: rows, snapshots: snapRows, runs: runRows, deviations, cumulantSummary,
  };
}
