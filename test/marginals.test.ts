import { describe, expect, it } from "vitest";
import { beta, gamma, lbeta, lgamma } from "../src/stats/gamma.js";
import { Rng } from "../src/stats/rng.js";
import { erf as erfRef } from "../src/stats/special.js";
import { integrateAdaptive } from "../src/stats/quadrature.js";
import { nlgpCovariance, nlgpTransform } from "../src/data/nlgp.js";
import { kernelRow } from "../src/data/kernels.js";
import {
  kurForKurtosis, kurKurtosis, kurTransform, kurTransformDerivative, kurVariance, tabulateOddTransform, makeField, makeMarginal, transformedCovariance, transformedMoment,
} from "../src/data/marginals.js";
import { IsingChainClass, isingCorrelationRow } from "../src/data/ising.js";
import { ellipticalKurtosis, radiusExpectation, sampleGamma } from "../src/data/elliptical.js";
import { Task } from "../src/data/task.js";
import type { ClassSampler } from "../src/data/task.js";

/**
 * Per-sample site averages m_r = (1/L) Σ_i x_i x_{i+r} and m4 = (1/L) Σ x_i⁴; their means over N
 * independent samples estimate the covariance row and the kurtosis, with standard errors from the
 * spread of the per-sample averages (valid whatever the spatial correlations).
 */
function mcStats(s: ClassSampler, L: number, N: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float64Array(L);
  const R = Math.floor(L / 2) + 1;
  const sum = new Float64Array(R + 1), sq = new Float64Array(R + 1);
  for (let n = 0; n < N; n++) {
    s.sample(x, rng);
    for (let r = 0; r < R; r++) {
      let c = 0;
      for (let i = 0; i < L; i++) c += x[i] * x[(i + r) % L];
      c /= L;
      sum[r] += c; sq[r] += c * c;
    }
    let m4 = 0;
    for (let i = 0; i < L; i++) m4 += x[i] ** 4;
    m4 /= L;
    sum[R] += m4; sq[R] += m4 * m4;
  }
  const mean = sum.map((v) => v / N);
  const se = sq.map((v, r) => Math.sqrt(Math.max(0, v / N - mean[r] ** 2) / N));
  return { cov: mean.subarray(0, R), covSe: se.subarray(0, R), kurt: mean[R], kurtSe: se[R] };
}

describe("log-gamma and Beta (Lanczos)", () => {
  it("matches known values", () => {
    const cases: [number, number][] = [
      [0.5, 0.5 * Math.log(Math.PI)], [1, 0], [2, 0], [3, Math.log(2)], [10, Math.log(362880)],
      [100, 359.13420536957540], [0.1, 2.2527126517342059], [1e-8, 18.420680738180209],
      [-0.5, Math.log(2 * Math.sqrt(Math.PI))], [-1.5, Math.log((4 / 3) * Math.sqrt(Math.PI))], [171.5, 709.1431630309282],
    ];
    for (const [x, v] of cases) expect(Math.abs(lgamma(x) - v)).toBeLessThan(2e-14 * Math.max(1, Math.abs(v)));
    expect(lgamma(0)).toBe(Infinity);
    expect(lgamma(-3)).toBe(Infinity);
    expect(gamma(5)).toBe(24);
    expect(gamma(0.5)).toBeCloseTo(Math.sqrt(Math.PI), 14);
    expect(gamma(-0.5)).toBeCloseTo(-2 * Math.sqrt(Math.PI), 13);
    expect(beta(2, 3)).toBeCloseTo(1 / 12, 15);
    // B(a, 1 − a) = π / sin(πa)
    expect(Math.abs(lbeta(0.3, 0.7) - Math.log(Math.PI / Math.sin(0.3 * Math.PI)))).toBeLessThan(1e-14);
    // Γ(x+1) = xΓ(x) across the reflection boundary
    for (const x of [0.2, 0.45, 0.55, 3.7, 25.3]) expect(Math.abs(lgamma(x + 1) - lgamma(x) - Math.log(x))).toBeLessThan(1e-13 * Math.max(1, lgamma(x + 1)));
  });
});

