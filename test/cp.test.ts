import { describe, expect, it } from "vitest";
import {
  ExplicitCumulantLoss, ImplicitCumulantLoss, cpToTensor, normSq, sampleCumulantNormSq, sampleCumulantTensor, secondMoment,
} from "../src/cp/loss.js";
import { ReducedCpObjective, decompose, matchFactors, normaliseFactors, optimalWeights } from "../src/cp/decompose.js";
import { checkGradient } from "../src/optim/gradcheck.js";
import { Rng } from "../src/stats/rng.js";
import { relativeReconstructionError, analyseCumulant, sampleClass } from "../src/cp/analyse.js";
import { parseCpModel } from "../src/schema/cp.js";
import { parseAttractorsModel } from "../src/schema/attractors.js";
import { UserError } from "../src/run/errors.js";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cpExperiment } from "../src/experiments/cp.js";
import { loadedModules } from "./fixtures/module-closure.js";
import { writeCpResult } from "../src/io/results/cp.js";
import { makeCPTensor } from "../src/stats/cp-tensor.js";
import { kernelBackend, setKernelBackend } from "../src/kernels/index.js";
import { wasmKernels } from "../src/kernels/wasm.js";

/** The explicit tensor Σ γ_a u_a⊗4 of weights γ and factors U (r×D). */
function cpTensor(gamma: ArrayLike<number>, U: ArrayLike<number>, r: number, D: number): Float64Array {
  if (gamma.length !== r) throw new RangeError(`cpTensor: need r = ${r} weights`);
  return cpToTensor(makeCPTensor(gamma, U, D));
}

function gaussianish(P: number, D: number, seed: number): Float64Array {
  // Non-Gaussian, correlated samples: x = A z with z uniform/Laplace mixtures.
  const rng = new Rng(seed);
  const X = new Float64Array(P * D);
  const z = new Float64Array(D);
  for (let n = 0; n < P; n++) {
    for (let i = 0; i < D; i++) z[i] = i % 2 === 0 ? Math.sqrt(3) * (2 * rng.uniform() - 1) : rng.normal() * (rng.uniform() < 0.2 ? 2 : 0.5);
    for (let i = 0; i < D; i++) X[n * D + i] = z[i] + 0.5 * z[(i + 1) % D] - 0.3 * z[(i + D - 1) % D];
  }
  return X;
}

function randomTheta(r: number, D: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const th = new Float64Array(r + r * D);
  for (let a = 0; a < r; a++) th[a] = rng.normal();
  for (let k = r; k < th.length; k++) th[k] = rng.normal() / Math.sqrt(D);
  return th;
}

/** Brute-force M4 − Wick(C) entry by entry. */
function bruteCumulant(X: Float64Array, P: number, D: number): Float64Array {
  const C = new Float64Array(D * D);
  for (let n = 0; n < P; n++) for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) C[i * D + j] += X[n * D + i] * X[n * D + j] / P;
  const T = new Float64Array(D ** 4);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) for (let l = 0; l < D; l++) {
    let m = 0;
    for (let n = 0; n < P; n++) m += X[n * D + i] * X[n * D + j] * X[n * D + k] * X[n * D + l];
    T[((i * D + j) * D + k) * D + l] = m / P - (C[i * D + j] * C[k * D + l] + C[i * D + k] * C[j * D + l] + C[i * D + l] * C[j * D + k]);
  }
  return T;
}

