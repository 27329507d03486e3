/**
 * LSG24 effective single-neuron dynamics (Lufkin, Saxe & Grant, NeurIPS 2024).
 *
 * Neuron ReLU(w·x), no bias, labels {0, 1} (class 0 → 0, class 1 → 1, p = ½ each), loss ½(y − ŷ)².
 * Treating the pre-activation as Gaussian given one coordinate x_i (correlation a_i with x_i) gives
 *   dw/dt = ½ [ φ(a) − (Σ0 + Σ1) w ],   a = Σ1 w / √(wᵀ Σ1 w),
 *   φ(a)_i = E_x[ x erf( a_i x / √(2(1 − a_i²)) ) ]   over the standardised marginal x of class 1,
 * with Σ_μ the exact covariance of class μ's inputs (for NORTA/NLGP fields: NOT the kernel).
 * Since Σ_ii = 1, Cauchy–Schwarz gives |a_i| ≤ 1.
 *
 * Time units.  The mean online-SGD update with learning rate η is η·¼[φ(a) − (Σ0+Σ1)w] (the class
 * probabilities ½ included), so one SGD step advances the ODE time above by η/2 (t = η·steps/2).
 *
 * Closed forms: Gaussian φ = √(2/π) a (no localisation), ±1 φ = erf(a/√(2(1−a²))).
 * Small a: φ ≈ √(2/π)[a + ((3 − κ)/6) a³]: κ < 3 (negative excess kurtosis) makes the cubic
 * term positive and drives localisation.
 *
 * Check values (φ(0.5)): ±1 0.43630, Gaussian 0.39894, NLGP with g = 3 → 0.43253 in LSG24's gain
 * convention x ∝ erf(g z) (= IG22 gain 3√2); IG22's erf(3 z/√2) gives 0.43081 instead.
 */
import { runStatusOf, solveAsync, type Jac, type Method, type OdeProblem, type OdeSolution } from "../integrate/index.js";
import type { RunHooks, RunStatus } from "../run/hooks.js";
import type { Marginal } from "../data/marginals.js";
import type { Rng } from "../stats/rng.js";
import { erf } from "../stats/special.js";
import { ipr } from "../analysis/ipr.js";
import { logTimes } from "../integrate/grid.js";
import { Matvec2 } from "../kernels/matvec2.js";
import { ChebPanels, chebTheta, chebValue } from "../kernels/cheb-panels.js";
import { simdKernels } from "../kernels/index.js";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** φ(a) by direct quadrature (or closed form) for one marginal; odd in a, |a| ≤ 1. */
export function phiDirect(m: Marginal, a: number): number {
  if (!(a >= -1 && a <= 1)) throw new RangeError(`a must be in [−1, 1] (got ${a})`);
  if (a === 0) return 0;
  const aa = Math.abs(a);
  const c = aa === 1 ? Infinity : aa / Math.sqrt(2 * (1 - aa * aa));
  const v = m.xErfMoment(c);
  return a < 0 ? -v : v;
}

/** The small-a cubic expansion √(2/π)[a + ((3 − κ)/6) a³]. */
export function phiCubic(kappa: number, a: number): number {
  return SQRT_2_OVER_PI * (a + ((3 - kappa) / 6) * a * a * a);
}

// ---------------------------------------------------------------------------------------------
// Piecewise-Chebyshev table of φ in θ = asin|a| ∈ [0, π/2]

const DEG = 24;

/** Chebyshev coefficients of f on [lo, hi] from values at the DEG+1 first-kind nodes. */
function chebFit(f: (x: number) => number, lo: number, hi: number): Float64Array {
  const n = DEG + 1;
  const vals = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const t = Math.cos((Math.PI * (j + 0.5)) / n);
    vals[j] = f(0.5 * (lo + hi) + 0.5 * (hi - lo) * t);
  }
  const c = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += vals[j] * Math.cos((Math.PI * k * (j + 0.5)) / n);
    c[k] = (2 / n) * s;
  }
  c[0] *= 0.5;
  return c;
}

export interface PhiTableOptions {
  /** Target absolute accuracy (default 1e-12); the tail coefficients of each panel must be below it. */
  tol?: number;
  /** Smallest panel width in θ before giving up refining (default 1e-7). */
  minWidth?: number;
  /**
   * Most panels before the construction throws (default 1000; smooth φ need < 100).  A φ that is
   * noisy at the tol level would otherwise be refined to minWidth everywhere: ~10⁷ panels, each a
   * batch of quadratures — a hang, not an error.
   */
  maxPanels?: number;
}

