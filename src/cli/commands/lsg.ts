/**
 * Kind "lsg": one run of LSG24's single ReLU neuron, by the effective ODE or by online SGD.
 *
 * Outputs (in the run's directory): result.json (validated model, version, seed, status, timings,
 * summary), trajectory.csv (t, IPR, participation ratio, |w|), w.npy (final weights), w_traj.npy
 * (weights at the recorded times), rf.svg (final receptive field) and ipr.svg (IPR vs time).
 */
import { join } from "node:path";
import type { RunContext } from "../common.js";
import { progressBar } from "../common.js";
import { parseLsgModel, type LsgModel } from "../../io/schema/lsg.js";
import { writeJsonAtomic } from "../../io/atomic.js";
import { writeCsv } from "../../io/csv.js";
import { writeNpy } from "../../io/npy.js";
import { lineChart, writePlot } from "../../plot/render.js";
import { geometrySize, type Geometry } from "../../data/kernels.js";
import { makeField, type FieldSpec, type Marginal } from "../../data/marginals.js";
import { Task } from "../../data/task.js";
import { Rng } from "../../stats/rng.js";
import { denseCirculant, initWeights, makePhi, runLsg, type PhiTable } from "../../theory/lsg24.js";
import { canonicalJson } from "../../io/sweep.js";
import type { ClassSampler } from "../../data/task.js";
import { ipr } from "../../analysis/ipr.js";
import { trainSingleRelu } from "../../sim/single-relu.js";
import { UserError } from "../../io/errors.js";
import { rfdynVersion } from "../../io/version.js";


export interface LsgComputeOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number, info: string) => void;
}

export interface LsgComputed {
  model: LsgModel;
  status: "done" | "steady" | "event" | "interrupted";
  /** Numeric summary figures (these are what sweeps aggregate). */
  summary: Record<string, number>;
  t: number[];
  ws: Float64Array[];
  w: Float64Array;
  D: number;
  marginals: [string, string];
}

function fieldSpecs(m: LsgModel): [FieldSpec, FieldSpec] {
  return m.data.classes.map((c) => ({ xi: c.xi, marginal: (c.marginal ?? m.data.marginal)! })) as [FieldSpec, FieldSpec];
}

/**
 * Covariances and the φ table depend only on (geometry, field specs, φ tolerance), not on the seed:
 * they are cached (a few entries) so the seeds of one sweep point reuse them.  Cached values are
 * the same numbers a fresh computation gives, so results do not depend on the cache.
 */
const systemCache = new Map<string, { S1: Float64Array; sum: Float64Array; phi: (a: number) => number; table?: PhiTable }>();

function odeSystem(geom: Geometry, specs: [FieldSpec, FieldSpec], fields: { sampler: ClassSampler; marginal: Marginal }[], phiTol: number) {
  const key = canonicalJson({ geom, specs, phiTol });
  const hit = systemCache.get(key);
  if (hit) return hit;
  const D = geometrySize(geom);
  const r0 = fields[0].sampler.covarianceRow(), r1 = fields[1].sampler.covarianceRow();
  const S1 = denseCirculant(geom.L, geom.dim, r1), S0 = denseCirculant(geom.L, geom.dim, r0);
  const sum = new Float64Array(D * D);
  for (let i = 0; i < D * D; i++) sum[i] = S0[i] + S1[i];
  const { phi, table } = makePhi(fields[1].marginal, { tol: phiTol });
  const sys = { S1, sum, phi, table };
  if (systemCache.size >= 8) systemCache.delete(systemCache.keys().next().value!);
  systemCache.set(key, sys);
  return sys;
}

