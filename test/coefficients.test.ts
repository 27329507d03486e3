/**
 * Flow coefficients c2^μ(v, b, y), c4(v, b) of IG22 eq. (3) (src/theory/coefficients.ts): the plain-TS
 * closed forms of `deriveFlowCoefficients`, checked against
 *   1. the hand-derived closed forms of REFERENCE.md for many (v, b, y, α1, α3), incl. v ≠ 1;
 *   2. the polynomial identity v(y − vσ̃(λ+b))σ̃'(λ+b) = Σ_k poly_k λ^k at random λ (all six coefficients);
 *   3. the exact expected gradient of the cubic neuron for Gaussian inputs: by Stein's lemma
 *      E[v F(λ) x] = C w E[v F'(λ)], λ ~ N(0, q), and for the degree-5 polynomial
 *      E[v F'(λ)] = c2 + 3 c4 q + 15 c6 q² exactly (c6 = −v²α3²/3).  E[v F'(λ)] is computed by
 *      Gauss–Hermite quadrature of a central finite difference of the *direct* activation formula
 *      (no use of the coefficients), and (c2, 3c4, 15c6) are recovered by fitting a quadratic in q
 *      through three q values (finite differences in q).  A wrong c2 or c4 fails by orders of magnitude;
 *   4. a brute-force interpolation of v F_y(λ) (b = 0, v = 0, v < 0, labels ±1 and {0,1});
 *   5. mathjs symbolic differentiation (`deriveFlowCoefficientsSymbolic`) for many random parameters.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ALPHA1_ERF, ALPHA3_ERF, closedFormCoefficients, cubicSigma, cubicSigmaPrime, deriveFlowCoefficients, deriveFlowCoefficientsSymbolic, flowCoefficientsSync, flowPolynomial, type CubicActivation } from "../src/theory/coefficients.js";
import { gaussHermiteProb } from "../src/stats/quadrature.js";
import { Rng } from "../src/stats/rng.js";

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));

describe("flow coefficients (closed forms)", () => {
  it("IG22 setting v = 1, b = −1, y = ±1 matches the closed forms (and IG22's printed v = 1 forms)", async () => {
    const c = await deriveFlowCoefficients({ v: 1, b: -1, labels: [-1, 1] });
    for (const [mu, y] of [-1, 1].entries()) {
      const cf = closedFormCoefficients(1, -1, y);
      expect(rel(c.c2[mu], cf.c2)).toBeLessThan(1e-13);
      // IG22 Methods eq. (10) (v = 1): c2 = −[(α1 − α3b²)² + 2α3 b (y − α1 v b + (α3/3) v b³)].
      const a1 = ALPHA1_ERF, a3 = ALPHA3_ERF, b = -1;
      const ig22 = -((a1 - a3 * b * b) ** 2 + 2 * a3 * b * (y - a1 * b + (a3 / 3) * b ** 3));
      expect(rel(c.c2[mu], ig22)).toBeLessThan(1e-13);
    }
    expect(rel(c.c4, closedFormCoefficients(1, -1, 1).c4)).toBeLessThan(1e-13);
    // IG22 eq. (10): c4 = v[(4/3)α3(α1 − α3b²) − 2α3²b²] at v = 1.
    expect(rel(c.c4, (4 / 3) * ALPHA3_ERF * (ALPHA1_ERF - ALPHA3_ERF) - 2 * ALPHA3_ERF ** 2)).toBeLessThan(1e-13);
    // Sign structure used in the discussion: c4 < 0 (cubic term saturates), c2(+1) > 0 > c2(−1).
    expect(c.c4).toBeLessThan(0);
    expect(c.c2[1]).toBeGreaterThan(0);
    expect(c.c2[0]).toBeLessThan(0);
    expect(c.symbolic.c2).toContain("a3");
  });

  it("matches the closed forms for general v, b, y and activation coefficients", async () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 12; trial++) {
      const v = 3 * (rng.uniform() - 0.5), b = 4 * (rng.uniform() - 0.5);
      const alpha1 = trial % 3 === 0 ? undefined : 0.5 + rng.uniform(), alpha3 = trial % 3 === 0 ? undefined : rng.uniform();
      const labels = [-1, 1, 0, 0.3];
      const c = await deriveFlowCoefficients({ v, b, labels, alpha1, alpha3 });
      const act = { alpha1, alpha3 };
      labels.forEach((y, mu) => {
        const cf = closedFormCoefficients(v, b, y, act);
        expect(Math.abs(c.c2[mu] - cf.c2)).toBeLessThan(1e-13 * Math.max(1, Math.abs(cf.c2)));
        expect(Math.abs(c.poly[mu][5] - cf.c6)).toBeLessThan(1e-13 * Math.max(1, Math.abs(cf.c6)));
      });
      const cf = closedFormCoefficients(v, b, 0, act);
      expect(Math.abs(c.c4 - cf.c4)).toBeLessThan(1e-13 * Math.max(1, Math.abs(cf.c4)));
    }
  });

  it("the six polynomial coefficients reproduce v(y − vσ̃(λ+b))σ̃'(λ+b) exactly", async () => {
    const v = 0.7, b = 0.4, a1 = 0.9, a3 = 0.35;
    const c = await deriveFlowCoefficients({ v, b, labels: [-1, 1], alpha1: a1, alpha3: a3 });
    const rng = new Rng(3);
    for (const [mu, y] of [-1, 1].entries()) {
      for (let k = 0; k < 20; k++) {
        const lam = 4 * (rng.uniform() - 0.5);
        const direct = v * (y - v * cubicSigma(lam + b, a1, a3)) * cubicSigmaPrime(lam + b, a1, a3);
        let poly = 0;
        for (let j = 5; j >= 0; j--) poly = poly * lam + c.poly[mu][j];
        expect(Math.abs(poly - direct)).toBeLessThan(1e-13 * Math.max(1, Math.abs(direct)));
      }
    }
  });

  it("rejects non-finite inputs", async () => {
    await expect(deriveFlowCoefficients({ v: NaN, b: -1, labels: [1] })).rejects.toThrow(/v must be a finite number/);
    await expect(deriveFlowCoefficients({ v: 1, b: -1, labels: [] })).rejects.toThrow(/labels/);
    await expect(deriveFlowCoefficients({ v: 1, b: -1, labels: [1, Infinity] })).rejects.toThrow(/label must be a finite number/);
    // b⁵ overflows: reported, not silently returned as ±Infinity / NaN.
    await expect(deriveFlowCoefficients({ v: 1, b: 1e70, labels: [1] })).rejects.toThrow(/not finite/);
  });
});

describe("coefficients vs the exact Gaussian expected gradient (Stein + quadrature + finite differences in q)", () => {
  for (const [v, b] of [[1, -1], [0.6, 0.8], [-1.3, -0.5]] as const) {
    it(`v = ${v}, b = ${b}`, async () => {
      const c = await deriveFlowCoefficients({ v, b, labels: [-1, 1] });
      const gh = gaussHermiteProb(24); // exact for polynomials of degree ≤ 47
      const eps = 1e-4;
      for (const [mu, y] of [-1, 1].entries()) {
        // E[v F'(λ)], λ ~ N(0, q), F' by a central difference of the direct formula (error O(eps²) ~ 1e-9).
        const F = (lam: number) => v * (y - v * cubicSigma(lam + b)) * cubicSigmaPrime(lam + b);
        const G = (q: number) => {
          let s = 0;
          for (let k = 0; k < gh.x.length; k++) {
            const lam = Math.sqrt(q) * gh.x[k];
            s += gh.w[k] * ((F(lam + eps) - F(lam - eps)) / (2 * eps));
          }
          return s;
        };
        // Quadratic through q = 0, h, 2h: G(q) = g0 + g1 q + g2 q².
        const h = 0.25;
        const G0 = G(0), G1 = G(h), G2 = G(2 * h);
        const g2 = (G2 - 2 * G1 + G0) / (2 * h * h);
        const g1 = (G1 - G0) / h - g2 * h;
        expect(Math.abs(G0 - c.c2[mu])).toBeLessThan(1e-7 * Math.max(1, Math.abs(c.c2[mu])));
        expect(Math.abs(g1 - 3 * c.c4)).toBeLessThan(1e-6);
        expect(Math.abs(g2 - 15 * c.poly[mu][5])).toBeLessThan(1e-6);
        // And at a large q the full relation holds (no small-q assumption).
        const q = 1.7;
        expect(Math.abs(G(q) - (c.c2[mu] + 3 * c.c4 * q + 15 * c.poly[mu][5] * q * q))).toBeLessThan(1e-6);
      }
    });
  }
});

/**
 * Solve the n×n Vandermonde system Σ_k c_k x_i^k = f_i by Gaussian elimination with partial pivoting
 * (brute-force monomial coefficients of the interpolant; independent of the coefficient code).
 */
