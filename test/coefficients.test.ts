/**
 * Flow coefficients c2^μ(v, b, y), c4(v, b) of IG22 eq. (3), derived symbolically with mathjs
 * (src/theory/coefficients.ts), checked against
 *   1. the hand-derived closed forms of REFERENCE.md for many (v, b, y, α1, α3), incl. v ≠ 1;
 *   2. the polynomial identity v(y − vσ̃(λ+b))σ̃'(λ+b) = Σ_k poly_k λ^k at random λ (all six coefficients);
 *   3. the exact expected gradient of the cubic neuron for Gaussian inputs: by Stein's lemma
 *      E[v F(λ) x] = C w E[v F'(λ)], λ ~ N(0, q), and for the degree-5 polynomial
 *      E[v F'(λ)] = c2 + 3 c4 q + 15 c6 q² exactly (c6 = −v²α3²/3).  E[v F'(λ)] is computed by
 *      Gauss–Hermite quadrature of a central finite difference of the *direct* activation formula
 *      (no use of the coefficients), and (c2, 3c4, 15c6) are recovered by fitting a quadratic in q
 *      through three q values (finite differences in q).  A wrong c2 or c4 fails by orders of magnitude.
 */
import { describe, expect, it } from "vitest";
import { ALPHA1_ERF, ALPHA3_ERF, closedFormCoefficients, cubicSigma, cubicSigmaPrime, deriveFlowCoefficients } from "../src/theory/coefficients.js";
import { gaussHermiteProb } from "../src/stats/quadrature.js";
import { Rng } from "../src/stats/rng.js";

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));

describe("symbolic flow coefficients", () => {
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