describe("Kur(k) marginal (NORTA)", () => {
  it("σ_k and κ closed forms agree with quadrature of the transform", () => {
    for (const k of [6.5, 10, 50]) {
      const T = kurTransform(k);
      expect(Math.abs(transformedMoment(T, 2) - 1)).toBeLessThan(1e-10);
      expect(Math.abs(transformedMoment(T, 4) - kurKurtosis(k))).toBeLessThan(1e-8 * kurKurtosis(k));
    }
    // Unstandardised variance at k → ∞ is that of U(−1, 1).
    expect(kurVariance(1e7)).toBeCloseTo(1 / 3, 5);
    expect(Math.abs(kurKurtosis(1e6) - 1.8)).toBeLessThan(1e-4);
    expect(kurKurtosis(4)).toBe(Infinity);
    // κ = 3 at k ≈ 5.89 (REFERENCE).
    expect(kurForKurtosis(3)).toBeCloseTo(5.89, 2);
    expect(kurKurtosis(kurForKurtosis(2.2))).toBeCloseTo(2.2, 10);
  });

  it("the transform equals F⁻¹(Φ(z))/σ_k in the bulk and keeps accuracy in the tails", () => {
    for (const k of [4.5, 8, 30]) {
      const T = kurTransform(k), sig = Math.sqrt(kurVariance(k));
      for (const z of [-2.5, -0.7, 0.01, 0.3, 1.2, 2.0]) {
        const y = Math.sign(z) * erfRef(Math.abs(z) / Math.SQRT2); // 2Φ(z) − 1
        const direct = y / Math.pow(1 - Math.abs(y) ** k, 1 / k) / sig;
        expect(Math.abs(T(z) - direct)).toBeLessThan(1e-11 * Math.max(1, Math.abs(direct)));
      }
      // Far tail: F⁻¹ ≈ (k v)^{-1/k} with v = 1 − y = erfc(z/√2); finite, odd, increasing.
      expect(T(10)).toBeGreaterThan(T(9));
      expect(Number.isFinite(T(12))).toBe(true);
      expect(T(-10)).toBe(-T(10));
    }
  });

  it("tabulated sampler transform: Hermite table of T, T' within 1e-10 relative of the exact transform", () => {
    for (const k of [4.25, 8, 50]) {
      const T = kurTransform(k), dT = kurTransformDerivative(k);
      for (const z of [0.05, 0.8, 2.5, 6.5]) {
        const h = 1e-5;
        expect(Math.abs((T(z + h) - T(z - h)) / (2 * h) / dT(z) - 1)).toBeLessThan(1e-8);
      }
      const F = tabulateOddTransform(T, dT);
      const rng = new Rng(2);
      for (let i = 0; i < 20000; i++) {
        const z = 16 * rng.uniform() - 8;
        expect(Math.abs(F(z) - T(z))).toBeLessThan(1e-10 * Math.abs(T(z)) + 1e-300);
      }
      // A table built from a wrong derivative is visibly wrong (the test has teeth).
      const G = tabulateOddTransform(T, (z) => 1.01 * dT(z));
      expect(Math.abs(G(1.2345) - T(1.2345)) / T(1.2345)).toBeGreaterThan(1e-7);
      expect(makeMarginal({ kind: "kur", k }).sampleTransform!(1.7)).toBeCloseTo(T(1.7), 12);
    }
  });

  it("field covariance by quadrature: exact for identity, NLGP and sign transforms; MC for Kur", () => {
    const nl = nlgpTransform(2);
    for (const rho of [0.05, 0.4, 0.8, 0.97]) {
      expect(Math.abs(transformedCovariance((z) => z, rho) - rho)).toBeLessThan(1e-11);
      expect(Math.abs(transformedCovariance(nl, rho) - nlgpCovariance(rho, 2))).toBeLessThan(1e-10);
      expect(Math.abs(transformedCovariance((z) => Math.sign(z), rho) - (2 / Math.PI) * Math.asin(rho))).toBeLessThan(1e-9);
      expect(transformedCovariance(nl, -rho)).toBe(-transformedCovariance(nl, rho));
    }
  });

  it("sampled Kur(k) field: kurtosis and covariance row match closed form / quadrature (MC, 5 s.e.)", () => {
    const L = 16, k = 12;
    const { sampler, marginal } = makeField({ dim: 1, L }, { xi: 1.5, marginal: { kind: "kur", k } });
    const row = sampler.covarianceRow();
    // The NORTA covariance differs from the kernel (the test would fail with the kernel).
    const ker = kernelRow({ dim: 1, L }, 1.5);
    expect(Math.abs(row[1] - ker[1])).toBeGreaterThan(0.01);
    const st = mcStats(sampler, L, 30000, 11);
    for (let r = 0; r <= L / 2; r++) expect(Math.abs(st.cov[r] - row[r])).toBeLessThan(5 * st.covSe[r] + 1e-12);
    expect(Math.abs(st.kurt - marginal.kurtosis())).toBeLessThan(5 * st.kurtSe);
    expect(marginal.kurtosis()).toBeCloseTo(kurKurtosis(k), 12);
  });
});

