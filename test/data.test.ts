/**
 * Data layer: samplers against exact statistics, FFT against the naive DFT, RNG reproducibility and
 * normal moments/tails.  Monte-Carlo tolerances are 4–5 standard errors (stated per test), computed
 * conservatively (ignoring the variance reduction from averaging over translations).
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../src/stats/rng.js";
import { fftPlan } from "../src/stats/fft.js";
import { erf, normCdf } from "../src/stats/special.js";
import { gaussianExpectation } from "../src/stats/quadrature.js";
import { circulantSpectrum } from "../src/data/kernels.js";
import { CirculantGaussian } from "../src/data/gp.js";
import { kernelRow, seKernelRow, type Geometry } from "../src/data/kernels.js";
import { nlgpCovariance, nlgpGamma, nlgpKurtosis, toIg22Gain } from "../src/data/nlgp.js";
import { makeClassSampler, NlgpClass, twoClassTask } from "../src/data/task.js";

/** Translation-averaged sample covariance row ĉ_j = ⟨x_i x_{i+j}⟩ (1D) or ⟨x_{ab} x_{a+c, b+d}⟩ (2D). */
function sampleCovRow(draw: (out: Float64Array) => void, geom: Geometry, N: number): Float64Array {
  const L = geom.L, D = geom.dim === 1 ? L : L * L;
  const x = new Float64Array(D), c = new Float64Array(D);
  for (let n = 0; n < N; n++) {
    draw(x);
    if (geom.dim === 1) {
      for (let j = 0; j < L; j++) { let s = 0; for (let i = 0; i < L; i++) s += x[i] * x[(i + j) % L]; c[j] += s / L; }
    } else {
      for (let cc = 0; cc < L; cc++) for (let d = 0; d < L; d++) {
        let s = 0;
        for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) s += x[a * L + b] * x[((a + cc) % L) * L + ((b + d) % L)];
        c[cc * L + d] += s / D;
      }
    }
  }
  return c.map((v) => v / N);
}

/** Max over j of |ĉ_j − c_j| / SE_j with SE_j = √((1 + c_j²)/N) (Gaussian-type bound for var(x_i x_{i+j})). */
function maxZ(est: Float64Array, exact: Float64Array, N: number, varFactor = 1): number {
  let z = 0;
  for (let j = 0; j < est.length; j++) z = Math.max(z, Math.abs(est[j] - exact[j]) / Math.sqrt((varFactor * (1 + exact[j] ** 2)) / N));
  return z;
}

describe("Gaussian process sampler", () => {
  it("1D: sample covariance equals the SE kernel row within 4.5 SE (L = 24, ξ = 3, N = 20 000; both FFT outputs used)", () => {
    const geom: Geometry = { dim: 1, L: 24 };
    const row = seKernelRow(24, 3);
    const gp = new CirculantGaussian(geom, row);
    const rng = new Rng(1), N = 20_000;
    const est = sampleCovRow((x) => gp.sample(x, rng), geom, N);
    expect(maxZ(est, row, N)).toBeLessThan(4.5);
    // A wrong normalisation (e.g. variance 2 or ½) would be off by > 100 SE at lag 0.
    expect(Math.abs(est[0] - 1)).toBeLessThan(4.5 * Math.sqrt(2 / N));
  });
  it("consecutive samples (real and imaginary part of one FFT) are uncorrelated: ⟨x_i y_j⟩ = 0 within 4.5 SE", () => {
    const geom: Geometry = { dim: 1, L: 16 };
    const gp = new CirculantGaussian(geom, seKernelRow(16, 2));
    const rng = new Rng(2), N = 20_000;
    const a = new Float64Array(16), b = new Float64Array(16);
    const cross = new Float64Array(16);
    for (let n = 0; n < N; n++) {
      gp.sample(a, rng); gp.sample(b, rng);
      for (let j = 0; j < 16; j++) { let s = 0; for (let i = 0; i < 16; i++) s += a[i] * b[(i + j) % 16]; cross[j] += s / 16; }
    }
    for (let j = 0; j < 16; j++) expect(Math.abs(cross[j] / N)).toBeLessThan(4.5 * Math.sqrt(1 / N));
  });
  it("a sample stream depends only on its own Rng: the cached second sample is never handed to another Rng", () => {
    const geom: Geometry = { dim: 1, L: 16 };
    const shared = new CirculantGaussian(geom, seKernelRow(16, 2));
    const draw = (gp: CirculantGaussian, rng: Rng, n: number) => Array.from({ length: n }, () => Array.from(gp.sample(new Float64Array(16), rng)));
    draw(shared, new Rng(7), 3); // leaves a cached sample behind (odd count)
    const afterOther = draw(shared, new Rng(8), 4);
    const fresh = draw(new CirculantGaussian(geom, seKernelRow(16, 2)), new Rng(8), 4);
    expect(afterOther).toEqual(fresh);
    // Within one Rng the pair is still used (two samples per transform): samples 0 and 1 differ.
    expect(fresh[0]).not.toEqual(fresh[1]);
  });
  it("2D: sample covariance equals Σ⊗Σ within 4.5 SE (L = 6, ξ = 1.5, N = 10 000)", () => {
    const geom: Geometry = { dim: 2, L: 6 };
    const r1 = seKernelRow(6, 1.5);
    const exact = Float64Array.from({ length: 36 }, (_, k) => r1[Math.floor(k / 6)] * r1[k % 6]);
    expect(Array.from(kernelRow(geom, 1.5))).toEqual(Array.from(exact));
    const gp = new CirculantGaussian(geom, exact);
    const rng = new Rng(3), N = 10_000;
    const est = sampleCovRow((x) => gp.sample(x, rng), geom, N);
    expect(maxZ(est, exact, N)).toBeLessThan(4.5);
  });
});

