/**
 * src/integrate/gbs.ts is a Float64Array port of the npm package odex 2.0.4 (its non-dense path):
 * every accepted step (x_old, x, y), the counters and the outcome must equal odex's bit for bit, on
 * problems that exercise order changes, rejected steps, the stability check, step limits, backward
 * integration and early stops — with the per-component loops on the TS backend and on the
 * WebAssembly-SIMD kernels (src/kernels/gbs-loops.ts).
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { GbsOutcome, GbsSolver } from "../src/integrate/gbs.js";
import type { OdexSolver } from "../src/integrate/odex.js";
import { kernelBackend, setKernelBackend, simdAvailable, type KernelBackend } from "../src/kernels/index.js";

const odex = createRequire(import.meta.url)("odex") as { Solver: new (n: number) => OdexSolver; Outcome: Record<string, number> };

type F = (x: number, y: ArrayLike<number>, dy: Float64Array) => void;

interface Case { name: string; f: F; y0: number[]; x0: number; x1: number; rtol: number; atol: number; h0?: number; hMax?: number; maxSteps?: number; stopAfter?: number }

const lorenz: F = (_x, y, d) => { d[0] = 10 * (y[1] - y[0]); d[1] = y[0] * (28 - y[2]) - y[1]; d[2] = y[0] * y[1] - (8 / 3) * y[2]; };
const vdp = (mu: number): F => (_x, y, d) => { d[0] = y[1]; d[1] = mu * (1 - y[0] * y[0]) * y[1] - y[0]; };
const decay: F = (x, y, d) => { for (let i = 0; i < y.length; i++) d[i] = -(i + 1) * y[i] + Math.sin(x * (i + 1)); };
const arenstorf: F = (_x, y, d) => {
  const mu = 0.012277471, mp = 1 - mu;
  const D1 = ((y[0] + mu) ** 2 + y[1] ** 2) ** 1.5, D2 = ((y[0] - mp) ** 2 + y[1] ** 2) ** 1.5;
  d[0] = y[2]; d[1] = y[3];
  d[2] = y[0] + 2 * y[3] - (mp * (y[0] + mu)) / D1 - (mu * (y[0] - mp)) / D2;
  d[3] = y[1] - 2 * y[2] - (mp * y[1]) / D1 - (mu * y[1]) / D2;
};

const cases: Case[] = [
  { name: "Lorenz, rtol 1e-9", f: lorenz, y0: [1, 1, 1], x0: 0, x1: 8, rtol: 1e-9, atol: 1e-12 },
  { name: "Lorenz, rtol 1e-4", f: lorenz, y0: [1, 1, 1], x0: 0, x1: 8, rtol: 1e-4, atol: 1e-6 },
  { name: "Van der Pol μ = 1000 (stiff: rejections, stability check)", f: vdp(1000), y0: [2, 0], x0: 0, x1: 3, rtol: 1e-6, atol: 1e-8, maxSteps: 5000 },
  { name: "Van der Pol μ = 5, hMax 0.05", f: vdp(5), y0: [2, 0], x0: 0, x1: 20, rtol: 1e-7, atol: 1e-9, hMax: 0.05 },
  { name: "forced decay, 12 components, backwards", f: decay, y0: Array.from({ length: 12 }, (_, i) => Math.cos(i)), x0: 3, x1: -1, rtol: 1e-8, atol: 1e-10, h0: 0.3 },
  { name: "Arenstorf orbit, rtol 1e-10", f: arenstorf, y0: [0.994, 0, 0, -2.00158510637908252240537862224], x0: 0, x1: 17.0652165601579625588917206249, rtol: 1e-10, atol: 1e-12 },
  { name: "Arenstorf, step limit", f: arenstorf, y0: [0.994, 0, 0, -2.00158510637908252240537862224], x0: 0, x1: 17, rtol: 1e-10, atol: 1e-12, maxSteps: 40 },
  { name: "Lorenz, observer stops after 25 steps", f: lorenz, y0: [1, 1, 1], x0: 0, x1: 8, rtol: 1e-8, atol: 1e-10, stopAfter: 25 },
];

function runOdex(c: Case) {
  const s = new odex.Solver(c.y0.length);
  s.relativeTolerance = c.rtol; s.absoluteTolerance = c.atol;
  if (c.h0 !== undefined) s.initialStepSize = c.h0;
  if (c.hMax !== undefined) s.maxStepSize = c.hMax;
  if (c.maxSteps !== undefined) s.maxSteps = c.maxSteps;
  const steps: number[][] = [];
  const dy = new Float64Array(c.y0.length);
  const res = s.solve((x, y) => { c.f(x, y, dy); return Array.from(dy); }, c.x0, c.y0, c.x1, (nr, xOld, x, y) => {
    if (nr === 1) return;
    steps.push([xOld, x, ...y]);
    if (c.stopAfter !== undefined && steps.length >= c.stopAfter) return false;
  });
  return { steps, y: res.y, outcome: res.outcome, nStep: res.nStep, nAccept: res.nAccept, nReject: res.nReject, nEval: res.nEval };
}

function runPort(c: Case, backend: KernelBackend) {
  const prev = setKernelBackend(backend);
  let s: GbsSolver;
  try {
    s = new GbsSolver(c.y0.length);
  } finally {
    setKernelBackend(prev);
  }
  expect(s.backend).toBe(backend);
  s.relativeTolerance = c.rtol; s.absoluteTolerance = c.atol;
  if (c.h0 !== undefined) s.initialStepSize = c.h0;
  if (c.hMax !== undefined) s.maxStepSize = c.hMax;
  if (c.maxSteps !== undefined) s.maxSteps = c.maxSteps;
  const steps: number[][] = [];
  const res = s.solve((x, y, dy) => c.f(x, y, dy), c.x0, c.y0, c.x1, (xOld, x, y) => {
    steps.push([xOld, x, ...y]);
    if (c.stopAfter !== undefined && steps.length >= c.stopAfter) return false;
  });
  return { steps, y: Array.from(res.y), outcome: res.outcome, nStep: res.nStep, nAccept: res.nAccept, nReject: res.nReject, nEval: res.nEval };
}

// The port's per-component loops run on the selected kernel backend (src/kernels/gbs-loops.ts):
// both must reproduce odex.
const backends: KernelBackend[] = simdAvailable() ? ["ts", "wasm-simd"] : ["ts"];

describe("GBS port: bit-identical to odex 2.0.4", () => {
  expect(GbsOutcome).toEqual({ Converged: odex.Outcome.Converged, MaxStepsExceeded: odex.Outcome.MaxStepsExceeded, EarlyReturn: odex.Outcome.EarlyReturn });
  expect(kernelBackend()).toBeDefined();
  for (const c of cases) {
    for (const backend of backends) {
      it(`${c.name} (${backend} loops)`, () => {
        const a = runOdex(c), b = runPort(c, backend);
        expect(a.steps.length).toBeGreaterThan(10);
        expect(b.steps).toEqual(a.steps);
        expect(b.y).toEqual(a.y);
        expect({ ...b, steps: 0, y: 0 }).toEqual({ ...a, steps: 0, y: 0 });
      });
    }
  }
  it("the cases exercise rejections, the step limit and the early stop", () => {
    const r = cases.map(runOdex);
    expect(r.some((x) => x.nReject > 0)).toBe(true);
    expect(r.some((x) => x.outcome === odex.Outcome.MaxStepsExceeded)).toBe(true);
    expect(r.some((x) => x.outcome === odex.Outcome.EarlyReturn)).toBe(true);
  });
});