describe("NORTA fields with closed-form covariances", () => {
  it("NLGP (both gain conventions) and ±1 fields: MC covariance row and kurtosis (5 s.e.)", () => {
    const L = 16, geom = { dim: 1 as const, L };
    const specs = [
      { m: { kind: "nlgp" as const, gain: 2 }, row: (s: number) => nlgpCovariance(s, 2) },
      { m: { kind: "nlgp" as const, gain: 2, convention: "lsg24" as const }, row: (s: number) => nlgpCovariance(s, 2 * Math.SQRT2) },
      { m: { kind: "sign" as const }, row: (s: number) => (2 / Math.PI) * Math.asin(s) },
    ];
    for (const { m, row } of specs) {
      const { sampler, marginal } = makeField(geom, { xi: 1.5, marginal: m });
      const exact = kernelRow(geom, 1.5, row);
      const r = sampler.covarianceRow();
      for (let k = 0; k < L; k++) expect(Math.abs(r[k] - exact[k])).toBeLessThan(1e-13);
      const st = mcStats(sampler, L, 20000, 17);
      for (let k = 0; k <= L / 2; k++) expect(Math.abs(st.cov[k] - exact[k])).toBeLessThan(5 * st.covSe[k] + 1e-12);
      if (m.kind === "sign") expect(st.kurt).toBe(1);
      else expect(Math.abs(st.kurt - marginal.kurtosis())).toBeLessThan(5 * st.kurtSe);
    }
  });
});

describe("Ising chain (exact transfer-matrix sampling)", () => {
  it("closed-form correlations equal brute-force enumeration", () => {
    const L = 10, J = 0.7;
    const w = new Float64Array(1 << L);
    let Z = 0;
    const corr = new Float64Array(L);
    for (let c = 0; c < 1 << L; c++) {
      const s = (i: number) => (((c >> (i % L)) & 1) ? 1 : -1);
      let E = 0;
      for (let i = 0; i < L; i++) E += s(i) * s(i + 1);
      w[c] = Math.exp(J * E);
      Z += w[c];
      for (let r = 0; r < L; r++) corr[r] += w[c] * s(0) * s(r);
    }
    const row = isingCorrelationRow(L, J);
    for (let r = 0; r < L; r++) expect(Math.abs(corr[r] / Z - row[r])).toBeLessThan(1e-13);
  });

  it("samples configurations with the exact Boltzmann probabilities (L = 4)", () => {
    const L = 4, J = 0.9, N = 200000;
    const chain = new IsingChainClass(L, J);
    const p = new Float64Array(1 << L);
    let Z = 0;
    for (let c = 0; c < 1 << L; c++) {
      let E = 0;
      for (let i = 0; i < L; i++) E += (((c >> i) & 1) * 2 - 1) * (((c >> ((i + 1) % L)) & 1) * 2 - 1);
      p[c] = Math.exp(J * E);
      Z += p[c];
    }
    const cnt = new Float64Array(1 << L);
    const x = new Float64Array(L), rng = new Rng(5);
    for (let n = 0; n < N; n++) {
      chain.sample(x, rng);
      let c = 0;
      for (let i = 0; i < L; i++) if (x[i] > 0) c |= 1 << i;
      cnt[c]++;
    }
    for (let c = 0; c < 1 << L; c++) {
      const pc = p[c] / Z;
      expect(Math.abs(cnt[c] / N - pc)).toBeLessThan(5 * Math.sqrt((pc * (1 - pc)) / N));
    }
  });

  it("MC correlations ⟨s_i s_{i+r}⟩ = (t^r + t^{L−r})/(1 + t^L) and kurtosis 1", () => {
    const L = 20, J = 0.8;
    const { sampler, marginal } = makeField({ dim: 1, L }, { xi: 0, marginal: { kind: "ising", J } });
    const st = mcStats(sampler, L, 40000, 3);
    const t = Math.tanh(J);
    for (let r = 0; r <= L / 2; r++) {
      const exact = (t ** r + t ** (L - r)) / (1 + t ** L);
      expect(Math.abs(st.cov[r] - exact)).toBeLessThan(5 * st.covSe[r] + 1e-12);
    }
    expect(st.kurt).toBe(1);
    expect(marginal.kurtosis()).toBe(1);
    expect(() => makeField({ dim: 2, L: 4 }, { xi: 0, marginal: { kind: "ising", J } })).toThrow(/1D/);
  });
});

