/**
 * Kernel throughput (src/kernels) against this core's peaks (arithmetic and, for the flow row pass, loads), per backend.
 *
 * Peaks are estimated with multiply–add microkernels (12 independent chains of a ← a·m + c, 2 flops
 * each, enough to cover the mul and add latencies): scalar JS (what the TS kernels can reach at best)
 * and WebAssembly f64x2 (two lanes; wasm SIMD has no fused multiply–add, so mul and add are separate
 * instructions).  Kernels, each timed for the TS reference and the wasm-SIMD backend alternately in
 * the same process (best of the rounds, CPU seconds of this single thread):
 *   - flow row pass  out += Σ (c2 λ + c4 λ³) x,  λ = Xw   (D = 100, P = 10⁴; 4·P·D flops)
 *   - CP sample pass: loss + gradient, D = 100, P = 10⁴, r = 20 (`ImplicitCumulantLoss.flopsPerEval`)
 *   - secondMoment (weighted SYRK, X ᵀX) at D = 1600 on P = 1000 samples (P·D·(D+1) flops; linear in P,
 *     so the time at P = 1.6·10⁵ is 160× the figure)
 *   - GEMM 256³ (2·256³ flops)
 *   - GEMV 8×400 with a fresh matrix per call: the online-SGD matvec (K = 8, D = 400) — the operands
 *     must be copied into wasm memory each call, so this shows whether SGD should call wasm.
 * Both backends give bit-identical results (test/kernels.test.ts), so only time differs.
 */
import type { Benchmark } from "./run.js";
import { gemm, gemv, kernelBackend, setKernelBackend, simdAvailable, type KernelBackend } from "../src/kernels/index.js";
import { wasmKernels, type WasmKernels } from "../src/kernels/wasm.js";
import { RowFn, fusedRowPass } from "../src/theory/single-neuron.js";
import { ImplicitCumulantLoss, secondMoment } from "../src/cp/loss.js";
import { Rng } from "../src/stats/rng.js";

function cpu(body: () => void): number {
  const c0 = process.cpuUsage();
  body();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/** Seconds per call of `body`: repeats until ≥ minSec, best of `rounds`. */
function perCall(body: () => void, minSec: number, rounds = 3): number {
  body();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    let n = 0, t = 0;
    while (t < minSec) { t += cpu(body); n++; }
    best = Math.min(best, t / n);
  }
  return best;
}

/** Scalar JS multiply–add peak (GFLOP/s): 12 chains, 24 flops per round. */
function scalarPeak(): number {
  const run = (iters: number, x: number): number => {
    let a0 = x, a1 = x + 1, a2 = x + 2, a3 = x + 3, a4 = x + 4, a5 = x + 5, a6 = x + 6, a7 = x + 7, a8 = x + 8, a9 = x + 9, a10 = x + 10, a11 = x + 11;
    const m = 0.9999999, c = 1e-9;
    for (let k = 0; k < iters; k++) {
      a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c;
      a6 = a6 * m + c; a7 = a7 * m + c; a8 = a8 * m + c; a9 = a9 * m + c; a10 = a10 * m + c; a11 = a11 * m + c;
    }
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  };
  const iters = 2e7;
  let sink = 0;
  const s = perCall(() => { sink += run(iters, 0.5); }, 0.5);
  if (sink === 42) console.log(sink);
  return (24 * iters) / s / 1e9;
}

/** Operations per second (G/s) of a wasm microkernel run for `iters` rounds of `perRound`; NaN without wasm. */
function wasmRate(run: (wk: WasmKernels, iters: number) => void, iters: number, perRound: number): number {
  const wk = wasmKernels();
  if (!wk) return NaN;
  const s = perCall(() => { run(wk, iters); }, 0.5);
  return (perRound * iters) / s / 1e9;
}

/** WebAssembly f64x2 multiply–add peak (GFLOP/s): 48 flops per round. */
const simdPeak = () => wasmRate((wk, n) => wk.peakSimd(n), 1e7, 48);

