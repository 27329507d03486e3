/**
 * The tetrachoric pair-sum kernel of the mixture ODE's η² term (src/kernels/tetra.ts; SIMD kernel
 * `tetraSum` in wasm/kernels.ts):
 *   - the SIMD kernel reproduces the TS reference bit for bit (total, number of big pairs, r_jm) for
 *     every n from 1 to 33 (odd and even, fewer than one vector group, partial groups), with big pairs
 *     (|r| > TETRA_R_MAX, r clamped at ±1) and zero second-layer weights present;
 *   - the total is the intended quantity: Σ_{j≤m} (1 or 2) v_j v_m [Φ2(h_j, h_m; r_jm) − Φ(h_j)Φ(h_m)]
 *     over the non-big pairs, r_jm from the rank-one-updated covariance B − f c cᵀ, against Genz's
 *     bvnCdf (≤ 1e-13 per pair);
 *   - ErfExpectations.ee (which runs it) is bit-identical on both backends at K = 32 and equals the
 *     frozen pre-change implementation (test/fixtures/ode-reference) to 1e-12 at K = 12 with big
 *     pairs and zero weights;
 *   - the whole MixtureOde right-hand side (with the SIMD drift kernel `mixtureDrift`, one call for
 *     all mode groups) is bit-identical on both backends — three classes, unequal probabilities,
 *     weight decay, trained b and v, η² term on and off, K = 3 (the TS gemm below its size
 *     threshold), 12 and 32 — and equals the frozen pre-change RHS to 1e-10.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TetraWorkspace } from "../src/kernels/tetra.js";
import { kernelBackend, setKernelBackend, simdAvailable, type KernelBackend } from "../src/kernels/index.js";
import { ErfExpectations, TETRA_R_MAX, TETRA_TABLES, bvnCdf } from "../src/stats/gaussian-integrals.js";
import { ErfExpectations as RefErfExpectations } from "./fixtures/ode-reference/gaussian-integrals.js";
import { normCdf } from "../src/stats/special.js";
import { Rng } from "../src/stats/rng.js";
import { MixtureOde, type MixtureOdeParams } from "../src/theory/mixture-ode.js";
import { MixtureOde as RefMixtureOde } from "./fixtures/ode-reference/mixture-ode.js";
import { kernelRow, spectrumOfRow, type Geometry } from "../src/data/kernels.js";

const initial: KernelBackend = kernelBackend();
afterEach(() => { setKernelBackend(initial); });

const tables = () => TETRA_TABLES;

/** Random PSD covariance (rank-3 factor model + diagonal) with correlations up to ~0.99 when `strong`. */
function covariance(n: number, rng: Rng, strong: boolean): Float64Array {
  const F = rng.fillNormal(new Float64Array(n * 3), 1);
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = i === j ? (strong ? 0.02 : 0.5) : 0;
    for (let t = 0; t < 3; t++) s += F[i * 3 + t] * F[j * 3 + t] * (strong ? 4 : 0.5);
    C[i * n + j] = s;
  }
  return C;
}

interface Inputs { n: number; C: Float64Array; f: number; l: number; h: Float64Array; v: Float64Array }

function inputs(n: number, seed: number, strong: boolean): Inputs {
  const rng = new Rng(seed);
  const C = covariance(n, rng, strong);
  const h = Float64Array.from({ length: n }, () => 8 * rng.uniform() - 4);
  const v = Float64Array.from({ length: n }, (_, j) => (j % 5 === 3 ? 0 : rng.normal()));
  const l = Math.floor(rng.uniform() * n);
  // f = a/(1 + a C_ll) as for a tilt (a = 1): C − f c cᵀ stays PSD.
  return { n, C, f: 1 / (1 + C[l * n + l]), l, h, v };
}

/** Fill a workspace (B1) the way ErfExpectations.computeSecond does. */
function fill(ws: TetraWorkspace, x: Inputs): void {
  const { n, C, f, l, h, v } = x;
  for (let j = 0; j < n; j++) {
    for (let m = 0; m < n; m++) ws.B1[j * ws.cap + m] = C[j * n + m];
    const c = C[j * n + l];
    ws.col[j] = c;
    ws.fc[j] = f * c;
    ws.isq[j] = 1 / Math.sqrt(1 + C[j * n + j] - f * c * c);
    ws.h[j] = h[j];
    ws.phi[j] = Math.exp(-0.5 * h[j] * h[j]) / Math.sqrt(2 * Math.PI);
    ws.vv[j] = v[j];
  }
}

