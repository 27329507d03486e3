/**
 * Cumulant-theory benchmarks (issue 13): time per RHS evaluation of the weight-space Edgeworth theory
 * at the IG22 Fig. 3 size (D = 400, K = 8, two NLGP classes ξ = 8, 16, g = 3):
 *   - sample source with P samples per class (targets: P = 10⁵ in < 50 ms, which needs the WASM-SIMD
 *     gemm; the pure-TS backend is what runs here), split into the two gemms and the rest;
 *   - CP source with 40 factors per class (target < 1 ms), with and without the SGD-noise (η²) term,
 *     whose E[e² g'_k g'_l] tables (K⁴ bivariate normal CDFs per class, as in the mixture ODE) dominate.
 * Each figure is the median of `reps` evaluations; on a loaded machine compare ratios, not absolutes.
 */
import { CumulantTheory, type CumulantSource } from "../src/theory/cumulant-theory.js";
import { initNetwork } from "../src/sim/network.js";
import { Rng } from "../src/stats/rng.js";
import { makeClassSampler, type ClassSpec } from "../src/data/task.js";
import { clipSpectrum, spectrumOfRow, type Geometry } from "../src/data/kernels.js";
import { gemm } from "../src/kernels/index.js";
import type { Benchmark } from "./run.js";

const geom: Geometry = { dim: 1, L: 400 };
const D = 400, K = 8;
const specs: ClassSpec[] = [{ kind: "nlgp", xi: 8, gain: 3 }, { kind: "nlgp", xi: 16, gain: 3 }];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeRhs(sources: (CumulantSource | null)[], second: boolean, reps: number): number {
  const spectra = specs.map((c) => clipSpectrum(spectrumOfRow(geom, makeClassSampler(geom, c).covarianceRow())));
  const net = initNetwork({ K, activation: "erf", secondLayer: { mode: "fixed" }, bias: { mode: "trained", value: 1, pattern: "split" }, initScale: 0.1 }, D, Rng.stream(1, 0));
  const th = new CumulantTheory({ K, geometry: geom, classes: spectra.map((s, mu) => ({ label: mu ? 1 : -1, spectrum: s, cumulant: sources[mu] })), lr: 0.8, weightDecay: 0, trainBias: true, trainSecondLayer: false, secondOrder: second }, net.b, net.v);
  const y = th.initialState(net), dy = new Float64Array(y.length);
  th.rhs(0, y, dy);
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    th.rhs(0, y, dy);
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function samples(P: number): CumulantSource[] {
  const rng = new Rng(7, 0);
  return specs.map((c) => {
    const s = makeClassSampler(geom, c);
    const X = new Float64Array(P * D);
    for (let i = 0; i < P; i++) s.sample(X.subarray(i * D, (i + 1) * D), rng);
    return { kind: "samples", X, n: P };
  });
}

function cp(r: number): CumulantSource[] {
  const rng = new Rng(8, 0);
  return specs.map(() => ({ kind: "cp", r, weights: Float64Array.from({ length: r }, () => -rng.uniform()), factors: Float64Array.from({ length: r * D }, () => rng.normal() / Math.sqrt(D)) }));
}

/** Two gemms (X Wᵀ and Gᵀ X) per class at P samples: the part the WASM-SIMD backend accelerates. */
function timeGemms(P: number, reps: number): number {
  const X = new Float64Array(P * D).fill(0.01), W = new Float64Array(K * D).fill(0.02), H = new Float64Array(P * K), G = new Float64Array(K * D);
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let mu = 0; mu < 2; mu++) {
      gemm(false, true, P, K, D, 1, X, W, 0, H);
      gemm(true, false, K, D, P, 1, H, X, 1, G);
    }
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

export async function bench(P = 10_000): Promise<{ name: string; value: number; unit: string; target?: number; higherIsBetter?: boolean }[]> {
  const src = samples(P);
  return [
    { name: `cumulant RHS, samples P = ${P}/class, D = 400, K = 8 (η² term on)`, value: timeRhs(src, true, 5), unit: "ms", ...(P === 100_000 ? { target: 50, higherIsBetter: false } : {}) },
    { name: `  of which the 4 gemms (X Wᵀ, Gᵀ X per class)`, value: timeGemms(P, 5), unit: "ms" },
    { name: "cumulant RHS, CP 40 factors/class, D = 400, K = 8, no η² term", value: timeRhs(cp(40), false, 21), unit: "ms", target: 1, higherIsBetter: false },
    { name: "cumulant RHS, CP 40 factors/class, D = 400, K = 8, η² term on", value: timeRhs(cp(40), true, 21), unit: "ms" },
    { name: "GET in weight space (order 0), D = 400, K = 8, no η² term", value: timeRhs([null, null], false, 21), unit: "ms" },
  ];
}

export const benchmarks: Benchmark[] = [
  { name: "cumulant RHS (samples 10⁴, CP 40, GET)", unit: "table", run: async () => { for (const r of await bench()) console.log(`${r.name}: ${r.value.toFixed(3)} ${r.unit}`); return 0; } },
];

if (process.argv[1]?.endsWith("cumulant.ts")) {
  const P = Number(process.argv[2] ?? 10_000);
  for (const r of await bench(P)) console.log(`${r.name}: ${r.value.toFixed(3)} ${r.unit}${r.target ? ` (target < ${r.target})` : ""}`);
}
