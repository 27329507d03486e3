/**
 * Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., Alg. 7.4/7.5) with a
 * strong-Wolfe line search (N&W Alg. 3.5 bracketing + Alg. 3.6 zoom, safeguarded cubic/quadratic
 * interpolation).
 *
 * Design notes
 * - `fg(x, g)` writes ∇f(x) into `g` and returns f(x).  The optimiser passes its own preallocated
 *   buffers; `fg` must not keep references to them.  Nothing is allocated per function evaluation
 *   (the history, direction and trial buffers are allocated once per `lbfgs` call).
 * - Search direction: two-loop recursion with initial Hessian H₀ = γI, γ = sᵀy/yᵀy of the newest
 *   pair.  A pair is stored only when sᵀy > ε·‖s‖‖y‖ (ε = machine epsilon), keeping H positive
 *   definite; otherwise the update is skipped.
 * - Memory empty (after a reset or a skipped update): scaled steepest descent −γg with the last γ;
 *   only the very first iteration uses −g with trial step 1/‖g‖₂ (a unit-length move).  Otherwise
 *   the first trial step is 1.
 * - Line search: N&W bracketing/zoom; the zoom takes the cubic interpolant's minimiser, kept ≥ 1 %
 *   of the bracket from its ends, and bisects if the bracket did not shrink by 0.66 over two trials
 *   (Moré–Thuente's safeguard).  Near convergence f is dominated by rounding, so, following Hager &
 *   Zhang (2005), trials with φ(α) within approxTol·|φ(0)| of φ(0) are judged by derivatives only
 *   ("approximate Wolfe", default approxTol = 1e-10, 0 = strict).  This lets ill-conditioned
 *   problems converge to ‖g‖ ≈ 1e-9 where a pure function-value test stalls at ≈ 1e-6.
 * - Non-finite values (NaN/±Inf in f or in the directional derivative) are treated as "step too
 *   long": the line search shrinks towards the last good point.  Non-finite points are never
 *   accepted.  The starting point must be finite (an Error is thrown otherwise).
 * - If the line search finds no point with sufficient decrease, the history is cleared and a
 *   steepest-descent search is tried once; if that fails too, status "lineSearchFailed" (the
 *   returned x is still the best point found).  A line search that ends early (evaluation budget,
 *   interval collapse) but has a sufficient-decrease point accepts that point.
 * - Stopping: ‖g‖∞ ≤ gtol·max(1, ‖x‖∞) ("gtol"); (f_k − f_{k+1}) ≤ ftol·max(|f_k|, |f_{k+1}|, 1)
 *   ("ftol"); iteration/evaluation budgets; `onIter` returning false or `signal` aborted
 *   ("stopped").
 * - One driver, two runners (as src/integrate/solve.ts): the generator `lbfgsSteps` is run to the
 *   end at once by `lbfgs` (synchronous) and cooperatively by `lbfgsAsync`, which returns to the
 *   event loop every ~40 ms (between iterations and between line-search evaluations) so that a
 *   Ctrl-C handler can abort `signal`.  Both give bit-identical iterates.
 */

import { runCooperatively, runToEnd, YieldClock, type AbortLike } from "../run/hooks.js";

// ---------------------------------------------------------------------------------------------
// Line search
// ---------------------------------------------------------------------------------------------

/** Output slot for a line function: set `phi` = φ(α) and `dphi` = φ'(α). */
export interface LineEval {
  phi: number;
  dphi: number;
}

/** One-dimensional function φ(α) along the search ray; writes φ and φ' into `out`. */
export type LineFunction = (alpha: number, out: LineEval) => void;