function run(backend: KernelBackend, x: Inputs, cap: number): { total: number; big: number; R: number[] } {
  setKernelBackend(backend);
  const ws = new TetraWorkspace(cap, tables());
  fill(ws, x);
  const total = ws.sum(x.n, ws.B1);
  const np = ws.stride(x.n), R: number[] = [];
  for (let j = 0; j < x.n; j++) for (let m = j; m < x.n; m++) R.push(ws.R[j * np + m]);
  // A second call on the same workspace (stale scratch from the first) gives the same numbers.
  expect(Object.is(ws.sum(x.n, ws.B1), total)).toBe(true);
  return { total, big: ws.big, R };
}

describe("tetraSum kernel", () => {
  it.skipIf(!simdAvailable())("SIMD equals the TS reference bit for bit, n = 1 … 33, with big pairs and zero weights", () => {
    let bigSeen = 0;
    for (let n = 1; n <= 33; n++) {
      for (const strong of [false, true]) {
        const x = inputs(n, 100 + n, strong);
        const a = run("ts", x, 33), b = run("wasm-simd", x, 33);
        expect(b.big).toBe(a.big);
        expect(Object.is(b.total, a.total)).toBe(true);
        expect(b.R).toEqual(a.R);
        bigSeen += a.big;
      }
    }
    expect(bigSeen).toBeGreaterThan(50);
  });

  it.skipIf(!simdAvailable())("outside the covariance cone (Cauchy–Schwarz violated) the SIMD path hands over to the reference: same bits", () => {
    for (const n of [3, 9, 20]) {
      const x = inputs(n, 300 + n, false);
      // Small variances, larger covariances: |r_jm| > √(r_jj r_mm) while |r| ≤ TETRA_R_MAX.
      for (let j = 0; j < n; j++) for (let m = 0; m < n; m++) x.C[j * n + m] = j === m ? 0.05 : 0.3 * Math.cos(j + 2 * m) * Math.cos(m + 2 * j);
      x.f = 0;
      const a = run("ts", x, 20);
      setKernelBackend("wasm-simd");
      const ws = new TetraWorkspace(20, tables());
      fill(ws, x);
      const total = ws.sum(n, ws.B1);
      expect(ws.fallbacks).toBe(1);
      expect(Object.is(total, a.total)).toBe(true);
      expect(ws.big).toBe(a.big);
    }
    // A genuine covariance never falls back.
    setKernelBackend("wasm-simd");
    const ws = new TetraWorkspace(33, tables());
    for (let n = 1; n <= 33; n++) {
      fill(ws, inputs(n, 100 + n, true));
      ws.sum(n, ws.B1);
    }
    expect(ws.fallbacks).toBe(0);
  });

  it("the total is Σ (1 or 2) v_j v_m (Φ2 − ΦΦ) over the non-big pairs of B − f c cᵀ (bvnCdf, 1e-13 per pair)", () => {
    for (const backend of simdAvailable() ? (["ts", "wasm-simd"] as const) : (["ts"] as const)) {
      for (const [n, seed, strong] of [[1, 1, false], [6, 2, true], [13, 3, false], [32, 4, true], [32, 5, false]] as const) {
        const x = inputs(n, seed, strong);
        const out = run(backend, x, 32);
        let want = 0, weight = 0, big = 0, k = 0;
        for (let j = 0; j < n; j++) for (let m = j; m < n; m++) {
          const cjm = x.C[j * n + m] - x.f * x.C[j * n + x.l] * x.C[m * n + x.l];
          const cjj = x.C[j * n + j] - x.f * x.C[j * n + x.l] ** 2, cmm = x.C[m * n + m] - x.f * x.C[m * n + x.l] ** 2;
          const r = Math.max(-1, Math.min(1, cjm / Math.sqrt((1 + cjj) * (1 + cmm))));
          expect(Math.abs(out.R[k++] - r)).toBeLessThanOrEqual(1e-14);
          if (Math.abs(r) > TETRA_R_MAX) { big++; continue; }
          const w = (j === m ? 1 : 2) * x.v[j] * x.v[m];
          want += w * (bvnCdf(x.h[j], x.h[m], r) - normCdf(x.h[j]) * normCdf(x.h[m]));
          weight += Math.abs(w);
        }
        expect(out.big).toBe(big);
        expect(Math.abs(out.total - want)).toBeLessThanOrEqual(1e-13 * Math.max(weight, 1e-300) + 1e-300);
        if (n > 1) expect(Math.abs(want)).toBeGreaterThan(1e-6);
      }
    }
  });

  it("rejects a foreign B and n out of range", () => {
    const ws = new TetraWorkspace(4, tables());
    expect(() => ws.sum(5, ws.B0)).toThrow(/n must be in \[0, 4\]/);
    expect(() => ws.sum(2, new Float64Array(16))).toThrow(/B0 or B1/);
    expect(ws.sum(0, ws.B0)).toBe(0);
  });
});

