/**
 * The GET test error (src/theory/get.ts) is deterministic, so it is checked here against an
 * independent quadrature to ~1e-10 instead of Monte Carlo: for each class,
 *   E[(y − φ)²] = y² − 2y Σ_k v_k E[g(λ_k + b_k)] + Σ_kl v_k v_l E[g(λ_k + b_k) g(λ_l + b_l)],
 * g(h) = erf(h/√2) (REFERENCE.md), λ ~ N(0, Ω), with every expectation done by a tensor-product
 * trapezoidal rule in whitened coordinates (Cholesky of the 1×1 / 2×2 block) written in the test
 * (exponentially convergent for these analytic integrands, and — unlike Gauss–Hermite — robust for
 * large variances where erf(λ/√2) is steep on the scale of the rule) — and, for K = 3, also by one
 * 3-D quadrature of (y − φ)² itself, so that the pair decomposition is not assumed either.
 */
import { describe, expect, it } from "vitest";
import { gaussianClassPmse, getTestError } from "../src/theory/get.js";
import { denseFromRow, kernelRow, spectrumOfRow, type Geometry } from "../src/data/kernels.js";
import { Rng } from "../src/stats/rng.js";
import { erf } from "../src/stats/special.js";
import { gaussianGrid, trapezoidRule } from "./independent-quadrature.js";

const act = (h: number) => erf(h / Math.SQRT2);
/** Step 0.05 on |z| ≤ 9: tail mass < 1e-18; step error far below 1e-13 (checked against step 0.035). */
const RULE = trapezoidRule(0.05, 9);
const FINE = trapezoidRule(0.035, 9.5);

/** E[g(λ + b)], λ ~ N(0, s). */
function eG1(s: number, b: number): number {
  let acc = 0;
  gaussianGrid([s], 1, RULE, (u, w) => { acc += w * act(u[0] + b); });
  return acc;
}

/** E[g(λ1 + b1) g(λ2 + b2)] over the bivariate normal with covariance [[s11, s12], [s12, s22]]. */
function eG2(s11: number, s22: number, s12: number, b1: number, b2: number, rule = RULE): number {
  let acc = 0;
  gaussianGrid([s11, s12, s12, s22], 2, rule, (u, w) => { acc += w * act(u[0] + b1) * act(u[1] + b2); });
  return acc;
}

/** E[g(λ + b)²], λ ~ N(0, s) (the diagonal terms are 1-D integrals). */
function eGsq(s: number, b: number): number {
  let acc = 0;
  gaussianGrid([s], 1, RULE, (u, w) => { acc += w * act(u[0] + b) ** 2; });
  return acc;
}
/**
 * Pairwise-quadrature pieces of the class pmse: s1 = Σ v_k E[g_k], s2 = Σ_kl v_k v_l E[g_k g_l] and the
 * cross-term contributions 2 v_k v_l E[g_k g_l] (k < l); pmse(y) = y² − 2y s1 + s2.
 */
function pmseQuad(Om: Float64Array, b: number[], v: number[], K: number) {
  let s1 = 0, s2 = 0;
  const cross: number[] = [];
  for (let k = 0; k < K; k++) {
    s1 += v[k] * eG1(Om[k * K + k], b[k]);
    s2 += v[k] * v[k] * eGsq(Om[k * K + k], b[k]);
    for (let l = k + 1; l < K; l++) {
      const c = 2 * v[k] * v[l] * eG2(Om[k * K + k], Om[l * K + l], Om[k * K + l], b[k], b[l]);
      s2 += c;
      cross.push(c);
    }
  }
  return { pmse: (y: number) => y * y - 2 * y * s1 + s2, cross };
}

/** Random positive-definite K×K Ω = A Aᵀ + δI with diagonal in roughly [0.2, 3]. */
function randomOmega(K: number, rng: Rng): Float64Array {
  const A = rng.fillNormal(new Float64Array(K * K), 0.8);
  const Om = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
    let s = i === j ? 0.1 : 0;
    for (let m = 0; m < K; m++) s += A[i * K + m] * A[j * K + m];
    Om[i * K + j] = s;
  }
  return Om;
}

describe("quadrature reference is accurate", () => {
  it("at b = 0 the 2-D rule reproduces (2/π) arcsin(Ω12/√((1+Ω11)(1+Ω22))) to 1e-13; steps 0.05 vs 0.035 agree to 1e-13 with biases", () => {
    const rng = new Rng(11);
    for (let r = 0; r < 6; r++) {
      const Om = randomOmega(2, rng);
      const closed = (2 / Math.PI) * Math.asin(Om[1] / Math.sqrt((1 + Om[0]) * (1 + Om[3])));
      expect(Math.abs(eG2(Om[0], Om[3], Om[1], 0, 0) - closed)).toBeLessThan(1e-13);
      const b1 = rng.normal(), b2 = rng.normal();
      expect(Math.abs(eG2(Om[0], Om[3], Om[1], b1, b2) - eG2(Om[0], Om[3], Om[1], b1, b2, FINE))).toBeLessThan(1e-13);
      // 1-D: E[g(λ + b)] = erf(b/√(2(1 + s))) (Gaussian convolution of the probit) and E[g(λ)²] = (2/π) arcsin(s/(1+s)).
      expect(Math.abs(eG1(Om[0], b1) - erf(b1 / Math.sqrt(2 * (1 + Om[0]))))).toBeLessThan(1e-14);
      expect(Math.abs(eGsq(Om[0], 0) - (2 / Math.PI) * Math.asin(Om[0] / (1 + Om[0])))).toBeLessThan(1e-14);
    }
    // Large variances (steep erf in whitened coordinates), where a 100-node Gauss–Hermite rule is off by 1e-6.
    for (const [s11, s22, s12] of [[8, 10, 5], [12, 0.3, -1.2]]) {
      const closed = (2 / Math.PI) * Math.asin(s12 / Math.sqrt((1 + s11) * (1 + s22)));
      expect(Math.abs(eG2(s11, s22, s12, 0, 0) - closed)).toBeLessThan(1e-13);
      expect(Math.abs(eGsq(s11, 0) - (2 / Math.PI) * Math.asin(s11 / (1 + s11)))).toBeLessThan(1e-14);
      expect(Math.abs(eG1(s11, 0.8) - erf(0.8 / Math.sqrt(2 * (1 + s11))))).toBeLessThan(1e-14);
    }
  });
});