export interface LineSearchOptions {
  /** Sufficient-decrease (Armijo) constant, 0 < c1 < c2 < 1. Default 1e-4. */
  c1?: number;
  /** Curvature constant (strong Wolfe |φ'(α)| ≤ c2|φ'(0)|). Default 0.9. */
  c2?: number;
  /** Maximum number of φ evaluations in one search. Default 25. */
  maxEvals?: number;
  /** Largest step allowed. Default 1e20. */
  alphaMax?: number;
  /** Relative width below which the bracketing interval is considered collapsed. Default 1e-14. */
  xtol?: number;
  /**
   * Approximate-Wolfe tolerance ε (Hager & Zhang 2005).  A trial that fails the Armijo test only
   * by rounding, φ(α) ≤ φ(0) + ε|φ(0)|, but satisfies |φ'(α)| ≤ c2|φ'(0)| and
   * φ'(α) ≤ (1 − 2c1)|φ'(0)| (the derivative form of sufficient decrease, exact for quadratics) is
   * accepted with status "approxWolfe".  This lets the optimiser converge below the noise floor
   * of f.  Default 1e-10; 0 disables.
   */
  approxTol?: number;
}

export type LineSearchStatus =
  /** Both strong Wolfe conditions hold at the returned α. */
  | "converged"
  /** Approximate Wolfe conditions hold at the returned α (see `approxTol`). */
  | "approxWolfe"
  /** Evaluation budget exhausted; α is the best sufficient-decrease point found (may be 0). */
  | "maxEvals"
  /** Bracket collapsed to rounding level; α is the best sufficient-decrease point (may be 0). */
  | "intervalTooSmall"
  /** Reached alphaMax while φ still decreasing (sufficient decrease holds at α = alphaMax). */
  | "alphaMax"
  /** φ'(0) ≥ 0: not a descent direction. */
  | "notDescent"
  /**
   * Cooperative drivers only (lbfgsAsync): the signal was aborted at a pause between two
   * evaluations; α is the best sufficient-decrease point found (may be 0).
   */
  | "interrupted";

export interface LineSearchResult {
  alpha: number;
  phi: number;
  dphi: number;
  evaluations: number;
  status: LineSearchStatus;
  /** α of the most recent evaluation (lets callers know whether their buffers hold α's point). */
  lastAlpha: number;
}

const isFiniteNum = Number.isFinite;

/**
 * Minimiser of the cubic interpolating (a, fa, da) and (b, fb, db); NaN if it does not exist.
 * (N&W eq. 3.59, written to be symmetric in the order of a and b.)
 */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  const denom = db - da + 2 * d2;
  if (denom === 0) return NaN;
  return b - ((b - a) * (db + d2 - d1)) / denom;
}

/** Minimiser of the quadratic through (a, fa) with slope da and (b, fb); NaN if none. */
function quadMin(a: number, fa: number, da: number, b: number, fb: number): number {
  const h = b - a;
  const curv = fb - fa - da * h; // = c·h² with q(t) = fa + da t + c t²
  if (!(curv > 0)) return NaN;
  return a - (da * h * h) / (2 * curv);
}

/**
 * When a cooperative driver may pause: `due()` says that it is time to return to the event loop
 * (the generator yields); after the pause `signal` is polled.  `null`: never pause (synchronous).
 */
export interface Pacer {
  due: () => boolean;
  signal?: AbortLike;
}

/**
 * Strong-Wolfe line search (N&W Alg. 3.5/3.6).  Finds α > 0 with
 *   φ(α) ≤ φ(0) + c1·α·φ'(0)   and   |φ'(α)| ≤ c2·|φ'(0)|.
 *
 * `phi(α, out)` is called once per trial; its last call is at `result.lastAlpha`.  When the
 * status is "converged" or "approxWolfe" the last call is at the returned α.  Non-finite φ or φ' count as a
 * step that is too long.  The function allocates only the single `out` slot.
 */
export function lineSearchStrongWolfe(
  phi: LineFunction,
  phi0: number,
  dphi0: number,
  alpha0: number,
  opts: LineSearchOptions = {},
): LineSearchResult {
  return runToEnd(lineSearchSteps(phi, phi0, dphi0, alpha0, opts, null));
}

/**
 * `lineSearchStrongWolfe` as a generator: before every evaluation of φ it yields if `pacer.due()`
 * (never with `pacer` null), and after such a pause returns status "interrupted" if
 * `pacer.signal` is aborted.  Pausing does not change the arithmetic.
 */