/** Brute-force Σ_a γ_a u_a⊗4 and ‖B − T̂‖², ‖B‖², ⟨B − T̂, u_a⊗4⟩ against a brute-force cumulant B. */
function bruteFit(B: Float64Array, gamma: ArrayLike<number>, U: ArrayLike<number>, r: number, D: number) {
  let num = 0, den = 0;
  const proj = new Float64Array(r);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) for (let l = 0; l < D; l++) {
    let t = 0;
    for (let a = 0; a < r; a++) t += gamma[a] * U[a * D + i] * U[a * D + j] * U[a * D + k] * U[a * D + l];
    const b = B[((i * D + j) * D + k) * D + l], res = b - t;
    num += res * res;
    den += b * b;
    for (let a = 0; a < r; a++) proj[a] += res * U[a * D + i] * U[a * D + j] * U[a * D + k] * U[a * D + l];
  }
  return { residualSq: num, normSq: den, relError: Math.sqrt(num / den), loss: num - den, proj };
}

describe("cumulant tensors", () => {
  it("sampleCumulantTensor equals the brute-force M4 − Wick(C)", () => {
    const P = 50, D = 5;
    const X = gaussianish(P, D, 1);
    const T = sampleCumulantTensor(X, P, D);
    const B = bruteCumulant(X, P, D);
    let err = 0, mx = 0;
    for (let k = 0; k < T.length; k++) { err = Math.max(err, Math.abs(T[k] - B[k])); mx = Math.max(mx, Math.abs(B[k])); }
    expect(mx).toBeGreaterThan(0.1);
    expect(err).toBeLessThan(1e-12 * mx);
  });

  it("implicit ‖ΔT‖² formula equals the explicit norm", () => {
    const P = 300, D = 7;
    const X = gaussianish(P, D, 2);
    const T = sampleCumulantTensor(X, P, D);
    const exact = normSq(T);
    const implicit = sampleCumulantNormSq(X, P, D);
    expect(exact).toBeGreaterThan(1);
    expect(Math.abs(implicit - exact) / exact).toBeLessThan(1e-10);
  });

  it("cpToTensor is Σ γ u⊗4", () => {
    const D = 4;
    const U = Float64Array.from([1, 2, 0, -1, 0.5, 0, 1, 1]);
    const T = cpTensor([2, -0.5], U, 2, D);
    const idx = ((1 * D + 3) * D + 0) * D + 2; // (1,3,0,2)
    expect(T[idx]).toBeCloseTo(2 * 2 * -1 * 1 * 0 + -0.5 * 0 * 1 * 0.5 * 1, 14);
    const idx2 = ((3 * D + 3) * D + 2) * D + 0;
    expect(T[idx2]).toBeCloseTo(2 * 1 * 1 * 0 * 1 + -0.5 * 1 * 1 * 1 * 0.5, 14);
  });
});

