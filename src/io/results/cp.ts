/**
 * Files of a "cp" result (result.json last).
 *
 * Single run (no "sweep"): factors.npy [r, D] and gamma.npy [r] (unit factors sorted by |γ|; the
 * format `rfdyn flow`'s cp variant reads), factors.csv (γ, IPR, participation ratio per factor),
 * result.json (model, version, seed, status, message, timings, γ, IPRs, relative reconstruction
 * error), plots factors.svg (leading profiles; for 2D inputs also factors_2d.svg, L×L images),
 * gamma.svg (γ spectrum), ipr.svg (IPR per factor).
 *
 * Sweep: runs.csv (one row per run), summary.csv (per grid point: median/quartiles and
 * mean/std-error of the leading-factor IPR and of the max IPR among the first topK factors), plots
 * leading_ipr.svg and max_ipr.svg against the first swept axis (one series per value of the others),
 * and per grid point runs/<tag>_s<sample>/ factors.npy, gamma.npy, factors.csv, factors.svg for
 * sample 0 (all samples with output.allRuns).
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../atomic.js";
import { writeCsv, type Cell } from "../csv.js";
import { writeNpy } from "../npy.js";
import { hconcat, heatmap, lineChart, type LineSeries } from "../../plot/render.js";
import { writePlot } from "../plots.js";
import type { CpAnalysis } from "../../cp/analyse.js";
import type { CpResult } from "../../experiments/cp.js";
import { rfdynVersion } from "../version.js";
import { peakRss } from "../resources.js";

/** factors.npy, gamma.npy, factors.csv and the factor plots of one decomposition into `dir`. */
async function writeFactors(dir: string, a: CpAnalysis, nPlot: number, title: string, dim: 1 | 2 = 1): Promise<void> {
  const { D, r, factors: U, weights: gamma } = a;
  writeNpy(join(dir, "factors.npy"), U, [r, D]);
  writeNpy(join(dir, "gamma.npy"), gamma, [r]);
  writeCsv(join(dir, "factors.csv"), Array.from({ length: r }, (_, k) => ({
    index: k, gamma: gamma[k], abs_gamma: Math.abs(gamma[k]), ipr: a.ipr[k], participation_ratio: 1 / a.ipr[k],
  })));
  const sites = Array.from({ length: D }, (_, i) => i);
  const series: LineSeries[] = [];
  for (let k = 0; k < Math.min(nPlot, r); k++) series.push({ name: `u${k + 1} (γ=${gamma[k].toPrecision(3)})`, x: sites, y: U.subarray(k * D, (k + 1) * D) });
  if (series.length > 0) await writePlot(join(dir, "factors"), lineChart(series, { title: `leading CP factors — ${title}`, xLabel: "site", yLabel: "u_i" }));
  if (dim === 2 && series.length > 0) {
    // 2D inputs: each factor as an L×L image (row-major sites).
    const L = Math.round(Math.sqrt(D));
    const maps = series.slice(0, 6).map((_, k) => heatmap(U.subarray(k * D, (k + 1) * D), L, L, { title: `u${k + 1}`, xLabel: "x", yLabel: "y" }));
    await writePlot(join(dir, "factors_2d"), hconcat(maps, `leading CP factors — ${title}`));
  }
}

