/**
 * SGD simulation of a two-layer network on a two-class task: the ground truth every theory module is
 * compared with.
 *
 * Modes: "online" (a fresh example per sample, minibatches of fresh examples if batchSize > 1) and
 * "batch" (a fixed dataset of P examples, reshuffled each epoch, minibatches of batchSize; see
 * `EpochBatcher`).  Time t = steps / D^s (s = lrScaling, see `sgd.ts`).
 *
 * Logging at `points` log-spaced step counts between 1 and the last step, plus step 0: test pmse
 * (IG22 eq. 9, ⟨(φ − y)²⟩ without a factor ½) and accuracy on a held-out test set (fixed for the run,
 * drawn from its own RNG stream), training-set metrics in batch mode, and per-neuron IPR, |w_k|, b_k,
 * v_k.  Weight snapshots at a subset of log times.
 *
 * Random streams of `seed` (Rng.stream(seed, k)): k = 0 initial weights, 1 training examples and
 * shuffles, 2 test set, 3 training dataset (batch mode).  Same configuration ⇒ bit-identical result.
 *
 * Checkpoints (hooks.store): the full state — weights, step and log position, the training stream,
 * the samplers' cached GP samples, the batcher's permutation, the log and snapshots so far — is put
 * under "sgd/state" every hooks.checkpointSeconds (default 30) at chunk/log boundaries and when the
 * run is interrupted; a run whose store holds it continues from there, bit-identical to an
 * uninterrupted run (the test set and dataset are redrawn from their own streams).
 */
import { Rng } from "../stats/rng.js";
import { geometrySize, type Geometry } from "../data/kernels.js";
import { labelValues, twoClassTask, type ClassSpec, type Task } from "../data/task.js";
import { ipr } from "../analysis/ipr.js";
import { evaluateAsync, initNetwork, saturationFraction, type Network, type NetworkConfig } from "./network.js";
import { EpochBatcher, SgdStepper } from "./sgd.js";
import type { RunHooks } from "../run/hooks.js";
import { DEFAULT_CHECKPOINT_SECONDS, type RunStore } from "../run/store.js";

export interface TaskConfig {
  geometry: Geometry;
  classes: readonly [ClassSpec, ClassSpec];
  labels: "pm1" | "01";
}

export interface TrainingConfig {
  mode: "online" | "batch";
  /** Total number of SGD steps. */
  steps: number;
  lr: number;
  lrScaling: number;
  lrSecondLayer?: number;
  lrBias?: number;
  weightDecay: number;
  batchSize: number;
  /** Dataset size (batch mode). */
  P?: number;
  /** Runaway guard (default DEFAULT_DIVERGENCE); see `DivergenceConfig`. */
  divergence?: DivergenceConfig;
}

/**
 * When an SGD run counts as diverged (status "diverged", stopped where it was detected, the log up
 * to there kept): a non-finite weight or test error, or a runaway —
 *   |w_k| > maxGrowth·max(1, |w_k(0)|) for some neuron k (first-layer row norm; likewise |b_k|, |v_k|
 *   when trained), checked every ≤ 2048 steps, or
 *   test pmse > maxGrowth·(max |label|)², checked at the log times.
 * Default maxGrowth = 1e6: healthy runs stay far below it — weight norms start at O(initScale) ≤ O(1)
 * and grow by at most a few hundred while learning (localised receptive fields concentrate, not
 * inflate, the norm; weight decay only shrinks it), and pmse ≤ O(max |φ|²) = O(K²v²) ≪ 1e6 for a
 * converging network — while runaway SGD grows geometrically (e.g. the single ReLU neuron at lr 0.1,
 * L = 40 reaches |w| ~ 1e17–1e21), so it crosses 1e6 within a few hundred steps of leaving the
 * healthy range and the reported time is where the instability set in, not where floats overflowed.
 */
export interface DivergenceConfig {
  maxGrowth: number;
}

export const DEFAULT_DIVERGENCE: DivergenceConfig = { maxGrowth: 1e6 };

/**
 * First runaway entry: index k with |x_k| > maxGrowth·max(1, |x0_k|) (rows of length `stride` taken
 * as vectors: their Euclidean norms are compared), or −1.  Non-finite entries count as runaway.
 */
export function runawayIndex(x: ArrayLike<number>, x0: ArrayLike<number>, stride: number, maxGrowth: number): { k: number; norm: number; limit: number } | null {
  const rows = x.length / stride;
  for (let k = 0; k < rows; k++) {
    let n2 = 0, m2 = 0;
    for (let i = 0; i < stride; i++) { n2 += x[k * stride + i] ** 2; m2 += x0[k * stride + i] ** 2; }
    const norm = Math.sqrt(n2), limit = maxGrowth * Math.max(1, Math.sqrt(m2));
    if (!(norm <= limit)) return { k, norm, limit };
  }
  return null;
}

