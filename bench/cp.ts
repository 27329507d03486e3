/**
 * CP decomposition benchmarks (src/cp): the implicit loss + gradient of the sample 4th cumulant at
 * D = 100, P = 10⁴, r = 20 (the hot kernel: one fused pass computing Y = X Uᵀ and (Y∘Y∘Y)ᵀ X), and a
 * full decomposition (one restart, reduced/L-BFGS) of an NLGP class (g = 3, ξ = 5) at the same size.
 *
 * Flops are counted explicitly (`ImplicitCumulantLoss.flopsPerEval`: 4·P·D·r for the two products,
 * 2·r·D² for C·u_a, O(r²D) for the factor-factor terms; a multiply-add is 2 flops).  Times are CPU
 * seconds of this single-threaded process (the throughput of one core, robust to other load).
 * The full decomposition runs through `decomposeAsync` (what `rfdyn run` uses: it returns to the
 * event loop every ~40 ms so that Ctrl-C is seen), so its figure includes that overhead.
 * Target: ≥ 1 GFLOP/s for the kernel.
 */
import type { Benchmark } from "./run.js";
import { ImplicitCumulantLoss } from "../src/cp/loss.js";
import { decomposeAsync, type CpDecomposition } from "../src/cp/decompose.js";
import { sampleClass } from "../src/cp/analyse.js";
import { Rng } from "../src/stats/rng.js";
import { kernelBackend, setKernelBackend, simdAvailable, type KernelBackend } from "../src/kernels/index.js";

const D = 100, P = 10_000, R = 20;

let cached: { X: Float64Array; loss: ImplicitCumulantLoss; theta: Float64Array } | null = null;
function setup() {
  if (cached) return cached;
  const X = sampleClass({ dim: 1, L: D }, { kind: "nlgp", xi: 5, gain: 3 }, P, new Rng(1));
  const loss = new ImplicitCumulantLoss(X, P, D, R);
  const rng = new Rng(2);
  const theta = new Float64Array(loss.n);
  for (let k = 0; k < theta.length; k++) theta[k] = rng.normal() / Math.sqrt(D);
  cached = { X, loss, theta };
  return cached;
}

function cpuSeconds(body: () => void): number {
  const c0 = process.cpuUsage();
  body();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/** Mean CPU seconds of one loss+gradient evaluation (≥ 2 s of measurement after warm-up). */
function evalSeconds(): number {
  const { loss, theta } = setup();
  const g = new Float64Array(loss.n);
  for (let k = 0; k < 3; k++) loss.fg(theta, g);
  let n = 0, t = 0;
  while (t < 2) {
    t += cpuSeconds(() => { for (let k = 0; k < 5; k++) loss.fg(theta, g); });
    n += 5;
  }
  return t / n;
}

let decomp: { seconds: number; evals: number; iterations: number } | null = null;
async function fullDecomposition() {
  if (decomp) return decomp;
  const { X } = setup();
  const loss = new ImplicitCumulantLoss(X, P, D, R);
  const c0 = process.cpuUsage();
  const res: CpDecomposition = await decomposeAsync(loss, { restarts: 1, seed: 1, maxIter: 5000 });
  const c = process.cpuUsage(c0);
  decomp = { seconds: (c.user + c.system) / 1e6, evals: loss.evaluations, iterations: res.restarts[0].iterations };
  return decomp;
}

/** Seconds per loss+gradient on each kernel backend, measured alternately (best of 3 rounds of ≥ 0.5 s). */
let perBackend: Record<KernelBackend, number> | null = null;
function evalSecondsPerBackend(): Record<KernelBackend, number> {
  if (perBackend) return perBackend;
  const { loss, theta } = setup();
  const g = new Float64Array(loss.n);
  const best: Record<KernelBackend, number> = { ts: Infinity, "wasm-simd": simdAvailable() ? Infinity : NaN };
  const prev = setKernelBackend("ts");
  try {
    for (let round = 0; round < 3; round++) {
      for (const b of (simdAvailable() ? ["ts", "wasm-simd"] : ["ts"]) as KernelBackend[]) {
        setKernelBackend(b);
        loss.fg(theta, g);
        let n = 0, t = 0;
        while (t < 0.5) { t += cpuSeconds(() => loss.fg(theta, g)); n++; }
        best[b] = Math.min(best[b], t / n);
      }
    }
  } finally {
    setKernelBackend(prev);
  }
  return (perBackend = best);
}

export const benchmarks: Benchmark[] = [
  { name: "cp loss+grad D=100 P=1e4 r=20: time [ts]", unit: "ms", higherIsBetter: false, run: () => 1e3 * evalSecondsPerBackend().ts },
  { name: "cp loss+grad D=100 P=1e4 r=20: time [wasm-simd]", unit: "ms", higherIsBetter: false, run: () => 1e3 * evalSecondsPerBackend()["wasm-simd"] },
  { name: "cp loss+grad D=100 P=1e4 r=20: throughput [ts]", unit: "GFLOP/s", run: () => setup().loss.flopsPerEval() / evalSecondsPerBackend().ts / 1e9 },
  { name: "cp loss+grad D=100 P=1e4 r=20: throughput [wasm-simd]", unit: "GFLOP/s", run: () => setup().loss.flopsPerEval() / evalSecondsPerBackend()["wasm-simd"] / 1e9 },
  { name: `cp loss+grad D=100 P=1e4 r=20: time (default backend, ${kernelBackend()})`, unit: "ms", higherIsBetter: false, run: () => 1e3 * evalSeconds() },
  { name: "cp loss+grad D=100 P=1e4 r=20: throughput", unit: "GFLOP/s", target: 1, run: () => setup().loss.flopsPerEval() / evalSeconds() / 1e9 },
  { name: "cp decomposition D=100 P=1e4 r=20 (1 restart): time", unit: "s", higherIsBetter: false, run: async () => (await fullDecomposition()).seconds },
  { name: "cp decomposition: L-BFGS iterations", unit: "iterations", higherIsBetter: false, run: async () => (await fullDecomposition()).iterations },
  { name: "cp decomposition: throughput", unit: "GFLOP/s", target: 1, run: async () => { const d = await fullDecomposition(); return (d.evals * setup().loss.flopsPerEval()) / d.seconds / 1e9; } },
];

/** Rows {name, value, unit, target?} (for callers that want the figures without the runner). */
export async function bench(): Promise<{ name: string; value: number; unit: string; target?: number }[]> {
  const rows = [];
  for (const b of benchmarks) rows.push({ name: b.name, value: await b.run(), unit: b.unit, ...(b.target !== undefined ? { target: b.target } : {}) });
  return rows;
}