export function* lineSearchSteps(
  phi: LineFunction,
  phi0: number,
  dphi0: number,
  alpha0: number,
  opts: LineSearchOptions,
  pacer: Pacer | null,
): Generator<void, LineSearchResult, void> {
  // One flat generator with no closures: it runs once per L-BFGS iteration, so closures (and nested
  // generators for the zoom phase and the pauses) would be allocated hundreds of times per
  // optimisation, and V8 compiled some of them anew for every instance.
  const c1 = opts.c1 ?? 1e-4;
  const c2 = opts.c2 ?? 0.9;
  const maxEvals = opts.maxEvals ?? 25;
  const alphaMax = opts.alphaMax ?? 1e20;
  const xtol = opts.xtol ?? 1e-14;
  const approxTol = opts.approxTol ?? 1e-10;
  if (!(c1 > 0 && c1 < 1 && c2 >= c1 && c2 < 1)) {
    throw new RangeError(`lineSearchStrongWolfe: need 0 < c1 <= c2 < 1 (got c1=${c1}, c2=${c2})`);
  }
  if (!(dphi0 < 0) || !isFiniteNum(phi0)) {
    return { alpha: 0, phi: phi0, dphi: dphi0, evaluations: 0, status: "notDescent", lastAlpha: 0 };
  }
  const out: LineEval = { phi: NaN, dphi: NaN };
  let evals = 0;
  let lastAlpha = 0;
  const epsF = approxTol * Math.abs(phi0); // noise level of φ assumed by approximate Wolfe

  // Best sufficient-decrease point so far (α = 0 is the fallback).
  let bestA = 0;
  let bestF = phi0;
  let bestD = dphi0;

  // Zoom state: lo is the best Armijo point so far, φ'(lo)·(hi − lo) < 0.
  let loA = 0;
  let loF = phi0;
  let loD = dphi0;
  let hiA = 0;
  let hiF = NaN;
  let hiD = NaN;

  // Two phases in one loop, so that φ is called from one place (V8 inlines the objective at each
  // call site it optimises): bracketing (extrapolating steps until a bracket [lo, hi] is found),
  // then zoom (shrinking the bracket).
  let zooming = false;
  // Bracketing state: the previous trial and the current one (a).
  let prevA = 0;
  let prevF = phi0;
  let prevD = dphi0;
  let a = Math.min(alpha0 > 0 && isFiniteNum(alpha0) ? alpha0 : 1, alphaMax);
  let i = 0; // bracketing iteration
  // Zoom state.  Moré–Thuente-style safeguard: if the bracket has not shrunk by a factor 0.66
  // over two trials, bisect.
  let j = 0; // zoom iteration
  let width = 0;
  let width1 = 0;
  for (;;) {
    if (evals >= maxEvals) return lsResult(bestA, bestF, bestD, evals, "maxEvals", lastAlpha);
    if (zooming) {
      const lower = Math.min(loA, hiA);
      const upper = Math.max(loA, hiA);
      const w = upper - lower;
      if (w <= xtol * Math.max(upper, Number.MIN_VALUE)) return lsResult(bestA, bestF, bestD, evals, "intervalTooSmall", lastAlpha);
      let bisect = false;
      if (j > 0) {
        bisect = w >= 0.66 * width1;
        width1 = width;
        width = w;
      }
      if (!isFiniteNum(hiF) || !isFiniteNum(hiD)) {
        // Far end unusable (non-finite): shrink strongly towards the good end.
        a = loA + 0.2 * (hiA - loA);
      } else if (bisect) {
        a = 0.5 * (loA + hiA);
      } else {
        // Cubic interpolation (quadratic, then bisection, as fallbacks), kept at least 1 % of the
        // bracket away from its ends.
        a = cubicMin(loA, loF, loD, hiA, hiF, hiD);
        if (!(a > lower && a < upper)) {
          a = quadMin(loA, loF, loD, hiA, hiF);
          if (!(a > lower && a < upper)) a = 0.5 * (loA + hiA);
        }
        const margin = 0.01 * w;
        if (a < lower + margin) a = lower + margin;
        else if (a > upper - margin) a = upper - margin;
      }
    }
    // Pause point before an evaluation.
    if (pacer !== null && pacer.due()) {
      yield;
      if (pacer.signal?.aborted === true) return lsResult(bestA, bestF, bestD, evals, "interrupted", lastAlpha);
    }
    out.phi = NaN;
    out.dphi = NaN;
    phi(a, out);
    evals++;
    lastAlpha = a;
    const fa = out.phi;
    const da = out.dphi;
    const ok = isFiniteNum(fa) && isFiniteNum(da);
    if (!zooming) {
      const noisy = ok && fa <= phi0 + epsF && Math.abs(fa - prevF) <= epsF;
      if (!ok || (!noisy && (!armijoOk(a, fa, phi0, c1, dphi0) || (i > 0 && fa >= prevF)))) {
        if (ok && approxWolfeOk(fa, da, phi0, dphi0, epsF, approxTol, c1, c2)) {
          return { alpha: a, phi: fa, dphi: da, evaluations: evals, status: "approxWolfe", lastAlpha };
        }
        loA = prevA;
        loF = prevF;
        loD = prevD;
        hiA = a;
        hiF = ok ? fa : NaN;
        hiD = ok ? da : NaN;
        zooming = true;
        width = Math.abs(hiA - loA);
        width1 = 2 * width;
        continue;
      }
      if (armijoOk(a, fa, phi0, c1, dphi0) && fa < bestF) {
        bestA = a;
        bestF = fa;
        bestD = da;
      }
      if (curvatureOk(da, c2, dphi0)) {
        return { alpha: a, phi: fa, dphi: da, evaluations: evals, status: "converged", lastAlpha };
      }
      if (da >= 0) {
        loA = a;
        loF = fa;
        loD = da;
        hiA = prevA;
        hiF = prevF;
        hiD = prevD;
        zooming = true;
        width = Math.abs(hiA - loA);
        width1 = 2 * width;
        continue;
      }
      if (a >= alphaMax) return lsResult(bestA, bestF, bestD, evals, "alphaMax", lastAlpha);
      // Extrapolate: cubic step safeguarded to [a + 1.1Δ, a + 4Δ] (Moré–Thuente's bounds).
      const delta = a - prevA;
      const lo = a + 1.1 * delta;
      const hi = a + 4 * delta;
      let next = cubicMin(prevA, prevF, prevD, a, fa, da);
      if (!(next >= lo && next <= hi)) next = next < lo ? lo : hi;
      prevA = a;
      prevF = fa;
      prevD = da;
      a = Math.min(next, alphaMax);
      i++;
      continue;
    }
    // Zoom: at the noise level of φ, compare derivatives only (Hager–Zhang).
    const noisy = ok && fa <= phi0 + epsF && Math.abs(fa - loF) <= epsF;
    if (!ok || (!noisy && (!armijoOk(a, fa, phi0, c1, dphi0) || fa >= loF))) {
      if (ok && approxWolfeOk(fa, da, phi0, dphi0, epsF, approxTol, c1, c2)) {
        return { alpha: a, phi: fa, dphi: da, evaluations: evals, status: "approxWolfe", lastAlpha };
      }
      hiA = a;
      hiF = ok ? fa : NaN;
      hiD = ok ? da : NaN;
    } else {
      if (armijoOk(a, fa, phi0, c1, dphi0) && fa < bestF) {
        bestA = a;
        bestF = fa;
        bestD = da;
      }
      if (curvatureOk(da, c2, dphi0)) {
        return { alpha: a, phi: fa, dphi: da, evaluations: evals, status: "converged", lastAlpha };
      }
      if (da * (hiA - loA) >= 0) {
        hiA = loA;
        hiF = loF;
        hiD = loD;
      }
      loA = a;
      loF = fa;
      loD = da;
    }
    j++;
  }
}

