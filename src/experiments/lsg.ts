/**
 * Kind "lsg": one run of LSG24's single ReLU neuron (no bias, labels {0, 1}) on two classes of
 * field data, by the effective ODE (src/theory/lsg24.ts) or by online SGD (src/sim/single-relu.ts),
 * from the same initial weights w_i ~ N(0, scale²/D) (Rng.stream(seed, 0); SGD samples from
 * Rng.stream(seed, 1)).
 */
import { lsgSgdSteps, lsgTimePerStep, parseLsgModel, type LsgModel } from "../schema/lsg.js";
import { UserError } from "../run/errors.js";
import { geometrySize, type Geometry } from "../data/kernels.js";
import { makeField, type FieldSpec, type Marginal } from "../data/marginals.js";
import { Task, type ClassSampler } from "../data/task.js";
import { Rng } from "../stats/rng.js";
import { allocResident, gemm } from "../kernels/index.js";
import { denseCirculant, initWeights, initWeightsXavierTruncated, makePhi, runLsg, type PhiTable } from "../theory/lsg24.js";
import { trainSingleRelu } from "../sim/single-relu.js";
import { ipr } from "../analysis/ipr.js";
import { DEAD_RELU_FRACTION } from "../sim/network.js";
import type { RunStatus } from "../run/hooks.js";
import { canonicalJson } from "./sweep-grid.js";
import type { Experiment, ExperimentHooks, ResultBase } from "./types.js";

export interface LsgResult extends ResultBase<"lsg", LsgModel> {
  /** Start of the run (ISO 8601). */
  started: string;
  D: number;
  /** Recorded times (ODE time; SGD: lr·steps/2 with loss ½(y − ŷ)², lr·steps with LSG24's (y − ŷ)²), starting at 0, and the weights there. */
  t: number[];
  ws: Float64Array[];
  /** Final weights. */
  w: Float64Array;
  /** Descriptions of the two classes' marginals. */
  marginals: [string, string];
  /**
   * Per recorded time: 1 if the neuron is dead (w·x ≤ 0 on ≥ 99 % of LSG_PROBE_SIZE probe inputs drawn
   * from both classes, Rng.stream(seed, 2), after the run), else 0 — the ReLU case of the `saturated`
   * column of `simulate`.
   */
  saturated: number[];
  /** Warnings about a run that finished but is not healthy (a dead neuron); printed by the CLI. */
  warnings: string[];
}

/** Probe inputs for the dead-neuron test of an lsg run. */
export const LSG_PROBE_SIZE = 2000;
/** Probe rows per matrix product of the dead-neuron test. */
const PROBE_BLOCK = 250;

function fieldSpecs(m: LsgModel): [FieldSpec, FieldSpec] {
  return m.data.classes.map((c) => ({ xi: c.xi, marginal: (c.marginal ?? m.data.marginal)! })) as [FieldSpec, FieldSpec];
}

/**
 * Covariances and the φ table depend only on (geometry, field specs, φ tolerance), not on the seed:
 * they are cached (a few entries) so the seeds of one sweep point reuse them.  Cached values are
 * the same numbers a fresh computation gives, so results do not depend on the cache.
 */
const systemCache = new Map<string, {
  S1: Float64Array; sum: Float64Array; phi: (a: number) => number; dphi?: (a: number) => number;
  phiMany?: (a: Float64Array, out: Float64Array, n: number) => void; table?: PhiTable;
}>();

function odeSystem(geom: Geometry, specs: [FieldSpec, FieldSpec], fields: { sampler: ClassSampler; marginal: Marginal }[], phiTol: number) {
  const key = canonicalJson({ geom, specs, phiTol });
  const hit = systemCache.get(key);
  if (hit) return hit;
  const D = geometrySize(geom);
  const r0 = fields[0].sampler.covarianceRow(), r1 = fields[1].sampler.covarianceRow();
  // Σ1 and Σ0 + Σ1 live in the kernels' memory (a plain array on the TS backend), where the RHS's
  // SIMD products read them in place when they are exactly symmetric, as circulant covariances are.
  const S1c = denseCirculant(geom.L, geom.dim, r1), S0 = denseCirculant(geom.L, geom.dim, r0);
  const S1 = allocResident(D * D), sum = allocResident(D * D);
  S1.set(S1c);
  for (let i = 0; i < D * D; i++) sum[i] = S0[i] + S1[i];
  const { phi, dphi, phiMany, table } = makePhi(fields[1].marginal, { tol: phiTol });
  const sys = { S1, sum, phi, dphi, phiMany, table };
  if (systemCache.size >= 8) systemCache.delete(systemCache.keys().next().value!);
  systemCache.set(key, sys);
  return sys;
}

/** n log-spaced integer step counts in [1, steps] (always including steps). */
function logSteps(steps: number, n: number): number[] {
  if (steps === 0) return [0];
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(Math.max(1, Math.round(Math.pow(steps, n === 1 ? 1 : k / (n - 1)))));
  out.push(steps);
  return out;
}