/**
 * Fast φ(a) for a marginal whose φ needs quadrature: adaptive panels in θ = asin|a| with a
 * degree-24 Chebyshev fit on each (bisected until the last three coefficients are < tol).
 * `eval` allocates nothing.
 */
export class PhiTable {
  readonly edges: Float64Array;
  readonly coefs: Float64Array;
  readonly panels: number;
  /** Largest tail-coefficient estimate over panels (a-posteriori error indicator). */
  readonly errorEstimate: number;
  /** evalMany's evaluators, per kernel backend ([TS, SIMD]). */
  private readonly cheb: [ChebPanels | undefined, ChebPanels | undefined] = [undefined, undefined];

  constructor(f: (a: number) => number, opts: PhiTableOptions = {}) {
    const tol = opts.tol ?? 1e-12, minWidth = opts.minWidth ?? 1e-7, maxPanels = opts.maxPanels ?? 1000;
    const g = (th: number) => f(Math.sin(th));
    const out: { lo: number; hi: number; c: Float64Array; err: number }[] = [];
    let fits = 0;
    const rec = (lo: number, hi: number) => {
      // A binary tree with maxPanels leaves has < 2·maxPanels nodes.
      if (++fits > 2 * maxPanels) {
        throw new Error(
          `PhiTable: more than ${maxPanels} panels needed for tol ${tol} (minWidth ${minWidth}; now at θ ∈ [${lo}, ${hi}]): ` +
            `φ is not smooth at the tolerance level (inexact quadrature?)`,
        );
      }
      const c = chebFit(g, lo, hi);
      const err = Math.abs(c[DEG]) + Math.abs(c[DEG - 1]) + Math.abs(c[DEG - 2]);
      if (err > tol && hi - lo > minWidth) {
        const mid = 0.5 * (lo + hi);
        rec(lo, mid);
        rec(mid, hi);
      } else out.push({ lo, hi, c, err });
    };
    // Start from 4 panels so no feature hides between the first nodes.
    const H = Math.PI / 2;
    for (let p = 0; p < 4; p++) rec((p * H) / 4, ((p + 1) * H) / 4);
    this.panels = out.length;
    this.edges = new Float64Array(out.length + 1);
    this.coefs = new Float64Array(out.length * (DEG + 1));
    let emax = 0;
    out.forEach((p, i) => {
      this.edges[i] = p.lo;
      this.coefs.set(p.c, i * (DEG + 1));
      emax = Math.max(emax, p.err);
    });
    this.edges[out.length] = H;
    this.errorEstimate = emax;
  }

  /**
   * out[i] = eval(a[i]) for i < n, with the same bits: many points at once on the kernel backend
   * (src/kernels/cheb-panels.ts: several Clenshaw recurrences interleaved, two points per SIMD
   * vector; one alone is a chain of 24 dependent multiply–adds, ≈ 58 ns a point).
   */
  evalMany(a: Float64Array, out: Float64Array, n: number): void {
    const key = simdKernels() ? 1 : 0;
    const c = (this.cheb[key] ??= new ChebPanels(this.edges, this.coefs, DEG));
    c.evaluate(a, n, out);
  }

  /** φ(a) (see chebValue in src/kernels/cheb-panels.ts for the operations). */
  eval(a: number): number {
    return chebValue(chebTheta(a), a, this.edges, this.panels - 1, this.coefs, DEG);
  }
}

/** A fast φ for a marginal: closed forms for gaussian/sign/ising, a PhiTable otherwise. */
export function makePhi(m: Marginal, opts: PhiTableOptions = {}): {
  phi: (a: number) => number; dphi?: (a: number) => number; phiMany?: (a: Float64Array, out: Float64Array, n: number) => void; table?: PhiTable;
} {
  switch (m.spec.kind) {
    case "gaussian":
      return { phi: (a) => SQRT_2_OVER_PI * a, dphi: () => SQRT_2_OVER_PI };
    case "sign":
    case "ising":
      return { phi: phiSign, dphi: dphiSign };
    default: {
      const table = new PhiTable((a) => phiDirect(m, a), opts);
      return { phi: (a) => table.eval(a), phiMany: (a, out, n) => table.evalMany(a, out, n), table };
    }
  }
}

/** φ for the ±1 marginal: erf(a/√(2(1−a²))) (±1 at a = ±1). */
export function phiSign(a: number): number {
  if (a >= 1) return 1;
  if (a <= -1) return -1;
  return erf(a / Math.sqrt(2 * (1 - a * a)));
}