/** Sufficient decrease (Armijo): φ(α) ≤ φ(0) + c1·α·φ'(0). */
function armijoOk(a: number, f: number, phi0: number, c1: number, dphi0: number): boolean {
  return f <= phi0 + c1 * a * dphi0;
}

/** Strong curvature condition |φ'(α)| ≤ c2·|φ'(0)| (φ'(0) < 0). */
function curvatureOk(d: number, c2: number, dphi0: number): boolean {
  return Math.abs(d) <= -c2 * dphi0;
}

/** Approximate Wolfe conditions (Hager & Zhang; see `LineSearchOptions.approxTol`). */
function approxWolfeOk(f: number, d: number, phi0: number, dphi0: number, epsF: number, approxTol: number, c1: number, c2: number): boolean {
  return approxTol > 0 &&
    f <= phi0 + epsF &&
    curvatureOk(d, c2, dphi0) &&
    d <= -(1 - 2 * c1) * dphi0;
}

/** A line-search result at the best sufficient-decrease point so far (α = 0 if none). */
function lsResult(alpha: number, phi: number, dphi: number, evaluations: number, status: LineSearchStatus, lastAlpha: number): LineSearchResult {
  return { alpha, phi, dphi, evaluations, status, lastAlpha };
}

// ---------------------------------------------------------------------------------------------
// L-BFGS
// ---------------------------------------------------------------------------------------------