/** 1 per weight vector that is inactive (w·x ≤ 0) on ≥ 99 % of LSG_PROBE_SIZE probe inputs, else 0. */
function deadNeuronProbe(specs: [FieldSpec, FieldSpec], geom: Geometry, D: number, ws: readonly Float64Array[], seed: number): number[] {
  const probeTask = new Task(specs.map((s) => makeField(geom, s).sampler), [0, 1]);
  const probe = probeTask.dataset(LSG_PROBE_SIZE, Rng.stream(seed, 2)).X;
  // All the weight vectors against all the probe rows as one matrix product H = X Wᵀ (the GEMM
  // kernel, in blocks of PROBE_BLOCK rows): gemm sums each H_mk = Σ_i x_mi w_ki over i in increasing
  // order from +0, exactly as one dot product at a time, so the counts are the same (it was a tenth
  // of an lsg ODE sweep in a scalar loop).
  const n = ws.length, inactive = new Array<number>(n).fill(0);
  const W = new Float64Array(n * D);
  ws.forEach((wk, k) => W.set(wk.subarray(0, D), k * D));
  const H = new Float64Array(PROBE_BLOCK * n);
  for (let m0 = 0; m0 < LSG_PROBE_SIZE; m0 += PROBE_BLOCK) {
    const rows = Math.min(PROBE_BLOCK, LSG_PROBE_SIZE - m0);
    gemm(false, true, rows, n, D, 1, probe.subarray(m0 * D, (m0 + rows) * D), W, 0, H);
    for (let r = 0, o = 0; r < rows; r++, o += n) {
      for (let k = 0; k < n; k++) if (!(H[o + k] > 0)) inactive[k]++;
    }
  }
  return inactive.map((count) => (count >= DEAD_RELU_FRACTION * LSG_PROBE_SIZE ? 1 : 0));
}

/** Run one validated "lsg" model. */
export async function runLsgModel(model: LsgModel, hooks: ExperimentHooks = {}): Promise<LsgResult> {
  const started = new Date();
  const t0 = performance.now();
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
  const w0 = model.init.kind === "xavier-truncated"
    ? initWeightsXavierTruncated(D, model.init.initScale ?? 1, Rng.stream(model.seed, 0))
    : initWeights(D, model.init.scale, Rng.stream(model.seed, 0));
  hooks.log?.(`lsg (${model.dynamics}): D = ${D}, kurtosis ${kappa.toFixed(3)}, seed ${model.seed}`);
  let t: number[], ws: Float64Array[], status: RunStatus, how: string;
  const extra: Record<string, number> = {};
  if (model.dynamics === "ode") {
    const { S1, sum, phi, dphi, phiMany, table } = odeSystem(geom, specs, fields, model.ode.phiTol);
    if (table) { extra.phiPanels = table.panels; extra.phiTailEstimate = table.errorEstimate; }
    const r = await runLsg({ D, sigma1: S1, sum, phi, dphi, phiMany }, w0, {
      t1: model.ode.t1, method: model.ode.method, rtol: model.ode.rtol, atol: model.ode.atol, dt: model.ode.dt,
      steadyTol: model.ode.steadyTol > 0 ? model.ode.steadyTol : undefined, samples: model.ode.samples, maxSteps: model.ode.maxSteps,
    }, hooks);
    t = r.sol.t; ws = r.sol.y; status = r.status;
    extra.nRhs = r.sol.stats.nRhs;
    how = r.sol.message;
  } else {
    const task = new Task(fields.map((f) => f.sampler), [0, 1]);
    const lr = model.sgd.lr, steps = lsgSgdSteps(model), dt = lsgTimePerStep(model);
    const rec = Array.from(new Set([0, ...logSteps(steps, model.sgd.samples)])).sort((a, b) => a - b);
    const r = await trainSingleRelu(task, w0, Rng.stream(model.seed, 1), {
      lr, steps, record: rec, maxGrowth: model.sgd.divergence.maxGrowth, batchSize: model.sgd.batchSize, lossFactor: model.sgd.loss === "lsg24" ? 2 : 1,
    }, hooks);
    t = r.steps.map((n) => n * dt); ws = r.ws; status = r.status;
    extra.steps = r.stepsDone;
    how = r.divergence ?? `${r.stepsDone} of ${steps} SGD steps`;
  }
  // Dead-neuron probe: fresh samplers (the run's samplers keep caches that must not be disturbed).
  // Skipped (NaN) after an interruption, so Ctrl-C is not followed by extra sampling.
  const saturated = status === "interrupted" ? ws.map(() => NaN) : deadNeuronProbe(specs, geom, D, ws, model.seed);
  const w = ws[ws.length - 1];
  const I = ipr(w);
  let n2 = 0;
  for (let i = 0; i < D; i++) n2 += w[i] * w[i];
  const tEnd = t[t.length - 1];
  const warnings = saturated[saturated.length - 1] > 0.9
    ? [`the ReLU neuron is dead at t = ${tEnd.toPrecision(4)} (w·x ≤ 0 on ≥ 99% of ${LSG_PROBE_SIZE} probe inputs): it receives no gradient and has stopped learning; try another seed or a smaller model.init.scale`]
    : [];
  return {
    kind: "lsg",
    status,
    message: status === "diverged" ? `${how}: kurtosis ${kappa.toFixed(3)}` : `${status} at t = ${tEnd.toPrecision(4)} (${how}): IPR ${I.toFixed(4)}, kurtosis ${kappa.toFixed(3)}`,
    model,
    seed: model.seed,
    timings: { wall: (performance.now() - t0) / 1000 },
    summary: { ipr: I, participationRatio: 1 / I, norm: Math.sqrt(n2), kurtosis: kappa, excessKurtosis: kappa - 3, tEnd, ...extra },
    started: started.toISOString(),
    D,
    t,
    ws,
    w,
    marginals: [fields[0].marginal.describe(), fields[1].marginal.describe()],
    saturated,
    warnings,
  };
}

export const lsgExperiment: Experiment<LsgModel, LsgResult> = {
  kind: "lsg",
  describe: "LSG24 single ReLU neuron: effective ODE or online SGD",
  parse: parseLsgModel,
  run: runLsgModel,
};
