/**
 * Independent checks of the NLGP normalisation and exact covariance (src/data/nlgp.ts, NlgpClass):
 * γ(g) and C_ij are recomputed by Gauss–Hermite quadrature of erf(g z/√2) (a different method from
 * the arcsin closed form), the closed form is also written out here, and sampled NLGP data are
 * checked to have unit variance per site.
 */
import { describe, expect, it } from "vitest";
import { nlgpCovariance, nlgpGamma, nlgpTransform, toIg22Gain } from "../src/data/nlgp.js";
import { makeClassSampler, NlgpClass } from "../src/data/task.js";
import { Rng } from "../src/stats/rng.js";
import { erf } from "../src/stats/special.js";
import { trapezoidRule } from "./independent-quadrature.js";

/** γ written out from REFERENCE.md: (2/π) arcsin(g²/(1+g²)). */
const gammaRef = (g: number) => (2 / Math.PI) * Math.asin((g * g) / (1 + g * g));

/** E[erf(g z1/√2) erf(g z2/√2)] for unit-variance z with correlation s, by a 2-D trapezoidal rule (step h, |z| ≤ 9). */
function erfProduct(g: number, s: number, h: number): number {
  const { x, w } = trapezoidRule(h, 9);
  const n = x.length;
  const a = g / Math.SQRT2, c = Math.sqrt(1 - s * s);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const e1 = erf(a * x[i]);
    for (let j = 0; j < n; j++) acc += w[i] * w[j] * e1 * erf(a * (s * x[i] + c * x[j]));
  }
  return acc;
}

describe("NLGP normalisation γ(g) by quadrature", () => {
  it("γ(g) = Var[erf(g z/√2)] by the trapezoidal rule to 1e-12 for g ≤ 10; the reference values hold", () => {
    // Convergence: steps h = 0.02 and 0.01 agree to < 1e-13 (exponential convergence for analytic
    // integrands); truncation at |z| = 12 costs < φ(12) ≈ 1e-32.
    for (const g of [0.3, 0.7, 1, 1.5, 2, 3, 10]) {
      const q = (h: number) => { const { x, w } = trapezoidRule(h, 12); let s = 0; for (let i = 0; i < x.length; i++) s += w[i] * erf((g * x[i]) / Math.SQRT2) ** 2; return s; };
      const q200 = q(0.02), q300 = q(0.01);
      expect(Math.abs(q200 - q300)).toBeLessThan(1e-13);
      expect(Math.abs(nlgpGamma(g) - q300)).toBeLessThan(1e-12);
      expect(Math.abs(nlgpGamma(g) - gammaRef(g))).toBeLessThan(1e-15);
    }
    // REFERENCE.md values (printed to 6 decimals): γ(1) = 1/3 exactly.
    expect(nlgpGamma(1)).toBeCloseTo(1 / 3, 15);
    expect(Math.abs(nlgpGamma(2) - 0.590334)).toBeLessThan(5e-7);
    expect(Math.abs(nlgpGamma(3) - 0.712867)).toBeLessThan(5e-7);
    expect(Math.abs(nlgpGamma(10) - 0.910341)).toBeLessThan(5e-7);
  });

  it("the transform x = erf(g z/√2)/√γ has E[x²] = 1 by quadrature (1e-12) and equals the written-out form", () => {
    for (const g of [0.5, 1, 2, 3, 10]) {
      const T = nlgpTransform(g);
      const { x, w } = trapezoidRule(0.01, 12);
      let m2 = 0;
      for (let i = 0; i < x.length; i++) m2 += w[i] * T(x[i]) ** 2;
      expect(Math.abs(m2 - 1)).toBeLessThan(1e-12);
      for (const z of [-2.5, -0.3, 0.1, 1.7]) expect(T(z)).toBeCloseTo(erf((g * z) / Math.SQRT2) / Math.sqrt(gammaRef(g)), 14);
    }
    // The LSG24 gain g' is g/√2 in the IG22 convention.
    expect(toIg22Gain(2, "lsg24")).toBeCloseTo(2 * Math.SQRT2, 15);
    expect(toIg22Gain(2, "ig22")).toBe(2);
  });
});

