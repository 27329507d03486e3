/**
 * Files of a "simulate" result (all written atomically; result.json last):
 *   log.csv            one row per log time: t, steps, epoch, pmse, accuracy, train metrics (batch),
 *                      mean/max/min IPR, mean participation ratio, mean |w_k|
 *   ipr.csv            per-neuron IPR at every log time (wide: t, steps, ipr_0 … ipr_{K−1})
 *   neurons.csv        long format: t, steps, k, ipr, participation_ratio, norm, b, v
 *   receptive_fields.csv  final RF per neuron: ipr, participation ratio, |w|, b, v, centre/width per axis
 *   W.npy [K, D], b.npy [K], v.npy [K], W_snapshots.npy [n, K, D], snapshot_t.npy [n]
 *   pmse_accuracy.svg, ipr.svg, receptive_fields.svg (+ .vl.json specs)
 *   result.json        validated model, version, seed, status, timings, steps/s, final metrics,
 *                      final RF statistics and cluster order
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../atomic.js";
import { writeCsv, type Cell } from "../csv.js";
import { writeNpy } from "../npy.js";
import { heatmap, hconcat, lineChart, type VlSpec } from "../../plot/render.js";
import { writePlot } from "../plots.js";
import type { Geometry } from "../../data/kernels.js";
import type { SimulationResult } from "../../sim/simulate.js";
import type { SimulateResult } from "../../experiments/simulate.js";
import { rfdynVersion } from "../version.js";
import { peakRss } from "../resources.js";

/** Write every output file of a simulation into `out`. */
export async function writeSimulateResult(out: string, result: SimulateResult): Promise<void> {
  const { model, config: cfg, sim: res } = result;
  const { K, D, log } = res;
  const geom = cfg.task.geometry as Geometry;
  const nLog = log.length;
  const fin = log[nLog - 1];

  // Tables.
  writeCsv(
    join(out, "log.csv"),
    log.map((r, j) => {
      let pr = 0;
      for (let k = 0; k < K; k++) pr += 1 / res.ipr[j * K + k];
      return { ...r, meanParticipationRatio: pr / K } as Record<string, Cell>;
    }),
    ["t", "steps", "epoch", "pmse", "accuracy", "trainPmse", "trainAccuracy", "meanIpr", "maxIpr", "minIpr", "meanParticipationRatio", "meanNorm", "saturated"],
  );
  const iprCols = ["t", "steps", ...Array.from({ length: K }, (_, k) => `ipr_${k}`)];
  writeCsv(
    join(out, "ipr.csv"),
    log.map((r, j) => {
      const row: Record<string, Cell> = { t: r.t, steps: r.steps };
      for (let k = 0; k < K; k++) row[`ipr_${k}`] = res.ipr[j * K + k];
      return row;
    }),
    iprCols,
  );
  const neurons: Record<string, Cell>[] = [];
  for (let j = 0; j < nLog; j++) {
    for (let k = 0; k < K; k++) {
      const q = res.ipr[j * K + k];
      neurons.push({ t: log[j].t, steps: log[j].steps, k, ipr: q, participation_ratio: 1 / q, norm: res.norms[j * K + k], b: res.biases[j * K + k], v: res.secondLayer[j * K + k] });
    }
  }
  writeCsv(join(out, "neurons.csv"), neurons, ["t", "steps", "k", "ipr", "participation_ratio", "norm", "b", "v"]);

  const rf = result.receptiveFields;
  const axes = geom.dim === 1 ? [""] : ["_row", "_col"];
  const rfRows: Record<string, Cell>[] = [];
  for (let k = 0; k < K; k++) {
    const q = res.ipr[(nLog - 1) * K + k];
    const row: Record<string, Cell> = { k, ipr: q, participation_ratio: 1 / q, norm: res.norms[(nLog - 1) * K + k], b: res.net.b[k], v: res.net.v[k] };
    axes.forEach((a, i) => {
      row[`centre${a}`] = rf[k].centre[i];
      row[`width${a}`] = rf[k].width[i];
    });
    rfRows.push(row);
  }
  writeCsv(join(out, "receptive_fields.csv"), rfRows);

  // Arrays.
  writeNpy(join(out, "W.npy"), res.net.W, [K, D]);
  writeNpy(join(out, "b.npy"), res.net.b, [K]);
  writeNpy(join(out, "v.npy"), res.net.v, [K]);
  const nSnap = res.snapshots.t.length;
  writeNpy(join(out, "W_snapshots.npy"), res.snapshots.W, [nSnap, K, D]);
  writeNpy(join(out, "snapshot_t.npy"), Float64Array.from(res.snapshots.t), [nSnap]);

  // Translation-invariant clustering of the final RFs (IG22 Methods), for K small enough.
  const cluster = result.clustering;

  // Plots.
  const t = log.map((r) => r.t);
  await writePlot(
    join(out, "pmse_accuracy"),
    hconcat([
      lineChart([{ name: "test pmse", x: t, y: log.map((r) => r.pmse) }, ...(cfg.training.mode === "batch" ? [{ name: "train pmse", x: t, y: log.map((r) => r.trainPmse) }] : [])], {
        title: "prediction MSE ⟨(y − φ)²⟩",
        xLabel: `t = steps / D^${cfg.training.lrScaling}`,
        yLabel: "pmse",
        logX: true,
      }),
      lineChart([{ name: "test accuracy", x: t, y: log.map((r) => r.accuracy) }, ...(cfg.training.mode === "batch" ? [{ name: "train accuracy", x: t, y: log.map((r) => r.trainAccuracy) }] : [])], {
        title: "accuracy",
        xLabel: `t = steps / D^${cfg.training.lrScaling}`,
        yLabel: "accuracy",
        logX: true,
      }),
    ]),
  );
  const iprSeries = Array.from({ length: K }, (_, k) => ({ name: `neuron ${k}`, x: t, y: Array.from({ length: nLog }, (_, j) => res.ipr[j * K + k]) }));
  const iprSpec = lineChart(iprSeries, { title: `IPR of each neuron (random init ≈ 3/D = ${(3 / D).toPrecision(2)})`, xLabel: `t = steps / D^${cfg.training.lrScaling}`, yLabel: "IPR", logX: true });
  if (K > 20) (iprSpec.encoding as Record<string, unknown>).color = { field: "series", type: "nominal", legend: null };
  await writePlot(join(out, "ipr"), iprSpec);
  await writePlot(join(out, "receptive_fields"), rfPlot(res, geom, cluster?.order));

  writeJsonAtomic(join(out, "result.json"), {
    kind: "simulate",
    version: rfdynVersion(),
    status: res.status,
    message: result.message,
    warnings: result.warnings,
    seed: model.seed,
    model,
    D,
    K,
    steps: res.steps,
    totalSteps: res.totalSteps,
    wallTime: res.wallTime,
    trainTime: res.trainTime,
    stepsPerSecond: res.stepsPerSecond,
    timings: peakRss(),
    final: {
      t: fin.t,
      steps: fin.steps,
      pmse: fin.pmse,
      accuracy: fin.accuracy,
      trainPmse: cfg.training.mode === "batch" ? fin.trainPmse : undefined,
      trainAccuracy: cfg.training.mode === "batch" ? fin.trainAccuracy : undefined,
      meanIpr: fin.meanIpr,
      maxIpr: fin.maxIpr,
      minIpr: fin.minIpr,
      saturated: fin.saturated,
      ipr: Array.from(res.ipr.subarray((nLog - 1) * K, nLog * K)),
      b: res.net.b,
      v: res.net.v,
      rfCentre: rf.map((r) => r.centre),
      rfWidth: rf.map((r) => r.width),
      clusterOrder: cluster?.order,
      clusterHeights: cluster?.merges.map((m) => m.height),
    },
    conventions: {
      pmse: "IG22 eq. (9): mean of (y − φ)² over the held-out test set (no factor 1/2); training loss is (1/2)(y − φ)²",
      accuracy: "predicted label = upper label if φ > (lower + upper)/2 (sign(φ) for ±1 labels, threshold 0.5 for {0,1})",
      time: `t = steps / D^lrScaling (lrScaling = ${cfg.training.lrScaling}); update θ ← θ − (η_θ / D^lrScaling) ∂L/∂θ`,
      ipr: "IPR(w) = Σ w_i⁴ / (Σ w_i²)² ∈ [1/D, 1]; participation ratio = 1/IPR",
      saturated: "erf/tanh: fraction of (test input, neuron) pairs with σ'(λ + b) < 1e-3·max σ' (|h| > 3.72 erf, > 4.15 tanh); relu: fraction of units with λ + b ≤ 0 on ≥ 99% of the test inputs; a warning is added when the final value exceeds 0.9",
      divergence: "status \"diverged\": a weight/loss became non-finite, or |w_k| > maxGrowth·max(1, |w_k(0)|) (also trained b_k, v_k) or test pmse > maxGrowth·(max |label|)² (model.training.divergence.maxGrowth, default 1e6); outputs end at the state reached",
    },
    files: ["log.csv", "ipr.csv", "neurons.csv", "receptive_fields.csv", "W.npy", "b.npy", "v.npy", "W_snapshots.npy", "snapshot_t.npy", "pmse_accuracy.svg", "ipr.svg", "receptive_fields.svg"],
  });
}

