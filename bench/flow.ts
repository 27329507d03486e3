/**
 * Single-neuron gradient flow, `full` variant (IG22 eq. 16 with the sample 4th cumulant contracted
 * implicitly in O(PD)) at the IG22 Fig. 4B size: D = 100, P = 10⁴ (α = 100), ξ = (0, 3), g = 3,
 * b = −1, v = 1, covariance "sample", integrated from w0 ~ N(0, 1/D) to t = 1000 without early stop.
 * Data generation and the (cached) symbolic coefficients are excluded; figures are CPU seconds of
 * this single-threaded process (one core's throughput, robust to other load on the machine).
 *
 *   - RHS evaluations per CPU second (the O(PD) pass: 2·10⁶ multiply–adds per evaluation);
 *   - CPU seconds to t = 1000 with the default adaptive GBS (rtol 1e-6, atol 1e-9) — target ≤ 10 s;
 *   - the same with Runge–Kutta–Chebyshev ("rkc", same tolerances, spectral radius by power iteration),
 *     which is not stability-limited: its stage count grows like √(hρ);
 *   - the same with forward Euler, dt = 0.25 (full-batch GD with η = 0.25; reaches the same fixed
 *     point to ~6 digits, since the flow is a gradient flow);
 *   - the same with "bdf" (variable-order NDF, analytic Jacobian reused across steps: ~310 RHS + 6
 *     Jacobians, each Jacobian one weighted XᵀX, ≈ 50 RHS in the pure-TS kernel) and "rodas"
 *     (a Jacobian every step: ~210, so it is slow here; it is for small stiff systems).
 * The flow is mildly stiff: at the localised fixed point the (symmetric part of the) Jacobian has
 * eigenvalues in [−4.42, −0.024] (measured by finite differences), so explicit methods are stability-
 * limited to steps ≲ 0.5–1 and need O(10³–10⁴) evaluations for t = 1000 (Euler is stable for dt < 0.45).
 */
import type { Benchmark } from "./run.js";
import { Rng } from "../src/stats/rng.js";
import { twoClassTask } from "../src/data/task.js";
import { deriveFlowCoefficients } from "../src/theory/coefficients.js";
import { buildSingleNeuronFlow, type SingleNeuronFlow } from "../src/theory/single-neuron.js";
import { classDatasets, integrateFlow } from "../src/theory/flow-trajectory.js";
import type { Method } from "../src/integrate/index.js";
import { setKernelBackend, simdAvailable, type KernelBackend } from "../src/kernels/index.js";

const L = 100, P = 10_000, T = 1000;

let setup: Promise<{ flow: SingleNeuronFlow; w0: Float64Array }> | undefined;

function build(): Promise<{ flow: SingleNeuronFlow; w0: Float64Array }> {
  return (setup ??= (async () => {
    const task = twoClassTask({ dim: 1, L }, { kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 });
    const cls = classDatasets(task, P, Rng.stream(1, 0), false);
    const coef = await deriveFlowCoefficients({ v: 1, b: -1, labels: [-1, 1] });
    const flow = buildSingleNeuronFlow({
      variant: "full", D: L, v: 1, b: -1,
      classes: cls.map((c, mu) => ({ label: mu ? 1 : -1, weight: c.n / P, X: c.X, n: c.n, cov: "sample" as const })),
    }, coef);
    const w0 = new Float64Array(L);
    Rng.stream(1, 1).fillNormal(w0, 1 / Math.sqrt(L));
    return { flow, w0 };
  })());
}

async function cpuSeconds<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const c0 = process.cpuUsage();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { value, seconds: (c.user + c.system) / 1e6 };
}

/** CPU seconds to integrate to t = 1000 with `method`; also reports evaluations on stderr. */
async function timeTo1000(method: Method, dt?: number): Promise<number> {
  const { flow, w0 } = await build();
  const { value: tr, seconds } = await cpuSeconds(() => integrateFlow(flow, w0, { T, count: 20, method, dt, rtol: 1e-6, atol: 1e-9 }));
  process.stderr.write(`  ${method}${dt ? ` dt=${dt}` : ""}: ${tr.nRhs} RHS, ${tr.nJac} Jacobians, ${tr.nSteps} steps, final IPR ${tr.ipr[tr.ipr.length - 1].toFixed(4)}, ${seconds.toFixed(2)} CPU-s\n`);
  return seconds;
}