/** Circular autocorrelation row c_j = (1/L) Σ_i x_i x_{i+j} of a 1D sample by FFT (O(L log L)). */
function autocorr(x: Float64Array, re: Float64Array, im: Float64Array): void {
  const L = x.length, p = fftPlan(L);
  re.set(x); im.fill(0);
  p.forward(re, im);
  for (let k = 0; k < L; k++) { re[k] = (re[k] * re[k] + im[k] * im[k]) / L; im[k] = 0; }
  p.inverse(re, im);
}

describe("samplers at the benchmark size (L = 400, ξ = 8 and 16: most modes have λ_k = 0 and draw no normals)", () => {
  it("GP: power per Fourier mode E|ẑ_k|²/L = λ_k within 5 SE for every mode with λ_k > 0 (N = 4000), exactly 0 where λ_k = 0", () => {
    const L = 400, N = 4000;
    for (const xi of [8, 16]) {
      const geom: Geometry = { dim: 1, L };
      const row = seKernelRow(L, xi), lam = circulantSpectrum(row);
      const gp = new CirculantGaussian(geom, row);
      const rng = new Rng(40 + xi), x = new Float64Array(L), re = new Float64Array(L), im = new Float64Array(L);
      const pow = new Float64Array(L);
      for (let n = 0; n < N; n++) {
        gp.sample(x, rng);
        re.set(x); im.fill(0);
        fftPlan(L).forward(re, im);
        for (let k = 0; k < L; k++) pow[k] += (re[k] * re[k] + im[k] * im[k]) / L;
      }
      let zmax = 0, zeroPow = 0, nz = 0;
      for (let k = 0; k < L; k++) {
        const est = pow[k] / N;
        if (lam[k] > 0) {
          nz++;
          // ẑ_k is complex Gaussian (k ≠ 0, L/2: |ẑ_k|²/L ~ λ_k·Exp(1), SD λ_k); real at k = 0, L/2 (SD √2 λ_k).
          const sd = (k === 0 || k === L / 2 ? Math.SQRT2 : 1) * lam[k];
          zmax = Math.max(zmax, Math.abs(est - lam[k]) / (sd / Math.sqrt(N)));
        } else zeroPow = Math.max(zeroPow, est);
      }
      expect(nz).toBe(xi === 8 ? 167 : 83);
      expect(zmax).toBeLessThan(5);
      expect(zeroPow).toBeLessThan(1e-25); // rounding of the FFT only
    }
  });
  it("NLGP g = 3: mean 0, covariance row = the exact arcsin formula, E x⁴ = κ(g), E x_i² x_{i+4}² from the bivariate integral — all within 5 SE (N = 20 000, translation-averaged, SE from the per-sample spread)", () => {
    const L = 400, N = 20_000;
    for (const xi of [8, 16]) {
      const geom: Geometry = { dim: 1, L };
      const s = new NlgpClass(geom, xi, 3);
      const exact = s.covarianceRow();
      const rng = new Rng(50 + xi), x = new Float64Array(L), re = new Float64Array(L), im = new Float64Array(L);
      const lags = [0, 1, 4, 8, 16, 32, 200];
      const sum = new Float64Array(lags.length), sq = new Float64Array(lags.length);
      let m1 = 0, m1sq = 0, m4 = 0, m4sq = 0, c22 = 0, c22sq = 0;
      for (let n = 0; n < N; n++) {
        s.sample(x, rng);
        autocorr(x, re, im);
        lags.forEach((j, t) => { sum[t] += re[j]; sq[t] += re[j] * re[j]; });
        let a = 0, q = 0, r = 0;
        for (let i = 0; i < L; i++) { a += x[i]; q += x[i] ** 4; r += x[i] ** 2 * x[(i + 4) % L] ** 2; }
        a /= L; q /= L; r /= L;
        m1 += a; m1sq += a * a; m4 += q; m4sq += q * q; c22 += r; c22sq += r * r;
      }
      // Exact E x_i² x_{i+4}²: x = erf(a z)/√γ with (z_i, z_{i+4}) standard bivariate normal of
      // correlation ρ = e^{−(4/ξ)²}; nested Gaussian quadrature over z_i and the independent part.
      const rho = Math.exp(-((4 / xi) ** 2)), a3 = 3 / Math.SQRT2, gam = nlgpGamma(3), cr = Math.sqrt(1 - rho * rho);
      const e22 = gaussianExpectation((u) => erf(a3 * u) ** 2 * gaussianExpectation((w) => erf(a3 * (rho * u + cr * w)) ** 2, { abs: 1e-12, rel: 1e-10 }), { abs: 1e-11, rel: 1e-9 }) / (gam * gam);
      const z = (s1: number, s2: number, want: number) => {
        const mean = s1 / N, sd = Math.sqrt(Math.max(s2 / N - mean * mean, 1e-300));
        return Math.abs(mean - want) / (sd / Math.sqrt(N));
      };
      expect(z(m1, m1sq, 0), `mean, xi=${xi}`).toBeLessThan(5);
      lags.forEach((j, t) => expect(z(sum[t], sq[t], exact[j]), `lag ${j}, xi=${xi}`).toBeLessThan(5));
      expect(z(m4, m4sq, nlgpKurtosis(3)), `E x^4, xi=${xi}`).toBeLessThan(5);
      expect(z(c22, c22sq, e22), `E x_i^2 x_(i+4)^2, xi=${xi}`).toBeLessThan(5);
      // … which differs from its Gaussian-clone value 1 + 2C² (same covariance C, Gaussian law) by ≫ 5 SE.
      expect(z(c22, c22sq, 1 + 2 * exact[4] ** 2)).toBeGreaterThan(20);
      // The covariance at lag 8 differs from the Gaussian kernel value e^{−(8/ξ)²} by ≫ 5 SE.
      const t8 = lags.indexOf(8);
      expect(z(sum[t8], sq[t8], seKernelRow(L, xi)[8])).toBeGreaterThan(20);
    }
  });
});

