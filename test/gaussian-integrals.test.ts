import { describe, expect, it } from "vitest";
import {
  bvnCdf, eG, eGG, eGp, eGpGp, eGpp, ErfExpectations, erfGeneralisationError, gErf, gErfPrime, gErfSecond,
  I2, I3, I3At, I4, I4At, J2, TiltedGaussian,
} from "../src/stats/gaussian-integrals.js";
import { gaussHermiteProb, gaussianExpectation, integrateAdaptive } from "../src/stats/quadrature.js";
import { normCdf } from "../src/stats/special.js";
import { Rng } from "../src/stats/rng.js";

/** Cholesky factor (lower, row-major) of a small SPD matrix. */
function chol(C: number[], n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = C[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j];
    }
  }
  return L;
}

/** Tensor-product Gauss–Hermite E[f(u)], u = L z, z ~ N(0, I_n). */
function ghExpect(C: number[], n: number, f: (u: Float64Array) => number, pts: number): number {
  const L = chol(C, n);
  const { x, w } = gaussHermiteProb(pts);
  const idx = new Int32Array(n), u = new Float64Array(n);
  let total = 0;
  const N = pts ** n;
  for (let c = 0; c < N; c++) {
    let r = c, wt = 1;
    for (let d = 0; d < n; d++) { idx[d] = r % pts; r = Math.floor(r / pts); wt *= w[idx[d]]; }
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += L[i * n + k] * x[idx[k]];
      u[i] = s;
    }
    total += wt * f(u);
  }
  return total;
}

/** Monte Carlo mean and standard error. */
function mc(C: number[], n: number, f: (u: Float64Array) => number, samples: number, seed: number): { mean: number; se: number } {
  const L = chol(C, n);
  const rng = new Rng(seed);
  const z = new Float64Array(n), u = new Float64Array(n);
  let s = 0, s2 = 0;
  for (let t = 0; t < samples; t++) {
    for (let i = 0; i < n; i++) z[i] = rng.normal();
    for (let i = 0; i < n; i++) {
      let a = 0;
      for (let k = 0; k <= i; k++) a += L[i * n + k] * z[k];
      u[i] = a;
    }
    const v = f(u);
    s += v;
    s2 += v * v;
  }
  const mean = s / samples;
  return { mean, se: Math.sqrt((s2 / samples - mean * mean) / samples) };
}

const g = gErf, gp = gErfPrime;

// A generic 4×4 covariance (SPD) used throughout.
const C4 = [
  1.3, 0.4, -0.3, 0.5,
  0.4, 0.8, 0.2, -0.1,
  -0.3, 0.2, 1.1, 0.35,
  0.5, -0.1, 0.35, 0.9,
];
const c = (i: number, j: number) => C4[i * 4 + j];

describe("activation g = erf(x/√2)", () => {
  it("derivatives agree with finite differences", () => {
    for (const x of [-2.3, -0.4, 0, 0.7, 1.9]) {
      const h = 1e-5;
      expect((g(x + h) - g(x - h)) / (2 * h)).toBeCloseTo(gp(x), 9);
      expect((gp(x + h) - gp(x - h)) / (2 * h)).toBeCloseTo(gErfSecond(x), 9);
    }
  });
});