describe("elliptical fields x = r z", () => {
  it("radius laws have E r² = 1 and E r⁴ = κ/3", () => {
    for (const r of [{ kind: "lognormal" as const, s: 0.35 }, { kind: "student" as const, nu: 9 }]) {
      expect(Math.abs(radiusExpectation(r, (q) => q * q) - 1)).toBeLessThan(1e-11);
      expect(Math.abs(radiusExpectation(r, (q) => q ** 4) - ellipticalKurtosis(r) / 3)).toBeLessThan(1e-9);
    }
  });

  it("Gamma sampler has the right mean and variance", () => {
    const rng = new Rng(8);
    for (const a of [0.6, 2.5, 30]) {
      let s = 0, s2 = 0;
      const N = 100000;
      for (let n = 0; n < N; n++) { const g = sampleGamma(a, rng); s += g; s2 += g * g; }
      const m = s / N, v = s2 / N - m * m;
      expect(Math.abs(m - a)).toBeLessThan(5 * Math.sqrt(a / N));
      expect(Math.abs(v - a)).toBeLessThan(0.05 * a);
    }
  });

  it("sampled fields: covariance = kernel, kurtosis = 3E r⁴ (MC, 5 s.e.)", () => {
    const L = 16;
    for (const radius of [{ kind: "lognormal" as const, s: 0.25 }, { kind: "student" as const, nu: 12 }]) {
      const { sampler, marginal } = makeField({ dim: 1, L }, { xi: 2, marginal: { kind: "elliptical", radius } });
      const row = kernelRow({ dim: 1, L }, 2);
      const st = mcStats(sampler, L, 30000, 21);
      for (let r = 0; r <= L / 2; r++) expect(Math.abs(st.cov[r] - row[r])).toBeLessThan(5 * st.covSe[r] + 1e-12);
      expect(marginal.kurtosis()).toBeGreaterThan(3);
      expect(Math.abs(st.kurt - marginal.kurtosis())).toBeLessThan(5 * st.kurtSe);
    }
  });

  it("Student-t E[x erf(cx)] equals direct integration against the t density", () => {
    const nu = 7, s = Math.sqrt((nu - 2) / nu);
    const m = makeMarginal({ kind: "elliptical", radius: { kind: "student", nu } });
    const lc = lgamma((nu + 1) / 2) - lgamma(nu / 2) - 0.5 * Math.log(nu * Math.PI);
    const dens = (x: number) => Math.exp(lc - ((nu + 1) / 2) * Math.log1p((x / s) ** 2 / nu)) / s;
    for (const c of [0.1, 1, 7]) {
      const direct = 2 * integrateAdaptive((t) => {
        if (t >= 1) return 0;
        const x = t / (1 - t);
        return x * erfRef(c * x) * dens(x) / (1 - t) ** 2;
      }, 0, 1, { abs: 1e-14, rel: 1e-13, breaks: [(1 / c) / (1 + 1 / c)] });
      expect(Math.abs(m.xErfMoment(c) - direct)).toBeLessThan(1e-10);
    }
  });
});

describe("field factory", () => {
  it("validates parameters and works inside a Task", () => {
    expect(() => makeMarginal({ kind: "kur", k: 4 })).toThrow(/marginal\.k/);
    expect(() => makeMarginal({ kind: "nlgp", gain: -1 })).toThrow(/marginal\.gain/);
    expect(() => makeMarginal({ kind: "elliptical", radius: { kind: "student", nu: 3 } })).toThrow(/radius\.nu/);
    const geom = { dim: 1 as const, L: 12 };
    const task = new Task([makeField(geom, { xi: 0.3, marginal: { kind: "kur", k: 10 } }).sampler,
      makeField(geom, { xi: 0.7, marginal: { kind: "kur", k: 10 } }).sampler], [0, 1]);
    const { X, y } = task.dataset(50, new Rng(1));
    expect(X.every(Number.isFinite)).toBe(true);
    expect(new Set(y)).toEqual(new Set([0, 1]));
  });
});

