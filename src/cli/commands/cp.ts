/**
 * Kind "cp": CP decomposition of a class's sample 4th-order cumulant (IG22 Fig. 4B/C/E, SI A.4).
 *
 * Single run (no "sweep"): factors.npy [r, D] and gamma.npy [r] (unit factors sorted by |γ|; the
 * format `rfdyn flow`'s cp variant reads), factors.csv (γ, IPR, participation ratio per factor),
 * result.json (model, version, seed, status, timings, γ, IPRs, relative reconstruction error),
 * plots factors.svg (leading profiles; for 2D inputs also factors_2d.svg, L×L images),
 * gamma.svg (γ spectrum), ipr.svg (IPR per factor).
 *
 * Sweep: the Cartesian product of sweep.{gain, xi, alpha, L} × samples; runs.csv (one row per
 * run), summary.csv (per grid point: median/quartiles and mean/std-error of the leading-factor IPR
 * and of the max IPR among the first topK factors), plots leading_ipr.svg and max_ipr.svg against
 * the first swept axis (one series per value of the others), and per grid point runs/<tag>/
 * factors.npy, gamma.npy, factors.svg for sample 0 (all samples with output.allRuns).
 */
import { join } from "node:path";
import type { RunContext } from "../common.js";
import { progressBar } from "../common.js";
import { parseCpModel, type CpModel } from "../../io/schema/cp.js";
import { writeJsonAtomic } from "../../io/atomic.js";
import { writeCsv, type Cell } from "../../io/csv.js";
import { writeNpy } from "../../io/npy.js";
import { hconcat, heatmap, lineChart, writePlot, type LineSeries } from "../../plot/render.js";
import type { Geometry } from "../../data/kernels.js";
import type { ClassSpec } from "../../data/task.js";
import { Rng } from "../../stats/rng.js";
import { analyseCumulant, type CpAnalysis, type CpAnalysisSpec } from "../../cp/analyse.js";
import { rfdynVersion } from "../../io/version.js";


export interface GridPoint {
  gain: number | null;
  xi: number;
  alpha: number | null;
  L: number;
  D: number;
  P: number;
  tag: string;
}

/** The sweep grid (a single point without a sweep). */
export function cpGrid(m: CpModel): GridPoint[] {
  const c = m.data.class;
  const gains: (number | null)[] = m.sweep?.gain ?? ["gain" in c ? c.gain : null];
  const xis = m.sweep?.xi ?? [c.xi];
  const alphas: (number | null)[] = m.sweep?.alpha ?? [m.data.alpha ?? null];
  const Ls = m.sweep?.L ?? [m.data.geometry.L];
  const out: GridPoint[] = [];
  for (const L of Ls) {
    const D = m.data.geometry.dim === 1 ? L : L * L;
    for (const alpha of alphas) {
      const P = alpha === null ? m.data.P! : Math.round(alpha * D);
      for (const xi of xis) {
        for (const gain of gains) {
          const parts = [`L=${L}`, `P=${P}`, `xi=${xi}`];
          if (gain !== null) parts.push(`g=${gain}`);
          out.push({ gain, xi, alpha, L, D, P, tag: parts.join("_") });
        }
      }
    }
  }
  return out;
}

function specFor(m: CpModel, g: GridPoint): CpAnalysisSpec {
  const geometry = { dim: m.data.geometry.dim, L: g.L } as Geometry;
  const c = m.data.class;
  const cls: ClassSpec = c.kind === "gp" ? { kind: "gp", xi: g.xi }
    : c.kind === "field" || c.kind === "field-clone" ? { kind: c.kind, xi: g.xi, marginal: c.marginal }
    : { kind: c.kind, xi: g.xi, gain: g.gain!, convention: c.convention };
  const d = m.decomposition;
  return {
    geometry, cls, P: g.P, rank: d.rank, topK: m.output.topK,
    decompose: { restarts: d.restarts, maxIter: d.maxIter, gtol: d.gtol, ftol: d.ftol, m: d.memory, method: d.method },
    reconstructionError: m.output.reconstructionError, implicitMaxFlops: m.output.implicitMaxFlops,
  };
}

/** Data stream and decomposition seed of sample s (independent of the grid point). */
export function sampleSeeds(seed: number, s: number): { data: Rng; decompose: number } {
  return { data: Rng.stream(seed, 2 * s), decompose: seed + 1_000_003 * (s + 1) };
}