describe("unbiased Saad–Solla integrals", () => {
  it("I2, J2, I3, I4 agree with high-order Gauss–Hermite quadrature to 1e-9", () => {
    const C2 = [c(0, 0), c(0, 1), c(1, 0), c(1, 1)];
    expect(Math.abs(I2(c(0, 0), c(1, 1), c(0, 1)) - ghExpect(C2, 2, (u) => g(u[0]) * g(u[1]), 60))).toBeLessThan(1e-10);
    expect(Math.abs(J2(c(0, 0), c(1, 1), c(0, 1)) - ghExpect(C2, 2, (u) => gp(u[0]) * gp(u[1]), 60))).toBeLessThan(1e-10);
    const C3 = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => c(i, j)));
    const i3 = I3(c(0, 0), c(0, 1), c(0, 2), c(1, 2), c(2, 2));
    expect(Math.abs(i3 - ghExpect(C3, 3, (u) => gp(u[0]) * u[1] * g(u[2]), 40))).toBeLessThan(1e-9);
    expect(I3At(Float64Array.from(C4), 4, 0, 1, 2)).toBe(i3);
    const i4 = I4(c(0, 0), c(0, 1), c(0, 2), c(0, 3), c(1, 1), c(1, 2), c(1, 3), c(2, 2), c(2, 3), c(3, 3));
    const ref = ghExpect(C4, 4, (u) => gp(u[0]) * gp(u[1]) * g(u[2]) * g(u[3]), 26);
    expect(Math.abs(i4 - ref)).toBeLessThan(1e-8);
    expect(I4At(Float64Array.from(C4), 4, 0, 1, 2, 3)).toBe(i4);
  });

  it("I4 with a repeated first field (i = k, the diagonal of the Q equation) matches quadrature", () => {
    // (u1, u1, u3, u4): E[g'(u1)² g(u3) g(u4)], covariance of (u1, u3, u4).
    const idx = [0, 2, 3];
    const C3 = idx.flatMap((i) => idx.map((j) => c(i, j)));
    const i4 = I4(c(0, 0), c(0, 0), c(0, 2), c(0, 3), c(0, 0), c(0, 2), c(0, 3), c(2, 2), c(2, 3), c(3, 3));
    const ref = ghExpect(C3, 3, (u) => gp(u[0]) ** 2 * g(u[1]) * g(u[2]), 50);
    expect(Math.abs(i4 - ref)).toBeLessThan(1e-9);
  });

  it("I2, J2, I3, I4 agree with Monte Carlo within 4 standard errors (1e6 samples)", () => {
    const r4 = mc(C4, 4, (u) => gp(u[0]) * gp(u[1]) * g(u[2]) * g(u[3]), 1_000_000, 11);
    const i4 = I4(c(0, 0), c(0, 1), c(0, 2), c(0, 3), c(1, 1), c(1, 2), c(1, 3), c(2, 2), c(2, 3), c(3, 3));
    expect(Math.abs(r4.mean - i4)).toBeLessThan(4 * r4.se);
    const r3 = mc(C4, 4, (u) => gp(u[0]) * u[1] * g(u[2]), 1_000_000, 12);
    const i3 = I3(c(0, 0), c(0, 1), c(0, 2), c(1, 2), c(2, 2));
    expect(Math.abs(r3.mean - i3)).toBeLessThan(4 * r3.se);
    const r2 = mc(C4, 4, (u) => g(u[2]) * g(u[3]), 1_000_000, 13);
    expect(Math.abs(r2.mean - I2(c(2, 2), c(3, 3), c(2, 3)))).toBeLessThan(4 * r2.se);
    const rj = mc(C4, 4, (u) => gp(u[1]) * gp(u[3]), 1_000_000, 14);
    expect(Math.abs(rj.mean - J2(c(1, 1), c(3, 3), c(1, 3)))).toBeLessThan(4 * rj.se);
    // The MC error is small enough that an O(1 %) mistake would be detected.
    expect(r4.se).toBeLessThan(0.002 * Math.abs(i4) + 1e-4);
  });

  it("ε(0) = (K+M)/6 for Q = I, R = 0, T = I, v = A = 1", () => {
    for (const [K, M] of [[1, 1], [2, 3], [4, 4], [6, 2]]) {
      const Q = new Float64Array(K * K), T = new Float64Array(M * M), R = new Float64Array(K * M);
      for (let i = 0; i < K; i++) Q[i * K + i] = 1;
      for (let n = 0; n < M; n++) T[n * M + n] = 1;
      const eps = erfGeneralisationError(Q, R, T, new Float64Array(K).fill(1), new Float64Array(M).fill(1), K, M);
      expect(eps).toBeCloseTo((K + M) / 6, 14);
    }
  });

  it("ε matches ½E[(teacher − student)²] by Gauss–Hermite for a generic configuration", () => {
    // K = 2 students, M = 1 teacher: fields (λ1, λ2, ν) with covariance [[Q, R], [Rᵀ, T]].
    const Q = [1.2, 0.3, 0.3, 0.7], R = [0.5, -0.2], T = [1.1];
    const v = [0.8, -0.4], A = [1.3];
    const C3 = [1.2, 0.3, 0.5, 0.3, 0.7, -0.2, 0.5, -0.2, 1.1];
    const ref = ghExpect(C3, 3, (u) => 0.5 * (A[0] * g(u[2]) - v[0] * g(u[0]) - v[1] * g(u[1])) ** 2, 40);
    expect(Math.abs(erfGeneralisationError(Q, R, T, v, A, 2, 1) - ref)).toBeLessThan(1e-10);
  });
});