describe("CP loss and gradients", () => {
  it("implicit gradient matches finite differences (with and without stored C; r not a multiple of 4, odd P)", () => {
    const P = 101, D = 6;
    const X = gaussianish(P, D, 3);
    for (const r of [1, 3, 5]) {
      for (const useCovariance of [true, false]) {
        const L = new ImplicitCumulantLoss(X, P, D, r, { useCovariance });
        const err = checkGradient((x, g) => L.fg(x, g), randomTheta(r, D, 10 + r));
        expect(err).toBeLessThan(1e-6);
      }
    }
  });

  it("explicit gradient matches finite differences", () => {
    const P = 80, D = 5, r = 3;
    const T = sampleCumulantTensor(gaussianish(P, D, 4), P, D);
    const L = new ExplicitCumulantLoss(T, D, r, true);
    expect(checkGradient((x, g) => L.fg(x, g), randomTheta(r, D, 5))).toBeLessThan(1e-6);
  });

  it("implicit and explicit paths agree: loss up to ‖ΔT‖², identical gradients, = ‖ΔT − T̂‖²", () => {
    const P = 400, D = 8, r = 4;
    const X = gaussianish(P, D, 6);
    const T = sampleCumulantTensor(X, P, D);
    const imp = new ImplicitCumulantLoss(X, P, D, r);
    const exp = new ExplicitCumulantLoss(T, D, r, true);
    for (let s = 0; s < 3; s++) {
      const th = randomTheta(r, D, 20 + s);
      const gi = new Float64Array(imp.n), ge = new Float64Array(exp.n);
      const li = imp.fg(th, gi), le = exp.fg(th, ge);
      // Direct ‖ΔT − T̂‖² from the explicit tensors.
      const { gamma, U } = { gamma: th.subarray(0, r), U: th.subarray(r) };
      const That = cpTensor(gamma, U, r, D);
      let direct = 0;
      for (let k = 0; k < T.length; k++) direct += (T[k] - That[k]) ** 2;
      expect(Math.abs(le - direct) / direct).toBeLessThan(1e-11);
      expect(Math.abs(li + normSq(T) - le) / le).toBeLessThan(1e-11);
      let gmax = 0, dmax = 0;
      for (let k = 0; k < gi.length; k++) { gmax = Math.max(gmax, Math.abs(ge[k])); dmax = Math.max(dmax, Math.abs(gi[k] - ge[k])); }
      expect(dmax / gmax).toBeLessThan(1e-11);
    }
  });

  it("reduced (γ-eliminated, normalised) objective: gradient matches finite differences, value = min over γ", () => {
    const P = 150, D = 6, r = 3;
    const X = gaussianish(P, D, 11);
    const L = new ImplicitCumulantLoss(X, P, D, r);
    const red = new ReducedCpObjective(L);
    red.scale = 7.5;
    const V = randomTheta(r, D, 12).slice(r);
    for (let k = 0; k < V.length; k++) V[k] *= 1 + 0.3 * (k % 3); // non-unit norms
    expect(checkGradient((x, g) => red.fg(x, g), V)).toBeLessThan(1e-6);
    // Value = L(γ*, U/|U|) with γ* the optimal weights.
    const f = red.fg(V, new Float64Array(V.length)) * red.scale;
    const U = V.slice();
    for (let a = 0; a < r; a++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += U[a * D + i] ** 2;
      for (let i = 0; i < D; i++) U[a * D + i] /= Math.sqrt(s);
    }
    const th = new Float64Array(L.n);
    th.set(optimalWeights(L, U), 0);
    th.set(U, r);
    const g = new Float64Array(L.n);
    expect(Math.abs(L.fg(th, g) - f)).toBeLessThan(1e-10 * Math.abs(f));
  });

  it("optimalWeights minimises the loss over γ (gradient in γ vanishes)", () => {
    const P = 200, D = 6, r = 3;
    const X = gaussianish(P, D, 7);
    const L = new ImplicitCumulantLoss(X, P, D, r);
    const th = randomTheta(r, D, 8);
    th.set(optimalWeights(L, th.slice(r)), 0);
    const g = new Float64Array(L.n);
    L.fg(th, g);
    for (let a = 0; a < r; a++) expect(Math.abs(g[a])).toBeLessThan(1e-10);
  });
});

/** Orthonormal rows by Gram–Schmidt. */
function orthonormal(U: Float64Array, r: number, D: number): Float64Array {
  for (let a = 0; a < r; a++) {
    for (let b = 0; b < a; b++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += U[a * D + i] * U[b * D + i];
      for (let i = 0; i < D; i++) U[a * D + i] -= s * U[b * D + i];
    }
    let s = 0;
    for (let i = 0; i < D; i++) s += U[a * D + i] ** 2;
    for (let i = 0; i < D; i++) U[a * D + i] /= Math.sqrt(s);
  }
  return U;
}

function unitRows(U: Float64Array, r: number, D: number): Float64Array {
  for (let a = 0; a < r; a++) {
    let s = 0;
    for (let i = 0; i < D; i++) s += U[a * D + i] ** 2;
    for (let i = 0; i < D; i++) U[a * D + i] /= Math.sqrt(s);
  }
  return U;
}