describe("NLGP", () => {
  it("γ(g) = (2/π) arcsin(g²/(1+g²)) matches the reference values to 1e-6", () => {
    expect(nlgpGamma(1)).toBeCloseTo(1 / 3, 12);
    expect(nlgpGamma(2)).toBeCloseTo(0.590334, 6);
    expect(nlgpGamma(3)).toBeCloseTo(0.712867, 6);
    expect(nlgpGamma(10)).toBeCloseTo(0.910341, 6);
    expect(toIg22Gain(3 / Math.SQRT2, "lsg24")).toBeCloseTo(3, 14);
  });
  it("sample covariance equals the exact arcsin formula within 4.5 SE (L = 24, ξ = 4, g = 3, N = 20 000); the Gaussian kernel is rejected", () => {
    const geom: Geometry = { dim: 1, L: 24 };
    const s = new NlgpClass(geom, 4, 3);
    const exact = s.covarianceRow();
    const row = seKernelRow(24, 4);
    for (let j = 0; j < 24; j++) expect(exact[j]).toBeCloseTo(nlgpCovariance(row[j], 3), 15);
    expect(exact[0]).toBeCloseTo(1, 14);
    const rng = new Rng(4), N = 20_000;
    const est = sampleCovRow((x) => s.sample(x, rng), geom, N);
    // |x| ≤ 1/√γ: var(x_i x_j) ≤ E[x⁴] ≤ 1/γ ≈ 1.4; use varFactor 1.5.
    expect(maxZ(est, exact, N, 1.5)).toBeLessThan(4.5);
    // The NLGP covariance differs from Σ by much more than the MC error at intermediate lags.
    expect(maxZ(est, row, N, 1.5)).toBeGreaterThan(6);
  });
  it("marginal excess kurtosis matches nlgpKurtosis: −1.2 at g = 1 (uniform), → −2 for large g; samples agree within 5 SE", () => {
    expect(nlgpKurtosis(1) - 3).toBeCloseTo(-1.2, 8);
    expect(nlgpKurtosis(100) - 3).toBeLessThan(-1.97);
    expect(nlgpKurtosis(100) - 3).toBeGreaterThan(-2);
    for (const g of [1, 3, 10]) {
      const geom: Geometry = { dim: 1, L: 100 };
      const s = new NlgpClass(geom, 0, g); // ξ = 0: independent sites
      const rng = new Rng(10 + g), x = new Float64Array(100);
      let m2 = 0, m4 = 0, m8 = 0;
      const n = 2000 * 100;
      for (let r = 0; r < 2000; r++) {
        s.sample(x, rng);
        for (const v of x) { const q = v * v; m2 += q; m4 += q * q; m8 += q * q * q * q; }
      }
      m2 /= n; m4 /= n; m8 /= n;
      const kurt = m4 / (m2 * m2);
      // SE of the sample kurtosis ≈ √(var(x⁴)/n) / m2² plus the m2 term; bound it by 2√(var(x⁴)/n) + 2κ·√(var(x²)/n).
      const se = (2 * Math.sqrt((m8 - m4 * m4) / n) + 2 * kurt * Math.sqrt((m4 - m2 * m2) / n)) / (m2 * m2);
      expect(Math.abs(kurt - nlgpKurtosis(g))).toBeLessThan(5 * se);
      expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt((m4 - 1) / n));
    }
  });
  it("gp-clone has exactly the NLGP covariance (row identical) and its samples reproduce it within 4.5 SE", () => {
    const geom: Geometry = { dim: 1, L: 20 };
    const clone = makeClassSampler(geom, { kind: "gp-clone", xi: 3, gain: 3 });
    const nl = makeClassSampler(geom, { kind: "nlgp", xi: 3, gain: 3 });
    expect(Array.from(clone.covarianceRow())).toEqual(Array.from(nl.covarianceRow()));
    const rng = new Rng(5), N = 20_000;
    const est = sampleCovRow((x) => clone.sample(x, rng), geom, N);
    expect(maxZ(est, clone.covarianceRow(), N)).toBeLessThan(4.5);
    // Gaussian marginal: kurtosis 3 (the NLGP's is < 2) — checked on pooled sites within 5 SE.
    let m2 = 0, m4 = 0; const x = new Float64Array(20);
    for (let r = 0; r < 5000; r++) { clone.sample(x, rng); for (const v of x) { m2 += v * v; m4 += v ** 4; } }
    const n = 5000 * 20; m2 /= n; m4 /= n;
    expect(Math.abs(m4 / (m2 * m2) - 3)).toBeLessThan(0.25);
  });
  it("field classes: samples reproduce the exact covariance row within 4.5 SE; field-clone has the same row, Gaussian kurtosis", () => {
    const geom: Geometry = { dim: 1, L: 20 };
    const marginals = [{ kind: "kur", k: 20 }, { kind: "ising", J: 0.5 }, { kind: "elliptical", radius: { kind: "student", nu: 8 } }] as const;
    for (const marginal of marginals) {
      const field = makeClassSampler(geom, { kind: "field", xi: 3, marginal });
      const clone = makeClassSampler(geom, { kind: "field-clone", xi: 3, marginal });
      expect(Array.from(clone.covarianceRow())).toEqual(Array.from(field.covarianceRow()));
      const rng = new Rng(11), N = 20_000;
      const est = sampleCovRow((x) => field.sample(x, rng), geom, N);
      // Non-Gaussian fields: var(x_i x_j) ≠ 1 + C²; the heaviest here (Student ν = 8) is bounded by 3×.
      expect(maxZ(est, field.covarianceRow(), N, 3), marginal.kind).toBeLessThan(4.5);
      let m2 = 0, m4 = 0, f2 = 0, f4 = 0; const x = new Float64Array(20);
      for (let r = 0; r < 5000; r++) {
        clone.sample(x, rng); for (const v of x) { m2 += v * v; m4 += v ** 4; }
        field.sample(x, rng); for (const v of x) { f2 += v * v; f4 += v ** 4; }
      }
      const n = 5000 * 20; m2 /= n; m4 /= n; f2 /= n; f4 /= n;
      expect(Math.abs(m4 / (m2 * m2) - 3), marginal.kind).toBeLessThan(0.25);
      // ... while the field's own kurtosis is 1.86 (Kur(20)), 1 (±1 spins) or 3 + 6/(ν − 4) = 4.5 (Student ν = 8).
      const want = { kur: 1.86, ising: 1, elliptical: 4.5 }[marginal.kind];
      expect(Math.abs(f4 / (f2 * f2) - want), marginal.kind).toBeLessThan(marginal.kind === "elliptical" ? 0.6 : 0.05);
    }
  });
  it("two-class task: balanced classes with IG22 labels ±1 (or {0,1}); dataset rows come from the right class", () => {
    const task = twoClassTask({ dim: 1, L: 10 }, { kind: "gp", xi: 0 }, { kind: "gp", xi: 5 }, "pm1");
    const { cls, y } = task.dataset(20_000, new Rng(6));
    let plus = 0;
    let wrong = 0;
    for (let n = 0; n < cls.length; n++) { if (y[n] !== (cls[n] === 0 ? -1 : 1)) wrong++; plus += cls[n]; }
    expect(wrong).toBe(0);
    expect(Math.abs(plus / 20_000 - 0.5)).toBeLessThan(4.5 * 0.5 / Math.sqrt(20_000));
    const t01 = twoClassTask({ dim: 1, L: 10 }, { kind: "gp", xi: 0 }, { kind: "gp", xi: 5 }, "01");
    expect(t01.labels).toEqual([0, 1]);
  });
});

