/**
 * Files of an "lsg" result (result.json last):
 *   trajectory.csv   t, IPR, participation ratio, |w|, saturated (1 = dead neuron: w·x ≤ 0 on ≥ 99 %
 *                    of 2000 probe inputs) at the recorded times
 *   w.npy [D]        final weights
 *   w_traj.npy [n, D] weights at the recorded times
 *   rf.svg           final receptive field; ipr.svg  IPR vs time (+ .vl.json specs)
 *   result.json      validated model, version, seed, status, message, marginals, timings, summary
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../atomic.js";
import { writeCsv } from "../csv.js";
import { writeNpy } from "../npy.js";
import { lineChart } from "../../plot/render.js";
import { writePlot } from "../plots.js";
import { ipr } from "../../analysis/ipr.js";
import type { LsgResult } from "../../experiments/lsg.js";
import { rfdynVersion } from "../version.js";
import { peakRss } from "../resources.js";

/** Write every output file of an lsg run into `out`. */
export async function writeLsgResult(out: string, res: LsgResult): Promise<void> {
  const { model, t, ws, D } = res;
  const iprs = ws.map((w) => ipr(w));
  writeCsv(join(out, "trajectory.csv"), t.map((ti, k) => {
    let n2 = 0;
    for (let i = 0; i < D; i++) n2 += ws[k][i] ** 2;
    return { t: ti, ipr: iprs[k], participation_ratio: 1 / iprs[k], norm: Math.sqrt(n2), saturated: res.saturated[k] };
  }));
  writeNpy(join(out, "w.npy"), res.w, [D]);
  const traj = new Float64Array(ws.length * D);
  ws.forEach((w, k) => traj.set(w, k * D));
  writeNpy(join(out, "w_traj.npy"), traj, [ws.length, D]);
  const sites = Array.from({ length: D }, (_, i) => i);
  await writePlot(join(out, "rf"), lineChart([{ name: "w", x: sites, y: res.w }], { title: `final weights (${model.dynamics}), IPR ${res.summary.ipr.toFixed(3)}`, xLabel: "site", yLabel: "w_i", points: true }));
  await writePlot(join(out, "ipr"), lineChart([{ name: "IPR", x: t.slice(1), y: iprs.slice(1) }], { title: "inverse participation ratio", xLabel: model.dynamics === "ode" ? "t (effective-ODE time)" : model.sgd.loss === "lsg24" ? "t = lr·steps (loss (y − ŷ)², ODE time)" : "t = lr·steps/2 (loss ½(y − ŷ)², ODE time)", yLabel: "IPR", logX: true }));
  writeJsonAtomic(join(out, "result.json"), {
    kind: "lsg", version: rfdynVersion(), model, seed: model.seed, status: res.status, message: res.message, warnings: res.warnings,
    marginals: { class0: res.marginals[0], class1: res.marginals[1] },
    timings: { started: res.started, seconds: res.timings.wall, ...peakRss() },
    summary: res.summary,
  });
}