// ---------------------------------------------------------------------------------------------
// The ODE

export interface LsgSystem {
  D: number;
  /** Dense Σ1 and S = Σ0 + Σ1 (D×D row-major). */
  sigma1: Float64Array;
  sum: Float64Array;
  phi: (a: number) => number;
  /** out[i] = φ(a[i]) for i < n with the same bits as phi (optional: evaluates a whole vector faster). */
  phiMany?: (a: Float64Array, out: Float64Array, n: number) => void;
  /** φ'(a) (default: a central difference of φ, step 1e-5; φ is smooth on (−1, 1)). */
  dphi?: (a: number) => number;
}

/** Dense D×D matrix from a translation-invariant first row on a 1D ring or 2D torus. */
export function denseCirculant(L: number, dim: 1 | 2, row: Float64Array): Float64Array {
  const D = dim === 1 ? L : L * L;
  const C = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    const ia = dim === 1 ? 0 : Math.floor(i / L), ib = dim === 1 ? i : i % L;
    for (let j = 0; j < D; j++) {
      const ja = dim === 1 ? 0 : Math.floor(j / L), jb = dim === 1 ? j : j % L;
      C[i * D + j] = row[((ja - ia + L) % L) * (dim === 1 ? 0 : L) + ((jb - ib + L) % L)];
    }
  }
  return C;
}

export type LsgRhs = ((t: number, w: Float64Array, dw: Float64Array) => void) & {
  /** Frees the products' resident memory now; the function must not be called afterwards. */
  release(): void;
};

/**
 * Right-hand side dw/dt = ½[φ(a) − (Σ0 + Σ1) w] (allocation-free after construction).
 *
 * The two matrix–vector products u = Σ1 w and r = (Σ0 + Σ1) w run in `Matvec2` (the SIMD kernel,
 * or four rows at a time in TS): most of an lsg ODE sweep's time went there, one row at a time
 * (3.2 µs per call at D = 40).  Each entry's sum, and q's, is summed as one row at a time would
 * (j, resp. i, in increasing order), so the results are the same bits on every backend.
 */
export function lsgRhs(sys: LsgSystem): LsgRhs {
  const { D, sigma1, sum, phi, phiMany } = sys;
  const mv = new Matvec2(D, sigma1, sum);
  const { w: wv, u, r } = mv;
  const av = new Float64Array(D), pv = new Float64Array(D);
  const f = (_t: number, w: Float64Array, dw: Float64Array): void => {
    for (let k = 0; k < D; k++) wv[k] = w[k];
    mv.run();
    let q = 0;
    for (let k = 0; k < D; k++) q += w[k] * u[k];
    const inv = q > 0 ? 1 / Math.sqrt(q) : 0;
    if (phiMany) {
      for (let i = 0; i < D; i++) {
        const a = u[i] * inv;
        av[i] = a > 1 ? 1 : a < -1 ? -1 : a; // round-off only
      }
      phiMany(av, pv, D);
      for (let i = 0; i < D; i++) dw[i] = 0.5 * (pv[i] - r[i]);
      return;
    }
    for (let i = 0; i < D; i++) {
      let a = u[i] * inv;
      if (a > 1) a = 1; else if (a < -1) a = -1; // round-off only
      dw[i] = 0.5 * (phi(a) - r[i]);
    }
  };
  return Object.assign(f, { release: () => mv.release() });
}

/**
 * Jacobian of lsgRhs, for the implicit solvers (rodas, bdf):
 *   J = ½ [ diag(φ'(a)) (Σ1/√q − u uᵀ / q^{3/2}) − (Σ0 + Σ1) ],   u = Σ1 w, q = wᵀu, a = u/√q
 * (a is clamped to [−1, 1] in the RHS only against round-off; the clamp is ignored here).  O(D²).
 */
