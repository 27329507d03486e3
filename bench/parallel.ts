/**
 * Data-parallel kernels over samples (issue 12, src/kernels/parallel.ts): speed-up of -j 2 over
 * -j 1 for
 *   - the single-neuron `full` flow RHS (covariance "sample": one fused pass per class) at
 *     D = 100, P = 10⁴ and D = 400, P = 10⁵;
 *   - the CP loss + gradient (ImplicitCumulantLoss) at D = 100, P = 10⁴, r = 20.
 * The two flows (or losses) share the same data (on a SharedArrayBuffer), the -j 2 one's worker is
 * started and loaded first; then blocks of evaluations alternate between them (interleaved, so
 * machine load hits both alike) and the figure is median(-j 1 block) ÷ median(-j 2 block).  Each
 * block also checks that both give the same bits.  Data are N(0, 1) entries (timing does not depend
 * on the distribution).  Meaningful on an idle 2-core machine only: `npm run bench -- kernels`.
 */
import type { Benchmark } from "./run.js";
import { loadavg } from "node:os";
import { Rng } from "../src/stats/rng.js";
import { sharedFloat64 } from "../src/kernels/parallel.js";
import { deriveFlowCoefficients } from "../src/theory/coefficients.js";
import { buildSingleNeuronFlow } from "../src/theory/single-neuron.js";
import { ImplicitCumulantLoss } from "../src/cp/loss.js";

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const same = (a: Float64Array, b: Float64Array) => a.every((x, i) => Object.is(x, b[i]));

function normalData(rows: number, D: number, seed: number): Float64Array {
  const X = sharedFloat64(rows * D);
  Rng.stream(seed, 0).fillNormal(X, 1);
  return X;
}

/** Interleaved blocks of `per` calls of f1 and f2; returns median time ratio t1/t2. */
function interleave(label: string, f1: () => Float64Array, f2: () => Float64Array, per: number, blocks: number, share: () => string): number {
  const t1: number[] = [], t2: number[] = [];
  for (let b = 0; b < blocks; b++) {
    let o1 = f1(), o2 = f2();
    if (!same(o1, o2)) throw new Error(`${label}: -j 1 and -j 2 differ`);
    let s = performance.now();
    for (let k = 0; k < per; k++) o1 = f1();
    t1.push((performance.now() - s) / per);
    s = performance.now();
    for (let k = 0; k < per; k++) o2 = f2();
    t2.push((performance.now() - s) / per);
  }
  const r = median(t1) / median(t2);
  process.stderr.write(`  ${label}: -j 1 ${median(t1).toFixed(3)} ms, -j 2 ${median(t2).toFixed(3)} ms per call → ${r.toFixed(2)}×; ${share()} (load ${loadavg()[0].toFixed(1)})\n`);
  return r;
}

async function flowSpeedup(D: number, P: number, per: number, blocks: number): Promise<number> {
  const coef = await deriveFlowCoefficients({ v: 1, b: -1, labels: [-1, 1] });
  const n = P / 2;
  const X0 = normalData(n, D, 1), X1 = normalData(n, D, 2);
  const make = (threads: number) => buildSingleNeuronFlow({
    variant: "full", D, v: 1, b: -1, threads,
    classes: [{ label: -1, weight: 0.5, X: X0, n, cov: "sample" as const }, { label: 1, weight: 0.5, X: X1, n, cov: "sample" as const }],
  }, coef);
  const f1 = make(1), f2 = make(2);
  await f2.ready();
  const w = new Float64Array(D);
  Rng.stream(3, 0).fillNormal(w, 1 / Math.sqrt(D));
  const d1 = new Float64Array(D), d2 = new Float64Array(D);
  try {
    return interleave(`flow RHS D = ${D}, P = ${P}`, () => (f1.rhs(0, w, d1), d1), () => (f2.rhs(0, w, d2), d2), per, blocks, () => {
      const c = f2.kernelChunks();
      return `-j 2 worker ran ${c.byWorkers} of ${c.total} chunks`;
    });
  } finally {
    f1.close();
    f2.close();
  }
}

async function cpSpeedup(D: number, P: number, r: number, per: number, blocks: number): Promise<number> {
  const X = normalData(P, D, 4);
  for (let k = 0; k < X.length; k++) X[k] = X[k] * X[k] * X[k]; // non-Gaussian (any data would do)
  const L1 = new ImplicitCumulantLoss(X, P, D, r), L2 = new ImplicitCumulantLoss(X, P, D, r, { threads: 2 });
  await L2.ready();
  const th = new Float64Array(L1.n);
  Rng.stream(5, 0).fillNormal(th, 1 / Math.sqrt(D));
  const g1 = new Float64Array(L1.n), g2 = new Float64Array(L1.n);
  try {
    return interleave(`CP loss+gradient D = ${D}, P = ${P}, r = ${r}`, () => (L1.fg(th, g1), g1), () => (L2.fg(th, g2), g2), per, blocks, () => `-j 2 worker ran ${L2.chunksByWorkers()} chunks`);
  } finally {
    L2.close();
  }
}

export const benchmarks: Benchmark[] = [
  { name: "kernels: flow RHS D=100 P=1e4, speed-up -j 2 vs -j 1", unit: "×", target: 1.8, run: () => flowSpeedup(100, 10_000, 40, 15) },
  { name: "kernels: flow RHS D=400 P=1e5, speed-up -j 2 vs -j 1", unit: "×", target: 1.8, run: () => flowSpeedup(400, 100_000, 3, 9) },
  { name: "kernels: CP loss+gradient D=100 P=1e4 r=20, speed-up -j 2 vs -j 1", unit: "×", target: 1.8, run: () => cpSpeedup(100, 10_000, 20, 5, 11) },
];