describe("FFT", () => {
  // Stockham radices 4, 2, 3, 5 (written-out butterflies, first and later stages) and 7, 11, 13 (generic).
  for (const n of [1, 2, 6, 12, 18, 24, 36, 44, 50, 97, 98, 100, 400, 1001]) {
    it(`n = ${n}: forward equals the naive DFT and inverse(forward(x)) = x to ~1e-12 relative`, () => {
      const rng = new Rng(n);
      const re = rng.fillNormal(new Float64Array(n)), im = rng.fillNormal(new Float64Array(n));
      const nr = new Float64Array(n), ni = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        let sr = 0, si = 0;
        for (let j = 0; j < n; j++) {
          const th = (-2 * Math.PI * ((j * k) % n)) / n;
          const c = Math.cos(th), s = Math.sin(th);
          sr += re[j] * c - im[j] * s;
          si += re[j] * s + im[j] * c;
        }
        nr[k] = sr; ni[k] = si;
      }
      const fr = re.slice(), fi = im.slice();
      const p = fftPlan(n);
      p.forward(fr, fi);
      let err = 0, scale = 0;
      for (let k = 0; k < n; k++) { err = Math.max(err, Math.abs(fr[k] - nr[k]), Math.abs(fi[k] - ni[k])); scale = Math.max(scale, Math.abs(nr[k]), Math.abs(ni[k])); }
      expect(err).toBeLessThan(1e-12 * Math.max(1, scale) * Math.max(1, Math.log2(n)));
      p.inverse(fr, fi);
      let e2 = 0;
      for (let k = 0; k < n; k++) e2 = Math.max(e2, Math.abs(fr[k] - re[k]), Math.abs(fi[k] - im[k]));
      expect(e2).toBeLessThan(1e-12 * Math.max(1, Math.log2(n)));
    });
  }
});

