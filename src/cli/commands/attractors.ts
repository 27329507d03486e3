/**
 * Kind "attractors": attractor dynamics of the cp single-neuron flow between CP factors (IG22 Fig. S2).
 *
 * Outputs: cp/class<μ>/{factors.npy [r, D], gamma.npy [r]} (the factors used, flow-compatible),
 * overlaps.csv (start, seed, t, m_1 … m_r), basin.csv (start factor → end factor counts),
 * fixed_points.csv + fixed_points.npy [n, D] + eigenvalues.npy [n, D] (distinct fixed points reached,
 * with their Jacobian spectra and classification), factor_fixed_points.csv (the fixed point on each
 * ray s·u_a and its classification), result.json, and plots overlaps_u<s>.svg (Fig. S2B/C: m_r(t)
 * for every run started at u_s), fixed_point_u<s>.svg (Fig. S2A: w0, fixed point and u_s for the first run of
 * each start) and factor_stability.svg (largest Jacobian eigenvalue at each factor's fixed point).
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { RunContext } from "../common.js";
import { progressBar } from "../common.js";
import { parseAttractorsModel, type AttractorCpSource, type AttractorsModel } from "../../io/schema/attractors.js";
import { writeJsonAtomic } from "../../io/atomic.js";
import { writeCsv, type Cell } from "../../io/csv.js";
import { readNpy, writeNpy } from "../../io/npy.js";
import { UserError } from "../../io/errors.js";
import { lineChart, writePlot, type VlSpec } from "../../plot/render.js";
import { denseFromRow, geometrySize, type Geometry } from "../../data/kernels.js";
import { twoClassTask, type ClassSpec } from "../../data/task.js";
import { nlgpKurtosis, toIg22Gain } from "../../data/nlgp.js";
import { Rng } from "../../stats/rng.js";
import { deriveFlowCoefficients } from "../../theory/coefficients.js";
import { classDatasets } from "../../theory/flow-experiment.js";
import {
  buildSingleNeuronFlow, cpFactors, diagonalCumulantFactors, translationInvariantCovariance, type CpFactors, type FlowClass,
} from "../../theory/single-neuron.js";
import type { CpFlowSystem } from "../../analysis/stability.js";
import { ImplicitCumulantLoss, secondMoment } from "../../cp/loss.js";
import { decompose } from "../../cp/decompose.js";
import { runAttractors, type AttractorResult } from "../../cp/attractors.js";
import { rfdynVersion } from "../../io/version.js";

function loadFactors(src: Exclude<AttractorCpSource, null>, mu: number, D: number, spec: ClassSpec, X: Float64Array | undefined, n: number,
  seed: number, baseDir: string, ctx: RunContext): { f: CpFactors; info: Record<string, unknown> } {
  const field = `model.cp.classes[${mu}]`;
  if ("npy" in src) {
    const rd = (p: string, what: string) => {
      const path = isAbsolute(p) ? p : resolve(baseDir, p);
      try {
        return readNpy(path);
      } catch (e) {
        throw new UserError(`${field}.npy.${what}: cannot read "${path}" (${(e as Error).message.split("\n")[0]})`);
      }
    };
    const U = rd(src.npy.U, "U"), g = rd(src.npy.gamma, "gamma");
    if (U.data.length !== g.data.length * D) throw new UserError(`${field}.npy.U: need r×D = ${g.data.length}×${D} entries (got shape [${U.shape.join(", ")}])`);
    return { f: cpFactors(U.data, g.data, D), info: { source: "npy", U: src.npy.U, gamma: src.npy.gamma } };
  }
  if ("diagonal" in src) {
    if (spec.kind !== "nlgp") throw new UserError(`${field}.diagonal: class ${mu} is not nlgp`);
    return { f: diagonalCumulantFactors(D, nlgpKurtosis(toIg22Gain(spec.gain, spec.convention ?? "ig22")) - 3), info: { source: "diagonal" } };
  }
  if (!X) throw new UserError(`${field}: computing factors needs samples (model.alpha or model.P)`);
  const t0 = performance.now();
  const obj = new ImplicitCumulantLoss(X, n, D, src.rank);
  const dec = decompose(obj, { restarts: src.restarts, maxIter: src.maxIter, gtol: src.gtol, method: src.method, seed, signal: ctx.signal });
  if (dec.status === "interrupted") throw new UserError("interrupted during the CP decomposition");
  ctx.log(`attractors: CP of class ${mu} (n = ${n}, rank ${src.rank}): loss ${dec.loss.toPrecision(6)}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { f: cpFactors(dec.U, dec.gamma, D), info: { source: "computed", n, rank: src.rank, loss: dec.loss, restarts: dec.restarts, best: dec.best } };
}

/** Overlap trajectories of the runs started at one factor: colour = factor, one line per run. */
function overlapSpec(res: AttractorResult, start: number, nPlot: number, r: number): VlSpec {
  const values: { t: number; m: number; factor: string; run: number }[] = [];
  for (const run of res.runs) {
    if (run.start !== start) continue;
    for (let j = 1; j < run.t.length; j++) {
      for (let a = 0; a < Math.min(nPlot, r); a++) values.push({ t: run.t[j], m: run.overlaps[j * r + a], factor: `m${a + 1}`, run: run.seed });
    }
  }
  return {
    title: `overlaps m_r(t) = w·u_r/(|w||u_r|), starts near u${start + 1}`,
    width: 420, height: 280,
    data: { values },
    mark: { type: "line", clip: true, strokeWidth: 1 },
    encoding: {
      x: { field: "t", type: "quantitative", title: "t", scale: { type: "log" } },
      y: { field: "m", type: "quantitative", title: "m_r", scale: { domain: [-1, 1] } },
      color: { field: "factor", type: "nominal", title: null },
      detail: { field: "run", type: "nominal" },
    },
  };
}