function interpolateMonomial(xs: number[], fs: number[]): number[] {
  const n = xs.length;
  const A = xs.map((x, i) => [...Array.from({ length: n }, (_, k) => x ** k), fs[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r][c]) > Math.abs(A[piv][c])) piv = r;
    [A[c], A[piv]] = [A[piv], A[c]];
    for (let r = c + 1; r < n; r++) {
      const m = A[r][c] / A[c][c];
      for (let k = c; k <= n; k++) A[r][k] -= m * A[c][k];
    }
  }
  const sol = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = A[r][n];
    for (let k = r + 1; k < n; k++) s -= A[r][k] * sol[k];
    sol[r] = s / A[r][r];
  }
  return sol;
}

describe("b = 0, v ≠ 1, v = 0, v < 0, b < 0 and labels ±1 / {0,1} (regression: b = 0 gave 'sixth λ-derivative is NaN')", () => {
  const cases: [v: number, b: number, labels: number[], act: CubicActivation][] = [
    [0.5, 0, [-1, 1], {}],
    [0.5, 0, [0, 1], {}],
    [1, 0, [-1, 1], {}],
    [-0.7, 0, [0, 1], {}],
    [0, 0, [0, 1], {}],
    [0, -1, [-1, 1], {}],
    [2.3, 0, [-1, 1], { alpha1: 0.9, alpha3: 0.35 }],
    [-1.2, -1, [-1, 1], {}],
    [0.8, -0.3, [0, 1], { alpha1: 1.1, alpha3: 0.2 }],
    [1.5, 1.7, [0, 1], {}],
    [0.6, -2, [-1, 1], {}],
  ];
  for (const [v, b, labels, act] of cases) {
    it(`v = ${v}, b = ${b}, labels = {${labels.join(",")}}${act.alpha1 !== undefined ? ", custom α" : ""}`, async () => {
      const c = await deriveFlowCoefficients({ v, b, labels, ...act });
      const a1 = act.alpha1 ?? ALPHA1_ERF, a3 = act.alpha3 ?? ALPHA3_ERF;
      expect(c.labels).toEqual(labels);
      expect(c.poly).toHaveLength(labels.length);
      // c4 = v²[(4/3)α1α3 − (10/3)α3² b²], independent of y.
      const c4 = v * v * ((4 / 3) * a1 * a3 - (10 / 3) * a3 * a3 * b * b);
      expect(Math.abs(c.c4 - c4)).toBeLessThanOrEqual(1e-13 * Math.abs(c4));
      labels.forEach((y, mu) => {
        const p = c.poly[mu];
        expect(p).toHaveLength(6);
        expect(p.every(Number.isFinite)).toBe(true);
        // c2^μ = −v[ v(α1² − 4α1α3 b² + (5/3)α3² b⁴) + 2α3 b y^μ ].
        const c2 = -v * (v * (a1 * a1 - 4 * a1 * a3 * b * b + (5 / 3) * a3 * a3 * b ** 4) + 2 * a3 * b * y);
        expect(Math.abs(c.c2[mu] - c2)).toBeLessThanOrEqual(1e-13 * Math.abs(c2));
        expect(p[1]).toBe(c.c2[mu]);
        expect(p[3]).toBe(c.c4);
        expect(Math.abs(p[5] - (-v * v * a3 * a3) / 3)).toBeLessThanOrEqual(1e-15 * v * v);
        // Brute force: interpolate v F_y(λ) = v(y − vσ̃(λ+b))σ̃'(λ+b) through 8 Chebyshev nodes with a
        // degree-7 polynomial; its λ⁶, λ⁷ coefficients must vanish (exactly degree 5) and λ⁰..λ⁵ match.
        const n = 8;
        const xs = Array.from({ length: n }, (_, i) => Math.cos(((2 * i + 1) * Math.PI) / (2 * n)));
        const fs = xs.map((lam) => v * (y - v * cubicSigma(lam + b, a1, a3)) * cubicSigmaPrime(lam + b, a1, a3));
        const brute = interpolateMonomial(xs, fs);
        const scale = Math.max(...fs.map(Math.abs), ...p.map(Math.abs));
        for (let k = 0; k < n; k++) expect(Math.abs((p[k] ?? 0) - brute[k])).toBeLessThanOrEqual(1e-12 * scale);
        // And the polynomial reproduces the direct formula at random λ, far from the nodes too.
        for (const lam of [-3.1, -1.7, -0.4, 0, 0.25, 1.3, 2.9]) {
          const direct = v * (y - v * cubicSigma(lam + b, a1, a3)) * cubicSigmaPrime(lam + b, a1, a3);
          let val = 0;
          for (let k = 5; k >= 0; k--) val = val * lam + p[k];
          expect(Math.abs(val - direct)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(direct)));
        }
      });
    });
  }
});