describe("ErfExpectations.ee through the kernel", () => {
  it.skipIf(!simdAvailable())("K = 32: bit-identical on both backends (big pairs and zero weights included)", () => {
    const K = 32;
    const rng = new Rng(9);
    const Om = covariance(K, rng, true);
    const b = Float64Array.from({ length: K }, () => 2 * rng.uniform() - 1);
    const v = Float64Array.from({ length: K }, (_, j) => (j % 7 === 2 ? 0 : rng.normal() / K));
    const ee = (backend: KernelBackend) => {
      setKernelBackend(backend);
      return Array.from(new ErfExpectations(K).compute(Om, b, { second: { y: 1, v } }).ee);
    };
    const a = ee("ts"), c = ee("wasm-simd");
    expect(c).toEqual(a);
    expect(a.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
  });

  it("K = 12: equals the pre-change implementation to 1e-12 (big pairs, zero weights, both backends)", () => {
    const K = 12;
    const rng = new Rng(11);
    const Om = covariance(K, rng, true);
    let rMax = 0;
    for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) rMax = Math.max(rMax, Math.abs(Om[i * K + j]) / Math.sqrt((1 + Om[i * K + i]) * (1 + Om[j * K + j])));
    expect(rMax).toBeGreaterThan(TETRA_R_MAX);
    const b = Float64Array.from({ length: K }, () => 2 * rng.uniform() - 1);
    const v = Float64Array.from({ length: K }, (_, j) => (j % 4 === 1 ? 0 : rng.normal()));
    const ref = new RefErfExpectations(K).compute(Om, b, { second: { y: -1, v } }).ee;
    for (const backend of simdAvailable() ? (["ts", "wasm-simd"] as const) : (["ts"] as const)) {
      setKernelBackend(backend);
      const ee = new ErfExpectations(K).compute(Om, b, { second: { y: -1, v } }).ee;
      for (let i = 0; i < K * K; i++) expect(Math.abs(ee[i] - ref[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ref[i])));
    }
  });
});

describe("MixtureOde.rhs on both backends", () => {
  function problem(K: number, second: boolean, seed: number) {
    const geom: Geometry = { dim: 1, L: 30 };
    const D = 30;
    const spectra = [1.5, 3, 6].map((xi) => spectrumOfRow(geom, kernelRow(geom, xi)));
    const rng = new Rng(seed);
    const common = rng.fillNormal(new Float64Array(D), 1);
    const W = new Float64Array(K * D);
    for (let k = 0; k < K; k++) {
      const a = rng.uniform();
      for (let i = 0; i < D; i++) W[k * D + i] = (1.5 / Math.sqrt(D)) * (a * common[i] + (1 - a) * rng.normal());
    }
    const b = Float64Array.from({ length: K }, () => rng.normal());
    const v = Float64Array.from({ length: K }, (_, k) => (k === 1 ? 0 : (0.3 + rng.uniform()) / K));
    const params: MixtureOdeParams = {
      K, geometry: geom, spectra, labels: [-1, 1, 0.5], probs: [0.2, 0.5, 0.3], lr: 0.6, lrBias: 0.2, lrSecondLayer: 0.3,
      weightDecay: 0.01, trainBias: true, trainSecondLayer: true, secondOrder: second,
    };
    return { params, init: { W, b, v } };
  }

  for (const K of [3, 12, 32]) {
    for (const second of [true, false]) {
      it(`K = ${K}, η² term ${second ? "on" : "off"}: bit-identical, and the pre-change RHS to 1e-10`, () => {
        const { params, init } = problem(K, second, 7 + K);
        const rhs = (backend: KernelBackend) => {
          setKernelBackend(backend);
          const ode = new MixtureOde(params, init.b, init.v);
          const y = ode.initialState(init);
          const dy = new Float64Array(ode.dim);
          ode.rhs(0, y, dy);
          ode.rhs(0, y, dy); // a second call reuses every buffer
          return { y, dy: Array.from(dy) };
        };
        const a = rhs("ts");
        if (simdAvailable()) expect(rhs("wasm-simd").dy).toEqual(a.dy);
        const ref = new RefMixtureOde(params, init.b, init.v);
        const dr = new Float64Array(a.dy.length);
        ref.rhs(0, a.y, dr);
        let scale = 0, m = 0;
        for (const x of dr) scale = Math.max(scale, Math.abs(x));
        for (let i = 0; i < dr.length; i++) m = Math.max(m, Math.abs(a.dy[i] - dr[i]) / Math.max(Math.abs(dr[i]), 1e-6 * scale));
        expect(scale).toBeGreaterThan(1e-3);
        expect(m).toBeLessThanOrEqual(1e-10);
      });
    }
  }
});