export function lsgJacobian(sys: LsgSystem): Jac {
  const { D, sigma1, sum, phi } = sys;
  const dphi = sys.dphi ?? ((a: number) => {
    const h = 1e-5;
    const lo = Math.max(-1, a - h), hi = Math.min(1, a + h);
    return (phi(hi) - phi(lo)) / (hi - lo);
  });
  const u = new Float64Array(D), g = new Float64Array(D);
  return (_t, w, J) => {
    let q = 0;
    for (let i = 0; i < D; i++) {
      let s = 0;
      const o = i * D;
      for (let j = 0; j < D; j++) s += sigma1[o + j] * w[j];
      u[i] = s;
      q += w[i] * s;
    }
    const inv = q > 0 ? 1 / Math.sqrt(q) : 0;
    const inv3 = inv * inv * inv;
    for (let i = 0; i < D; i++) {
      let a = u[i] * inv;
      if (a > 1) a = 1; else if (a < -1) a = -1;
      g[i] = dphi(a);
    }
    for (let i = 0; i < D; i++) {
      const o = i * D, gi = g[i], ri = gi * u[i] * inv3;
      for (let j = 0; j < D; j++) J[o + j] = 0.5 * (gi * sigma1[o + j] * inv - ri * u[j] - sum[o + j]);
    }
  };
}

/** φ' of the closed forms: Gaussian √(2/π); ±1 marginal (2/√π) e^{−a²/(2(1−a²))} / (√2 (1−a²)^{3/2}). */
export function dphiSign(a: number): number {
  const s = 1 - a * a;
  if (!(s > 0)) return 0;
  return (2 / Math.sqrt(Math.PI)) * Math.exp((-a * a) / (2 * s)) / (Math.SQRT2 * s * Math.sqrt(s));
}

export interface LsgRunOptions {
  t1: number;
  method?: Method;
  rtol?: number;
  atol?: number;
  dt?: number;
  steadyTol?: number;
  /** Number of output times (log-spaced from t1·1e-4 to t1, plus 0). */
  samples?: number;
  maxSteps?: number;
}

export interface LsgRunResult {
  sol: OdeSolution;
  w: Float64Array;
  ipr: number;
  status: RunStatus;
}

/** Initial weights w_i ~ N(0, scale²/D). */
export function initWeights(D: number, scale: number, rng: Rng): Float64Array {
  const w = new Float64Array(D);
  rng.fillNormal(w, scale / Math.sqrt(D));
  return w;
}

/** Standard deviation of N(0, 1) truncated to [−2, 2] (scipy.stats.truncnorm.std(−2, 2)). */
export const TRUNCNORM2_STD = 0.87962566103423978;

/**
 * LSG24's initial weights (their `xavier_normal_init` = JAX glorot_normal times √init_scale) for a
 * single neuron with D inputs: fan_avg = (1 + D)/2, so w_i = √initScale · √(2/(1 + D)) / 0.8796… · t_i,
 * t_i ~ N(0, 1) truncated to [−2, 2] (by rejection): Var w_i = initScale · 2/(1 + D) exactly.
 */
export function initWeightsXavierTruncated(D: number, initScale: number, rng: Rng): Float64Array {
  const w = new Float64Array(D);
  const sd = Math.sqrt(initScale) * Math.sqrt(2 / (1 + D)) / TRUNCNORM2_STD;
  for (let i = 0; i < D; i++) {
    let t = rng.normal();
    while (t < -2 || t > 2) t = rng.normal();
    w[i] = sd * t;
  }
  return w;
}

/** Integrate the effective dynamics from w0. */
export async function runLsg(sys: LsgSystem, w0: Float64Array, o: LsgRunOptions, hooks: RunHooks = {}): Promise<LsgRunResult> {
  const rhs = lsgRhs(sys);
  try {
    return await solveLsg(sys, rhs, w0, o, hooks);
  } finally {
    // The products' resident copies (matrices not already resident and symmetric: 2·8·D² bytes)
    // go now rather than when the garbage collector, which does not see wasm memory, gets to them.
    rhs.release();
  }
}

async function solveLsg(sys: LsgSystem, rhs: LsgRhs, w0: Float64Array, o: LsgRunOptions, hooks: RunHooks): Promise<LsgRunResult> {
  const problem: OdeProblem = {
    rhs,
    // Used by the implicit methods (rodas, bdf) only.
    jac: lsgJacobian(sys),
    autonomous: true,
    y0: w0,
    tspan: [0, o.t1],
    saveat: logTimes(o.t1, (o.samples ?? 60) + 1), // t = 0 and `samples` log-spaced times from 1e-4·t1
    events: { steadyTol: o.steadyTol },
  };
  const sol = await solveAsync(problem, o.method ?? "gbs", {
    rtol: o.rtol ?? 1e-9,
    atol: o.atol ?? 1e-12,
    dt: o.dt,
    maxSteps: o.maxSteps,
    signal: hooks.signal,
    onProgress: hooks.onProgress,
  });
  const w = sol.y[sol.y.length - 1].slice();
  return { sol, w, ipr: ipr(w), status: runStatusOf(sol.retcode) };
}