describe("planted recovery", () => {
  const cases: { name: string; gamma: number[]; orth: boolean }[] = [
    { name: "orthogonal r=3, mixed signs", gamma: [-2, 1.5, -0.7], orth: true },
    { name: "generic (non-orthogonal) r=2", gamma: [1.8, -1.1], orth: false },
    { name: "generic (non-orthogonal) r=3", gamma: [-2.5, 1.6, 0.9], orth: false },
  ];
  for (const c of cases) for (const method of ["reduced", "joint"] as const) {
    it(`explicit path recovers ${c.name} to 1e-6 (${method})`, () => {
      const D = 8, r = c.gamma.length;
      const rng = new Rng(100 + r);
      const U = new Float64Array(r * D);
      for (let k = 0; k < U.length; k++) U[k] = rng.normal();
      if (c.orth) orthonormal(U, r, D); else unitRows(U, r, D);
      const T = cpTensor(c.gamma, U, r, D);
      const L = new ExplicitCumulantLoss(T, D, r, true);
      const res = decompose(L, { restarts: 4, seed: 7, gtol: 1e-13, ftol: 0, maxIter: 3000, method });
      // The loss includes the constant ‖T‖², so it cannot resolve below rounding (≈ 1e-15‖T‖²).
      expect(res.loss).toBeLessThan(1e-12 * normSq(T));
      const m = matchFactors(U, r, res.factors, r, D);
      for (let a = 0; a < r; a++) {
        expect(m.error[a]).toBeLessThan(1e-6);
        expect(Math.abs(res.weights[m.index[a]] - c.gamma[a])).toBeLessThan(1e-6 * Math.abs(c.gamma[a]));
      }
      // Normalised and sorted by |γ|.
      for (let a = 0; a + 1 < r; a++) expect(Math.abs(res.weights[a])).toBeGreaterThanOrEqual(Math.abs(res.weights[a + 1]));
      for (let a = 0; a < r; a++) {
        let s = 0;
        for (let i = 0; i < D; i++) s += res.factors[a * D + i] ** 2;
        expect(Math.abs(s - 1)).toBeLessThan(1e-14);
      }
    });
  }

  it("implicit path recovers sources' mixing vectors from samples (ΔT = Σ κ_a u_a⊗4 + O(P^-1/2))", () => {
    // x = Σ_a s_a u_a + σ ε, s_1 Rademacher (κ = −2), s_2 uniform with unit variance (κ = −1.2),
    // s_3 Laplace with unit variance (κ = +3); u_a orthonormal, Gaussian noise adds no cumulant.
    const D = 12, r = 3, P = 60_000, sigma = 0.5;
    const rng = new Rng(2024);
    const U = new Float64Array(r * D);
    for (let k = 0; k < U.length; k++) U[k] = rng.normal();
    orthonormal(U, r, D);
    const kappa = [-2, -1.2, 3];
    const X = new Float64Array(P * D);
    for (let n = 0; n < P; n++) {
      const s = [
        rng.uniform() < 0.5 ? -1 : 1,
        Math.sqrt(3) * (2 * rng.uniform() - 1),
        (rng.uniform() < 0.5 ? -1 : 1) * -Math.log(rng.uniformOpen()) / Math.SQRT2,
      ];
      for (let i = 0; i < D; i++) {
        let v = sigma * rng.normal();
        for (let a = 0; a < r; a++) v += s[a] * U[a * D + i];
        X[n * D + i] = v;
      }
    }
    const L = new ImplicitCumulantLoss(X, P, D, r);
    const res = decompose(L, { restarts: 3, seed: 3, gtol: 1e-9 });
    const m = matchFactors(U, r, res.factors, r, D);
    // Sampling noise of the cumulant entries is O(√(E x⁸ / P)); the factor error scales like
    // √(D/P)·O(1)/|κ| ≈ 0.014/|κ|·O(1).  Tolerance 0.05 (measured errors ≈ 0.003–0.02); a wrong
    // gradient or a missing Wick term (then u_a would not be recovered at all) fails by far.
    for (let a = 0; a < r; a++) expect(m.error[a]).toBeLessThan(0.05);
    // γ_a ≈ κ_a (the Laplace κ has the largest sampling error: E s⁸ = 8!/2⁴·… is large).
    for (let a = 0; a < r; a++) expect(Math.abs(res.weights[m.index[a]] - kappa[a])).toBeLessThan(0.15 * Math.abs(kappa[a]));
    // Sorted by |γ|: Laplace (3), Rademacher (−2), uniform (−1.2).
    expect(m.index).toEqual([1, 2, 0]);
  });

  it("decompositions are bit-reproducible for a seed", () => {
    const P = 300, D = 6, r = 2;
    const X = gaussianish(P, D, 9);
    const a = decompose(new ImplicitCumulantLoss(X, P, D, r), { restarts: 2, seed: 5, maxIter: 200 });
    const b = decompose(new ImplicitCumulantLoss(X, P, D, r), { restarts: 2, seed: 5, maxIter: 200 });
    expect(Array.from(a.factors)).toEqual(Array.from(b.factors));
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
  });

  it("normaliseFactors keeps the tensor, fixes scale and sign, sorts by |γ|", () => {
    const D = 4, r = 2;
    const th = Float64Array.from([0.5, -3, /* u0 */ 0, -2, 0, 0, /* u1 */ 1, 1, 0, 0]);
    const { weights: gamma, factors: U } = normaliseFactors(th, r, D);
    expect(Array.from(gamma)).toEqual([-3 * 4, 0.5 * 16]);
    const want = [Math.SQRT1_2, Math.SQRT1_2, 0, 0, 0, 1, 0, 0];
    want.forEach((v, k) => expect(U[k]).toBeCloseTo(v, 15));
    const T0 = cpTensor(th.subarray(0, r), th.subarray(r), r, D), T1 = cpTensor(gamma, U, r, D);
    for (let k = 0; k < T0.length; k++) expect(T1[k]).toBeCloseTo(T0[k], 12);
    void secondMoment;
  });
});


