/**
 * Online SGD of a single ReLU neuron ŷ = max(0, w·x), no bias, labels {0, 1} (LSG24):
 *   w ← w + η (y − ŷ) 1[w·x > 0] x,   loss ½(y − ŷ)²,  one fresh sample per step;
 * or, with `batchSize` B and `lossFactor` f (f = 2: LSG24's loss (y − ŷ)² without ½), the minibatch
 * step w ← w + (f η / B) Σ_b (y_b − ŷ_b) 1[w·x_b > 0] x_b over B fresh samples (all at the same w).
 * With p = ½ per class its mean update is E[Δw] = η·¼[2E₁(x 1[h>0]) − (Σ0 + Σ1)w], which equals
 * (η/2)·(RHS of the LSG24 effective ODE) when the pre-activation is Gaussian given each coordinate
 * (exactly so for Gaussian inputs; tested), so one step advances ODE time by η/2
 * (see src/theory/lsg24.ts).  Hot loop: no allocation per step.
 *
 * Hooks: the signal is polled every 4096 steps (status "interrupted", the weights reached are
 * recorded); progress in steps, with t = lr·steps/2 and the IPR; the loop returns to the event loop
 * every ~40 ms so a Ctrl-C handler can run.
 *
 * Divergence: at every chunk boundary (≤ 4096 steps) the run stops with status "diverged" when w is
 * non-finite or |w| > maxGrowth·max(1, |w(0)|) (default 1e6, as for `simulate`: see DivergenceConfig
 * in simulate.ts); the state reached is recorded and `divergence` says when and how large.
 *
 * Checkpoints: with `hooks.store`, the full state (weights, step count, the sampling stream and the
 * samplers' caches, the recorded weights) is put under LSG_SGD_CHECKPOINT_KEY at chunk boundaries
 * every `checkpointSeconds` (default 30) and when interrupted; a run whose store holds one
 * continues from it and ends bit-identical to an uninterrupted run.
 */
import type { Rng } from "../stats/rng.js";
import { DEFAULT_CHECKPOINT_SECONDS, type RunStore } from "../run/store.js";
import type { Task } from "../data/task.js";
import { ipr } from "../analysis/ipr.js";
import { YieldClock, yieldToEventLoop, type RunHooks } from "../run/hooks.js";

export interface SingleReluOptions {
  lr: number;
  steps: number;
  /** Step indices (ascending) at which to record w (0 = before the first step). */
  record?: readonly number[];
  /** Runaway threshold (default 1e6): diverged when |w| > maxGrowth·max(1, |w(0)|). */
  maxGrowth?: number;
  /** Fresh samples per step; the update uses their mean gradient (default 1). */
  batchSize?: number;
  /**
   * Gradient factor of the loss: 1 for ½(y − ŷ)² (default), 2 for LSG24's (y − ŷ)².  One step then
   * advances ODE time by lossFactor·lr/2.
   */
  lossFactor?: number;
}

export interface SingleReluResult {
  w: Float64Array;
  /** Recorded step indices and weights. */
  steps: number[];
  ws: Float64Array[];
  stepsDone: number;
  status: "done" | "interrupted" | "diverged";
  /** Why the run diverged (time t = lr·steps/2 reached, |w| and the threshold), if it did. */
  divergence?: string;
}

/** Store key of the checkpoint of `trainSingleRelu`. */
export const LSG_SGD_CHECKPOINT_KEY = "lsg-sgd/state";

/** What `trainSingleRelu` needs to continue exactly (taken at a chunk boundary). */
export interface SingleReluCheckpoint {
  format: "rfdyn-lsg-sgd/1";
  D: number;
  totalSteps: number;
  lr: number;
  /** Minibatch size and loss factor (absent: 1 and 1). */
  batchSize?: number;
  lossFactor?: number;
  /** Steps done and the index of the next record step. */
  n: number;
  ri: number;
  w: Float64Array;
  /** State of the sampling stream and of the task's samplers as seen by it. */
  rng: number[];
  task: unknown[];
  steps: number[];
  ws: Float64Array[];
}

export type SingleReluHooks = RunHooks & { store?: RunStore; checkpointSeconds?: number };