describe("bivariate normal CDF", () => {
  it("Φ2(0,0;r) = 1/4 + asin(r)/(2π) for all r, including |r| > 0.925", () => {
    for (const r of [-0.999999, -0.99, -0.93, -0.5, 0, 0.3, 0.9, 0.925, 0.95, 0.999, 0.9999999]) {
      expect(Math.abs(bvnCdf(0, 0, r) - (0.25 + Math.asin(r) / (2 * Math.PI)))).toBeLessThan(1e-14);
    }
  });

  it("agrees with adaptive 1-D quadrature of Φ((k − r x)/√(1−r²)) φ(x) to 1e-12", () => {
    const cases: [number, number, number][] = [
      [0.3, -0.7, 0.4], [1.5, 1.2, 0.95], [-1.1, 2.0, -0.97], [0.2, 0.2001, 0.99999], [-2.5, -2.4, 0.999],
      [2.5, -3, -0.5], [-0.4, 0.6, 0.93], [1.0, 1.0, -0.999], [3, 3, 0.9],
    ];
    for (const [h, k, r] of cases) {
      const s = Math.sqrt(1 - r * r);
      const ref = gaussianExpectation((x) => (x <= h ? normCdf((k - r * x) / s) : 0), { breaks: [h], abs: 1e-15, rel: 1e-14 });
      expect(Math.abs(bvnCdf(h, k, r) - ref)).toBeLessThan(1e-12);
    }
  });

  it("has the right limits", () => {
    expect(bvnCdf(0.7, -0.2, 1)).toBeCloseTo(normCdf(-0.2), 15);
    expect(bvnCdf(0.7, -0.2, -1)).toBeCloseTo(normCdf(0.7) - normCdf(0.2), 15);
    expect(bvnCdf(0.7, -0.2, 0)).toBeCloseTo(normCdf(0.7) * normCdf(-0.2), 15);
  });
});