export interface LbfgsOptions {
  /** Number of stored correction pairs. Default 10. */
  m?: number;
  /** Maximum number of iterations. Default 1000. */
  maxIter?: number;
  /** Stop when ‖g‖∞ ≤ gtol·max(1, ‖x‖∞). Default 1e-6. */
  gtol?: number;
  /** Stop when (f_k − f_{k+1}) ≤ ftol·max(|f_k|, |f_{k+1}|, 1). Default 1e-12 (0 disables). */
  ftol?: number;
  /** Maximum number of fg evaluations (including the initial one). Default 20·maxIter. */
  maxEvals?: number;
  /**
   * Line-search parameters (c1 = 1e-4, c2 = 0.9, maxEvals = 25 per search, approxTol = 1e-10;
   * see `LineSearchOptions`).
   */
  lineSearch?: { c1?: number; c2?: number; maxEvals?: number; approxTol?: number };
  /** Called after every iteration; return false to stop (status "stopped"). */
  onIter?: (it: number, f: number, gnorm: number) => void | boolean;
  /**
   * Polled after every iteration (after `onIter`) and, in `lbfgsAsync`, at every pause (between
   * iterations and between the function evaluations of a line search); when it reads aborted the
   * run stops with status "stopped" at the last accepted iterate.
   */
  signal?: AbortLike;
}

export type LbfgsStatus = "gtol" | "ftol" | "maxIter" | "maxEvals" | "lineSearchFailed" | "stopped";

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  g: Float64Array;
  iterations: number;
  evaluations: number;
  status: LbfgsStatus;
  message: string;
}

export type ObjectiveWithGradient = (x: Float64Array, g: Float64Array) => number;

function dot(a: Float64Array, b: Float64Array, n: number, offA = 0, offB = 0): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[offA + i] * b[offB + i];
  return s;
}

function normInf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m || v !== v) m = v; // propagate NaN
  }
  return m;
}

/**
 * Minimise f with L-BFGS.  `fg(x, g)` must write ∇f(x) into g and return f(x).
 * `x0` is not modified.  See the module comment for the algorithmic details.  Synchronous: the
 * signal is polled after every iteration, which sees a worker's shared abort flag but not a
 * Ctrl-C on the main thread (use `lbfgsAsync`).
 */
export function lbfgs(fg: ObjectiveWithGradient, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  return runToEnd(lbfgsSteps(fg, x0, opts, null));
}

/**
 * `lbfgs`, returning to the event loop whenever ~40 ms of work have passed (between iterations
 * and between the function evaluations of a line search), so that signal handlers and timers run;
 * `opts.signal` is polled after every pause.  The iterates and the result are bit-identical to
 * `lbfgs` (pausing does not touch the arithmetic); only an abort makes them differ.
 */
export async function lbfgsAsync(fg: ObjectiveWithGradient, x0: Float64Array, opts: LbfgsOptions = {}): Promise<LbfgsResult> {
  const clock = new YieldClock();
  return runCooperatively(lbfgsSteps(fg, x0, opts, { due: () => clock.due(), signal: opts.signal }));
}