/**
 * Milliseconds per RHS on each kernel backend, measured alternately in this process (best of 3 rounds
 * of ≥ 0.5 CPU-s each).  Flops per RHS: the fused pass does 4·P·D (λ = x·w and the update of dw).
 */
let perBackend: Record<KernelBackend, number> | null = null;
async function rhsMsPerBackend(): Promise<Record<KernelBackend, number>> {
  if (perBackend) return perBackend;
  const { flow, w0 } = await build();
  const dw = new Float64Array(L);
  const best: Record<KernelBackend, number> = { ts: Infinity, "wasm-simd": simdAvailable() ? Infinity : NaN };
  const prev = setKernelBackend("ts");
  try {
    for (let round = 0; round < 3; round++) {
      for (const b of (simdAvailable() ? ["ts", "wasm-simd"] : ["ts"]) as KernelBackend[]) {
        setKernelBackend(b);
        for (let k = 0; k < 5; k++) flow.rhs(0, w0, dw);
        let n = 0, used = 0;
        const c0 = process.cpuUsage();
        while (used < 5e5) {
          for (let k = 0; k < 20; k++) flow.rhs(0, w0, dw);
          n += 20;
          const c = process.cpuUsage(c0);
          used = c.user + c.system;
        }
        best[b] = Math.min(best[b], used / 1e3 / n);
      }
    }
  } finally {
    setKernelBackend(prev);
  }
  return (perBackend = best);
}
const RHS_FLOPS = 4 * P * L;

export const benchmarks: Benchmark[] = [
  { name: "flow full D=100 P=1e4: ms per RHS [ts]", unit: "ms", higherIsBetter: false, run: async () => (await rhsMsPerBackend()).ts },
  { name: "flow full D=100 P=1e4: ms per RHS [wasm-simd]", unit: "ms", higherIsBetter: false, run: async () => (await rhsMsPerBackend())["wasm-simd"] },
  { name: "flow full D=100 P=1e4: RHS throughput [ts]", unit: "GFLOP/s", run: async () => RHS_FLOPS / (await rhsMsPerBackend()).ts / 1e6 },
  { name: "flow full D=100 P=1e4: RHS throughput [wasm-simd]", unit: "GFLOP/s", run: async () => RHS_FLOPS / (await rhsMsPerBackend())["wasm-simd"] / 1e6 },
  {
    // No target of its own: the issue's target is the time to t = 1000 (rows below).  One RHS is a
    // single fused pass over the 10⁴×100 samples (8 MB, 2·10⁶ multiply–adds), memory-bound.
    name: "flow full D=100 P=1e4: RHS evaluations",
    unit: "RHS/CPU-s",
    run: async () => {
      const { flow, w0 } = await build();
      const dw = new Float64Array(L);
      for (let k = 0; k < 30; k++) flow.rhs(0, w0, dw);
      let n = 0;
      const c0 = process.cpuUsage();
      let used = 0;
      while (used < 3e6) {
        for (let k = 0; k < 50; k++) flow.rhs(0, w0, dw);
        n += 50;
        const c = process.cpuUsage(c0);
        used = c.user + c.system;
      }
      return n / (used / 1e6);
    },
  },
  {
    name: "flow full D=100 P=1e4 to t=1000, gbs rtol 1e-6",
    unit: "CPU-s",
    target: 10,
    higherIsBetter: false,
    run: () => timeTo1000("gbs"),
  },
  {
    name: "flow full D=100 P=1e4 to t=1000, rkc rtol 1e-6",
    unit: "CPU-s",
    target: 10,
    higherIsBetter: false,
    run: () => timeTo1000("rkc"),
  },
  {
    name: "flow full D=100 P=1e4 to t=1000, bdf rtol 1e-6 (analytic Jacobian)",
    unit: "CPU-s",
    target: 10,
    higherIsBetter: false,
    run: () => timeTo1000("bdf"),
  },
  {
    name: "flow full D=100 P=1e4 to t=1000, euler dt=0.25",
    unit: "CPU-s",
    target: 10,
    higherIsBetter: false,
    run: () => timeTo1000("euler", 0.25),
  },
];

/** Stand-alone: `npx tsx bench/flow.ts`. */
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const b of benchmarks) {
    const v = await b.run();
    console.log(`${b.name}: ${v.toFixed(2)} ${b.unit}${b.target !== undefined ? ` (target ${b.higherIsBetter === false ? "≤" : "≥"} ${b.target})` : ""}`);
  }
}