export interface SimulationConfig {
  task: TaskConfig;
  network: NetworkConfig;
  training: TrainingConfig;
  /** points: number of log-spaced log times in [1, steps] (t = 0 is added); snapshots: count (spread evenly over the log times, including the first and last) or a list of times t (each mapped to the nearest log time). */
  logging: { points: number; snapshots: number | readonly number[] };
  testSize: number;
  seed: number;
}

export interface LogRow {
  t: number;
  steps: number;
  /** Examples seen / P (batch mode), examples seen / D (online). */
  epoch: number;
  pmse: number;
  accuracy: number;
  /** Training-set metrics (batch mode only; NaN online). */
  trainPmse: number;
  trainAccuracy: number;
  meanIpr: number;
  maxIpr: number;
  minIpr: number;
  meanNorm: number;
  /**
   * Saturation of the hidden units on the test set (see `saturationFraction` in network.ts): erf/tanh
   * the fraction of (test input, neuron) pairs with σ'(λ + b) < 1e-3·max σ'; relu the fraction of
   * dead units (λ + b ≤ 0 on ≥ 99 % of the test inputs); cubic NaN.
   */
  saturated: number;
}

export interface SimulationResult {
  /**
   * "diverged": a weight or the test error became non-finite or ran away (`DivergenceConfig`); the
   * run stopped there, `divergence` says what and where, and the log ends with the state reached.
   */
  status: "done" | "interrupted" | "diverged";
  /** Why the run diverged (with the time reached), if it did. */
  divergence?: string;
  D: number;
  K: number;
  /** Steps planned / done. */
  totalSteps: number;
  steps: number;
  log: LogRow[];
  /** Per-neuron series at the log times, each [nLog × K] row-major: IPR, |w_k|, b_k, v_k. */
  ipr: Float64Array;
  norms: Float64Array;
  biases: Float64Array;
  secondLayer: Float64Array;
  snapshots: { t: number[]; steps: number[]; W: Float64Array };
  net: Network;
  /** Seconds: total, and spent in SGD steps only. */
  wallTime: number;
  trainTime: number;
  /** SGD steps per second (training only, sampling included, evaluation excluded). */
  stepsPerSecond: number;
}

/**
 * Progress is reported in steps, with the model time and the last logged test pmse and accuracy.
 * With a `store`, the full state of the run is put under SGD_CHECKPOINT_KEY every
 * `checkpointSeconds` (default 30) and when the run is interrupted, and a run whose store holds
 * such a checkpoint continues from it, ending with the outputs of an uninterrupted run bit for bit.
 */
export type SimulationHooks = RunHooks & { store?: RunStore; checkpointSeconds?: number };

/** Store key of the checkpoint of `simulate`. */
export const SGD_CHECKPOINT_KEY = "sgd/state";

/**
 * Everything `simulate` needs to continue a run exactly (taken at a chunk or log boundary).  The
 * test set and the batch-mode dataset are not saved: they come from their own RNG streams before
 * training and are drawn again on resume.
 */
export interface SgdCheckpoint {
  format: "rfdyn-sgd/1";
  /** Identification of the run (checked on resume). */
  seed: number;
  D: number;
  K: number;
  totalSteps: number;
  steps: number;
  /** Index of the next log time. */
  li: number;
  trainMs: number;
  wallMs: number;
  W: Float64Array;
  b: Float64Array;
  v: Float64Array;
  /** State of the training stream Rng.stream(seed, 1). */
  rng: number[];
  /** Class samplers' caches as seen by the training stream (Task.saveState). */
  task: unknown[];
  /** Batch mode: the epoch permutation and the position in it. */
  batcher: { perm: Int32Array; pos: number } | null;
  log: LogRow[];
  ipr: Float64Array;
  norms: Float64Array;
  biases: Float64Array;
  secondLayer: Float64Array;
  snapT: number[];
  snapSteps: number[];
  snapW: Float64Array[];
}


/** A fresh Task (fresh sampler caches) for a task configuration. */
export function buildTask(cfg: TaskConfig): Task {
  return twoClassTask(cfg.geometry, cfg.classes[0], cfg.classes[1], cfg.labels);
}

