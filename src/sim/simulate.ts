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
 */
import { Rng } from "../stats/rng.js";
import { geometrySize, type Geometry } from "../data/kernels.js";
import { twoClassTask, type ClassSpec, type Task } from "../data/task.js";
import { ipr } from "../analysis/ipr.js";
import { evaluate, initNetwork, type Network, type NetworkConfig } from "./network.js";
import { EpochBatcher, SgdStepper } from "./sgd.js";
import type { RunHooks } from "../run/hooks.js";

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
}

export interface SimulationResult {
  /** "diverged": the weights or the test error became non-finite (run stopped at that log time). */
  status: "done" | "interrupted" | "diverged";
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

/** Progress is reported in steps, with the model time and the last logged test pmse and accuracy. */
export type SimulationHooks = RunHooks;

/** Label values [label of class 0, label of class 1]. */
export function labelValues(labels: "pm1" | "01"): [number, number] {
  return labels === "pm1" ? [-1, 1] : [0, 1];
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

  const record = (steps: number, snapshot: boolean) => {
    const ev = evaluate(net, test.X, test.y, cfg.testSize, labels);
    const evTrain = data ? evaluate(net, data.X, data.y, P, labels) : { pmse: NaN, accuracy: NaN };
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
  let status: "done" | "interrupted" | "diverged" = "done";
  let li = 0;
  let last = record(0, snapIdx.has(0));
  li = 1;
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
    if (!Number.isFinite(net.W[0] + net.W[net.W.length - 1] + net.b[0] + net.v[0])) {
      // NaN/∞ spreads to every weight within a step or two: stop now rather than at the next log time.
      last = record(steps, snapIdx.size > 0);
      status = "diverged";
      break outer;
    }
    if (steps === sched[li]) {
      last = record(steps, snapIdx.has(li));
      li++;
      if (!Number.isFinite(last.pmse) || !Number.isFinite(log[log.length - 1].meanNorm)) {
        status = "diverged";
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
      status = "interrupted";
      break outer;
    }
  }
  if (status === "interrupted" && log[log.length - 1].steps !== steps) {
    // Log the state reached, and keep it as the last snapshot if snapshots were requested.
    record(steps, snapIdx.size > 0);
  }

  const trainTime = trainMs / 1000;
  return {
    status,
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
    wallTime: (performance.now() - t0) / 1000,
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