/**
 * The one L-BFGS driver behind `lbfgs` and `lbfgsAsync`, as a generator: it yields when
 * `pacer.due()` says so (never with `pacer` null) — at the start of every iteration and before
 * every line-search evaluation — and the caller resumes it (after awaiting the event loop, or at
 * once).  Composable with `yield*` (e.g. restarts in src/cp/decompose.ts).
 */
export function* lbfgsSteps(fg: ObjectiveWithGradient, x0: Float64Array, opts: LbfgsOptions, pacer: Pacer | null): Generator<void, LbfgsResult, void> {
  const n = x0.length;
  const m = Math.max(1, Math.floor(opts.m ?? 10));
  const maxIter = opts.maxIter ?? 1000;
  const gtol = opts.gtol ?? 1e-6;
  const ftol = opts.ftol ?? 1e-12;
  const maxEvals = opts.maxEvals ?? 20 * Math.max(maxIter, 1);
  const lsOpts = {
    c1: opts.lineSearch?.c1 ?? 1e-4,
    c2: opts.lineSearch?.c2 ?? 0.9,
    maxEvals: opts.lineSearch?.maxEvals ?? 25,
    approxTol: opts.lineSearch?.approxTol ?? 1e-10,
    alphaMax: 1e20,
  };
  const eps = Number.EPSILON;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let xt = new Float64Array(n);
  let gt = new Float64Array(n);
  const d = new Float64Array(n);
  const S = new Float64Array(m * n); // ring buffer of s_k = x_{k+1} − x_k
  const Y = new Float64Array(m * n); // ring buffer of y_k = g_{k+1} − g_k
  const rho = new Float64Array(m);
  const alphaBuf = new Float64Array(m);
  const pairDots = new Float64Array(3); // sᵀy, sᵀs, yᵀy of the newest pair
  let histLen = 0; // number of stored pairs
  let histHead = 0; // slot of the next write
  let gammaLast = 0; // newest H₀ scaling γ = sᵀy/yᵀy (0 = none yet); reused after a reset

  let f = fg(x, g);
  let evaluations = 1;
  if (!isFiniteNum(f) || !isFiniteNum(normInf(g))) {
    throw new Error(`lbfgs: objective or gradient not finite at the starting point (f = ${f})`);
  }

  // Line function along d from x; writes into xt/gt (swapped into x/g on acceptance).
  const phi: LineFunction = (alpha, out) => {
    pointAlong(xt, x, d, alpha, n);
    out.phi = fg(xt, gt);
    evaluations++;
    out.dphi = dot(gt, d, n);
  };

  const signal = opts.signal;
  // Every stop leaves the loop to ONE exit (the result and its message are made after the loop, by
  // lbfgsStop): the stops are reached once per run, each by its own branch, and an exit taken for
  // the first time after V8 has optimised this generator would otherwise de-optimise it (and a
  // re-compile of the whole generator follows) once per kind of stop.
  let stop: StopReason = "gtol";
  let stopGInf = 0; // ‖g‖∞ at a "gtol" stop
  let stopFOld = 0; // f before the last step at an "ftol" stop
  let stopLs: LineSearchResult | null = null; // the failed line search at "lineSearchFailed"
  let it = 0;
  iterations: for (;;) {
    if (pacer !== null && pacer.due()) {
      yield;
      if (pacer.signal?.aborted) { stop = "signal"; break; }
    }
    const gInf = normInf(g);
    if (gInf <= gtol * Math.max(1, normInf(x))) {
      stop = "gtol";
      stopGInf = gInf;
      break;
    }
    if (it >= maxIter) { stop = "maxIter"; break; }
    if (evaluations >= maxEvals) { stop = "maxEvals"; break; }

    // --- Search direction: d = −H g by the two-loop recursion.
    // Without memory: scaled steepest descent −γg (γ from the last pair, if any), else −g.
    scaledNegative(d, g, gammaLast > 0 ? gammaLast : 1, n);
    if (histLen > 0) gammaLast = twoLoopDirection(d, g, S, Y, rho, alphaBuf, histLen, histHead, m, n);
    let dphi0 = dot(g, d, n);
    if (!(dphi0 < 0)) {
      // Numerically not a descent direction: fall back to steepest descent.
      histLen = 0;
      histHead = 0;
      negative(d, g, n);
      dphi0 = dot(g, d, n);
      gammaLast = 0;
    }

    // --- Line search.
    const fOld = f;
    let ls: LineSearchResult | null = null;
    for (;;) {
      // Trial step 1, or 1/‖g‖₂ (unit-length move) for unscaled steepest descent d = −g.
      const alpha0 = histLen > 0 || gammaLast > 0 ? 1 : 1 / Math.sqrt(-dphi0);
      const budget = Math.min(lsOpts.maxEvals, maxEvals - evaluations);
      if (budget <= 0) break;
      ls = yield* lineSearchSteps(phi, f, dphi0, alpha0, { ...lsOpts, maxEvals: budget }, pacer);
      if (ls.status === "interrupted") { stop = "signal"; break iterations; }
      if (ls.alpha > 0) break;
      // No sufficient-decrease point: reset the memory and retry steepest descent once (unless
      // this search already was steepest descent, i.e. the memory was empty).
      if (histLen === 0 || evaluations >= maxEvals) break;
      histLen = 0;
      histHead = 0;
      scaledNegative(d, g, gammaLast, n); // gammaLast > 0 whenever histLen > 0
      dphi0 = dot(g, d, n);
      ls = null;
    }
    if (ls === null || ls.alpha === 0) {
      if (evaluations >= maxEvals) { stop = "maxEvals"; break; }
      stop = "lineSearchFailed";
      stopLs = ls;
      break;
    }
    if (ls.lastAlpha !== ls.alpha) {
      // The buffers hold another trial point: re-evaluate at the accepted step.
      pointAlong(xt, x, d, ls.alpha, n);
      ls.phi = fg(xt, gt);
      evaluations++;
    }

    // --- Update memory with s = xt − x, y = gt − g (if curvature is safely positive).
    storePair(S, Y, histHead * n, xt, x, gt, g, n, pairDots);
    const sy = pairDots[0], ss = pairDots[1], yy = pairDots[2];
    if (sy > eps * Math.sqrt(ss * yy)) {
      rho[histHead] = 1 / sy;
      histHead = (histHead + 1) % m;
      if (histLen < m) histLen++;
    }
    // Accept the step (swap buffers: no copies, no allocation).
    let tmp = x;
    x = xt;
    xt = tmp;
    tmp = g;
    g = gt;
    gt = tmp;
    f = ls.phi;
    it++;

    if (opts.onIter) {
      const r = opts.onIter(it, f, normInf(g));
      if (r === false) { stop = "onIter"; break; }
    }
    if (signal?.aborted) { stop = "signal"; break; }
    if (ftol > 0 && fOld - f <= ftol * Math.max(Math.abs(fOld), Math.abs(f), 1)) {
      stop = "ftol"; // (or "gtol" if ‖g‖ is small enough: decided by lbfgsStop)
      stopFOld = fOld;
      break;
    }
    if (ls.status !== "converged" && evaluations >= maxEvals) { stop = "maxEvals"; break; }
  }
  return lbfgsStop(stop, x, f, g, it, evaluations, { maxIter, maxEvals, gtol, gInf: stopGInf, fOld: stopFOld, ls: stopLs });
}