describe("random numbers", () => {
  it("same seed ⇒ identical stream; different seeds and different streams ⇒ different", () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43), d = Rng.stream(42, 0), e = Rng.stream(42, 1);
    const xa = Array.from({ length: 100 }, () => a.normal());
    expect(Array.from({ length: 100 }, () => b.normal())).toEqual(xa);
    expect(Array.from({ length: 100 }, () => c.normal())).not.toEqual(xa);
    const xd = Array.from({ length: 100 }, () => d.uniform()), xe = Array.from({ length: 100 }, () => e.uniform());
    expect(xd).not.toEqual(xe);
    const f = new Rng(9); f.normal(); const g = f.clone();
    expect(g.normal()).toBe(f.normal());
  });
  it("normal moments (N = 2·10⁶): mean, variance, skewness, kurtosis within 5 SE; tail P(|z| > 3) and beyond the ziggurat edge P(z > 3.5) within 5 SE", () => {
    const rng = new Rng(7), N = 2_000_000;
    let s1 = 0, s2 = 0, s3 = 0, s4 = 0, t3 = 0, t35 = 0, tneg = 0;
    for (let n = 0; n < N; n++) {
      const z = rng.normal();
      const q = z * z;
      s1 += z; s2 += q; s3 += q * z; s4 += q * q;
      if (Math.abs(z) > 3) t3++;
      if (z > 3.5) t35++;
      if (z < -3.5) tneg++;
    }
    s1 /= N; s2 /= N; s3 /= N; s4 /= N;
    expect(Math.abs(s1)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(s2 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(s3)).toBeLessThan(5 * Math.sqrt(15 / N));
    expect(Math.abs(s4 - 3)).toBeLessThan(5 * Math.sqrt(96 / N));
    const p3 = 2 * normCdf(-3), p35 = normCdf(-3.5);
    expect(Math.abs(t3 - N * p3)).toBeLessThan(5 * Math.sqrt(N * p3));
    expect(Math.abs(t35 - N * p35)).toBeLessThan(5 * Math.sqrt(N * p35));
    expect(Math.abs(tneg - N * p35)).toBeLessThan(5 * Math.sqrt(N * p35));
  });
  it("fillNormal(out, sd, start, end) gives exactly the values of successive normal() calls (slow paths included), 10⁶ draws", () => {
    const a = new Rng(31), b = new Rng(31), N = 1_000_000;
    const x = a.fillNormal(new Float64Array(N));
    let same = true, tail = 0;
    for (let i = 0; i < N; i++) { const z = b.normal(); if (z !== x[i]) same = false; if (Math.abs(z) > 3.442619855899) tail++; }
    expect(same).toBe(true);
    expect(tail).toBeGreaterThan(300); // the exact-tail branch (P ≈ 5.8e-4) was exercised
    expect(a.getState()).toEqual(b.getState());
    const y = new Float64Array(10).fill(7);
    a.fillNormal(y, 2, 3, 8);
    expect([y[0], y[1], y[2], y[8], y[9]]).toEqual([7, 7, 7, 7, 7]);
    for (let i = 3; i < 8; i++) expect(y[i]).toBe(2 * b.normal());
  });
  it("fillNormal is N(0, 1): Kolmogorov–Smirnov on 10⁶ draws (D < 1.95/√n, the 0.1 % critical value; N(0, 1.01²) or N(0.005, 1) would fail) and moments 1 … 4 within 5 SE", () => {
    const N = 1_000_000;
    const z = new Rng(32).fillNormal(new Float64Array(N));
    let s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    for (let i = 0; i < N; i++) { const v = z[i], q = v * v; s1 += v; s2 += q; s3 += q * v; s4 += q * q; }
    s1 /= N; s2 /= N; s3 /= N; s4 /= N;
    expect(Math.abs(s1)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(s2 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(s3)).toBeLessThan(5 * Math.sqrt(15 / N));
    expect(Math.abs(s4 - 3)).toBeLessThan(5 * Math.sqrt(96 / N));
    const ks = (scale: number, shift: number) => {
      const v = Float64Array.from(z, (t) => scale * t + shift).sort();
      let d = 0;
      for (let i = 0; i < N; i++) { const F = normCdf(v[i]); d = Math.max(d, F - i / N, (i + 1) / N - F); }
      return d;
    };
    const crit = 1.95 / Math.sqrt(N);
    expect(ks(1, 0)).toBeLessThan(crit);
    expect(ks(1.01, 0)).toBeGreaterThan(crit);
    expect(ks(1, 0.005)).toBeGreaterThan(crit);
  });
  it("uniform in [0, 1): mean ½ and variance 1/12 within 5 SE; int(n) covers 0 … n−1", () => {
    const rng = new Rng(8), N = 500_000;
    let s = 0, s2 = 0;
    let bad = 0;
    for (let n = 0; n < N; n++) { const u = rng.uniform(); if (!(u >= 0 && u < 1)) bad++; s += u; s2 += u * u; }
    expect(bad).toBe(0);
    expect(Math.abs(s / N - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(s2 / N - 1 / 3)).toBeLessThan(5 * Math.sqrt(4 / 45 / N));
    const seen = new Set<number>();
    for (let n = 0; n < 1000; n++) seen.add(rng.int(7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