async function writeFactors(dir: string, a: CpAnalysis, D: number, nPlot: number, title: string, dim: 1 | 2 = 1): Promise<void> {
  writeNpy(join(dir, "factors.npy"), a.U, [a.r, D]);
  writeNpy(join(dir, "gamma.npy"), a.gamma, [a.r]);
  writeCsv(join(dir, "factors.csv"), Array.from({ length: a.r }, (_, k) => ({
    index: k, gamma: a.gamma[k], abs_gamma: Math.abs(a.gamma[k]), ipr: a.ipr[k], participation_ratio: 1 / a.ipr[k],
  })));
  const sites = Array.from({ length: D }, (_, i) => i);
  const series: LineSeries[] = [];
  for (let k = 0; k < Math.min(nPlot, a.r); k++) series.push({ name: `u${k + 1} (γ=${a.gamma[k].toPrecision(3)})`, x: sites, y: a.U.subarray(k * D, (k + 1) * D) });
  if (series.length > 0) await writePlot(join(dir, "factors"), lineChart(series, { title: `leading CP factors — ${title}`, xLabel: "site", yLabel: "u_i" }));
  if (dim === 2 && series.length > 0) {
    // 2D inputs: each factor as an L×L image (row-major sites).
    const L = Math.round(Math.sqrt(D));
    const maps = series.slice(0, 6).map((_, k) => heatmap(a.U.subarray(k * D, (k + 1) * D), L, L, { title: `u${k + 1}`, xLabel: "x", yLabel: "y" }));
    await writePlot(join(dir, "factors_2d"), hconcat(maps, `leading CP factors — ${title}`));
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function stats(v: number[]): { median: number; q25: number; q75: number; mean: number; stderr: number } {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  const n = s.length;
  const mean = s.reduce((x, y) => x + y, 0) / n;
  const varr = n > 1 ? s.reduce((x, y) => x + (y - mean) ** 2, 0) / (n - 1) : NaN;
  return { median: quantile(s, 0.5), q25: quantile(s, 0.25), q75: quantile(s, 0.75), mean, stderr: Math.sqrt(varr / n) };
}

/** One unit of work of a cp model: grid point `grid` (index into cpGrid) and sample `sample`. */
export interface CpPointTask {
  model: Record<string, unknown>;
  grid: number;
  sample: number;
}

/**
 * Decompose the cumulant of one (grid point, sample).  Seeds depend only on the sample, so the
 * result is the same whichever thread runs it and in whatever order.
 */
export function computeCpPoint(t: CpPointTask, signal?: AbortSignal, onProgress?: (f: number, info: string) => void): CpAnalysis {
  const m = parseCpModel(t.model);
  const g = cpGrid(m)[t.grid];
  const spec = specFor(m, g);
  const seeds = sampleSeeds(m.seed, t.sample);
  spec.decompose.seed = seeds.decompose;
  return analyseCumulant(spec, seeds.data, { signal, onProgress });
}

export async function runCp(raw: Record<string, unknown>, ctx: RunContext, modelPath: string): Promise<void> {
  const started = new Date();
  const m = parseCpModel(raw);
  const grid = cpGrid(m);
  const samples = m.sweep?.samples ?? 1;
  const total = grid.length * samples;
  const out = ctx.out;
  const bar = progressBar(ctx, "cp");
  const results: { g: GridPoint; s: number; a: CpAnalysis }[] = [];
  let status: "done" | "interrupted" = "done";
  const report = (g: GridPoint, s: number, a: CpAnalysis) =>
    ctx.log(`cp: ${g.tag} sample ${s}: leading IPR ${a.leadingIpr.toFixed(4)}, max IPR(top ${m.output.topK}) ${a.maxIprTopK.toFixed(4)}, rel. error ${a.relError === null ? "n/a" : a.relError.toFixed(4)}, ${a.seconds.toFixed(1)} s`);
  try {
    if (ctx.threads > 1 && total > 1) {
      // (grid point, sample) pairs on worker threads; results are put back in serial order.
      const { inOrderOrThrow, runTasks } = await import("../pool.js");
      const unit = (id: number) => ({ g: grid[id % grid.length], s: Math.floor(id / grid.length) });
      const tasks = [];
      for (let s = 0; s < samples; s++) {
        for (let gi = 0; gi < grid.length; gi++) {
          const task: CpPointTask = { model: raw, grid: gi, sample: s };
          tasks.push({ id: s * grid.length + gi, kind: "cp-point", model: task as unknown as Record<string, unknown>, modelPath, runDir: "" });
        }
      }
      const rs = await runTasks(tasks, {
        threads: ctx.threads, signal: ctx.signal,
        onResult: (r, done) => {
          bar.update(done / total, `${done}/${total} decompositions`);
          const a = r.payload as CpAnalysis | undefined;
          if (r.status === "done" && a) { const { g, s } = unit(r.id); report(g, s, a); }
        },
      });
      for (const r of inOrderOrThrow(rs, "cp: decomposition")) {
        if (r.status === "done") results.push({ ...unit(r.id), a: r.payload as CpAnalysis });
      }
      if (ctx.signal.aborted || results.length < total) status = "interrupted";
    } else {
      outer: for (let s = 0; s < samples; s++) {
        for (let gi = 0; gi < grid.length; gi++) {
          if (ctx.signal.aborted) { status = "interrupted"; break outer; }
          const g = grid[gi];
          const done = results.length;
          const a = computeCpPoint({ model: raw, grid: gi, sample: s }, ctx.signal, (f, info) => bar.update((done + f) / total, `${g.tag} s${s} ${info}`));
          if (a.status === "interrupted") { status = "interrupted"; break outer; }
          results.push({ g, s, a });
          report(g, s, a);
        }
      }
    }
  } finally {
    bar.stop();
  }
  if (m.sweep) {
    for (const { g, s, a } of results) {
      if (s === 0 || m.output.allRuns) await writeFactors(join(out, "runs", `${g.tag}_s${s}`), a, g.D, m.output.plotFactors, `${g.tag}, sample ${s}`, m.data.geometry.dim);
    }
  }
  const timings = { started: started.toISOString(), seconds: (Date.now() - started.getTime()) / 1000 };
  const base = { kind: "cp", version: rfdynVersion(), modelFile: modelPath, model: m, seed: m.seed, status, timings };

  if (!m.sweep) {
    if (results.length === 0) {
      writeJsonAtomic(join(out, "result.json"), { ...base, summary: null });
      return;
    }
    const { a, g } = results[0];
    await writeFactors(out, a, g.D, m.output.plotFactors, `${m.data.class.kind}, ${g.tag}`, m.data.geometry.dim);
    const idx = Array.from({ length: a.r }, (_, k) => k + 1);
    await writePlot(join(out, "gamma"), lineChart([
      { name: "γ_a", x: idx, y: a.gamma },
    ], { title: "CP weights γ_a (sorted by |γ|)", xLabel: "factor a", yLabel: "γ_a", points: true }));
    await writePlot(join(out, "ipr"), lineChart([{ name: "IPR(u_a)", x: idx, y: a.ipr }], { title: "IPR of each factor", xLabel: "factor a", yLabel: "IPR", points: true }));
    writeJsonAtomic(join(out, "result.json"), {
      ...base,
      summary: {
        D: g.D, P: g.P, rank: a.r, loss: a.loss, relativeReconstructionError: a.relError, relErrorMethod: a.relErrorMethod,
        cumulantNormSq: a.cumulantNormSq, leadingIpr: a.leadingIpr, maxIprTopK: a.maxIprTopK, argmaxIprTopK: a.argmaxIprTopK,
        topK: m.output.topK, bestRestart: a.best, seconds: a.seconds,
      },
      gamma: a.gamma, ipr: a.ipr, participationRatio: Array.from(a.ipr, (v) => 1 / v), restarts: a.restarts,
    });
    return;
  }

  // Sweep tables.
  const rows: Record<string, Cell>[] = results.map(({ g, s, a }) => ({
    L: g.L, D: g.D, P: g.P, alpha: g.P / g.D, xi: g.xi, gain: g.gain, sample: s,
    leading_ipr: a.leadingIpr, max_ipr_topk: a.maxIprTopK, argmax_topk: a.argmaxIprTopK, leading_gamma: a.gamma[0],
    rel_error: a.relError, loss: a.loss, best_restart: a.best, iterations: a.restarts[a.best]?.iterations, seconds: a.seconds,
  }));
  writeCsv(join(out, "runs.csv"), rows);
  const summary: Record<string, Cell>[] = [];
  for (const g of grid) {
    const rs = results.filter((x) => x.g === g).map((x) => x.a);
    if (rs.length === 0) continue;
    const li = stats(rs.map((a) => a.leadingIpr)), mi = stats(rs.map((a) => a.maxIprTopK));
    const re = rs.every((a) => a.relError !== null) ? stats(rs.map((a) => a.relError!)) : null;
    summary.push({
      L: g.L, D: g.D, P: g.P, alpha: g.P / g.D, xi: g.xi, gain: g.gain, n: rs.length,
      leading_ipr_median: li.median, leading_ipr_q25: li.q25, leading_ipr_q75: li.q75, leading_ipr_mean: li.mean, leading_ipr_stderr: li.stderr,
      max_ipr_median: mi.median, max_ipr_q25: mi.q25, max_ipr_q75: mi.q75, max_ipr_mean: mi.mean, max_ipr_stderr: mi.stderr,
      rel_error_mean: re?.mean ?? null,
    });
  }
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
    summary: { runs: results.length, gridPoints: grid.length, samples, topK: m.output.topK },
    grid: summary,
  });
}