/** Why lbfgsSteps left its loop ("signal": the pacer's or the options' signal, or an interrupted line search). */
type StopReason = "gtol" | "ftol" | "maxIter" | "maxEvals" | "lineSearchFailed" | "onIter" | "signal";

/** The result of lbfgsSteps for a stop (status and message; "ftol" becomes "gtol" when ‖g‖∞ is small enough). */
function lbfgsStop(
  stop: StopReason, x: Float64Array, f: number, g: Float64Array, iterations: number, evaluations: number,
  at: { maxIter: number; maxEvals: number; gtol: number; gInf: number; fOld: number; ls: LineSearchResult | null },
): LbfgsResult {
  let status: LbfgsStatus;
  let message: string;
  switch (stop) {
    case "gtol":
      status = "gtol";
      message = `converged: ||g||_inf = ${at.gInf.toExponential(3)} <= gtol`;
      break;
    case "ftol": {
      const gInfNow = normInf(g);
      if (gInfNow <= at.gtol * Math.max(1, normInf(x))) {
        status = "gtol";
        message = `converged: ||g||_inf = ${gInfNow.toExponential(3)} <= gtol`;
      } else {
        status = "ftol";
        message = `relative decrease ${((at.fOld - f) / Math.max(Math.abs(at.fOld), Math.abs(f), 1)).toExponential(3)} <= ftol`;
      }
      break;
    }
    case "maxIter":
      status = "maxIter";
      message = `reached maxIter = ${at.maxIter}`;
      break;
    case "maxEvals":
      status = "maxEvals";
      message = `reached maxEvals = ${at.maxEvals}`;
      break;
    case "lineSearchFailed":
      status = "lineSearchFailed";
      message = `line search failed${at.ls ? ` (${at.ls.status})` : ""} even along steepest descent`;
      break;
    case "onIter":
      status = "stopped";
      message = "stopped by onIter callback";
      break;
    case "signal":
      status = "stopped";
      message = "stopped by the signal";
      break;
  }
  return { x, f, g: Float64Array.from(g), iterations, evaluations, status, message };
}