/** Final receptive fields: K×D heat map (1D) or a grid of L×L images (2D), each RF scaled to max |w| = 1. */
function rfPlot(res: SimulationResult, geom: Geometry, order?: number[]): VlSpec {
  const { K, D } = res;
  const W = res.net.W;
  const nLog = res.log.length;
  const iprF = res.ipr.subarray((nLog - 1) * K, nLog * K);
  const scaled = new Float64Array(K * D);
  for (let k = 0; k < K; k++) {
    let mx = 0;
    for (let i = 0; i < D; i++) mx = Math.max(mx, Math.abs(W[k * D + i]));
    for (let i = 0; i < D; i++) scaled[k * D + i] = mx > 0 ? W[k * D + i] / mx : 0;
  }
  if (geom.dim === 1) {
    const ord = order ?? Array.from({ length: K }, (_, k) => k);
    const sorted = new Float64Array(K * D);
    ord.forEach((k, r) => sorted.set(scaled.subarray(k * D, (k + 1) * D), r * D));
    return heatmap(sorted, K, D, { title: `final receptive fields w_k / max|w_k| (rows in ${order ? "cluster" : "neuron"} order)`, xLabel: "site i", yLabel: "neuron (row)" });
  }
  // 2D: up to 25 neurons, spread over the IPR ranking (most localised first).
  const L = geom.L;
  const byIpr = Array.from({ length: K }, (_, k) => k).sort((a, b) => iprF[b] - iprF[a]);
  const nShow = Math.min(25, K);
  const pick = nShow === K ? byIpr : Array.from({ length: nShow }, (_, j) => byIpr[Math.round((j * (K - 1)) / (nShow - 1))]);
  const values: { n: string; r: number; c: number; v: number }[] = [];
  const names: string[] = [];
  for (const k of pick) {
    const n = `k=${k} IPR=${iprF[k].toFixed(3)}`;
    names.push(n);
    for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) values.push({ n, r: a, c: b, v: scaled[k * D + a * L + b] });
  }
  return {
    title: `final receptive fields (${nShow} of ${K}, by decreasing IPR), w_k / max|w_k|`,
    data: { values },
    facet: { field: "n", type: "nominal", title: null, sort: names, header: { labelFontSize: 9 } },
    columns: Math.ceil(Math.sqrt(nShow)),
    spec: {
      width: 90,
      height: 90,
      mark: "rect",
      encoding: {
        x: { field: "c", type: "ordinal", axis: null },
        y: { field: "r", type: "ordinal", axis: null },
        color: { field: "v", type: "quantitative", scale: { scheme: "redblue", domain: [-1, 1], reverse: true }, title: null },
      },
    },
  };
}