/** Step counts of the log: 0 and `points` log-spaced integers from 1 to `total` (deduplicated). */
export function logSchedule(total: number, points: number): number[] {
  const s = new Set<number>([0]);
  if (total >= 1) {
    const lt = Math.log(total);
    for (let j = 0; j < points; j++) s.add(points === 1 ? total : Math.min(total, Math.max(1, Math.round(Math.exp((lt * j) / (points - 1))))));
    s.add(total);
  }
  return [...s].sort((a, b) => a - b);
}

/** Indices into the log schedule at which weight snapshots are kept. */
export function snapshotIndices(logSteps: readonly number[], spec: number | readonly number[], stepsPerTime: number): number[] {
  const n = logSteps.length;
  const out = new Set<number>();
  if (typeof spec === "number") {
    if (spec <= 0) return [];
    if (spec === 1) out.add(n - 1);
    else for (let j = 0; j < spec; j++) out.add(Math.round((j * (n - 1)) / (spec - 1)));
  } else {
    for (const t of spec) {
      const st = t * stepsPerTime;
      let best = 0;
      for (let i = 1; i < n; i++) if (Math.abs(logSteps[i] - st) < Math.abs(logSteps[best] - st)) best = i;
      out.add(best);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Draw n labelled examples (X n×D, y) from a task. */
export function drawExamples(task: Task, n: number, rng: Rng): { X: Float64Array; y: Float64Array } {
  const { X, y } = task.dataset(n, rng);
  return { X, y };
}

/**
 * Run the simulation.  Asynchronous only so that a long run yields to the event loop every ~50 ms
 * (Ctrl-C handlers can then abort `hooks.signal`); the arithmetic is deterministic and independent
 * of the yielding.
 */
export async function simulate(cfg: SimulationConfig, hooks: SimulationHooks = {}): Promise<SimulationResult> {
  const t0 = performance.now();
  const geom = cfg.task.geometry;
  const D = geometrySize(geom);
  const K = cfg.network.K;
  const tr = cfg.training;
  const labels = labelValues(cfg.task.labels);
  const seed = cfg.seed;

  const net = initNetwork(cfg.network, D, Rng.stream(seed, 0));
  const rngTrain = Rng.stream(seed, 1);
  const test = drawExamples(buildTask(cfg.task), cfg.testSize, Rng.stream(seed, 2));
  const trainTask = buildTask(cfg.task);
  let data: { X: Float64Array; y: Float64Array } | null = null;
  if (tr.mode === "batch") {
    if (!(tr.P !== undefined && tr.P >= 1)) throw new RangeError("batch mode needs a dataset size P ≥ 1");
    data = drawExamples(trainTask, tr.P, Rng.stream(seed, 3));
  }

  const stepper = new SgdStepper(net, {
    lr: tr.lr,
    lrScaling: tr.lrScaling,
    lrSecondLayer: tr.lrSecondLayer,
    lrBias: tr.lrBias,
    weightDecay: tr.weightDecay,
    trainSecondLayer: cfg.network.secondLayer.mode === "trained",
    trainBias: cfg.network.bias.mode === "trained",
  });
  const stepsPerTime = Math.pow(D, tr.lrScaling);
  const B = tr.batchSize;
  const total = tr.steps;
  const sched = logSchedule(total, cfg.logging.points);
  const snapIdx = new Set(snapshotIndices(sched, cfg.logging.snapshots, stepsPerTime));

  const log: LogRow[] = [];
  const iprS: number[] = [], normS: number[] = [], biasS: number[] = [], vS: number[] = [];
  const snapT: number[] = [], snapSteps: number[] = [], snapW: Float64Array[] = [];
  const P = tr.P ?? 0;

  const satCounts = new Float64Array(K);
  /**
   * Log (and maybe snapshot) the state at `steps`.  The evaluations return to the event loop as they
   * go (`evaluateAsync`, the same sums as `evaluate`): on a large test set (Fig. 1: 1.2·10⁵ inputs)
   * one takes seconds, and a Ctrl-C meanwhile — a second one must quit at once — is handled.
   */
  const record = async (steps: number, snapshot: boolean) => {
    satCounts.fill(0);
    const ev = await evaluateAsync(net, test.X, test.y, cfg.testSize, labels, satCounts);
    const evTrain = data ? await evaluateAsync(net, data.X, data.y, P, labels) : { pmse: NaN, accuracy: NaN };
    let sIpr = 0, mx = -Infinity, mn = Infinity, sNorm = 0;
    for (let k = 0; k < K; k++) {
      const q = ipr(net.W, k * D, D);
      let n2 = 0;
      for (let i = 0; i < D; i++) n2 += net.W[k * D + i] ** 2;
      const nm = Math.sqrt(n2);
      iprS.push(q); normS.push(nm); biasS.push(net.b[k]); vS.push(net.v[k]);
      sIpr += q; sNorm += nm;
      if (q > mx) mx = q;
      if (q < mn) mn = q;
    }
    const seen = steps * B;
    log.push({
      t: steps / stepsPerTime,
      steps,
      epoch: data ? seen / P : seen / D,
      pmse: ev.pmse,
      accuracy: ev.accuracy,
      trainPmse: evTrain.pmse,
      trainAccuracy: evTrain.accuracy,
      meanIpr: sIpr / K,
      maxIpr: mx,
      minIpr: mn,
      meanNorm: sNorm / K,
      saturated: saturationFraction(net.activation, satCounts, cfg.testSize),
    });
    if (snapshot) {
      snapT.push(steps / stepsPerTime);
      snapSteps.push(steps);
      snapW.push(net.W.slice());
    }
    return ev;
  };

  // Buffers for online learning.
  const xb = new Float64Array(B * D);
  const yb = new Float64Array(B);
  const ident = Int32Array.from({ length: B }, (_, i) => i);
  const xb2 = new Float64Array(B === 1 ? D : 0);
  const labs = trainTask.labels;
  const draw = (x: Float64Array) => labs[trainTask.sample(x, rngTrain)];
  const batcher = data ? new EpochBatcher(P, B, rngTrain) : null;

  let steps = 0;
  let trainMs = 0;
  let wallBefore = 0;
  let status: "done" | "interrupted" | "diverged" = "done";
  let divergence: string | undefined;
  const maxGrowth = (tr.divergence ?? DEFAULT_DIVERGENCE).maxGrowth;
  const W0 = net.W.slice(), b0 = net.b.slice(), v0 = net.v.slice();
  const labelScale = Math.max(Math.abs(labels[0]), Math.abs(labels[1]), 1e-300);
  const maxPmse = maxGrowth * labelScale * labelScale;
  const fmt = (x: number) => x.toExponential(2);
  /** The runaway check of DivergenceConfig at `steps` (null: healthy). */
  const runaway = (steps: number): string | null => {
    const at = `diverged at t = ${(steps / stepsPerTime).toPrecision(4)} (step ${steps})`;
    const hint = "reduce model.training.lr";
    const w = runawayIndex(net.W, W0, D, maxGrowth);
    if (w) return `${at}: |w_${w.k}| = ${fmt(w.norm)} > ${fmt(maxGrowth)}·max(1, |w_${w.k}(0)|) = ${fmt(w.limit)}; ${hint}`;
    const b = runawayIndex(net.b, b0, 1, maxGrowth);
    if (b) return `${at}: |b_${b.k}| = ${fmt(b.norm)} > ${fmt(b.limit)}; ${hint}`;
    const v = runawayIndex(net.v, v0, 1, maxGrowth);
    if (v) return `${at}: |v_${v.k}| = ${fmt(v.norm)} > ${fmt(v.limit)}; ${hint}`;
    return null;
  };
  let li = 0;
  let last: { pmse: number; accuracy: number };

  const store = hooks.store;
  const everyMs = 1000 * (hooks.checkpointSeconds ?? DEFAULT_CHECKPOINT_SECONDS);
  const saved = store?.get<SgdCheckpoint>(SGD_CHECKPOINT_KEY);
  if (saved !== undefined) {
    if (saved.format !== "rfdyn-sgd/1" || saved.seed !== seed || saved.D !== D || saved.K !== K || saved.totalSteps !== total) {
      throw new Error(`checkpoint "${SGD_CHECKPOINT_KEY}" does not belong to this run (seed, D, K or steps differ)`);
    }
    steps = saved.steps;
    li = saved.li;
    trainMs = saved.trainMs;
    wallBefore = saved.wallMs;
    net.W.set(saved.W);
    net.b.set(saved.b);
    net.v.set(saved.v);
    rngTrain.setState(saved.rng);
    trainTask.restoreState(saved.task, rngTrain);
    if (batcher) {
      if (!saved.batcher) throw new Error(`checkpoint "${SGD_CHECKPOINT_KEY}" has no batcher state`);
      batcher.restoreState(saved.batcher);
    }
    // (Loops, not push(...a): spreading a long array overflows the argument limit.)
    const append = <T>(to: T[], from: ArrayLike<T>) => { for (let i = 0; i < from.length; i++) to.push(from[i]); };
    append(log, saved.log);
    append(iprS, saved.ipr); append(normS, saved.norms); append(biasS, saved.biases); append(vS, saved.secondLayer);
    append(snapT, saved.snapT); append(snapSteps, saved.snapSteps); append(snapW, saved.snapW);
    const row = log[log.length - 1];
    last = { pmse: row.pmse, accuracy: row.accuracy };
  } else {
    last = await record(0, snapIdx.has(0));
    li = 1;
  }
  let lastCheckpoint = performance.now();
  const checkpoint = () => {
    if (!store) return;
    const ck: SgdCheckpoint = {
      format: "rfdyn-sgd/1", seed, D, K, totalSteps: total,
      steps, li, trainMs, wallMs: wallBefore + (performance.now() - t0),
      W: net.W.slice(), b: net.b.slice(), v: net.v.slice(),
      rng: rngTrain.getState(),
      task: trainTask.saveState(rngTrain),
      batcher: batcher ? batcher.saveState() : null,
      log: log.slice(),
      ipr: Float64Array.from(iprS), norms: Float64Array.from(normS), biases: Float64Array.from(biasS), secondLayer: Float64Array.from(vS),
      snapT: snapT.slice(), snapSteps: snapSteps.slice(), snapW: snapW.slice(),
    };
    store.put(SGD_CHECKPOINT_KEY, ck);
    lastCheckpoint = performance.now();
  };
  const CHUNK = 2048;
  let lastYield = performance.now();
  let lastReport = 0;
  outer: while (steps < total) {
    const target = Math.min(sched[li], steps + CHUNK);
    const ts = performance.now();
    if (data && batcher) {
      const X = data.X, y = data.y;
      for (; steps < target; steps++) {
        const { start, count } = batcher.next();
        if (count === 1) {
          const r = batcher.perm[start];
          stepper.stepSample(X, r * D, y[r]);
        } else stepper.stepBatch(X, y, batcher.perm, start, count);
      }
    } else if (B === 1) {
      stepper.runOnline(target - steps, draw, xb, xb2);
      steps = target;
    } else {
      const lab = trainTask.labels;
      for (; steps < target; steps++) {
        for (let m = 0; m < B; m++) yb[m] = lab[trainTask.sample(xb.subarray(m * D, (m + 1) * D), rngTrain)];
        stepper.stepBatch(xb, yb, ident, 0, B);
      }
    }
    trainMs += performance.now() - ts;
    // Runaway or NaN/∞ weights (NaN spreads to every weight within a step or two): stop now rather
    // than at the next log time, and log the state reached.
    const bad = runaway(steps);
    if (bad !== null) {
      if (log[log.length - 1].steps !== steps) last = await record(steps, snapIdx.size > 0);
      status = "diverged";
      divergence = bad;
      break outer;
    }
    if (steps === sched[li]) {
      last = await record(steps, snapIdx.has(li));
      li++;
      if (!(last.pmse <= maxPmse) || !Number.isFinite(log[log.length - 1].meanNorm)) {
        status = "diverged";
        divergence = `diverged at t = ${(steps / stepsPerTime).toPrecision(4)} (step ${steps}): test pmse = ${fmt(last.pmse)} > ${fmt(maxGrowth)}·(max |label|)² = ${fmt(maxPmse)}; reduce model.training.lr`;
        break outer;
      }
    }
    if (hooks.onProgress && (steps === total || performance.now() - lastReport > 100)) {
      lastReport = performance.now();
      hooks.onProgress({ done: steps, total, unit: "steps", t: steps / stepsPerTime, metrics: { pmse: last.pmse, accuracy: last.accuracy } });
    }
    if (performance.now() - lastYield > 50) {
      await new Promise<void>((r) => setImmediate(r));
      lastYield = performance.now();
    }
    if (hooks.signal?.aborted && steps < total) {
      // Save the state reached (before the partial log row below) so a resumed run continues here.
      checkpoint();
      status = "interrupted";
      break outer;
    }
    if (store && steps < total && performance.now() - lastCheckpoint >= everyMs) checkpoint();
  }
  if (status === "interrupted" && log[log.length - 1].steps !== steps) {
    // Log the state reached, and keep it as the last snapshot if snapshots were requested.
    await record(steps, snapIdx.size > 0);
  }

  const trainTime = trainMs / 1000;
  return {
    status,
    ...(divergence !== undefined ? { divergence } : {}),
    D,
    K,
    totalSteps: total,
    steps,
    log,
    ipr: Float64Array.from(iprS),
    norms: Float64Array.from(normS),
    biases: Float64Array.from(biasS),
    secondLayer: Float64Array.from(vS),
    snapshots: { t: snapT, steps: snapSteps, W: concat(snapW) },
    net,
    wallTime: (wallBefore + performance.now() - t0) / 1000,
    trainTime,
    stepsPerSecond: trainTime > 0 ? steps / trainTime : NaN,
  };
}

function concat(parts: Float64Array[]): Float64Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
