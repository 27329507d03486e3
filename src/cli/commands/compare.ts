/**
 * `rfdyn compare <model.json>` (kind "compare"): the order-parameter ODE side by side with N SGD runs
 * (seeds seed, seed+1, …), each ODE started from the initial weights of its own SGD seed.
 *
 * For every observable the output gives the ODE (mean over the seeds' ODE runs), the SGD mean and
 * standard error (SE = sd/√N) and two deviation scores:
 *   z        = (ODE mean − SGD mean) / SGD SE
 *   z_paired = mean_s(SGD_s − ODE_s) / SE_s(SGD_s − ODE_s)      (removes the initial-condition noise)
 *
 * mode "teacher-student": observables ε (noise-free generalisation error), mean_i Q_ii, mean_i max_n R_in,
 *   at the model's output times.  Files: compare.csv, runs.csv (per seed), eps.svg, zscore.svg.
 * mode "mixture": SGD by `rfdyn simulate`'s simulator (colleague "sim"), on the task as given and, with
 *   sgd.gaussianClone, on its Gaussian clone (NLGP classes → GP with the same covariance).  At the SGD
 *   log times: test pmse and accuracy (held-out test set), mean IPR; at the snapshot times also the GET
 *   pmse of the SGD weights (IG22 Fig. 3 crosses) and the pre-activation variances mean_k Ω^μ_kk.
 *   Files: compare.csv (log times), snapshots.csv, runs.csv, pmse.svg, ipr.svg, zscore.svg.
 * Always result.json with the model, status, timings and summary deviations.
 */
import { join } from "node:path";
import type { Runner } from "../runners.js";
import { progressBar } from "../common.js";
import { writeJsonAtomic } from "../../io/atomic.js";
import { writeCsv, type Cell } from "../../io/csv.js";
import { hconcat, lineChart, writePlot, type LineSeries } from "../../plot/render.js";
import { outputTimes, parseCompareModel, type CompareModel } from "../../io/schema/ode.js";
import { simulateTeacherStudent } from "../../sim/teacher-student.js";
import { simulate, type SimulationConfig, type SimulationResult } from "../../sim/simulate.js";
import { getTestError } from "../../theory/get.js";
import type { ClassSpec } from "../../data/task.js";
import { geometrySize, type Geometry } from "../../data/kernels.js";
import { classSpectra, labelPair, mixtureAccuracy, mixtureNetwork, runMixtureOde, runTeacherStudentOde, teacherStudentSetup } from "./ode.js";
import type { MixtureRun } from "../../theory/mixture-ode.js";
import { rfdynVersion } from "../../io/version.js";

/** Mean, standard error of the mean and count of the finite values. */
export function meanSe(xs: readonly number[]): { mean: number; se: number; n: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: NaN, se: NaN, n };
  const m = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean: m, se: NaN, n };
  const s2 = v.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1);
  return { mean: m, se: Math.sqrt(s2 / n), n };
}

/** Deviation scores of the ODE values (per seed) from the SGD values (per seed). */
export function deviation(ode: readonly number[], sgd: readonly number[]): { ode: number; sgd: number; se: number; z: number; zPaired: number } {
  const o = meanSe(ode), s = meanSe(sgd);
  const d = meanSe(sgd.map((x, i) => x - ode[i]));
  return { ode: o.mean, sgd: s.mean, se: s.se, z: (o.mean - s.mean) / s.se, zPaired: d.mean / d.se };
}

function zSummary(zs: number[]): { maxAbsZ: number; rmsZ: number } {
  const f = zs.filter((z) => Number.isFinite(z));
  return { maxAbsZ: f.reduce((a, z) => Math.max(a, Math.abs(z)), 0), rmsZ: Math.sqrt(f.reduce((a, z) => a + z * z, 0) / Math.max(1, f.length)) };
}

export const runCompare: Runner = async (raw, ctx) => {
  const m = parseCompareModel(raw);
  if (m.mode === "teacher-student") return compareTeacherStudent(m, ctx);
  return compareMixture(m, ctx);
};

type TsCompare = Extract<CompareModel, { mode: "teacher-student" }>;
type MixCompare = Extract<CompareModel, { mode: "mixture" }>;

