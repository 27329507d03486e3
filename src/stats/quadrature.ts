/**
 * Quadrature rules: Gauss–Legendre (Newton on the Legendre recurrence), Gauss–Hermite for the
 * standard normal weight (Golub–Welsch via ml-matrix), and adaptive Gauss–Legendre on intervals
 * (10- vs 20-point estimates, bisection) for integrands with kinks or sharp fronts.
 */
import { mlMatrix } from "./ml-matrix.js";

export interface Rule {
  x: Float64Array;
  w: Float64Array;
}

const legendreCache = new Map<number, Rule>();

/** n-point Gauss–Legendre rule on [−1, 1]. */
export function gaussLegendre(n: number): Rule {
  let r = legendreCache.get(n);
  if (r) return r;
  const x = new Float64Array(n), w = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1, p1 = 0;
      for (let k = 1; k <= n; k++) {
        const p2 = p1;
        p1 = p0;
        p0 = ((2 * k - 1) * z * p1 - (k - 1) * p2) / k;
      }
      dp = (n * (z * p0 - p1)) / (z * z - 1);
      const dz = p0 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    // Recompute derivative at the converged root.
    let p0 = 1, p1 = 0;
    for (let k = 1; k <= n; k++) {
      const p2 = p1;
      p1 = p0;
      p0 = ((2 * k - 1) * z * p1 - (k - 1) * p2) / k;
    }
    dp = (n * (z * p0 - p1)) / (z * z - 1);
    x[i] = -z;
    x[n - 1 - i] = z;
    w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  r = { x, w };
  legendreCache.set(n, r);
  return r;
}

const hermiteCache = new Map<number, Rule>();

/** n-point Gauss–Hermite rule for E[f(z)], z ~ N(0, 1): Σ w_i f(x_i), Σ w_i = 1. */
export function gaussHermiteProb(n: number): Rule {
  let r = hermiteCache.get(n);
  if (r) return r;
  const { EigenvalueDecomposition, Matrix } = mlMatrix();
  const J = Matrix.zeros(n, n);
  for (let i = 0; i + 1 < n; i++) {
    const b = Math.sqrt(i + 1);
    J.set(i, i + 1, b);
    J.set(i + 1, i, b);
  }
  const evd = new EigenvalueDecomposition(J, { assumeSymmetric: true });
  const vals = evd.realEigenvalues;
  const V = evd.eigenvectorMatrix;
  const idx = vals.map((_, i) => i).sort((a, b) => vals[a] - vals[b]);
  const x = new Float64Array(n), w = new Float64Array(n);
  idx.forEach((k, i) => {
    x[i] = vals[k];
    const v0 = V.get(0, k);
    w[i] = v0 * v0;
  });
  // Symmetrise (the rule is exactly symmetric; this removes eigen-solver round-off).
  for (let i = 0; i < Math.floor(n / 2); i++) {
    const xs = 0.5 * (x[n - 1 - i] - x[i]);
    const ws = 0.5 * (w[i] + w[n - 1 - i]);
    x[i] = -xs; x[n - 1 - i] = xs;
    w[i] = w[n - 1 - i] = ws;
  }
  if (n % 2 === 1) x[(n - 1) / 2] = 0;
  const s = w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) w[i] /= s;
  r = { x, w };
  hermiteCache.set(n, r);
  return r;
}

/** ∫_a^b f with an n-point Gauss–Legendre rule. */
export function integrateGL(f: (x: number) => number, a: number, b: number, n = 20): number {
  const { x, w } = gaussLegendre(n);
  const h = 0.5 * (b - a), m = 0.5 * (a + b);
  let s = 0;
  for (let i = 0; i < n; i++) s += w[i] * f(m + h * x[i]);
  return h * s;
}

export interface AdaptiveOptions {
  /** Absolute and relative tolerance (the interval is accepted when |I20 − I10| ≤ max(abs, rel·|I|)). */
  abs?: number;
  rel?: number;
  maxDepth?: number;
  /** Extra breakpoints inside (a, b) (kinks, fronts). */
  breaks?: readonly number[];
  /**
   * Most subintervals one call may examine before it throws (default 5000; smooth integrands with
   * the tolerances used in this library need < 100).  Without a cap, an integrand that is noisy at
   * the tolerance level (e.g. itself an inexact quadrature) is refined everywhere down to maxDepth,
   * i.e. up to 2^maxDepth subintervals: a silent hang instead of an error.
   */
  maxIntervals?: number;
  /** Shared subinterval allowance for nested quadratures (decremented; overrides maxIntervals). */
  budget?: QuadratureBudget;
}

/** Remaining subinterval allowance, shared by an outer quadrature and all its inner ones. */
export interface QuadratureBudget {
  intervals: number;
}

/** Adaptive Gauss–Legendre integration of f over [a, b]. */
export function integrateAdaptive(f: (x: number) => number, a: number, b: number, opts: AdaptiveOptions = {}): number {
  const abs = opts.abs ?? 1e-13, rel = opts.rel ?? 1e-13, maxDepth = opts.maxDepth ?? 40;
  const budget = opts.budget ?? { intervals: opts.maxIntervals ?? 5000 };
  const pts = [a, ...(opts.breaks ?? []).filter((p) => p > a && p < b).sort((u, v) => u - v), b];
  let total = 0;
  const rec = (lo: number, hi: number, whole: number, depth: number, tolAbs: number): number => {
    if (--budget.intervals < 0) {
      throw new Error(
        `integrateAdaptive: subinterval budget exhausted integrating over [${a}, ${b}] (abs ${abs}, rel ${rel}, ` +
          `maxDepth ${maxDepth}; last subinterval [${lo}, ${hi}] at depth ${depth}): the tolerance is not attainable ` +
          `for this integrand (noisy or discontinuous away from the breakpoints?)`,
      );
    }
    const fine = integrateGL(f, lo, hi, 20);
    if (!Number.isFinite(fine)) {
      throw new Error(`integrateAdaptive: integrand is not finite on [${lo}, ${hi}] (integrating over [${a}, ${b}]; got ${fine})`);
    }
    if (depth >= maxDepth || Math.abs(fine - whole) <= Math.max(tolAbs, rel * Math.abs(fine))) return fine;
    const mid = 0.5 * (lo + hi);
    return (
      rec(lo, mid, integrateGL(f, lo, mid, 10), depth + 1, tolAbs / 2) +
      rec(mid, hi, integrateGL(f, mid, hi, 10), depth + 1, tolAbs / 2)
    );
  };
  for (let i = 0; i + 1 < pts.length; i++) {
    const lo = pts[i], hi = pts[i + 1];
    total += rec(lo, hi, integrateGL(f, lo, hi, 10), 0, abs / (pts.length - 1));
  }
  return total;
}

/**
 * E[f(z)] for z ~ N(0, 1) by adaptive quadrature on [−zmax, zmax] (tails beyond ±zmax carry
 * < 1e-20 of the mass for zmax = 9.5 and bounded f); `breaks` are in z units.
 */
export function gaussianExpectation(f: (z: number) => number, opts: AdaptiveOptions & { zmax?: number } = {}): number {
  const zmax = opts.zmax ?? 9.5;
  const c = 1 / Math.sqrt(2 * Math.PI);
  return integrateAdaptive((z) => f(z) * c * Math.exp(-0.5 * z * z), -zmax, zmax, {
    ...opts,
    breaks: [0, ...(opts.breaks ?? [])],
  });
}