/** Run one "lsg" model (already validated or raw) without writing anything. */
export function computeLsg(raw: unknown, o: LsgComputeOptions = {}): LsgComputed {
  const model = parseLsgModel(raw);
  const geom = model.data.geometry as Geometry;
  const D = geometrySize(geom);
  const specs = fieldSpecs(model);
  let fields: { sampler: ClassSampler; marginal: Marginal }[];
  try {
    fields = specs.map((s) => makeField(geom, s));
  } catch (e) {
    throw new UserError(`model.data: ${(e as Error).message}`);
  }
  const kappa = fields[1].marginal.kurtosis();
  const w0 = initWeights(D, model.init.scale, Rng.stream(model.seed, 0));
  let t: number[], ws: Float64Array[], status: LsgComputed["status"];
  const extra: Record<string, number> = {};
  if (model.dynamics === "ode") {
    const { S1, sum, phi, table } = odeSystem(geom, specs, fields, model.ode.phiTol);
    if (table) { extra.phiPanels = table.panels; extra.phiTailEstimate = table.errorEstimate; }
    const r = runLsg({ D, sigma1: S1, sum, phi }, w0, {
      t1: model.ode.t1, method: model.ode.method, rtol: model.ode.rtol, atol: model.ode.atol, dt: model.ode.dt,
      steadyTol: model.ode.steadyTol > 0 ? model.ode.steadyTol : undefined, samples: model.ode.samples, maxSteps: model.ode.maxSteps, signal: o.signal, onProgress: o.onProgress,
    });
    t = r.sol.t; ws = r.sol.y; status = r.status;
    extra.nRhs = r.sol.nRhs;
  } else {
    const task = new Task(fields.map((f) => f.sampler), [0, 1]);
    const lr = model.sgd.lr, steps = Math.round((2 * model.sgd.t1) / lr);
    const rec = Array.from(new Set([0, ...logSteps(steps, model.sgd.samples)])).sort((a, b) => a - b);
    const r = trainSingleRelu(task, w0, Rng.stream(model.seed, 1), { lr, steps, record: rec, signal: o.signal, onProgress: o.onProgress });
    t = r.steps.map((n) => (n * lr) / 2); ws = r.ws; status = r.status;
    extra.steps = r.stepsDone;
  }
  const w = ws[ws.length - 1];
  const I = ipr(w);
  let n2 = 0;
  for (let i = 0; i < D; i++) n2 += w[i] * w[i];
  return {
    model, status, t, ws, w, D,
    marginals: [fields[0].marginal.describe(), fields[1].marginal.describe()],
    summary: { ipr: I, participationRatio: 1 / I, norm: Math.sqrt(n2), kurtosis: kappa, excessKurtosis: kappa - 3, tEnd: t[t.length - 1], ...extra },
  };
}

/** n log-spaced integer step counts in [1, steps] (always including steps). */
function logSteps(steps: number, n: number): number[] {
  if (steps === 0) return [0];
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(Math.max(1, Math.round(Math.pow(steps, n === 1 ? 1 : k / (n - 1)))));
  out.push(steps);
  return out;
}

export async function runLsgCommand(raw: Record<string, unknown>, ctx: RunContext, modelPath: string): Promise<void> {
  const started = new Date();
  const bar = progressBar(ctx, "lsg");
  let res: LsgComputed;
  try {
    res = computeLsg(raw, { signal: ctx.signal, onProgress: (f, info) => bar.update(f, info) });
  } finally {
    bar.stop();
  }
  const { model, t, ws, D } = res;
  const out = ctx.out;
  const iprs = ws.map((w) => ipr(w));
  writeCsv(join(out, "trajectory.csv"), t.map((ti, k) => {
    let n2 = 0;
    for (let i = 0; i < D; i++) n2 += ws[k][i] ** 2;
    return { t: ti, ipr: iprs[k], participation_ratio: 1 / iprs[k], norm: Math.sqrt(n2) };
  }));
  writeNpy(join(out, "w.npy"), res.w, [D]);
  const traj = new Float64Array(ws.length * D);
  ws.forEach((w, k) => traj.set(w, k * D));
  writeNpy(join(out, "w_traj.npy"), traj, [ws.length, D]);
  const sites = Array.from({ length: D }, (_, i) => i);
  await writePlot(join(out, "rf"), lineChart([{ name: "w", x: sites, y: res.w }], { title: `final weights (${model.dynamics}), IPR ${res.summary.ipr.toFixed(3)}`, xLabel: "site", yLabel: "w_i", points: true }));
  await writePlot(join(out, "ipr"), lineChart([{ name: "IPR", x: t.slice(1), y: iprs.slice(1) }], { title: "inverse participation ratio", xLabel: "t (ODE time; SGD: lr·steps/2)", yLabel: "IPR", logX: true }));
  writeJsonAtomic(join(out, "result.json"), {
    kind: "lsg", version: rfdynVersion(), modelFile: modelPath, model, seed: model.seed, status: res.status,
    marginals: { class0: res.marginals[0], class1: res.marginals[1] },
    timings: { started: started.toISOString(), seconds: (Date.now() - started.getTime()) / 1000 },
    summary: res.summary,
  });
  ctx.log(`lsg (${model.dynamics}): IPR ${res.summary.ipr.toFixed(4)}, kurtosis ${res.summary.kurtosis.toFixed(3)}, status ${res.status} → ${out}`);
}
