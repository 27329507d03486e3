/**
 * Special functions used in hot loops: erf, erfc, erfcx, the normal pdf/cdf and its inverse.
 *
 * erf and erfc are evaluated from piecewise Taylor tables (cells of width 1/16, degree 14) built once at
 * module load from convergent reference expansions:
 *   erf(x)   = (2/√π) Σ_n (−1)^n x^{2n+1} / (n!(2n+1))   on [0, 1)  (the polynomial itself on |x| < 1/16)
 *   erfc(x)  = e^{−x²} erfcx(x)                            on [1/2, 6), so erf = 1 − erfc on [1, 6)
 *   erfcx(x) = e^{x²} erfc(x) by Laplace's continued fraction (evaluated backwards; also used at x ≥ 6).
 * Accuracy against high-precision reference values (decimal.js, test/fixtures/special-reference.json
 * from scripts/gen-special-reference.mjs) is a few ulp; the bounds per function and region are
 * asserted in test/special.test.ts.  Evaluation costs one table look-up and a Horner recurrence.
 */

const SQRT_PI = Math.sqrt(Math.PI);
const TWO_OVER_SQRT_PI = 2 / SQRT_PI;

/** Reference erf for 0 ≤ x ≤ 1 by the Maclaurin series (cancellation < e^{x²} ≤ e; slow). */
export function erfMaclaurin(x: number): number {
  const x2 = x * x;
  let term = x; // (−1)^n x^{2n+1} / n!
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-18 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/** Reference erf by the positive series (valid for all x ≥ 0, slow). */
export function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 0; n < 2000; n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
    if (term < 1e-18 * sum) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** Reference erfcx(x) = e^{x²} erfc(x) by Laplace's continued fraction (x ≥ 0.5; slow). */
export function erfcxContinuedFraction(x: number, terms = 0): number {
  const n = terms > 0 ? terms : Math.min(20000, Math.ceil(60 + 4000 / (x * x)));
  // erfc(x) e^{x²} √π = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
  let f = x;
  for (let k = n; k >= 1; k--) f = x + k / 2 / f;
  return 1 / (SQRT_PI * f);
}

const ERF_HI = 6;
const ERF_MID = 1;
/** erfc (and erfcx) come from the erfc Taylor table on [1/2, 6): 1 − erf would lose up to 3 bits there. */
const ERFC_LO = 0.5;

/**
 * Taylor tables for erf (on [0, 1)) and erfc (on [1, 6)): cells of width 1/16, expansion about the
 * cell centre m of degree 14, with exact derivatives d^k/dx^k erf = (2/√π)(−1)^{k−1} H_{k−1}(m) e^{−m²}
 * (physicists' Hermite polynomials).  The constant term is the reference value itself, so the result is
 * accurate to about one ulp (no accumulated quadrature rounding as in a Chebyshev fit).
 */
const TCELL = 1 / 16;
const TDEG = 14;
const TAYLOR_DEG = TDEG, TAYLOR_CELL = TCELL;
interface TaylorTable { lo: number; cells: number; coef: Float64Array }
function buildTaylor(value: (m: number) => number, sign: 1 | -1, lo: number, hi: number, TDEG = TAYLOR_DEG, TCELL = TAYLOR_CELL): TaylorTable {
  const cells = Math.round((hi - lo) / TCELL);
  const coef = new Float64Array(cells * (TDEG + 1));
  const H = new Float64Array(TDEG + 1);
  for (let c = 0; c < cells; c++) {
    const m = lo + (c + 0.5) * TCELL;
    H[0] = 1;
    H[1] = 2 * m;
    for (let n = 1; n < TDEG; n++) H[n + 1] = 2 * m * H[n] - 2 * n * H[n - 1];
    const g = TWO_OVER_SQRT_PI * Math.exp(-m * m);
    coef[c * (TDEG + 1)] = value(m);
    let fact = 1;
    for (let k = 1; k <= TDEG; k++) {
      fact *= k;
      coef[c * (TDEG + 1) + k] = (sign * g * (k % 2 === 1 ? 1 : -1) * H[k - 1]) / fact;
    }
  }
  return { lo, cells, coef };
}
function evalTaylor(tb: TaylorTable, x: number): number {
  let c = Math.floor((x - tb.lo) / TCELL);
  if (c >= tb.cells) c = tb.cells - 1;
  const d = x - (tb.lo + (c + 0.5) * TCELL);
  const base = c * (TDEG + 1);
  const coef = tb.coef;
  let s = coef[base + TDEG];
  for (let k = TDEG - 1; k >= 1; k--) s = s * d + coef[base + k];
  return coef[base] + s * d;
}

const erfTable = buildTaylor(erfMaclaurin, 1, 0, ERF_MID);
const erfcTable = buildTaylor((x) => Math.exp(-x * x) * erfcxContinuedFraction(x), -1, ERFC_LO, ERF_HI);

/**
 * (2/√π) (−1)^n / (n!(2n+1)), n = 0 … 7: the Maclaurin polynomial of erf(x)/x in x², used on the
 * first cell |x| < 1/16 (truncation < (1/16)^16/(8!·17) ≈ 1e-25 relative).  The Taylor expansion
 * about the cell centre 1/32 would cancel there: erf(1e-10) came out 2.5e-8 too large and
 * erf(x) = 0 for |x| < ~1e-17.
 */
const ERF_SMALL = [1, -1 / 3, 1 / 10, -1 / 42, 1 / 216, -1 / 1320, 1 / 9360, -1 / 75600].map((c) => c * TWO_OVER_SQRT_PI);

/** Error function. */
export function erf(x: number): number {
  const ax = x < 0 ? -x : x;
  if (ax >= ERF_HI) return x < 0 ? -1 : x > 0 ? 1 : x; // |1 − erf(6)| < 3e-17
  if (ax < TCELL) {
    const t = x * x;
    const c = ERF_SMALL;
    return x * (c[0] + t * (c[1] + t * (c[2] + t * (c[3] + t * (c[4] + t * (c[5] + t * (c[6] + t * c[7])))))));
  }
  const v = ax < ERF_MID ? evalTaylor(erfTable, ax) : 1 - evalTaylor(erfcTable, ax);
  return x < 0 ? -v : v;
}

/** Taylor tables of `erfFast`: degree 6 about the centres m = c/32, c = 0 … 192 (cells of width 1/32). */
const FAST_CELLS_PER_UNIT = 32;
const FAST_DEG = 6;
const erfFastCoef = buildTaylor(erf, 1, -0.5 / FAST_CELLS_PER_UNIT, ERF_HI + 0.5 / FAST_CELLS_PER_UNIT, FAST_DEG, 1 / FAST_CELLS_PER_UNIT).coef;

/**
 * Error function for hot loops where an ABSOLUTE error of 1e-13 is plenty (e.g. the NLGP input
 * non-linearity x = erf(g z/√2)/√γ: 400 calls per input of online SGD).  About 2.5× cheaper than
 * `erf`: one table look-up and a degree-6 polynomial (Estrin's scheme: short dependency chains).
 *
 * Method: for |x| < 6, the nearest centre m = c/32 (c = round(32|x|)) and the Taylor polynomial of
 * degree 6 of erf about m in t = |x| − m (exact: Sterbenz), with coefficients c₀ = erf(m) (this
 * module's `erf`, ≤ 2 ulp) and c_k = (2/√π)(−1)^{k−1} H_{k−1}(m) e^{−m²}/k!.  For |x| ≥ 6, ±1.
 * The cell about 0 has the odd polynomial t(c₁ + c₃t² + c₅t⁴) (H_odd(0) = 0 exactly), so erfFast
 * is odd, erfFast(0) = 0 and small arguments keep their relative accuracy (≤ 4e-13).
 *
 * Error bound, |erfFast(x) − erf(x)| ≤ 1.3e-14 for every double x (proof):
 *  - truncation: |t| = |x − m| ≤ 1/64, so the Lagrange remainder is ≤ max|erf⁽⁷⁾| (1/64)⁷/7!.
 *    erf⁽⁷⁾(x) = (2/√π) H₆(x) e^{−x²}, and Cramér's inequality |H_n(x)| e^{−x²/2} ≤ 1.086435·√(2ⁿ n!)
 *    gives |erf⁽⁷⁾| ≤ (2/√π)·1.086435·√(2⁶·6!) = 263.1, hence truncation ≤ 263.1·2⁻⁴²/7! = 1.19e-14;
 *  - coefficients: c₀ is within 2 ulp ≤ 2.3e-16 of erf(m); c₁ … c₆ carry a few ulp of relative
 *    error on terms |c_k t^k| ≤ (2/√π)/64 < 0.018, i.e. < 1e-17;
 *  - evaluation rounding: the sum is c₀ (|c₀| ≤ 1) plus terms of total size ≤ 0.018 formed with
 *    ≤ 4 roundings each (Estrin), so ≤ ½ ulp(1) + 0.018·5·2⁻⁵³ < 1.2e-16;
 *  - |x| ≥ 6: |1 − erf(x)| ≤ erfc(6) = 2.2e-17.
 * Total ≤ 1.19e-14 + 2.3e-16 + 1e-17 + 1.2e-16 < 1.3e-14.  (Cramér's bound is loose: max|H₆ e^{−x²}|
 * = 120 at x = 0, so the truncation error is ≤ 6.1e-15, attained at the edges of the first cell;
 * test/special.test.ts asserts ≤ 1.3e-14 against `erf` on 4·10⁶ points and the high-precision fixture.)
 */
export function erfFast(x: number): number {
  const ax = x < 0 ? -x : x;
  if (!(ax < ERF_HI)) return ax === ax ? (x < 0 ? -1 : 1) : x;
  const c = (ax * FAST_CELLS_PER_UNIT + 0.5) | 0;
  const t = ax - c * (1 / FAST_CELLS_PER_UNIT);
  const k = c * (FAST_DEG + 1), q = erfFastCoef;
  const t2 = t * t;
  const v = (q[k] + t * q[k + 1]) + t2 * ((q[k + 2] + t * q[k + 3]) + t2 * ((q[k + 4] + t * q[k + 5]) + t2 * q[k + 6]));
  return x < 0 ? -v : v;
}

/** exp(x²) to a few ulp (the split of expNegSq below). */
function expPosSq(x: number): number {
  const h = Math.fround(x), l = x - h;
  return Math.exp(h * h) * Math.exp(l * (x + h));
}

/**
 * Scaled complementary error function e^{x²} erfc(x), accurate for large x.  Below 1/2 from erf, on
 * [1/2, 6) from the erfc Taylor table, beyond by Laplace's continued fraction (≥ 107 terms at x = 6).
 * (A Chebyshev table on [0.5, 8) used before was good to only ~20 ulp.)
 */
export function erfcx(x: number): number {
  if (x < ERFC_LO) return expPosSq(x) * (1 - erf(x));
  if (x < ERF_HI) return expPosSq(x) * evalTaylor(erfcTable, x);
  if (x > 1e8) return 1 / (SQRT_PI * x);
  return erfcxContinuedFraction(x, Math.ceil(40 + 400 / x));
}

/**
 * exp(−s·x²) for s ∈ {1, ½} to a few ulp.  Math.exp(−x*x) is off by up to x²·2⁻⁵³ relative because
 * x*x is rounded (8e-14 at x = 27): split x = h + l with h = fround(x) (24 bits, so h² is exact) and
 * use x² = h² + l(x + h).
 */
function expNegSq(x: number, s: number): number {
  const h = Math.fround(x), l = x - h;
  return Math.exp(-s * h * h) * Math.exp(-s * l * (x + h));
}

/** Complementary error function with full relative accuracy in the right tail. */
export function erfc(x: number): number {
  if (x < ERFC_LO) return 1 - erf(x);
  if (x < ERF_HI) return evalTaylor(erfcTable, x);
  if (x > 27.3) return 0;
  return expNegSq(x, 1) * erfcx(x);
}

/** Standard normal density. */
export function normPdf(x: number): number {
  return expNegSq(x, 0.5) / Math.sqrt(2 * Math.PI);
}

/**
 * Standard normal CDF Φ(x), accurate in both tails.  For x < −1, Φ(x) = ½ e^{−x²/2} erfcx(−x/√2):
 * erfc(−x/√2) itself would amplify the rounding of −x/√2 by x² (1.6e-13 relative at x = −38),
 * while erfcx is insensitive to it and e^{−x²/2} is formed from x exactly.
 */
export function normCdf(x: number): number {
  if (x < -1) return x < -38.5 ? 0 : 0.5 * expNegSq(x, 0.5) * erfcx(-x / Math.SQRT2);
  return 0.5 * erfc(-x / Math.SQRT2);
}

/**
 * Inverse standard normal CDF Φ⁻¹(p) for p ∈ (0, 1): rational initial guess
 * (Abramowitz & Stegun 26.2.23) refined by Halley steps on the accurate Φ.
 */
export function normPpf(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  const q = p < 0.5 ? p : 1 - p;
  const t = Math.sqrt(-2 * Math.log(q));
  let x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  if (p === 0.5) return 0;
  if (p < 0.5) x = -x;
  const centred = Math.abs(p - 0.5) < 0.25; // then p − ½ is exact (Sterbenz)
  for (let it = 0; it < 4; it++) {
    // Residual that keeps relative accuracy: Φ(x) − ½ = ½ erf(x/√2) against the exact p − ½ near the
    // centre (Φ(x) − p alone would fix x only to ~1e-16 absolute), else in the tail.
    const e = centred ? 0.5 * erf(x / Math.SQRT2) - (p - 0.5) : x < 0 ? normCdf(x) - p : (1 - p) - normCdf(-x);
    const u = e / normPdf(x); // Φ(x) − p, divided by Φ'(x)
    const dx = u / (1 + (x * u) / 2);
    x -= dx;
    if (Math.abs(dx) < 1e-15 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}
