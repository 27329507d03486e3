/**
 * Online SGD throughput of the simulator's hot loop: D = 400 (1D ring), K = 8 erf neurons, v = 1/K,
 * trained biases, NLGP inputs (ξ = (8, 16), g = 3) sampled on the fly (FFT sampler, two samples per
 * transform), one thread, timed in CPU seconds of the process (one core's throughput, robust to
 * other load on the machine).  Target: ≥ 30 000 steps/s on one core.  Also reported separately: the
 * sampler alone and the fused forward/backward step alone.
 */
import type { Benchmark } from "./run.js";
import { Rng } from "../src/stats/rng.js";
import { initNetwork } from "../src/sim/network.js";
import { SgdStepper } from "../src/sim/sgd.js";
import { buildTask } from "../src/sim/simulate.js";

const D = 400, K = 8;
const task = () => buildTask({ geometry: { dim: 1, L: D }, classes: [{ kind: "nlgp", xi: 8, gain: 3 }, { kind: "nlgp", xi: 16, gain: 3 }], labels: "pm1" });
const net = () => initNetwork({ K, activation: "erf", secondLayer: { mode: "fixed" }, bias: { mode: "trained", value: 1, pattern: "split" }, initScale: 0.1 }, D, new Rng(1));

/** Wall-clock variant of `rate` (affected by other load on the machine). */
function wallRate(body: (n: number) => void, seconds = 3): number {
  body(20_000);
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    body(5000);
    n += 5000;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

/**
 * Run `body(n)` for ≥ `seconds` of CPU time after a warm-up; returns iterations per CPU second of
 * this (single-threaded) process, i.e. the throughput of one core even on a loaded machine.
 */
function rate(body: (n: number) => void, seconds = 3): number {
  body(20_000);
  let n = 0;
  const c0 = process.cpuUsage();
  let used = 0;
  while (used < seconds * 1e6) {
    body(5000);
    n += 5000;
    const c = process.cpuUsage(c0);
    used = c.user + c.system;
  }
  return n / (used / 1e6);
}

export const benchmarks: Benchmark[] = [
  {
    name: "sgd online D=400 K=8 erf NLGP (sampling included)",
    unit: "steps/CPU-s",
    target: 30_000,
    run: () => {
      const tk = task(), nt = net(), rng = new Rng(2), x = new Float64Array(D);
      const st = new SgdStepper(nt, { lr: 0.8, lrScaling: 1, weightDecay: 0, trainSecondLayer: false, trainBias: true });
      const lab = tk.labels, x2 = new Float64Array(D);
      const draw = (xx: Float64Array) => lab[tk.sample(xx, rng)];
      // The simulator's online loop (runOnline: update fused with the next forward pass).
      return rate((n) => st.runOnline(n, draw, x, x2));
    },
  },
  {
    name: "sgd online D=400 K=8 erf NLGP, wall clock",
    unit: "steps/s",
    run: () => {
      const tk = task(), nt = net(), rng = new Rng(2), x = new Float64Array(D), x2 = new Float64Array(D);
      const st = new SgdStepper(nt, { lr: 0.8, lrScaling: 1, weightDecay: 0, trainSecondLayer: false, trainBias: true });
      const lab = tk.labels;
      const draw = (xx: Float64Array) => lab[tk.sample(xx, rng)];
      return wallRate((n) => st.runOnline(n, draw, x, x2));
    },
  },
  {
    name: "nlgp sampler D=400 (two-class task)",
    unit: "samples/CPU-s",
    run: () => {
      const tk = task(), rng = new Rng(3), x = new Float64Array(D);
      return rate((n) => { for (let s = 0; s < n; s++) tk.sample(x, rng); });
    },
  },
  {
    name: "sgd step only D=400 K=8 erf (fixed inputs, fused loop)",
    unit: "steps/CPU-s",
    run: () => {
      const nt = net(), x = new Rng(4).fillNormal(new Float64Array(D)), x2 = x.slice(), xs = x.slice();
      const st = new SgdStepper(nt, { lr: 1e-6, lrScaling: 1, weightDecay: 0, trainSecondLayer: false, trainBias: true });
      let c = 0;
      const draw = (xx: Float64Array) => { xx.set(xs); return (c++ & 1) === 0 ? 1 : -1; };
      return rate((n) => st.runOnline(n, draw, x, x2));
    },
  },
];