/** WebAssembly v128 loads per second (G/s): eight L1-resident loads per round. */
const loadPeak = () => wasmRate((wk, n) => wk.peakLoads(n), 2e7, 8);

/**
 * The flow row pass's pipelined loop (wasm/kernels.ts rowPassD) issues, per 4 rows × 4 columns
 * (64 flops), 22 v128 loads: 16 of x (each entry once for its dot product, once for the update),
 * 4 of w (the next block's dot products run in two loops of two rows: four rows' eight accumulators,
 * w and the update's temporaries would not fit V8's 16 xmm registers) and 2 of out (+ 2 stores).
 * With 16 multiplies and 16 adds on two pipes each it is bound by the loads, not by the arithmetic:
 * bound = loads/s × 64 / 22.
 */
const ROW_PASS_FLOPS_PER_LOAD = 64 / 22;

type Pair = Record<KernelBackend, number>;
const cache = new Map<string, Pair>();

/** Seconds per call on each backend, measured alternately (ts, wasm, ts, wasm, …). */
function interleaved(key: string, body: () => void, minSec: number, rounds = 3): Pair {
  const hit = cache.get(key);
  if (hit) return hit;
  const best: Pair = { ts: Infinity, "wasm-simd": Infinity };
  const backends: KernelBackend[] = simdAvailable() ? ["ts", "wasm-simd"] : ["ts"];
  const prev = setKernelBackend("ts");
  try {
    for (let r = 0; r < rounds; r++) {
      for (const b of backends) {
        setKernelBackend(b);
        best[b] = Math.min(best[b], perCall(body, minSec, 1));
      }
    }
  } finally {
    setKernelBackend(prev);
  }
  if (!simdAvailable()) best["wasm-simd"] = NaN;
  cache.set(key, best);
  return best;
}

const rng = new Rng(7);
function normals(n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  rng.fillNormal(a, scale);
  return a;
}

// Workloads (built lazily).
let flowData: { X: Float64Array; w: Float64Array; out: Float64Array } | null = null;
const FD = 100, FP = 10_000;
function flowPass(): Pair {
  flowData ??= { X: normals(FP * FD), w: normals(FD, 1 / Math.sqrt(FD)), out: new Float64Array(FD) };
  const { X, w, out } = flowData;
  return interleaved("flow", () => { fusedRowPass(X, FP, FD, w, out, RowFn.Cubic, 0.3, 0.1); }, 0.3);
}

let cpData: { loss: ImplicitCumulantLoss; theta: Float64Array; g: Float64Array } | null = null;
function cpPass(): Pair {
  if (!cpData) {
    const X = normals(FP * FD);
    const loss = new ImplicitCumulantLoss(X, FP, FD, 20);
    cpData = { loss, theta: normals(loss.n, 0.1), g: new Float64Array(loss.n) };
  }
  const { loss, theta, g } = cpData;
  return interleaved("cp", () => { loss.fg(theta, g); }, 0.5);
}

const SD = 1600, SP = 1000;
let smX: Float64Array | null = null;
function syrk(): Pair {
  smX ??= normals(SP * SD);
  const X = smX;
  return interleaved("syrk", () => { secondMoment(X, SP, SD); }, 0.1, 2);
}

const GN = 256;
let gm: { A: Float64Array; B: Float64Array; C: Float64Array } | null = null;
function gemmPair(): Pair {
  gm ??= { A: normals(GN * GN), B: normals(GN * GN), C: new Float64Array(GN * GN) };
  const { A, B, C } = gm;
  return interleaved("gemm", () => { gemm(false, false, GN, GN, GN, 1, A, B, 0, C); }, 0.3);
}