describe("gaussianClassPmse against independent quadrature", () => {
  it("random (Ω, b, v, y), K = 2 … 5: agreement to 1e-10, and a 1e-3 relative change of any cross term would fail", () => {
    const rng = new Rng(2024);
    let cases = 0;
    for (const K of [2, 3, 4, 5]) {
      for (let r = 0; r < 3; r++) {
        const Om = randomOmega(K, rng);
        const b = Array.from({ length: K }, () => 1.2 * rng.normal());
        const v = Array.from({ length: K }, () => (0.4 + rng.uniform()) * (rng.uniform() < 0.5 ? -1 : 1));
        const ref = pmseQuad(Om, b, v, K);
        for (const y of [-1, 1, 0.3]) {
          const got = gaussianClassPmse(Om, b, v, y, K);
          // Tolerance 1e-10: the source's bivariate-normal CDF is ≲ 1e-13 and the quadrature ≲ 1e-13
          // per expectation (verified above); K² terms with |v| ≤ 1.4 stay far below 1e-10.
          expect(Math.abs(got - ref.pmse(y))).toBeLessThan(1e-10);
          // Power: a relative error 1e-3 in the smallest cross term shifts pmse by ≥ 100× the tolerance.
          const minCross = Math.min(...ref.cross.map(Math.abs));
          expect(1e-3 * minCross).toBeGreaterThan(100 * 1e-10);
          cases++;
        }
      }
    }
    expect(cases).toBe(36);
  });

  it("K = 3: one 3-D quadrature of (y − φ)² itself (no pair decomposition) agrees to 1e-10", () => {
    // Step 0.15 on |z| ≤ 7.5 (10⁶ points): the tail mass 3·2·Φ(−7.5) ≈ 2e-13 and the step error
    // (∝ exp(−2πd/h)) are far below the tolerance for whitened erf arguments of slope ≲ 2.
    const GRID3 = trapezoidRule(0.15, 7.5);
    const rng = new Rng(7);
    for (let r = 0; r < 3; r++) {
      const K = 3;
      const Om = randomOmega(K, rng);
      const b = [0.9 * rng.normal(), 0.9 * rng.normal(), 0.9 * rng.normal()];
      const v = [0.8, -0.6, 0.5 + 0.3 * rng.uniform()];
      for (const y of [-1, 1]) {
        let acc = 0;
        gaussianGrid(Om, 3, GRID3, (u, w) => {
          const phi = v[0] * act(u[0] + b[0]) + v[1] * act(u[1] + b[1]) + v[2] * act(u[2] + b[2]);
          acc += w * (y - phi) ** 2;
        });
        expect(Math.abs(gaussianClassPmse(Om, b, v, y, K) - acc)).toBeLessThan(1e-10);
      }
    }
  });

  it("getTestError end to end (dense Ω = W C^μ Wᵀ, two classes, p = ½): pmse and per-class errors to 1e-10", () => {
    const geom: Geometry = { dim: 1, L: 20 };
    const D = 20, K = 4;
    const rng = new Rng(99);
    const W = rng.fillNormal(new Float64Array(K * D), 1.3 / Math.sqrt(D));
    const b = [0.7, -0.4, 1.1, -0.9], v = [0.9, -0.6, 0.5, 0.4];
    const rows = [kernelRow(geom, 1.2), kernelRow(geom, 3)];
    const get = getTestError({ W, b, v, K }, geom, rows.map((r) => spectrumOfRow(geom, r)), [-1, 1]);
    let pm = 0;
    rows.forEach((row, mu) => {
      const C = denseFromRow(geom, row);
      const Om = new Float64Array(K * K);
      for (let k = 0; k < K; k++) for (let l = 0; l < K; l++) {
        let s = 0;
        for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) s += W[k * D + i] * C[i * D + j] * W[l * D + j];
        Om[k * K + l] = s;
      }
      const ref = pmseQuad(Om, b, v, K).pmse(mu === 0 ? -1 : 1);
      expect(Math.abs(get.perClass[mu] - ref)).toBeLessThan(1e-10);
      pm += 0.5 * ref;
    });
    expect(Math.abs(get.pmse - pm)).toBeLessThan(1e-10);
  });
});
