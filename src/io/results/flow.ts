/**
 * Files of a "flow" result (src/experiments/flow.ts), written atomically, result.json last:
 *   result.json      validated model, version, seed, status, timings, coefficients (c2^μ, c4, symbolic
 *                    forms), per-run summary (final IPR, PR, |w|, q^μ, status, RHS count) and, for
 *                    sweeps, IPR(g) median/quartiles
 *   trajectory.csv   gain, replicate, t, ipr, participation_ratio, norm, q_<class>  (all runs)
 *   finals.csv       one row per (gain, replicate): final IPR, PR, |w|, q^μ, t reached, status, and for
 *                    the cp variant the IPR of the leading CP factor of each class
 *   sweep.csv        (sweeps) gain, n, ipr_median, ipr_q25, ipr_q75
 *   w_final.npy      final weights: [D] for a single run, [runs, D] otherwise (row order = finals.csv)
 *   w_traj.npy       (single run) weights at the output times, [times, D]
 *   cp/…             (cp variant, computed factors) factors_<tag>_class<μ>.npy [r, D], gamma_… [r]
 *   ipr_t.svg        IPR vs t (log t) per run;  w_final.svg  final receptive fields;
 *   ipr_gain.svg     (sweeps) IPR of the final w vs gain (median, quartiles; leading CP factor for cp)
 * An interrupted result (status "interrupted") is written the same way, with the runs that finished.
 */
import { join } from "node:path";
import { effectiveCovariance } from "../../schema/flow.js";
import { writeJsonAtomic } from "../atomic.js";
import { writeCsv, type Cell } from "../csv.js";
import { writeNpy } from "../npy.js";
import { lineChart, type LineSeries } from "../../plot/render.js";
import { writePlot } from "../plots.js";
import { ipr } from "../../analysis/ipr.js";
import { quartiles } from "../../stats/summary.js";
import type { FlowResult, FlowRunRecord } from "../../experiments/flow.js";
import { rfdynVersion } from "../version.js";
import { peakRss } from "../resources.js";

const CLASS_NAMES = ["minus", "plus"];

function tagOf(r: FlowRunRecord): string {
  return `${r.gain === null ? "" : `g=${r.gain}`}${r.replicate > 0 || r.gain === null ? `${r.gain === null ? "" : "_"}r${r.replicate}` : ""}`;
}

/**
 * IPR of the leading CP factor (largest |γ|) per class; null for classes without factors and for
 * exact diagonal factors (u_a = e_a, IPR 1 trivially).
 */
function leadingCpIpr(r: FlowRunRecord): (number | null)[] {
  if (!r.cp) return [];
  return r.cp.map((f) => {
    if (!f || f.diagonal) return null;
    let best = 0;
    for (let a = 1; a < f.r; a++) if (Math.abs(f.weights[a]) > Math.abs(f.weights[best])) best = a;
    return ipr(f.factors, best * f.D, f.D);
  });
}