// The numeric loops of lbfgsSteps, as small functions of their own: the generator itself stays
// small, so V8 compiles it (and re-compiles it when a new objective's closures deoptimise a call
// site) in a fraction of the time, and each loop is optimised once for every objective.

/** d = −s·g. */
function scaledNegative(d: Float64Array, g: Float64Array, s: number, n: number): void {
  for (let i = 0; i < n; i++) d[i] = -s * g[i];
}

/** d = −g. */
function negative(d: Float64Array, g: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) d[i] = -g[i];
}

/** xt = x + α·d. */
function pointAlong(xt: Float64Array, x: Float64Array, d: Float64Array, alpha: number, n: number): void {
  for (let i = 0; i < n; i++) xt[i] = x[i] + alpha * d[i];
}

/**
 * d = −H g by the two-loop recursion over the histLen stored pairs (ring buffers S, Y, ρ; the next
 * write at histHead); returns the H₀ scaling γ = sᵀy/yᵀy of the newest pair.
 */
function twoLoopDirection(
  d: Float64Array, g: Float64Array, S: Float64Array, Y: Float64Array, rho: Float64Array, alphaBuf: Float64Array,
  histLen: number, histHead: number, m: number, n: number,
): number {
  negative(d, g, n);
  for (let k = 0; k < histLen; k++) {
    const j = (histHead - 1 - k + m) % m; // newest first
    const a = rho[j] * dot(S, d, n, j * n, 0);
    alphaBuf[j] = a;
    const off = j * n;
    for (let i = 0; i < n; i++) d[i] -= a * Y[off + i];
  }
  const newest = (histHead - 1 + m) % m;
  const yy = dot(Y, Y, n, newest * n, newest * n);
  const gamma = 1 / (rho[newest] * yy); // sᵀy / yᵀy
  for (let i = 0; i < n; i++) d[i] *= gamma;
  for (let k = histLen - 1; k >= 0; k--) {
    const j = (histHead - 1 - k + m) % m; // oldest first
    const off = j * n;
    const b = rho[j] * dot(Y, d, n, off, 0);
    const c = alphaBuf[j] - b;
    for (let i = 0; i < n; i++) d[i] += c * S[off + i];
  }
  return gamma;
}

/** Stores s = xt − x and y = gt − g at offset off of S and Y; out = [sᵀy, sᵀs, yᵀy]. */
function storePair(S: Float64Array, Y: Float64Array, off: number, xt: Float64Array, x: Float64Array, gt: Float64Array, g: Float64Array, n: number, out: Float64Array): void {
  let sy = 0;
  let ss = 0;
  let yy = 0;
  for (let i = 0; i < n; i++) {
    const s = xt[i] - x[i];
    const y = gt[i] - g[i];
    S[off + i] = s;
    Y[off + i] = y;
    sy += s * y;
    ss += s * s;
    yy += y * y;
  }
  out[0] = sy;
  out[1] = ss;
  out[2] = yy;
}