describe("closed forms vs mathjs symbolic differentiation (deriveFlowCoefficientsSymbolic)", () => {
  it("agree to 1e-12 for 300 random (v, b, y, α1, α3), incl. b = 0, v = 0, v < 0, labels ±1 / {0,1}", async () => {
    const rng = new Rng(2024);
    const u = (lo: number, hi: number) => lo + (hi - lo) * rng.uniform();
    for (let trial = 0; trial < 300; trial++) {
      const v = trial % 10 === 0 ? 0 : trial % 10 === 1 ? 1 : u(-3, 3);
      const b = trial % 4 === 0 ? 0 : u(-2.5, 2.5);
      const act = trial % 5 === 0 ? {} : { alpha1: u(-1.5, 1.5), alpha3: u(-1, 1) };
      const labels = trial % 3 === 0 ? [0, 1] : trial % 3 === 1 ? [-1, 1] : [u(-2, 2), u(-2, 2), u(-2, 2)];
      const opts = { v, b, labels, ...act };
      const fast = await deriveFlowCoefficients(opts);
      const sym = await deriveFlowCoefficientsSymbolic(opts);
      expect(sym.labels).toEqual(fast.labels);
      labels.forEach((_, mu) => {
        // Relative to the largest coefficient of the polynomial (each f_k is a sum of terms of that size).
        const scale = Math.max(...sym.poly[mu].map(Math.abs));
        for (let k = 0; k <= 5; k++) expect(Math.abs(fast.poly[mu][k] - sym.poly[mu][k])).toBeLessThanOrEqual(1e-12 * scale);
        expect(Math.abs(fast.c2[mu] - sym.c2[mu])).toBeLessThanOrEqual(1e-12 * scale);
      });
      expect(Math.abs(fast.c4 - sym.c4)).toBeLessThanOrEqual(1e-12 * Math.max(...sym.poly[0].map(Math.abs)));
    }
  });

  it("same result shape; symbolic strings mention the parameters; sync and async paths are identical", async () => {
    const opts = { v: 0.7, b: 0, labels: [0, 1] };
    const fast = await deriveFlowCoefficients(opts), sym = await deriveFlowCoefficientsSymbolic(opts);
    expect(Object.keys(fast)).toEqual(Object.keys(sym));
    expect(flowCoefficientsSync(opts)).toEqual(fast);
    expect(fast.poly[1]).toEqual(flowPolynomial(0.7, 0, 1));
    for (const s of [fast.symbolic.c2, sym.symbolic.c2]) for (const name of ["v", "b", "y", "a1", "a3"]) expect(s).toContain(name);
    for (const s of [fast.symbolic.c4, sym.symbolic.c4]) for (const name of ["v", "b", "a1", "a3"]) expect(s).toContain(name);
  });

  it("no module under src/ imports mathjs statically (start-up path stays free of the ~1–6 s load)", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith(".ts")) files.push(join(dir, e.name));
      }
    };
    walk(join(__dirname, "..", "src"));
    expect(files.length).toBeGreaterThan(5);
    const offenders = files.filter((f) => /^\s*(import|export)\s+(?!type\b)[^;]*?from\s*["']mathjs["']/m.test(readFileSync(f, "utf8")) || /require\(\s*["']mathjs["']\s*\)/.test(readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });
});