describe("NLGP exact covariance", () => {
  it("C(s) = E[x_i x_j] by a 2-D trapezoidal rule (1e-10) equals nlgpCovariance and the arcsin form written out", () => {
    for (const g of [0.5, 1, 2, 3]) {
      for (const s of [-0.6, 0, 0.2, 0.5, 0.8]) {
        const q = erfProduct(g, s, 0.04) / gammaRef(g);
        // Convergence: steps 0.04 and 0.06 agree to < 1e-12 for g ≤ 3, |s| ≤ 0.8.
        expect(Math.abs(q - erfProduct(g, s, 0.06) / gammaRef(g))).toBeLessThan(1e-12);
        expect(Math.abs(nlgpCovariance(s, g) - q)).toBeLessThan(1e-10);
        const closed = ((2 / Math.PI) * Math.asin((g * g * s) / (1 + g * g))) / gammaRef(g);
        expect(Math.abs(nlgpCovariance(s, g) - closed)).toBeLessThan(1e-15);
      }
      expect(nlgpCovariance(1, g)).toBeCloseTo(1, 14); // unit variance on the diagonal
    }
  });

  it("NlgpClass.covarianceRow (both gain conventions, 1D and 2D) equals (2/(πγ)) arcsin(g²Σ/(1+g²)) with Σ written out", () => {
    const se = (i: number, j: number, L: number, xi: number) => { const a = Math.abs(i - j); const d = Math.min(a, L - a); return Math.exp(-((d / xi) ** 2)); };
    const C = (s: number, g: number) => ((2 / Math.PI) * Math.asin((g * g * s) / (1 + g * g))) / gammaRef(g);
    for (const [gain, conv] of [[3, "ig22"], [3, "lsg24"], [10, "ig22"]] as const) {
      const g = conv === "lsg24" ? gain * Math.SQRT2 : gain;
      const L = 11, xi = 2.3;
      const r1 = new NlgpClass({ dim: 1, L }, xi, gain, conv).covarianceRow();
      for (let j = 0; j < L; j++) expect(Math.abs(r1[j] - C(se(0, j, L, xi), g))).toBeLessThan(1e-15);
      const L2 = 5;
      const r2 = new NlgpClass({ dim: 2, L: L2 }, xi, gain, conv).covarianceRow();
      for (let a = 0; a < L2; a++) for (let b = 0; b < L2; b++) {
        expect(Math.abs(r2[a * L2 + b] - C(se(0, a, L2, xi) * se(0, b, L2, xi), g))).toBeLessThan(1e-15);
      }
    }
  });
});

describe("sampled NLGP data", () => {
  it("unit variance per site (MC: mean over sites of x_i², N = 40 000 samples, 5 SE) for g = 1, 3, 10 and the LSG24 convention", () => {
    const L = 48;
    for (const [gain, conv] of [[1, "ig22"], [3, "ig22"], [10, "ig22"], [2, "lsg24"]] as const) {
      const sampler = makeClassSampler({ dim: 1, L }, { kind: "nlgp", xi: 1.5, gain, convention: conv });
      const rng = new Rng(31 + gain);
      const x = new Float64Array(L);
      const N = 40_000;
      // s_n = (1/L) Σ_i x_{n,i}²: samples n are independent, so the SE of the mean of s_n is exact
      // even though sites within one sample are correlated.
      let m = 0, m2 = 0;
      const perSite = new Float64Array(L);
      for (let n = 0; n < N; n++) {
        sampler.sample(x, rng);
        let s = 0;
        for (let i = 0; i < L; i++) { s += x[i] * x[i]; perSite[i] += x[i] * x[i]; }
        s /= L;
        m += s;
        m2 += s * s;
      }
      m /= N;
      const se = Math.sqrt((m2 / N - m * m) / N);
      expect(Math.abs(m - 1)).toBeLessThan(5 * se);
      // Resolution: SE ≤ 2e-3, so a 1 % error of √γ (2 % in the variance) is ≥ 10 SE.
      expect(se).toBeLessThan(2e-3);
      // Every single site (translation invariance): Var(x²) ≤ 1 for these marginals (κ ≤ 1.8 … 3) →
      // per-site SE ≤ √(2/N); 6 SE keeps the family-wise false-alarm rate over 48 sites < 1e-7.
      for (let i = 0; i < L; i++) expect(Math.abs(perSite[i] / N - 1)).toBeLessThan(6 * Math.sqrt(2 / N));
    }
  });
});