/** Train from w0 (copied); the task supplies classes with labels {0, 1}. */
export async function trainSingleRelu(task: Task, w0: Float64Array, rng: Rng, o: SingleReluOptions, hooks: SingleReluHooks = {}): Promise<SingleReluResult> {
  const D = task.D;
  if (w0.length !== D) throw new RangeError(`w0 has length ${w0.length}, expected D = ${D}`);
  if (!(o.lr > 0)) throw new RangeError(`lr must be > 0 (got ${o.lr})`);
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) throw new RangeError(`steps must be a non-negative integer (got ${o.steps})`);
  const w = Float64Array.from(w0);
  const x = new Float64Array(D);
  const rec = o.record ?? [o.steps];
  let ri = 0;
  const steps: number[] = [], ws: Float64Array[] = [];
  const take = (n: number) => {
    while (ri < rec.length && rec[ri] <= n) {
      if (rec[ri] === n) { steps.push(n); ws.push(w.slice()); }
      ri++;
    }
  };
  const labels = task.labels, eta = o.lr;
  const B = o.batchSize ?? 1, factor = o.lossFactor ?? 1;
  if (!(Number.isInteger(B) && B >= 1)) throw new RangeError(`batchSize must be a positive integer (got ${B})`);
  if (!(factor > 0)) throw new RangeError(`lossFactor must be > 0 (got ${factor})`);
  const plain = B === 1 && factor === 1;
  const grad = plain ? x : new Float64Array(D);
  const dt = (factor * eta) / 2;
  const chunk = 4096;
  let n = 0;
  const store = hooks.store;
  const everyMs = 1000 * (hooks.checkpointSeconds ?? DEFAULT_CHECKPOINT_SECONDS);
  const saved = store?.get<SingleReluCheckpoint>(LSG_SGD_CHECKPOINT_KEY);
  if (saved !== undefined) {
    if (saved.format !== "rfdyn-lsg-sgd/1" || saved.D !== D || saved.totalSteps !== o.steps || saved.lr !== o.lr || (saved.batchSize ?? 1) !== B || (saved.lossFactor ?? 1) !== factor) {
      throw new Error(`checkpoint "${LSG_SGD_CHECKPOINT_KEY}" does not belong to this run (D, steps or lr differ)`);
    }
    n = saved.n;
    ri = saved.ri;
    w.set(saved.w);
    rng.setState(saved.rng);
    task.restoreState(saved.task, rng);
    for (let i = 0; i < saved.steps.length; i++) { steps.push(saved.steps[i]); ws.push(saved.ws[i]); }
  } else take(0);
  let lastCheckpoint = performance.now();
  const checkpoint = () => {
    if (!store) return;
    const ck: SingleReluCheckpoint = {
      format: "rfdyn-lsg-sgd/1", D, totalSteps: o.steps, lr: o.lr, ...(plain ? {} : { batchSize: B, lossFactor: factor }), n, ri, w: w.slice(),
      rng: rng.getState(), task: task.saveState(rng), steps: steps.slice(), ws: ws.slice(),
    };
    store.put(LSG_SGD_CHECKPOINT_KEY, ck);
    lastCheckpoint = performance.now();
  };
  let status: SingleReluResult["status"] = "done";
  let divergence: string | undefined;
  const maxGrowth = o.maxGrowth ?? 1e6;
  let n0 = 0;
  for (let i = 0; i < D; i++) n0 += w0[i] * w0[i];
  const limit = maxGrowth * Math.max(1, Math.sqrt(n0));
  const clock = new YieldClock();
  while (n < o.steps) {
    if (clock.due()) await yieldToEventLoop();
    if (hooks.signal?.aborted) {
      checkpoint();
      status = "interrupted";
      break;
    }
    if (store && n > 0 && performance.now() - lastCheckpoint >= everyMs) checkpoint();
    const end = Math.min(o.steps, n + (plain ? chunk : Math.max(1, Math.floor(chunk / B))), ri < rec.length ? Math.max(rec[ri], n + 1) : Infinity);
    if (plain) {
      onlineSteps(task, rng, w, x, labels, eta, end - n);
      n = end;
    } else {
      const scale = (factor * eta) / B;
      for (; n < end; ) {
        batchStep(task, rng, w, x, grad, labels, scale, B);
        n++;
        if (B >= 256 && clock.due()) await yieldToEventLoop();
      }
    }
    let n2 = 0;
    for (let i = 0; i < D; i++) n2 += w[i] * w[i];
    if (!(Math.sqrt(n2) <= limit)) {
      status = "diverged";
      divergence = `diverged at t = ${(n * dt).toPrecision(4)} (step ${n}): |w| = ${Math.sqrt(n2).toExponential(2)} > ${maxGrowth.toExponential(2)}·max(1, |w(0)|) = ${limit.toExponential(2)}; reduce model.sgd.lr`;
      break;
    }
    take(n);
    hooks.onProgress?.({ done: n, total: o.steps, unit: "steps", t: n * dt, metrics: { ipr: ipr(w) } });
  }
  if (status !== "done" && steps[steps.length - 1] !== n) { steps.push(n); ws.push(w.slice()); }
  return { w, steps, ws, stepsDone: n, status, ...(divergence !== undefined ? { divergence } : {}) };
}

// The SGD steps as plain functions, not loops inside the async driver: V8 compiles each once, where
// the loops inside the async function were recompiled (on-stack replacement) after its resumptions
// — six compilations, ≈ 0.24 s of compile time in a 0.6 s run.

/** `count` online steps (one fresh sample each): w += η (y − h) x where h = w·x > 0. */
function onlineSteps(task: Task, rng: Rng, w: Float64Array, x: Float64Array, labels: ArrayLike<number>, eta: number, count: number): void {
  const D = w.length;
  for (let n = 0; n < count; n++) {
    const mu = task.sample(x, rng);
    let h = 0;
    for (let i = 0; i < D; i++) h += w[i] * x[i];
    if (h > 0) {
      const g = eta * (labels[mu] - h);
      for (let i = 0; i < D; i++) w[i] += g * x[i];
    }
  }
}

/** One minibatch step of B fresh samples: w += scale · Σ_b (y_b − h_b) x_b over h_b = w·x_b > 0. */
function batchStep(task: Task, rng: Rng, w: Float64Array, x: Float64Array, grad: Float64Array, labels: ArrayLike<number>, scale: number, B: number): void {
  const D = w.length;
  grad.fill(0);
  for (let b = 0; b < B; b++) {
    const mu = task.sample(x, rng);
    let h = 0;
    for (let i = 0; i < D; i++) h += w[i] * x[i];
    if (h > 0) {
      const g = labels[mu] - h;
      for (let i = 0; i < D; i++) grad[i] += g * x[i];
    }
  }
  for (let i = 0; i < D; i++) w[i] += scale * grad[i];
}