describe("analysis helpers and model validation", () => {
  it("relative reconstruction error: explicit tensor and implicit O(P²D) norm agree", () => {
    const P = 500, D = 9, r = 3;
    const X = gaussianish(P, D, 13);
    const res = decompose(new ImplicitCumulantLoss(X, P, D, r), { restarts: 1, seed: 2, maxIter: 300 });
    expect(res.r).toBe(r);
    expect(res.D).toBe(D);
    const e = relativeReconstructionError(X, P, res, "explicit");
    const i = relativeReconstructionError(X, P, res, "implicit");
    expect(e.method).toBe("explicit");
    expect(i.method).toBe("implicit");
    // Independent value: brute-force cumulant B and CP tensor entry by entry.
    const bf = bruteFit(bruteCumulant(X, P, D), res.weights, res.factors, r, D);
    expect(Math.abs(e.relError! - bf.relError)).toBeLessThan(1e-12);
    expect(Math.abs(i.relError! - bf.relError)).toBeLessThan(1e-9);
    expect(Math.abs(e.normSq! - bf.normSq) / bf.normSq).toBeLessThan(1e-12);
    expect(Math.abs(i.normSq! - bf.normSq) / bf.normSq).toBeLessThan(1e-10);
    // The reported loss is ‖B − T̂‖² − ‖B‖², and γ is optimal for U: the residual ⟂ every u_a⊗4.
    expect(Math.abs(res.loss - bf.loss)).toBeLessThan(1e-9 * bf.normSq);
    for (let a = 0; a < r; a++) expect(Math.abs(bf.proj[a])).toBeLessThan(1e-8 * Math.sqrt(bf.normSq));
    expect(bf.relError).toBeGreaterThan(0.05); // rank 3 does not fit this cumulant exactly
  });

  it("an aborted signal stops the decomposition with status interrupted", () => {
    const P = 300, D = 8, r = 3;
    const X = gaussianish(P, D, 14);
    const ac = new AbortController();
    let calls = 0;
    const res = decompose(new ImplicitCumulantLoss(X, P, D, r), { restarts: 3, seed: 1 }, {
      signal: ac.signal,
      onProgress: (e) => {
        expect(e.unit).toBe("restarts");
        expect(e.total).toBe(3);
        if (++calls === 5) ac.abort();
      },
    });
    expect(res.status).toBe("interrupted");
    expect(res.restarts.length).toBe(1);
    // onProgress runs once per L-BFGS iteration (the abort in the 5th call stops restart 0 after 5
    // iterations) and once more for the final summary.
    expect(calls).toBe(6);
    expect(res.restarts[0].iterations).toBe(5);
    // The partial result is consistent: its loss is ‖B − T̂‖² − ‖B‖² at the returned (γ, U), with
    // γ optimal for U, and unit factors.
    const bf = bruteFit(bruteCumulant(X, P, D), res.weights, res.factors, r, D);
    expect(Math.abs(res.loss - bf.loss)).toBeLessThan(1e-9 * bf.normSq);
    for (let a = 0; a < r; a++) {
      expect(Math.abs(bf.proj[a])).toBeLessThan(1e-8 * Math.sqrt(bf.normSq));
      let n2 = 0;
      for (let i = 0; i < D; i++) n2 += res.factors[a * D + i] ** 2;
      expect(n2).toBeCloseTo(1, 14);
    }
    // … and the interrupted run has not reached the optimum of a full run from the same start.
    const full = decompose(new ImplicitCumulantLoss(X, P, D, r), { restarts: 1, seed: 1 });
    expect(full.loss).toBeLessThan(res.loss);
  });

  it("analyseCumulant frees its samples and C's kernel copy when done (SIMD backend), same numbers as the TS backend", async () => {
    const spec = {
      geometry: { dim: 1 as const, L: 24 }, cls: { kind: "nlgp" as const, xi: 3, gain: 2 }, P: 800, rank: 3, topK: 3,
      decompose: { restarts: 2, seed: 4, maxIter: 200 }, reconstructionError: "implicit" as const, implicitMaxFlops: 1e9,
    };
    const wk = wasmKernels();
    if (wk && kernelBackend() === "wasm-simd") {
      const res0 = wk.residentTotal(), pin0 = wk.pinnedTotal();
      const a = await analyseCumulant(spec, new Rng(8));
      // The P×D samples were resident (not a pinned copy) and were released; C (D×D) is unpinned.
      expect(wk.residentTotal()).toBe(res0);
      expect(wk.pinnedTotal()).toBe(pin0);
      // The freed block is reused by the next analysis: the memory does not grow run after run.
      const bytes = wk.heap.mem.buffer.byteLength;
      for (let k = 0; k < 4; k++) await analyseCumulant(spec, new Rng(8));
      expect(wk.heap.mem.buffer.byteLength).toBe(bytes);
      const prev = setKernelBackend("ts");
      try {
        const b = await analyseCumulant(spec, new Rng(8));
        expect(Array.from(b.factors)).toEqual(Array.from(a.factors));
        expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
        expect(b.relError).toBe(a.relError);
      } finally {
        setKernelBackend(prev);
      }
    }
    // sampleClass into a given array draws the same rows as into a new one; a short array is refused.
    const X = sampleClass(spec.geometry, spec.cls, 50, new Rng(3));
    const out = new Float64Array(50 * 24 + 7).fill(9);
    sampleClass(spec.geometry, spec.cls, 50, new Rng(3), out);
    expect(Array.from(out.subarray(0, 50 * 24))).toEqual(Array.from(X));
    expect(out[50 * 24]).toBe(9);
    expect(() => sampleClass(spec.geometry, spec.cls, 50, new Rng(3), new Float64Array(10))).toThrow(/out has 10 entries/);
  });

  it("analyseCumulant on NLGP data: unit factors sorted by |γ|, IPRs in [1/D, 1], reproducible", async () => {
    const spec = {
      geometry: { dim: 1 as const, L: 16 }, cls: { kind: "nlgp" as const, xi: 2, gain: 3 }, P: 1600, rank: 4, topK: 3,
      decompose: { restarts: 2, seed: 9, maxIter: 500 }, reconstructionError: "auto" as const, implicitMaxFlops: 1e9,
    };
    const a = await analyseCumulant(spec, new Rng(5));
    const b = await analyseCumulant(spec, new Rng(5));
    expect(Array.from(a.factors)).toEqual(Array.from(b.factors));
    expect(a.relErrorMethod).toBe("explicit");
    // Same data as analyseCumulant drew (sampleClass is its first use of the Rng): brute-force values.
    const D = 16, X = sampleClass(spec.geometry, spec.cls, spec.P, new Rng(5));
    const bf = bruteFit(bruteCumulant(X, spec.P, D), a.weights, a.factors, 4, D);
    expect(Math.abs(a.relError! - bf.relError)).toBeLessThan(1e-12);
    expect(Math.abs(a.cumulantNormSq! - bf.normSq) / bf.normSq).toBeLessThan(1e-12);
    expect(Math.abs(a.loss - bf.loss)).toBeLessThan(1e-9 * bf.normSq);
    for (let k = 0; k < 4; k++) {
      // IPR = Σu⁴/(Σu²)² of each factor, recomputed; factors have unit norm.
      let s2 = 0, s4 = 0;
      for (let i = 0; i < D; i++) { const u = a.factors[k * D + i]; s2 += u * u; s4 += u ** 4; }
      expect(s2).toBeCloseTo(1, 14);
      expect(Math.abs(a.ipr[k] - s4 / (s2 * s2))).toBeLessThan(1e-15);
      expect(a.ipr[k]).toBeGreaterThanOrEqual(1 / 16 - 1e-15);
      if (k > 0) expect(Math.abs(a.weights[k])).toBeLessThanOrEqual(Math.abs(a.weights[k - 1])); // sorted by |γ|
    }
    expect(a.leadingIpr).toBe(a.ipr[0]);
    expect(a.maxIprTopK).toBe(Math.max(a.ipr[0], a.ipr[1], a.ipr[2]));
    expect(a.ipr[a.argmaxIprTopK]).toBe(a.maxIprTopK);
    // Strongly non-Gaussian NLGP (g = 3): negative excess kurtosis ⇒ the leading weights are negative.
    expect(a.weights[0]).toBeLessThan(0);
  });

  const base = { kind: "cp", data: { geometry: { dim: 1, L: 20 }, class: { kind: "nlgp", xi: 3, gain: 3 }, alpha: 10 } };
  const bad: [string, unknown, RegExp][] = [
    ["rank 0", { ...base, decomposition: { rank: 0 } }, /^model\.decomposition\.rank: must be ≥ 1 \(got 0\)$/],
    ["negative alpha", { ...base, data: { ...base.data, alpha: -1 } }, /^model\.data\.alpha: must be > 0/],
    ["both alpha and P", { ...base, data: { ...base.data, P: 100 } }, /^model\.data: give exactly one of/],
    ["gain sweep on gp", { ...base, data: { ...base.data, class: { kind: "gp", xi: 3 } }, sweep: { gain: [1] } }, /^model\.sweep\.gain: class kind "gp" has no gain/],
    ["explicit error at D > 40", { ...base, data: { ...base.data, geometry: { dim: 1, L: 50 } }, output: { reconstructionError: "explicit" } }, /^model\.output\.reconstructionError: "explicit" needs D ≤ 40/],
    ["unknown field", { ...base, extra: 1 }, /^model\.extra: unknown field/],
  ];
  for (const [name, input, re] of bad) {
    it(`cp model: ${name} → one-line UserError naming the field`, () => {
      let err: unknown;
      try { parseCpModel(input); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain("\n");
    });
  }

  it("attractors model: starts beyond the rank and missing factors are rejected", () => {
    const a = {
      kind: "attractors", task: { geometry: { dim: 1, L: 20 }, classes: [{ kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 }] },
      alpha: 10, cp: { classes: [null, { rank: 3 }] }, starts: { factors: [4] },
    };
    expect(() => parseAttractorsModel(a)).toThrow(/^model\.starts\.factors: factor 4 exceeds the rank 3/);
    expect(() => parseAttractorsModel({ ...a, cp: { classes: [null, null] } })).toThrow(/^model\.cp\.classes: at least one class needs factors/);
    expect(() => parseAttractorsModel({ ...a, starts: { factors: [1], sigma: -1 } })).toThrow(/^model\.starts\.sigma: must be ≥ 0/);
    expect(parseAttractorsModel({ ...a, starts: { factors: [1] } }).track).toBe(1);
  });

  it("a cp sweep on 2 worker threads writes the same factors and summary as on 1 thread", async () => {
    const model = {
      kind: "cp", seed: 3,
      data: { geometry: { dim: 1, L: 12 }, class: { kind: "nlgp", xi: 2, gain: 3 }, alpha: 40 },
      decomposition: { rank: 3, restarts: 2, maxIter: 300 },
      sweep: { gain: [1, 3], samples: 2 },
      output: { allRuns: true },
    };
    const root = mkdtempSync(join(tmpdir(), "rfdyn-cp-j-"));
    try {
      const m = cpExperiment.parse(model);
      for (const [dir, threads] of [["j1", 1], ["j2", 2]] as const) {
        const res = await cpExperiment.run(m, { threads });
        expect(res.runs.map((r) => [r.point, r.sample])).toEqual([[0, 0], [1, 0], [0, 1], [1, 1]]);
        await writeCpResult(join(root, dir), res);
      }
      const runs = readdirSync(join(root, "j1", "runs")).sort();
      expect(runs.length).toBe(4);
      expect(readdirSync(join(root, "j2", "runs")).sort()).toEqual(runs);
      for (const r of runs) {
        for (const f of ["factors.npy", "gamma.npy", "factors.csv"]) {
          expect(readFileSync(join(root, "j2", "runs", r, f)).equals(readFileSync(join(root, "j1", "runs", r, f)))).toBe(true);
        }
      }
      expect(readFileSync(join(root, "j2", "summary.csv"), "utf8")).toBe(readFileSync(join(root, "j1", "summary.csv"), "utf8"));
      const dropSeconds = (csv: string) => csv.trim().split("\n").map((l) => l.split(",").slice(0, -1).join(","));
      expect(dropSeconds(readFileSync(join(root, "j2", "runs.csv"), "utf8"))).toEqual(dropSeconds(readFileSync(join(root, "j1", "runs.csv"), "utf8")));
      const res = JSON.parse(readFileSync(join(root, "j2", "result.json"), "utf8"));
      expect(res.status).toBe("done");
      expect(res.summary.runs).toBe(4);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("cp pool units: the worker's module", () => {
  it("the unit module of cp runs does not load the model schema (zod); ./cp.ts, which validates models, does", () => {
    const dir = resolve(dirname(fileURLToPath(import.meta.url)), "../src/experiments");
    const unit = loadedModules(join(dir, "cp-unit.ts"));
    const full = loadedModules(join(dir, "cp.ts"));
    expect(unit.has(join(dir, "../cp/analyse.ts"))).toBe(true); // the scan follows imports
    expect(full.has("zod")).toBe(true);
    expect(unit.has("zod")).toBe(false);
    expect([...unit].some((f) => f.includes("/src/schema/"))).toBe(false);
  });
});