export async function runAttractorsCommand(raw: Record<string, unknown>, ctx: RunContext, modelPath: string): Promise<void> {
  const started = new Date();
  const m: AttractorsModel = parseAttractorsModel(raw);
  const geom = m.task.geometry as Geometry;
  const D = geometrySize(geom);
  const labels = m.task.labels === "pm1" ? [-1, 1] : [0, 1];
  const specs = m.task.classes as unknown as ClassSpec[];
  const task = twoClassTask(geom, specs[0], specs[1], m.task.labels);
  const P = m.P ?? (m.alpha !== undefined ? Math.round(m.alpha * D) : 0);
  const data = P > 0 ? classDatasets(task, P, Rng.stream(m.seed, 0), false) : null;
  const coefficients = await deriveFlowCoefficients({ v: m.neuron.v, b: m.neuron.b, labels, alpha1: m.neuron.alpha1, alpha3: m.neuron.alpha3 });
  const baseDir = dirname(resolve(modelPath));

  const weights = m.classWeights === "uniform" || !data ? [0.5, 0.5] : data.map((d) => d.n / P);
  const factors: (CpFactors | null)[] = [];
  const cpInfo: Record<string, unknown>[] = [];
  const flowClasses: FlowClass[] = [];
  const sys: CpFlowSystem = { D, c4: coefficients.c4, classes: [] };
  for (let mu = 0; mu < 2; mu++) {
    const src = m.cp.classes[mu];
    const X = data?.[mu].X, n = data?.[mu].n ?? 0;
    let f: CpFactors | null = null;
    if (src !== null) {
      const lf = loadFactors(src, mu, D, specs[mu], X, n, m.seed + 7919 * (mu + 1), baseDir, ctx);
      f = lf.f;
      cpInfo.push({ class: mu, ...lf.info, r: f.r });
      writeNpy(join(ctx.out, "cp", `class${mu}`, "factors.npy"), f.U, [f.r, D]);
      writeNpy(join(ctx.out, "cp", `class${mu}`, "gamma.npy"), f.gamma, [f.r]);
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
  const flow = buildSingleNeuronFlow({ variant: "cp", D, v: m.neuron.v, b: m.neuron.b, classes: flowClasses, alpha1: m.neuron.alpha1, alpha3: m.neuron.alpha3 }, coefficients);
  const tracked = factors[m.track!]!;
  for (const s of m.starts.factors) if (s > tracked.r) throw new UserError(`model.starts.factors: factor ${s} exceeds the ${tracked.r} factors of class ${m.track}`);

  const bar = progressBar(ctx, "attractors");
  let res: AttractorResult;
  try {
    const it = m.integration, an = m.analysis;
    res = runAttractors(flow, sys, tracked, {
      starts: m.starts.factors.map((s) => s - 1), seeds: m.starts.seeds, sigma: m.starts.sigma, seed: m.seed,
      T: it.T, count: it.times, tMin: it.tMin, method: it.method, rtol: it.rtol, atol: it.atol, dt: it.dt, steadyTol: it.steadyTol, maxSteps: it.maxSteps,
      newtonTol: an.newtonTol, eigTol: an.eigTol, matchThreshold: an.matchThreshold, fpTol: an.fpTol,
      signal: ctx.signal, onProgress: (f, info) => bar.update(f, info),
    });
  } finally {
    bar.stop();
  }
  const out = ctx.out, r = tracked.r;

  // Tables.
  const ovRows: Record<string, Cell>[] = [];
  for (const run of res.runs) {
    for (let j = 0; j < run.t.length; j++) {
      const row: Record<string, Cell> = { start: run.start + 1, seed: run.seed, t: run.t[j] };
      for (let a = 0; a < r; a++) row[`m${a + 1}`] = run.overlaps[j * r + a];
      ovRows.push(row);
    }
  }
  writeCsv(join(out, "overlaps.csv"), ovRows);
  writeCsv(join(out, "basin.csv"), res.basin.map((row, i) => {
    const o: Record<string, Cell> = { start: `u${m.starts.factors[i]}` };
    row.forEach((c, j) => { o[j < r ? `u${j + 1}` : "none"] = c; });
    return o;
  }));
  const fpRow = (fp: AttractorResult["fixedPoints"][number]) => ({
    norm: fp.norm, ipr: fp.ipr, factor: fp.factor >= 0 ? fp.factor + 1 : null, overlap: fp.factor >= 0 ? fp.overlaps[fp.factor] : null,
    kind: fp.kind, n_positive: fp.stability.nPositive, n_zero: fp.stability.nZero, lambda_max: fp.stability.eigenvalues[0],
    lambda_min: fp.stability.eigenvalues[fp.stability.eigenvalues.length - 1], newton_residual: fp.newtonResidual,
  });
  writeCsv(join(out, "fixed_points.csv"), res.fixedPoints.map((fp) => ({ id: fp.id, hits: fp.hits, ...fpRow(fp) })));
  if (res.fixedPoints.length > 0) {
    const W = new Float64Array(res.fixedPoints.length * D), E = new Float64Array(res.fixedPoints.length * D);
    res.fixedPoints.forEach((fp, k) => { W.set(fp.w, k * D); E.set(fp.stability.eigenvalues, k * D); });
    writeNpy(join(out, "fixed_points.npy"), W, [res.fixedPoints.length, D]);
    writeNpy(join(out, "eigenvalues.npy"), E, [res.fixedPoints.length, D]);
  }
  writeCsv(join(out, "factor_fixed_points.csv"), res.factorFixedPoints.map((ff) => ({
    factor: ff.factor + 1, gamma: tracked.gamma[ff.factor], amplitude: ff.amplitude,
    ...(ff.fixedPoint ? fpRow(ff.fixedPoint) : { kind: "none" }),
  })));

  // Plots.
  for (const s of m.starts.factors) await writePlot(join(out, `overlaps_u${s}`), overlapSpec(res, s - 1, m.analysis.plotFactors, r));
  const sites = Array.from({ length: D }, (_, i) => i);
  for (const s of m.starts.factors) {
    const run = res.runs.find((x) => x.start === s - 1);
    if (!run) continue;
    const fp = run.fixedPoint >= 0 ? res.fixedPoints[run.fixedPoint].w : run.wEnd;
    // Put u_s on the scale and sign of the fixed point for comparison.
    let dot = 0, nu = 0;
    for (let i = 0; i < D; i++) { dot += fp[i] * tracked.U[(s - 1) * D + i]; nu += tracked.U[(s - 1) * D + i] ** 2; }
    const scale = dot / nu;
    await writePlot(join(out, `fixed_point_u${s}`), lineChart([
      { name: "w0", x: sites, y: run.w0 },
      { name: "fixed point", x: sites, y: fp },
      { name: `u${s} (scaled)`, x: sites, y: Array.from({ length: D }, (_, i) => scale * tracked.U[(s - 1) * D + i]) },
    ], { title: `start near u${s}: initial condition, fixed point reached, factor`, xLabel: "site", yLabel: "w_i" }));
  }
  const ffOk = res.factorFixedPoints.filter((f) => f.fixedPoint);
  if (ffOk.length > 0) {
    await writePlot(join(out, "factor_stability"), lineChart([
      { name: "largest Jacobian eigenvalue", x: ffOk.map((f) => f.factor + 1), y: ffOk.map((f) => f.fixedPoint!.stability.eigenvalues[0]) },
    ], { title: "stability of the fixed point on each factor's ray (< 0: attractor)", xLabel: "factor a", yLabel: "λ_max", points: true }));
  }

  writeJsonAtomic(join(out, "result.json"), {
    kind: "attractors", version: rfdynVersion(), modelFile: modelPath, model: m, seed: m.seed, status: res.status,
    timings: { started: started.toISOString(), seconds: (Date.now() - started.getTime()) / 1000 },
    coefficients: { c2: coefficients.c2, c4: coefficients.c4, v: coefficients.v, b: coefficients.b },
    classWeights: weights, P, cp: cpInfo, trackedClass: m.track,
    summary: {
      runs: res.runs.length,
      basin: Object.fromEntries(res.basin.map((row, i) => [`u${m.starts.factors[i]}`, Object.fromEntries(row.map((c, j) => [j < r ? `u${j + 1}` : "none", c]).filter(([, c]) => (c as number) > 0))])),
      fixedPoints: res.fixedPoints.map((fp) => ({ id: fp.id, hits: fp.hits, ...fpRow(fp) })),
      factorFixedPoints: res.factorFixedPoints.map((ff) => ({ factor: ff.factor + 1, gamma: tracked.gamma[ff.factor], amplitude: ff.amplitude, kind: ff.fixedPoint?.kind ?? "none", lambdaMax: ff.fixedPoint?.stability.eigenvalues[0] ?? null, overlap: ff.fixedPoint ? ff.fixedPoint.overlaps[ff.factor] : null })),
    },
  });
  ctx.log(`attractors: basin ${JSON.stringify(res.basin)}; ${res.fixedPoints.length} distinct fixed point(s): ${res.fixedPoints.map((f) => `${f.kind}${f.factor >= 0 ? ` on u${f.factor + 1}` : ""} ×${f.hits}`).join(", ")}`);
}

export { runAttractorsCommand as runAttractors };