const K = 8, VD = 400;
let gv: { Ws: Float64Array[]; x: Float64Array; y: Float64Array } | null = null;
function gemvPair(): Pair {
  gv ??= { Ws: Array.from({ length: 64 }, () => normals(K * VD)), x: normals(VD), y: new Float64Array(K) };
  const { Ws, x, y } = gv;
  let k = 0;
  // A different matrix object each call, as in SGD (the weights change every step).  The wasm side
  // calls the SIMD kernel directly: \`gemv\` itself keeps calls this small (< 4096 multiply–adds) in TS.
  const wk = wasmKernels();
  return interleaved("gemv", () => {
    if (kernelBackend() === "wasm-simd" && wk) for (let r = 0; r < 1000; r++) wk.gemv(false, K, VD, 1, Ws[k++ & 63], x, 0, y);
    else for (let r = 0; r < 1000; r++) gemv(false, K, VD, 1, Ws[k++ & 63], x, 0, y);
  }, 0.2);
}

const FLOPS = {
  flow: 4 * FP * FD,
  cp: () => cpData!.loss.flopsPerEval(),
  syrk: SP * SD * (SD + 1),
  gemm: 2 * GN ** 3,
  gemv: 1000 * 2 * K * VD,
};

let peaks: { scalar: number; simd: number; loads: number } | null = null;
function getPeaks() {
  return (peaks ??= { scalar: scalarPeak(), simd: simdPeak(), loads: loadPeak() });
}

function rows(label: string, pair: () => Pair, flops: () => number, unitTime: "ms" | "µs" = "ms"): Benchmark[] {
  const f = unitTime === "ms" ? 1e3 : 1e6;
  return [
    { name: `${label} [ts]: time`, unit: unitTime, higherIsBetter: false, run: () => f * pair().ts },
    { name: `${label} [wasm-simd]: time`, unit: unitTime, higherIsBetter: false, run: () => f * pair()["wasm-simd"] },
    { name: `${label} [ts]: throughput`, unit: "GFLOP/s", run: () => flops() / pair().ts / 1e9 },
    { name: `${label} [wasm-simd]: throughput`, unit: "GFLOP/s", run: () => flops() / pair()["wasm-simd"] / 1e9 },
    { name: `${label}: wasm-simd speed-up`, unit: "×", run: () => pair().ts / pair()["wasm-simd"] },
  ];
}

export const benchmarks: Benchmark[] = [
  { name: "kernels: scalar JS multiply–add peak (one core)", unit: "GFLOP/s", run: () => getPeaks().scalar },
  { name: "kernels: wasm f64x2 multiply–add peak (one core)", unit: "GFLOP/s", run: () => getPeaks().simd },
  { name: "kernels: wasm v128 loads, L1-resident (one core)", unit: "G/s", run: () => getPeaks().loads },
  ...rows("kernels: flow row pass D=100 P=1e4", flowPass, () => FLOPS.flow),
  { name: "kernels: flow row pass D=100: load-port bound (22 loads per 64 flops)", unit: "GFLOP/s", run: () => getPeaks().loads * ROW_PASS_FLOPS_PER_LOAD },
  {
    name: "kernels: flow row pass D=100 [wasm-simd]: fraction of the load-port bound", unit: "×",
    run: () => FLOPS.flow / flowPass()["wasm-simd"] / 1e9 / (getPeaks().loads * ROW_PASS_FLOPS_PER_LOAD),
  },
  ...rows("kernels: cp loss+grad D=100 P=1e4 r=20", cpPass, () => FLOPS.cp()),
  ...rows("kernels: secondMoment D=1600 P=1000", syrk, () => FLOPS.syrk),
  { name: "kernels: secondMoment D=1600 P=1.6e5 (×160) [wasm-simd]", unit: "s", higherIsBetter: false, run: () => 160 * syrk()["wasm-simd"] },
  ...rows("kernels: gemm 256³", gemmPair, () => FLOPS.gemm),
  ...rows("kernels: gemv 8×400 ×1000 (SGD matvec, fresh W)", gemvPair, () => FLOPS.gemv),
];

/** Stand-alone: `npx tsx bench/kernels.ts`. */
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const b of benchmarks) {
    const v = await b.run();
    console.log(`${b.name}: ${v.toPrecision(4)} ${b.unit}`);
  }
}