/** Write every output file of a cp run into `out`. */
export async function writeCpResult(out: string, result: CpResult): Promise<void> {
  const { model: m, grid, runs, samples } = result;
  const dim = m.data.geometry.dim;
  const base = {
    kind: "cp", version: rfdynVersion(), model: m, seed: m.seed, status: result.status, message: result.message,
    timings: { started: result.started, seconds: result.timings.wall, ...peakRss() },
  };

  if (!m.sweep) {
    if (runs.length === 0) {
      writeJsonAtomic(join(out, "result.json"), { ...base, summary: null });
      return;
    }
    const a = runs[0].analysis, g = grid[runs[0].point];
    await writeFactors(out, a, m.output.plotFactors, `${m.data.class.kind}, ${g.tag}`, dim);
    const idx = Array.from({ length: a.r }, (_, k) => k + 1);
    await writePlot(join(out, "gamma"), lineChart([
      { name: "γ_a", x: idx, y: a.weights },
    ], { title: "CP weights γ_a (sorted by |γ|)", xLabel: "factor a", yLabel: "γ_a", points: true }));
    await writePlot(join(out, "ipr"), lineChart([{ name: "IPR(u_a)", x: idx, y: a.ipr }], { title: "IPR of each factor", xLabel: "factor a", yLabel: "IPR", points: true }));
    writeJsonAtomic(join(out, "result.json"), {
      ...base,
      summary: {
        D: g.D, P: g.P, rank: a.r, loss: a.loss, relativeReconstructionError: a.relError, relErrorMethod: a.relErrorMethod,
        cumulantNormSq: a.cumulantNormSq, leadingIpr: a.leadingIpr, maxIprTopK: a.maxIprTopK, argmaxIprTopK: a.argmaxIprTopK,
        topK: m.output.topK, bestRestart: a.best, seconds: a.seconds,
      },
      gamma: a.weights, ipr: a.ipr, participationRatio: Array.from(a.ipr, (v) => 1 / v), restarts: a.restarts,
    });
    return;
  }

  for (const { point, sample: s, analysis: a } of runs) {
    const g = grid[point];
    if (s === 0 || m.output.allRuns) await writeFactors(join(out, "runs", `${g.tag}_s${s}`), a, m.output.plotFactors, `${g.tag}, sample ${s}`, dim);
  }

  // Sweep tables.
  const rows: Record<string, Cell>[] = runs.map(({ point, sample: s, analysis: a }) => {
    const g = grid[point];
    return {
      L: g.L, D: g.D, P: g.P, alpha: g.P / g.D, xi: g.xi, gain: g.gain, sample: s,
      leading_ipr: a.leadingIpr, max_ipr_topk: a.maxIprTopK, argmax_topk: a.argmaxIprTopK, leading_gamma: a.weights[0],
      rel_error: a.relError, loss: a.loss, best_restart: a.best, iterations: a.restarts[a.best]?.iterations, seconds: a.seconds,
    };
  });
  writeCsv(join(out, "runs.csv"), rows);
  const summary: Record<string, Cell>[] = result.stats.map(({ point, n, leadingIpr: li, maxIpr: mi, relErrorMean }) => {
    const g = grid[point];
    return {
      L: g.L, D: g.D, P: g.P, alpha: g.P / g.D, xi: g.xi, gain: g.gain, n,
      leading_ipr_median: li.median, leading_ipr_q25: li.q25, leading_ipr_q75: li.q75, leading_ipr_mean: li.mean, leading_ipr_stderr: li.stderr,
      max_ipr_median: mi.median, max_ipr_q25: mi.q25, max_ipr_q75: mi.q75, max_ipr_mean: mi.mean, max_ipr_stderr: mi.stderr,
      rel_error_mean: relErrorMean,
    };
  });
  writeCsv(join(out, "summary.csv"), summary);

  // Plots against the first axis with more than one value.
  const axes: { key: "gain" | "alpha" | "xi" | "L"; label: string }[] = [
    { key: "gain", label: "gain g" }, { key: "alpha", label: "α = P/D" }, { key: "xi", label: "ξ" }, { key: "L", label: "L" },
  ];
  const distinct = (k: string) => new Set(summary.map((r) => r[k])).size;
  const xAxis = axes.find((a) => distinct(a.key) > 1) ?? axes.find((a) => summary[0]?.[a.key] !== null)!;
  const others = axes.filter((a) => a !== xAxis && distinct(a.key) > 1);
  const groups = new Map<string, Record<string, Cell>[]>();
  for (const r of summary) {
    const key = others.map((a) => `${a.key}=${r[a.key]}`).join(", ") || "all";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  const mk = (field: string, band: [string, string] | null, suffix: string): LineSeries[] => {
    const ser: LineSeries[] = [];
    for (const [key, rs] of groups) {
      const x = rs.map((r) => Number(r[xAxis.key]));
      ser.push({ name: `${key} ${suffix}`, x, y: rs.map((r) => Number(r[field])) });
      if (band && samples > 1) {
        ser.push({ name: `${key} ${band[0]}`, x, y: rs.map((r) => Number(r[band[0]])) });
        ser.push({ name: `${key} ${band[1]}`, x, y: rs.map((r) => Number(r[band[1]])) });
      }
    }
    return ser;
  };
  const logX = xAxis.key === "alpha";
  await writePlot(join(out, "leading_ipr"), lineChart(mk("leading_ipr_median", ["leading_ipr_q25", "leading_ipr_q75"], "median"),
    { title: "IPR of the leading CP factor (median, quartiles)", xLabel: xAxis.label, yLabel: "IPR(u_1)", logX, points: true }));
  // mean ± 3 standard errors (IG22 Fig. 4E)
  const withBands: Record<string, Cell>[] = summary.map((r) => ({ ...r, lo: Number(r.max_ipr_mean) - 3 * Number(r.max_ipr_stderr), hi: Number(r.max_ipr_mean) + 3 * Number(r.max_ipr_stderr) }));
  groups.clear();
  for (const r of withBands) {
    const key = others.map((a) => `${a.key}=${r[a.key]}`).join(", ") || "all";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  await writePlot(join(out, "max_ipr"), lineChart(mk("max_ipr_mean", ["lo", "hi"], "mean"),
    { title: `max IPR among the first ${m.output.topK} CP factors (mean ± 3 s.e.)`, xLabel: xAxis.label, yLabel: "max IPR", logX, points: true }));

  writeJsonAtomic(join(out, "result.json"), {
    ...base,
    summary: { runs: runs.length, gridPoints: grid.length, samples, topK: m.output.topK },
    grid: summary,
  });
}