async function compareTeacherStudent(m: TsCompare, ctx: Parameters<Runner>[1]): Promise<void> {
  const t0 = performance.now();
  const times = outputTimes(m.time);
  const ts = m.teacherStudent;
  const { K, M, N } = ts;
  const S = m.sgd.seeds;
  ctx.log(`rfdyn compare (teacher-student): K = ${K}, M = ${M}, N = ${N}, ${S} SGD seeds, t ≤ ${m.time.end} → ${ctx.out}`);
  const bar = progressBar(ctx, "compare");
  const obs = ["eps", "meanQdiag", "meanRmax"] as const;
  const per: Record<string, { ode: number[][]; sgd: number[][] }> = {};
  for (const o of obs) per[o] = { ode: times.map(() => []), sgd: times.map(() => []) };
  const runRows: Record<string, Cell>[] = [];
  let status: "done" | "interrupted" | "diverged" = "done";
  let nRhs = 0;
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
  try {
    for (let s = 0; s < S; s++) {
      const seed = m.seed + s;
      const { v0, A } = teacherStudentSetup(m, seed);
      const ode = runTeacherStudentOde(m, seed, times, ctx);
      nRhs += ode.nRhs;
      if (ode.status === "interrupted") {
        status = "interrupted";
        break;
      }
      const sim = await simulateTeacherStudent(
        { N, K, M, lr: ts.lr, lrSecondLayer: ts.lrSecondLayer, trainSecondLayer: ts.secondLayer.mode === "trained", noise: ts.noise, weightDecay: ts.weightDecay, A, v0, initScale: ts.initScale, times, seed },
        { signal: ctx.signal, onProgress: (f, i) => bar.update((s + f) / S, `seed ${s + 1}/${S}  t = ${i.t.toPrecision(4)}`) },
      );
      if (sim.status !== "done") {
        status = sim.status;
        break;
      }
      times.forEach((t, j) => {
        const so = summarise(ode.states[j].Q, ode.states[j].R), ss = summarise(sim.Q[j], sim.R[j]);
        per.eps.ode[j].push(ode.eps[j]);
        per.eps.sgd[j].push(sim.eps[j]);
        per.meanQdiag.ode[j].push(so.meanQdiag);
        per.meanQdiag.sgd[j].push(ss.meanQdiag);
        per.meanRmax.ode[j].push(so.meanRmax);
        per.meanRmax.sgd[j].push(ss.meanRmax);
        runRows.push({ seed, t, ode_eps: ode.eps[j], sgd_eps: sim.eps[j], ode_meanQdiag: so.meanQdiag, sgd_meanQdiag: ss.meanQdiag, ode_meanRmax: so.meanRmax, sgd_meanRmax: ss.meanRmax });
      });
    }
  } finally {
    bar.stop();
  }
  const nDone = per.eps.sgd[0].length;
  const rows = times.map((t, j) => {
    const r: Record<string, Cell> = { t };
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
  writeCsv(join(ctx.out, "compare.csv"), rows);
  writeCsv(join(ctx.out, "runs.csv"), runRows);
  const col = (k: string) => rows.map((r) => r[k] as number);
  const logX = m.time.spacing === "log";
  await writePlot(join(ctx.out, "eps"), lineChart([
    { name: "ODE", x: times, y: col("ode_eps") },
    { name: `SGD mean (${nDone} seeds)`, x: times, y: col("sgd_eps") },
    { name: "SGD mean + 2 SE", x: times, y: rows.map((r) => (r.sgd_eps as number) + 2 * (r.sgd_eps_se as number)) },
    { name: "SGD mean − 2 SE", x: times, y: rows.map((r) => (r.sgd_eps as number) - 2 * (r.sgd_eps_se as number)) },
  ], { title: `ε: ODE vs SGD (N = ${N})`, xLabel: "t = steps/N", yLabel: "ε", logY: true, logX }));
  await writePlot(join(ctx.out, "zscore"), lineChart(obs.map((o) => ({ name: `z_paired ${o}`, x: times.slice(1), y: col(`zpaired_${o}`).slice(1) })), { title: "paired deviation (SGD − ODE) in SE units", xLabel: "t", yLabel: "z", logX }));
  writeJsonAtomic(join(ctx.out, "result.json"), {
    kind: "compare", mode: m.mode, version: rfdynVersion(), status, seed: m.seed, seeds: nDone, model: m,
    wallTime: (performance.now() - t0) / 1000, odeRhsEvaluations: nRhs,
    summary: Object.fromEntries(obs.map((o) => [o, { z: zSummary(col(`z_${o}`)), zPaired: zSummary(col(`zpaired_${o}`)) }])),
    conventions: {
      z: "(ODE mean − SGD mean) / SGD standard error", zPaired: "mean(SGD_s − ODE_s) / SE, each ODE from its own seed's initial weights",
      eps: "noise-free ½E[(y* − φ)²] computed exactly from the order parameters (no test-set noise)",
    },
    files: ["compare.csv", "runs.csv", "eps.svg", "zscore.svg"],
  });
  const sz = zSummary(col("zpaired_eps"));
  ctx.log(`rfdyn compare: ${status}, ${nDone} seeds; ε: max |z_paired| = ${sz.maxAbsZ.toFixed(2)}, rms = ${sz.rmsZ.toFixed(2)}`);
}

/** The Gaussian clone of a task's classes (NLGP / field → GP with the same covariance), or null if already Gaussian. */
function gaussianCloneClasses(classes: readonly ClassSpec[]): ClassSpec[] | null {
  if (!classes.some((c) => c.kind === "nlgp" || c.kind === "field")) return null;
  return classes.map((c): ClassSpec => (c.kind === "nlgp" ? { kind: "gp-clone", xi: c.xi, gain: c.gain, convention: c.convention }
    : c.kind === "field" ? { kind: "field-clone", xi: c.xi, marginal: c.marginal } : c));
}

/** Name of a task's data set in compare outputs: nlgp / field when non-Gaussian, else gp. */
function datasetName(classes: readonly ClassSpec[]): string {
  return classes.some((c) => c.kind === "nlgp") ? "nlgp" : classes.some((c) => c.kind === "field") ? "field" : "gp";
}

async function compareMixture(m: MixCompare, ctx: Parameters<Runner>[1]): Promise<void> {
  const t0 = performance.now();
  const geom = m.task.geometry as Geometry;
  const D = geometrySize(geom);
  const K = m.network.K;
  const S = m.sgd.seeds;
  const steps = Math.max(1, Math.round(m.time.end * D));
  const classes = m.task.classes as ClassSpec[];
  const clone = m.sgd.gaussianClone ? gaussianCloneClasses(classes) : null;
  const datasets: { name: string; classes: ClassSpec[] }[] = [{ name: datasetName(classes), classes }];
  if (clone) datasets.push({ name: "gp", classes: clone });
  const labels = labelPair(m.task.labels);
  const spectra = classSpectra(geom, classes);
  ctx.log(`rfdyn compare (mixture): D = ${D}, K = ${K}, ${S} seeds × [${datasets.map((d) => d.name).join(", ")}], t ≤ ${m.time.end} (${steps} steps) → ${ctx.out}`);
  const bar = progressBar(ctx, "compare");
  const total = S * (datasets.length + 1);
  let done = 0;
  let status: "done" | "interrupted" | "diverged" = "done";
  const odeRuns: MixtureRun[] = [];
  const odeAcc: { accuracy: number; se: number }[][] = [];
  const sims: Record<string, SimulationResult[]> = Object.fromEntries(datasets.map((d) => [d.name, []]));
  let logT: number[] | null = null;
  let nRhs = 0, odeWall = 0, sgdWall = 0;
  try {
    outer: for (let s = 0; s < S; s++) {
      const seed = m.seed + s;
      for (const ds of datasets) {
        const cfg: SimulationConfig = {
          task: { geometry: geom, classes: ds.classes as [ClassSpec, ClassSpec], labels: m.task.labels },
          network: mixtureNetwork(m),
          training: { mode: "online", steps, lr: m.training.lr, lrScaling: 1, lrBias: m.training.lrBias, lrSecondLayer: m.training.lrSecondLayer, weightDecay: m.training.weightDecay, batchSize: 1 },
          logging: { points: m.time.points, snapshots: m.sgd.snapshots },
          testSize: m.sgd.testSize,
          seed,
        };
        const ts = performance.now();
        const sim = await simulate(cfg, { signal: ctx.signal, onProgress: (f, i) => bar.update((done + f) / total, `seed ${s + 1}/${S} ${ds.name} SGD  t = ${i.t.toPrecision(4)}  pmse = ${i.pmse.toFixed(4)}`) });
        sgdWall += (performance.now() - ts) / 1000;
        done++;
        if (sim.status !== "done") {
          status = sim.status;
          break outer;
        }
        sims[ds.name].push(sim);
        logT ??= sim.log.map((r) => r.t);
      }
      const to = performance.now();
      bar.update(done / total, `seed ${s + 1}/${S} ODE`);
      const run = runMixtureOde(m, seed, logT!, ctx);
      odeWall += (performance.now() - to) / 1000;
      nRhs += run.nRhs;
      if (run.status !== "done") {
        status = "interrupted";
        break;
      }
      odeRuns.push(run);
      odeAcc.push(mixtureAccuracy(run, m));
      done++;
    }
  } finally {
    bar.stop();
  }
  const nSeeds = odeRuns.length;
  if (nSeeds === 0 || logT === null) {
    writeJsonAtomic(join(ctx.out, "result.json"), { kind: "compare", mode: m.mode, version: rfdynVersion(), status, seeds: 0, model: m });
    ctx.log("rfdyn compare: interrupted before the first seed finished");
    return;
  }
  for (const ds of datasets) sims[ds.name] = sims[ds.name].slice(0, nSeeds);
  const T = logT;

  // Log-time table.
  const rows = T.map((t, j) => {
    const odeP = odeRuns.map((r) => r.pmse[j]);
    const odeA = odeAcc.map((a) => a[j].accuracy);
    const r: Record<string, Cell> = { t, steps: Math.round(t * D), ode_pmse: meanSe(odeP).mean, ode_accuracy: meanSe(odeA).mean };
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
    return r;
  });
  writeCsv(join(ctx.out, "compare.csv"), rows);

  // Snapshot table: GET of the SGD weights and pre-activation variances, vs the ODE.
  const snapSteps = sims[datasets[0].name][0].snapshots.steps;
  const snapRows: Record<string, Cell>[] = [];
  snapSteps.forEach((st, q) => {
    const j = sims[datasets[0].name][0].log.findIndex((r) => r.steps === st);
    if (j < 0) return;
    const odeOm = [0, 1].map((mu) => odeRuns.map((run) => meanDiag(run.states[j].omegas[mu], K)));
    const r: Record<string, Cell> = { t: T[j], steps: st, ode_pmse: meanSe(odeRuns.map((run) => run.pmse[j])).mean, ode_omega0: meanSe(odeOm[0]).mean, ode_omega1: meanSe(odeOm[1]).mean };
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
  writeCsv(join(ctx.out, "snapshots.csv"), snapRows);
  const runRows: Record<string, Cell>[] = [];
  for (let s = 0; s < nSeeds; s++) {
    T.forEach((t, j) => {
      const r: Record<string, Cell> = { seed: m.seed + s, t, ode_pmse: odeRuns[s].pmse[j], ode_accuracy: odeAcc[s][j].accuracy };
      for (const ds of datasets) {
        const row = sims[ds.name][s].log[j];
        r[`sgd_${ds.name}_pmse`] = row.pmse;
        r[`sgd_${ds.name}_accuracy`] = row.accuracy;
        r[`sgd_${ds.name}_meanIpr`] = row.meanIpr;
      }
      runRows.push(r);
    });
  }
  writeCsv(join(ctx.out, "runs.csv"), runRows);

  // Plots.
  const col = (k: string) => rows.map((r) => r[k] as number);
  const pm: LineSeries[] = [{ name: "ODE (Gaussian equivalence)", x: T, y: col("ode_pmse") }];
  for (const ds of datasets) {
    pm.push({ name: `SGD on ${ds.name} (mean of ${nSeeds})`, x: T, y: col(`sgd_${ds.name}_pmse`) });
    pm.push({ name: `SGD on ${ds.name} ± 2 SE`, x: T, y: rows.map((r) => (r[`sgd_${ds.name}_pmse`] as number) + 2 * (r[`sgd_${ds.name}_pmse_se`] as number)) });
  }
  const snapT = snapRows.map((r) => r.t as number);
  for (const ds of datasets) pm.push({ name: `GET of SGD-${ds.name} weights`, x: snapT, y: snapRows.map((r) => r[`sgd_${ds.name}_get_pmse`] as number) });
  const acc: LineSeries[] = [{ name: "ODE (Gaussian model)", x: T, y: col("ode_accuracy") }, ...datasets.map((ds) => ({ name: `SGD on ${ds.name}`, x: T, y: col(`sgd_${ds.name}_accuracy`) }))];
  await writePlot(join(ctx.out, "pmse"), hconcat([
    lineChart(pm, { title: "pmse ⟨(y − φ)²⟩: ODE vs SGD", xLabel: "t = steps/D", yLabel: "pmse", logX: true }),
    lineChart(acc, { title: "accuracy", xLabel: "t = steps/D", yLabel: "accuracy", logX: true }),
  ]));
  await writePlot(join(ctx.out, "ipr"), lineChart(datasets.map((ds) => ({ name: `SGD on ${ds.name}: mean IPR`, x: T, y: col(`sgd_${ds.name}_meanIpr`) })), { title: `mean IPR of the SGD weights (random ≈ 3/D = ${(3 / D).toPrecision(2)})`, xLabel: "t = steps/D", yLabel: "IPR", logX: true }));
  await writePlot(join(ctx.out, "zscore"), lineChart(datasets.map((ds) => ({ name: `z_paired pmse (${ds.name})`, x: T.slice(1), y: col(`zpaired_${ds.name}_pmse`).slice(1) })), { title: "paired deviation (SGD − ODE) of the test pmse in SE units", xLabel: "t = steps/D", yLabel: "z", logX: true }));

  const last = rows[rows.length - 1];
  writeJsonAtomic(join(ctx.out, "result.json"), {
    kind: "compare", mode: m.mode, version: rfdynVersion(), status, seed: m.seed, seeds: nSeeds, model: m, D, K,
    wallTime: (performance.now() - t0) / 1000, sgdWallTime: sgdWall, odeWallTime: odeWall, odeRhsEvaluations: nRhs, modeGroups: odeRuns[0].groups,
    summary: Object.fromEntries(datasets.map((ds) => [ds.name, {
      pmse: { z: zSummary(col(`z_${ds.name}_pmse`)), zPaired: zSummary(col(`zpaired_${ds.name}_pmse`)) },
      getOfSgdWeights: { zPaired: zSummary(snapRows.map((r) => r[`zpaired_${ds.name}_get_pmse`] as number)) },
      final: { ode_pmse: last.ode_pmse, sgd_pmse: last[`sgd_${ds.name}_pmse`], sgd_pmse_se: last[`sgd_${ds.name}_pmse_se`], z: last[`z_${ds.name}_pmse`], meanIpr: last[`sgd_${ds.name}_meanIpr`] },
    }])),
    conventions: {
      pmse: "IG22 eq. (9) ⟨(y − φ)²⟩ (no ½); SGD: held-out test set of sgd.testSize examples; ODE: exact Gaussian expectation",
      z: "(ODE mean − SGD mean) / SGD standard error; zPaired: mean(SGD_s − ODE_s)/SE with each ODE from its own seed's initial weights",
      time: "t = steps/D, SGD θ ← θ − (η/D) ∂L/∂θ, λ = w·x + b",
      odeInputs: "the ODE uses the exact class covariances: exact for GP, Gaussian equivalence (GET) for NLGP",
    },
    files: ["compare.csv", "snapshots.csv", "runs.csv", "pmse.svg", "ipr.svg", "zscore.svg"],
  });
  for (const ds of datasets) {
    const zs = zSummary(col(`zpaired_${ds.name}_pmse`));
    ctx.log(`rfdyn compare: SGD on ${ds.name}: final pmse ${(last[`sgd_${ds.name}_pmse`] as number).toFixed(4)} ± ${(last[`sgd_${ds.name}_pmse_se`] as number).toFixed(4)} vs ODE ${(last.ode_pmse as number).toFixed(4)}; max |z_paired| = ${zs.maxAbsZ.toFixed(2)}, mean IPR ${(last[`sgd_${ds.name}_meanIpr`] as number).toFixed(4)}`);
  }
  ctx.log(`rfdyn compare: ${status}, ${nSeeds} seeds, ODE ${odeWall.toFixed(1)} s (${nRhs} RHS), SGD ${sgdWall.toFixed(1)} s`);
}

function meanDiag(Om: ArrayLike<number>, K: number): number {
  let s = 0;
  for (let k = 0; k < K; k++) s += Om[k * K + k];
  return s / K;
}
