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
import { allocResident } from "../kernels/index.js";
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

/**
 * counts[t] = #{m < rows : x_m·w_t ≤ 0 (or NaN)} for four weight vectors at once, each x_m·w_t summed
 * over i in increasing order from 0.  A function of its own, so V8 optimises it once for all calls
 * (inlined into the caller's loop it was recompiled on stack replacement, and deoptimised, per run).
 */
function countInactive4(X: Float64Array, rows: number, D: number, w0: Float64Array, w1: Float64Array, w2: Float64Array, w3: Float64Array, counts: Float64Array): void {
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  for (let m = 0, o = 0; m < rows; m++, o += D) {
    let h0 = 0, h1 = 0, h2 = 0, h3 = 0;
    for (let i = 0; i < D; i++) {
      const x = X[o + i];
      h0 += w0[i] * x; h1 += w1[i] * x; h2 += w2[i] * x; h3 += w3[i] * x;
    }
    c0 += h0 > 0 ? 0 : 1;
    c1 += h1 > 0 ? 0 : 1;
    c2 += h2 > 0 ? 0 : 1;
    c3 += h3 > 0 ? 0 : 1;
  }
  counts[0] = c0; counts[1] = c1; counts[2] = c2; counts[3] = c3;
}

/** 1 per weight vector that is inactive (w·x ≤ 0) on ≥ 99 % of LSG_PROBE_SIZE probe inputs, else 0. */
function deadNeuronProbe(specs: [FieldSpec, FieldSpec], geom: Geometry, D: number, ws: readonly Float64Array[], seed: number): number[] {
  const probeTask = new Task(specs.map((s) => makeField(geom, s).sampler), [0, 1]);
  const probe = probeTask.dataset(LSG_PROBE_SIZE, Rng.stream(seed, 2)).X;
  // Four weight vectors per pass over the probe rows (`countInactive4`): each probe entry is loaded
  // once for four dot products (≈ 2× faster; it was a tenth of an lsg ODE sweep).  A last partial
  // block repeats its last vector.  Every h is still summed in increasing i from 0, so the counts
  // are those of one dot product at a time.
  const n = ws.length, inactive = new Array<number>(n).fill(0), c = new Float64Array(4);
  for (let k = 0; k < n; k += 4) {
    const last = n - 1;
    countInactive4(probe, LSG_PROBE_SIZE, D, ws[k], ws[Math.min(k + 1, last)], ws[Math.min(k + 2, last)], ws[Math.min(k + 3, last)], c);
    for (let t = 0; t < 4 && k + t < n; t++) inactive[k + t] = c[t];
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