describe("biased expectations", () => {
  const s11 = 1.4, s22 = 0.6, s12 = 0.5;
  const C2 = [s11, s12, s12, s22];

  it("E[g(u+c)], E[g'(u+c)], E[g''(u+c)] match adaptive quadrature to 1e-12", () => {
    for (const [s, cc] of [[0.3, -1.2], [2.5, 0.7], [0, 0.4], [8, -3]]) {
      const sd = Math.sqrt(s);
      expect(Math.abs(eG(s, cc) - gaussianExpectation((z) => g(sd * z + cc), { abs: 1e-15 }))).toBeLessThan(1e-12);
      expect(Math.abs(eGp(s, cc) - gaussianExpectation((z) => gp(sd * z + cc), { abs: 1e-15 }))).toBeLessThan(1e-12);
      expect(Math.abs(eGpp(s, cc) - gaussianExpectation((z) => gErfSecond(sd * z + cc), { abs: 1e-15 }))).toBeLessThan(1e-12);
    }
  });

  it("E[g(u1+c1) g(u2+c2)] (via Φ2) matches an independent nested quadrature to 1e-10", () => {
    for (const [a11, a22, a12, c1, c2] of [
      [s11, s22, s12, -1, 0.4], [0.5, 0.5, 0.49, 0.3, 0.3], [3, 2, -2.3, 1.5, -0.2], [10, 10, 9.8, -0.5, -0.5], [1, 1, 0, 0.2, 0.1],
    ]) {
      // Condition on u1: u2 | u1 ~ N(a12/a11 u1, a22 − a12²/a11), inner expectation is eG in closed form.
      const sd1 = Math.sqrt(a11), cv = a22 - (a12 * a12) / a11;
      const ref = gaussianExpectation((z) => g(sd1 * z + c1) * eG(cv, (a12 / a11) * sd1 * z + c2), { abs: 1e-15, rel: 1e-14 });
      expect(Math.abs(eGG(a11, a22, a12, c1, c2) - ref)).toBeLessThan(1e-10);
    }
    // The diagonal case u1 = u2 (E[g(u+c)²]).
    const ref = gaussianExpectation((z) => g(Math.sqrt(2) * z - 0.7) ** 2, { abs: 1e-15 });
    expect(Math.abs(eGG(2, 2, 2, -0.7, -0.7) - ref)).toBeLessThan(1e-10);
  });

  it("E[g'(u1+c1) g'(u2+c2)] matches Gauss–Hermite", () => {
    const ref = ghExpect(C2, 2, (u) => gp(u[0] - 0.8) * gp(u[1] + 0.3), 60);
    expect(Math.abs(eGpGp(s11, s22, s12, -0.8, 0.3) - ref)).toBeLessThan(1e-11);
  });

  it("tilting reproduces the closed forms I3 and I4 exactly (zero bias)", () => {
    const t = new TiltedGaussian(4).reset(C4).tiltGp(0, 0);
    const i3 = I3(c(0, 0), c(0, 1), c(0, 2), c(1, 2), c(2, 2));
    expect(t.weight * t.eXG(1, 0, 2, 0)).toBeCloseTo(i3, 14);
    t.tiltGp(1, 0);
    const i4 = I4(c(0, 0), c(0, 1), c(0, 2), c(0, 3), c(1, 1), c(1, 2), c(1, 3), c(2, 2), c(2, 3), c(3, 3));
    expect(t.weight * t.eGG(2, 3, 0, 0)).toBeCloseTo(i4, 14);
  });

  it("biased 4-point expectations E[g'g'gg], E[g'·u·g], E[g''g] agree with Gauss–Hermite to 1e-8", () => {
    const b = [-0.6, 0.9, 0.3, -1.2];
    const t = new TiltedGaussian(4).reset(C4).tiltGp(0, b[0]).tiltGp(1, b[1]);
    const ref4 = ghExpect(C4, 4, (u) => gp(u[0] + b[0]) * gp(u[1] + b[1]) * g(u[2] + b[2]) * g(u[3] + b[3]), 26);
    expect(Math.abs(t.weight * t.eGG(2, 3, b[2], b[3]) - ref4)).toBeLessThan(1e-8);
    const t1 = new TiltedGaussian(4).reset(C4).tiltGp(0, b[0]);
    const ref3 = ghExpect(C4.slice(0, 0).concat([0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => c(i, j)))), 3,
      (u) => gp(u[0] + b[0]) * (u[1] + 0.25) * g(u[2] + b[2]), 40);
    expect(Math.abs(t1.weight * t1.eXG(1, 0.25, 2, b[2]) - ref3)).toBeLessThan(1e-9);
  });

  it("ErfExpectations tables agree with Monte Carlo within 4 SE, and E[e² g'g'] with Gauss–Hermite", () => {
    const K = 3;
    const Om = [1.1, 0.3, -0.2, 0.3, 0.7, 0.25, -0.2, 0.25, 0.9];
    const b = [0.5, -0.9, 0.2], v = [0.6, -0.3, 0.45], y = 1;
    const E = new ErfExpectations(K).compute(Om, b, { needGG: true, second: { y, v } });
    const e = (u: Float64Array) => y - v[0] * g(u[0] + b[0]) - v[1] * g(u[1] + b[1]) - v[2] * g(u[2] + b[2]);
    for (const [k, l] of [[0, 1], [2, 2], [1, 2]]) {
      const ref = ghExpect(Om, 3, (u) => e(u) ** 2 * gp(u[k] + b[k]) * gp(u[l] + b[l]), 40);
      expect(Math.abs(E.ee[k * K + l] - ref)).toBeLessThan(1e-8);
      const refGppg = ghExpect(Om, 3, (u) => gErfSecond(u[k] + b[k]) * g(u[l] + b[l]), 40);
      expect(Math.abs(E.gppg[k * K + l] - refGppg)).toBeLessThan(1e-9);
      const refGpg = ghExpect(Om, 3, (u) => gp(u[k] + b[k]) * g(u[l] + b[l]), 40);
      expect(Math.abs(E.gpg[k * K + l] - refGpg)).toBeLessThan(1e-9);
      const refGG = ghExpect(Om, 3, (u) => g(u[k] + b[k]) * g(u[l] + b[l]), 40);
      expect(Math.abs(E.gg[k * K + l] - refGG)).toBeLessThan(1e-9);
    }
    const r = mc(Om, 3, (u) => e(u) ** 2 * gp(u[0] + b[0]) * gp(u[1] + b[1]), 400_000, 5);
    expect(Math.abs(r.mean - E.ee[1])).toBeLessThan(4 * r.se);
  });

  it("adaptive integration sanity (integrateAdaptive is the reference's workhorse)", () => {
    expect(integrateAdaptive((x) => Math.exp(-x), 0, 30, { abs: 1e-15 })).toBeCloseTo(1 - Math.exp(-30), 13);
  });
});

describe("bivariate normal CDF: every quadrature branch", () => {
  it("matches the nested-quadrature reference to 1e-13 for r in each of the 6/12/20-point and arc ranges", () => {
    for (const r of [-0.95, -0.8, -0.6, -0.29, -0.1, 0.05, 0.25, 0.31, 0.5, 0.74, 0.76, 0.9, 0.924, 0.926, 0.97]) {
      for (const [h, k] of [[0.4, -1.3], [-2.1, -0.3], [1.7, 2.2], [-0.05, 0.05]]) {
        const s = Math.sqrt(1 - r * r);
        const ref = gaussianExpectation((x) => (x <= h ? normCdf((k - r * x) / s) : 0), { breaks: [h], abs: 1e-15, rel: 1e-14 });
        expect(Math.abs(bvnCdf(h, k, r) - ref)).toBeLessThan(1e-13);
      }
    }
  });
});