/** Write every output of a (possibly partial) flow result into `out`. */
export async function writeFlowResult(out: string, res: FlowResult): Promise<void> {
  const { D, runs, model } = res;
  const M = model.task.classes.length;
  const qName = (mu: number) => `q_${CLASS_NAMES[mu] ?? mu}`;

  // trajectory.csv
  const traj: Record<string, Cell>[] = [];
  for (const r of runs) {
    const tr = r.trajectory;
    for (let k = 0; k < tr.t.length; k++) {
      const row: Record<string, Cell> = { gain: r.gain ?? "", replicate: r.replicate, t: tr.t[k], ipr: tr.ipr[k], participation_ratio: 1 / tr.ipr[k], norm: tr.norm[k] };
      for (let mu = 0; mu < M; mu++) row[qName(mu)] = tr.q[mu][k];
      traj.push(row);
    }
  }
  writeCsv(join(out, "trajectory.csv"), traj, ["gain", "replicate", "t", "ipr", "participation_ratio", "norm", ...Array.from({ length: M }, (_, mu) => qName(mu))]);

  // finals.csv + summary
  const finals = runs.map((r) => {
    const tr = r.trajectory, last = tr.t.length - 1;
    const row: Record<string, Cell> = {
      gain: r.gain ?? "", replicate: r.replicate, ipr: tr.ipr[last], participation_ratio: 1 / tr.ipr[last], norm: tr.norm[last],
    };
    for (let mu = 0; mu < M; mu++) row[qName(mu)] = tr.q[mu][last];
    Object.assign(row, { t_end: tr.tEnd, status: tr.status, reason: tr.reason ?? "", n_rhs: tr.nRhs, n_steps: tr.nSteps, seconds: tr.wallSeconds });
    if (r.cp) leadingCpIpr(r).forEach((v, mu) => { row[`cp_lead_ipr_${CLASS_NAMES[mu] ?? mu}`] = v; });
    return row;
  });
  if (finals.length > 0) writeCsv(join(out, "finals.csv"), finals);

  // weights
  if (runs.length === 1 && model.gains === undefined) {
    writeNpy(join(out, "w_final.npy"), runs[0].trajectory.wFinal, [D]);
    const ws = runs[0].trajectory.w;
    const flat = new Float64Array(ws.length * D);
    ws.forEach((w, k) => flat.set(w, k * D));
    writeNpy(join(out, "w_traj.npy"), flat, [ws.length, D]);
  } else if (runs.length > 0) {
    const flat = new Float64Array(runs.length * D);
    runs.forEach((r, k) => flat.set(r.trajectory.wFinal, k * D));
    writeNpy(join(out, "w_final.npy"), flat, [runs.length, D]);
  }
  for (const r of runs) {
    if (!r.cp || !r.cpLoss) continue;
    r.cp.forEach((f, mu) => {
      if (!f || r.cpLoss![mu] === null) return; // only computed factors are written
      const tag = `${tagOf(r)}_class${mu}`;
      writeNpy(join(out, "cp", `factors_${tag}.npy`), f.factors, [f.r, f.D]);
      writeNpy(join(out, "cp", `gamma_${tag}.npy`), f.weights, [f.r]);
    });
  }

  // sweep table
  let sweep: { gain: number; n: number; ipr_median: number; ipr_q25: number; ipr_q75: number; cp_lead_ipr_median?: number }[] | null = null;
  if (model.gains) {
    sweep = [];
    for (const g of model.gains) {
      const rs = runs.filter((r) => r.gain === g);
      if (rs.length === 0) continue;
      const qs = quartiles(rs.map((r) => r.trajectory.ipr[r.trajectory.ipr.length - 1]));
      const row: (typeof sweep)[number] = { gain: g, n: rs.length, ipr_median: qs.median, ipr_q25: qs.q25, ipr_q75: qs.q75 };
      if (model.variant === "cp") {
        // IG22 Fig. 4B solid line: the leading factor of the (last) class with non-diagonal factors.
        const lead = rs.map((r) => leadingCpIpr(r).filter((x): x is number => x !== null).at(-1) ?? NaN);
        row.cp_lead_ipr_median = quartiles(lead).median;
      }
      sweep.push(row);
    }
    writeCsv(join(out, "sweep.csv"), sweep);
  }

  writeJsonAtomic(join(out, "result.json"), {
    kind: "flow",
    version: rfdynVersion(),
    timings: { seconds: res.timings.wall, ...peakRss() },
    model,
    seed: model.seed,
    status: res.status,
    message: res.message,
    summary: {
      D,
      variant: model.variant,
      covariance: effectiveCovariance(model),
      coefficients: { v: res.coefficients.v, b: res.coefficients.b, labels: res.coefficients.labels, c2: res.coefficients.c2, c4: res.coefficients.c4, c6: res.coefficients.poly[0]?.[5], symbolic: res.coefficients.symbolic },
      runs: finals,
      sweep,
    },
  });

  // plots
  if (runs.length === 0) return;
  const many = runs.length > 12;
  const shown = many ? runs.filter((_r, k) => k % Math.ceil(runs.length / 12) === 0) : runs;
  const seriesT: LineSeries[] = shown.map((r) => ({ name: tagOf(r) || "w", x: r.trajectory.t, y: r.trajectory.ipr }));
  await writePlot(join(out, "ipr_t"), lineChart(seriesT, { title: `IPR of w(t) — ${model.variant} flow`, xLabel: "t (learning time, η·steps)", yLabel: "IPR", logX: true }));
  const sites = Array.from({ length: D }, (_, i) => i);
  const profiles: LineSeries[] = shown.slice(0, 8).map((r) => {
    const w = r.trajectory.wFinal;
    let n = 0;
    for (let i = 0; i < D; i++) n += w[i] * w[i];
    n = Math.sqrt(n) || 1;
    return { name: tagOf(r) || "w", x: sites, y: Array.from(w, (x) => x / n) };
  });
  await writePlot(join(out, "w_final"), lineChart(profiles, { title: `final receptive field w/|w| — ${model.variant} flow`, xLabel: "site i", yLabel: "w_i / |w|" }));
  if (sweep && sweep.length > 0) {
    const gs = sweep.map((s) => s.gain);
    const ser: LineSeries[] = [{ name: `IPR(w), ${model.variant} flow (median)`, x: gs, y: sweep.map((s) => s.ipr_median) }];
    if (model.replicates > 1) {
      ser.push({ name: "25 %", x: gs, y: sweep.map((s) => s.ipr_q25) }, { name: "75 %", x: gs, y: sweep.map((s) => s.ipr_q75) });
    }
    if (model.variant === "cp") ser.push({ name: "leading CP factor", x: gs, y: sweep.map((s) => s.cp_lead_ipr_median ?? NaN) });
    ser.push({ name: "1/D (flat)", x: gs, y: gs.map(() => 1 / D) });
    await writePlot(join(out, "ipr_gain"), lineChart(ser, { title: `IPR of the final w vs gain — ${model.variant} flow (D = ${D})`, xLabel: "gain g", yLabel: "IPR", logX: true, points: true }));
  }
}
