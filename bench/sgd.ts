/**
 * Online SGD throughput of the simulator's hot loop: D = 400 (1D ring), K = 8 erf neurons, v = 1/K,
 * trained biases, NLGP inputs (ξ = (8, 16), g = 3) sampled on the fly (FFT sampler, two samples per
 * transform), one thread, timed in CPU seconds of the process (one core's throughput, robust to
 * other load on the machine).  Also reported separately: the sampler alone and the fused
 * forward/backward step alone.
 *
 * `runPeerWorkload(steps)` runs exactly the workload of ../shared/peers/sgd_numpy.py (biases ±1 and
 * v = 1/K fixed, W step η/D with η = 0.05, W(0) ~ N(0, 1/D), labels ±1, one fresh sample per step) and
 * returns steps/s; the "vs numpy" benchmark runs the peer and it alternately (3 times each, one
 * thread, both timed in CPU seconds) and reports the median ratio rfdyn ÷ numpy (target ≥ 5).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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

/** CPU seconds (user + system) of this process spent in `f`. */
function cpuSeconds(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/**
 * The workload of sgd_numpy.py, ready to run: `run(steps, clock)` performs `steps` online SGD steps
 * (sampling included) and returns steps per second of the chosen clock ("cpu": CPU seconds of this
 * process, robust to time-slicing on a loaded machine; "wall": elapsed time, as the peer prints).
 */
export function makePeerWorkload(seed = 1): { run: (steps: number, clock?: "cpu" | "wall") => number } {
  const D = 400, K = 8;
  const tk = task();
  const nt = initNetwork({ K, activation: "erf", secondLayer: { mode: "fixed" }, bias: { mode: "fixed", value: 1, pattern: "split" }, initScale: 1 }, D, new Rng(seed));
  const st = new SgdStepper(nt, { lr: 0.05, lrScaling: 1, weightDecay: 0, trainSecondLayer: false, trainBias: false });
  const rng = new Rng(seed + 1), x = new Float64Array(D), x2 = new Float64Array(D), lab = tk.labels;
  const draw = (xx: Float64Array) => lab[tk.sample(xx, rng)];
  return {
    run(steps, clock = "cpu") {
      if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps must be an integer ≥ 1 (got ${steps})`);
      if (clock === "cpu") return steps / cpuSeconds(() => st.runOnline(steps, draw, x, x2));
      const t0 = performance.now();
      st.runOnline(steps, draw, x, x2);
      return steps / ((performance.now() - t0) / 1000);
    },
  };
}

/** `steps` steps of the sgd_numpy.py workload after a 10 000-step warm-up; returns steps/s (CPU seconds by default). */
export function runPeerWorkload(steps: number, clock: "cpu" | "wall" = "cpu"): number {
  const w = makePeerWorkload();
  w.run(10_000, clock);
  return w.run(steps, clock);
}

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/peers beside the repository (bench/ from source, dist/bench/ compiled), or RFDYN_PEERS_DIR. */
function peersDir(): string {
  if (process.env.RFDYN_PEERS_DIR) return resolve(process.env.RFDYN_PEERS_DIR);
  const root = existsSync(join(here, "..", "package.json")) ? resolve(here, "..") : resolve(here, "..", "..");
  return resolve(root, "..", "shared", "peers");
}

/**
 * sgd_numpy.py 400 `steps`, one thread, its timer replaced by time.process_time (CPU seconds, like
 * ours); steps/s, or a reason why the peer cannot run.
 */
function runNumpyPeer(steps: number): number | string {
  const script = join(peersDir(), "sgd_numpy.py");
  if (!existsSync(script)) return `peer script not found: ${script} (set RFDYN_PEERS_DIR)`;
  const wrapper = "import runpy, sys, time; time.perf_counter = time.process_time; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')";
  const env = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const r = spawnSync("python3", ["-c", wrapper, script, "400", String(steps)], { encoding: "utf8", env });
  if (r.error) return `python3 not available (${r.error.message})`;
  if (r.status !== 0) return `sgd_numpy.py failed: ${(r.stderr || "").trim().split("\n").pop()}`;
  const m = /numpy steps\/s (\d+(?:\.\d+)?)/.exec(r.stdout);
  return m ? Number(m[1]) : `unexpected peer output: ${r.stdout.trim()}`;
}

const median = (a: number[]) => { const s = [...a].sort((p, q) => p - q); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

export const benchmarks: Benchmark[] = [
  {
    name: "sgd vs numpy peer (sgd_numpy.py workload, CPU-s both sides, 3 interleaved runs): median ratio",
    unit: "× numpy",
    target: 5,
    run: () => {
      const w = makePeerWorkload();
      w.run(10_000);
      const ratios: number[] = [];
      for (let k = 0; k < 3; k++) {
        const peer = runNumpyPeer(20_000);
        if (typeof peer === "string") {
          process.stderr.write(`bench: SKIPPED the numpy peer: ${peer}\n`);
          return NaN;
        }
        const ours = w.run(60_000);
        ratios.push(ours / peer);
        process.stderr.write(`bench:   run ${k + 1}: rfdyn ${Math.round(ours)} steps/CPU-s, numpy ${Math.round(peer)} steps/CPU-s, ratio ${(ours / peer).toFixed(2)}\n`);
      }
      return median(ratios);
    },
  },
  {
    name: "sgd online, sgd_numpy.py workload (fixed biases, η = 0.05)",
    unit: "steps/CPU-s",
    run: () => runPeerWorkload(60_000),
  },
  {
    name: "sgd online D=400 K=8 erf NLGP (sampling included)",
    unit: "steps/CPU-s",
    target: 120_000,
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
