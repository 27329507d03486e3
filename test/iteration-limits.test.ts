/**
 * Every iterative routine has an iteration limit and fails with a clear Error instead of looping
 * (issue "Tests that catch a wrong formula": a perturbed erf used to make the marginals and data
 * suites spin for hours in a synchronous loop that vitest cannot time out).
 */
import { describe, expect, it } from "vitest";
import { gaussianExpectation, integrateAdaptive } from "../src/stats/quadrature.js";
import { transformedCovariance } from "../src/data/marginals.js";
import { bvnCdf } from "../src/stats/gaussian-integrals.js";
import { Rng } from "../src/stats/rng.js";
import { sampleGamma } from "../src/data/elliptical.js";
import { PhiTable } from "../src/theory/lsg24.js";
import { fftPlanOf } from "../src/stats/fft.js";

/** Deterministic pseudo-noise in [−1, 1] as a function of x (a hash of its bits). */
function noise(x: number): number {
  const f = new Float64Array([x]);
  const u = new Uint32Array(f.buffer);
  let h = Math.imul(u[0] ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(u[1] ^ 0xc2b2ae35, 0x27d4eb2d);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 13;
  return (h >>> 0) / 2147483648 - 1;
}

/** A generator stuck on one 32-bit output. */
class StuckRng extends Rng {
  constructor(private readonly word: number) {
    super(1);
  }
  override nextUint32(): number {
    return this.word >>> 0;
  }
}

describe("adaptive quadrature: subinterval budget", () => {
  it("a smooth integrand stays far below the default budget (∫₀¹ eˣ = e − 1; N(0,1) second moment = 1)", () => {
    expect(integrateAdaptive(Math.exp, 0, 1, { maxIntervals: 5 })).toBeCloseTo(Math.E - 1, 14);
    expect(gaussianExpectation((z) => z * z, { maxIntervals: 50 })).toBeCloseTo(1, 13);
  });

  it("an integrand noisy at the tolerance level throws (naming the routine and interval) instead of refining to 2^40 pieces", () => {
    const f = (x: number) => Math.cos(x) + 1e-9 * noise(x);
    const t0 = performance.now();
    expect(() => integrateAdaptive(f, 0, 3)).toThrow(/^integrateAdaptive: subinterval budget exhausted integrating over \[0, 3\]/);
    expect(() => integrateAdaptive(f, 0, 3, { maxIntervals: 100 })).toThrow(/budget exhausted/);
    // A looser tolerance above the noise level converges.
    expect(integrateAdaptive(f, 0, 3, { abs: 1e-6, rel: 1e-6 })).toBeCloseTo(Math.sin(3), 6);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it("a shared budget caps nested quadratures as a whole", () => {
    const budget = { intervals: 10 };
    const inner = (x: number) => integrateAdaptive((y) => Math.exp(x * y), 0, 1, { budget });
    expect(() => integrateAdaptive(inner, 0, 1, { budget })).toThrow(/budget exhausted/);
    expect(budget.intervals).toBeLessThan(0);
  });

  it("a non-finite integrand throws at once", () => {
    expect(() => integrateAdaptive((x) => (x > 0.3 ? NaN : 1), 0, 1)).toThrow(/^integrateAdaptive: integrand is not finite/);
    expect(() => gaussianExpectation((z) => (z > 5 ? Infinity : 0))).toThrow(/not finite/);
  });

  it("transformedCovariance with a noisy transform throws with its inputs instead of hanging", () => {
    const T = (z: number) => z + 1e-9 * noise(z);
    expect(() => transformedCovariance(T, 0.3, { maxIntervals: 20_000 })).toThrow(/^transformedCovariance\(ρ = 0\.3, zmax = 9\.5, tol = 1e-12\) failed: integrateAdaptive: subinterval budget exhausted/);
    // The exact identity transform is unaffected: C(ρ) = ρ.
    expect(transformedCovariance((z) => z, 0.3)).toBeCloseTo(0.3, 12);
  });
});

describe("bivariate normal upper arc", () => {
  it("|h − k| below the subnormal range (previously an endless loop) and tiny (previously NaN): Φ2(0, 0; r) = ¼ + asin(r)/2π", () => {
    const exact = 0.25 + Math.asin(0.99) / (2 * Math.PI);
    for (const h of [0, 1e-323, 5e-324, 1e-300, 1e-200, 1e-17]) {
      expect(Math.abs(bvnCdf(h, 0, 0.99) - exact)).toBeLessThan(1e-15);
      expect(Math.abs(bvnCdf(0, -h, 0.999) - (0.25 + Math.asin(0.999) / (2 * Math.PI)))).toBeLessThan(1e-15);
    }
    // ∂Φ2(h, 0; r)/∂h = φ(h) Φ(−r h/√(1 − r²)) = φ(0)/2 ≈ 0.2 at h = 0: a tiny h moves the value continuously.
    const d = bvnCdf(1e-9, 0, 0.99) - exact;
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(1e-9);
  });
});

describe("random number generation: rejection loops are capped", () => {
  it("the all-zero xoshiro state (a fixed point emitting 0 forever) is refused", () => {
    const r = new Rng(3);
    expect(() => r.setState([0, 0, 0, 0])).toThrow(/Rng\.setState/);
    r.setState([0, 0, 0, 1]);
    expect(r.getState()).toEqual([0, 0, 0, 1]);
  });

  it("uniformOpen, normal and sampleGamma throw on a stuck generator instead of looping", () => {
    expect(() => new StuckRng(0).uniformOpen()).toThrow(/^Rng\.uniformOpen: 64 consecutive draws of exactly 0/);
    // 0x7fffffff: top ziggurat layer, |hz| at the layer edge, u ≈ ½ → rejected on every pass.
    expect(() => new StuckRng(0x7fffffff).normal()).toThrow(/^Rng\.normal: ziggurat rejected 1000 times/);
    expect(() => sampleGamma(3, new StuckRng(0))).toThrow(/uniformOpen|sampleGamma/);
    expect(() => sampleGamma(NaN, new Rng(1))).toThrow(RangeError);
    expect(() => sampleGamma(0, new Rng(1))).toThrow(RangeError);
    // A working generator is unaffected (mean of Gamma(3) = 3 within 5 s.e.).
    const rng = new Rng(8);
    let s = 0;
    for (let i = 0; i < 20000; i++) s += sampleGamma(3, rng);
    expect(Math.abs(s / 20000 - 3)).toBeLessThan(5 * Math.sqrt(3 / 20000));
  });
});

describe("other loops", () => {
  it("PhiTable throws after maxPanels instead of refining a noisy φ to minWidth (~10⁷ panels)", () => {
    const f = (a: number) => a + 1e-9 * noise(a);
    expect(() => new PhiTable(f, { maxPanels: 50 })).toThrow(/^PhiTable: more than 50 panels needed for tol 1e-12/);
    const t = new PhiTable((a) => a, { maxPanels: 50 });
    expect(t.panels).toBeLessThanOrEqual(8);
    expect(t.eval(0.37)).toBeCloseTo(0.37, 13);
  });

  it("fftPlanOf rejects n = 0 (factorize(0) divided 0 by 4 forever)", () => {
    expect(() => fftPlanOf(0, "stockham")).toThrow(RangeError);
    expect(() => fftPlanOf(2.5, "bluestein")).toThrow(RangeError);
  });
});
