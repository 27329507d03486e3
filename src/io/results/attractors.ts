/**
 * Files of an "attractors" result (src/experiments/attractors.ts), written atomically, result.json last:
 *   cp/class<μ>/{factors.npy [r, D], gamma.npy [r]}   the factors used (flow-compatible)
 *   overlaps.csv            start, seed, t, m_1 … m_r
 *   basin.csv               start factor → end factor counts
 *   fixed_points.csv + fixed_points.npy [n, D] + eigenvalues.npy [n, D]   distinct fixed points reached,
 *                           with their Jacobian spectra and classification
 *   factor_fixed_points.csv the fixed point on each ray s·u_a and its classification
 *   overlaps_u<s>.svg       (Fig. S2B/C) m_r(t) for every run started at u_s
 *   fixed_point_u<s>.svg    (Fig. S2A) w0, fixed point and u_s for the first run of each start
 *   factor_stability.svg    largest Jacobian eigenvalue at each factor's fixed point
 *   result.json
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../atomic.js";
import { writeCsv, type Cell } from "../csv.js";
import { writeNpy } from "../npy.js";
import { lineChart, type VlSpec } from "../../plot/render.js";
import { writePlot } from "../plots.js";
import type { AttractorResult } from "../../cp/attractors.js";
import type { AttractorsResult } from "../../experiments/attractors.js";
import { rfdynVersion } from "../version.js";
import { peakRss } from "../resources.js";

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
      x: { field: "t", type: "quantitative", title: "t (gradient-flow time)", scale: { type: "log" } },
      y: { field: "m", type: "quantitative", title: "overlap m_r (cosine)", scale: { domain: [-1, 1] } },
      color: { field: "factor", type: "nominal", title: null },
      detail: { field: "run", type: "nominal" },
    },
  };
}

/** Write every output file of an attractor analysis into `out`. */
export async function writeAttractorsResult(out: string, result: AttractorsResult): Promise<void> {
  const { model: m, D, coefficients, attractors: res } = result;
  result.factors.forEach((f, mu) => {
    if (!f) return;
    writeNpy(join(out, "cp", `class${mu}`, "factors.npy"), f.factors, [f.r, D]);
    writeNpy(join(out, "cp", `class${mu}`, "gamma.npy"), f.weights, [f.r]);
  });
  const tracked = result.tracked;
  const r = tracked?.r ?? 0;

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
    factor: ff.factor + 1, gamma: tracked!.weights[ff.factor], amplitude: ff.amplitude,
    ...(ff.fixedPoint ? fpRow(ff.fixedPoint) : { kind: "none" }),
  })));

  // Plots.
  if (tracked) await writeStartPlots(out, result, tracked);
  const ffOk = res.factorFixedPoints.filter((f) => f.fixedPoint);
  if (ffOk.length > 0) {
    await writePlot(join(out, "factor_stability"), lineChart([
      { name: "largest Jacobian eigenvalue", x: ffOk.map((f) => f.factor + 1), y: ffOk.map((f) => f.fixedPoint!.stability.eigenvalues[0]) },
    ], { title: "stability of the fixed point on each factor's ray (< 0: attractor)", xLabel: "factor a", yLabel: "λ_max", points: true }));
  }

  writeJsonAtomic(join(out, "result.json"), {
    kind: "attractors", version: rfdynVersion(), model: m, seed: m.seed, status: result.status, message: result.message,
    timings: { seconds: result.timings.wall, ...peakRss() },
    coefficients: { c2: coefficients.c2, c4: coefficients.c4, v: coefficients.v, b: coefficients.b },
    classWeights: result.classWeights, P: result.P, cp: result.cpInfo, trackedClass: result.track,
    summary: {
      runs: res.runs.length,
      basin: Object.fromEntries(res.basin.map((row, i) => [`u${m.starts.factors[i]}`, Object.fromEntries(row.map((c, j) => [j < r ? `u${j + 1}` : "none", c]).filter(([, c]) => (c as number) > 0))])),
      fixedPoints: res.fixedPoints.map((fp) => ({ id: fp.id, hits: fp.hits, ...fpRow(fp) })),
      factorFixedPoints: res.factorFixedPoints.map((ff) => ({ factor: ff.factor + 1, gamma: tracked!.weights[ff.factor], amplitude: ff.amplitude, kind: ff.fixedPoint?.kind ?? "none", lambdaMax: ff.fixedPoint?.stability.eigenvalues[0] ?? null, overlap: ff.fixedPoint ? ff.fixedPoint.overlaps[ff.factor] : null })),
    },
  });
}

/** Fig. S2A/B/C plots per start factor. */
async function writeStartPlots(out: string, result: AttractorsResult, tracked: NonNullable<AttractorsResult["tracked"]>): Promise<void> {
  const { model: m, D, attractors: res } = result;
  const r = tracked.r;
  for (const s of m.starts.factors) await writePlot(join(out, `overlaps_u${s}`), overlapSpec(res, s - 1, m.analysis.plotFactors, r));
  const sites = Array.from({ length: D }, (_, i) => i);
  for (const s of m.starts.factors) {
    const run = res.runs.find((x) => x.start === s - 1);
    if (!run) continue;
    const fp = run.fixedPoint >= 0 ? res.fixedPoints[run.fixedPoint].w : run.wEnd;
    // Put u_s on the scale and sign of the fixed point for comparison.
    let dot = 0, nu = 0;
    for (let i = 0; i < D; i++) { dot += fp[i] * tracked.factors[(s - 1) * D + i]; nu += tracked.factors[(s - 1) * D + i] ** 2; }
    const scale = dot / nu;
    await writePlot(join(out, `fixed_point_u${s}`), lineChart([
      { name: "w0", x: sites, y: run.w0 },
      { name: "fixed point", x: sites, y: fp },
      { name: `u${s} (scaled)`, x: sites, y: Array.from({ length: D }, (_, i) => scale * tracked.factors[(s - 1) * D + i]) },
    ], { title: `start near u${s}: initial condition, fixed point reached, factor`, xLabel: "site", yLabel: "w_i" }));
  }
}
