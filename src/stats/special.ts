/**
 * Special functions used in hot loops: erf, erfc, erfcx, the normal pdf/cdf and its inverse.
 *
 * erf and erfc are evaluated from piecewise Taylor tables and erfcx from piecewise Chebyshev tables,
 * built once at module load from convergent reference expansions:
 *   erf(x)   = (2/√π) Σ_n (−1)^n x^{2n+1} / (n!(2n+1))   on [0, 1)
 *   erfc(x)  = e^{−x²} erfcx(x)                            on [1, 6), so erf = 1 − erfc there
 *   erfcx(x) = e^{x²} erfc(x) by Laplace's continued fraction (evaluated backwards, x ≥ 1/2).
 * Accuracy against mathjs/mpmath reference values is ≲ 2 ulp-ish (≤ 1e-15 relative, see
 * test/special.test.ts).  Evaluation costs one table look-up and a Clenshaw recurrence.
 */

const SQRT_PI = Math.sqrt(Math.PI);
const TWO_OVER_SQRT_PI = 2 / SQRT_PI;
const DEG = 14;
const CELL = 0.25;

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

interface ChebTable {
  lo: number;
  hi: number;
  coef: Float64Array; // cells × (DEG+1)
}

function buildTable(fn: (x: number) => number, lo: number, hi: number): ChebTable {
  const cells = Math.round((hi - lo) / CELL);
  const coef = new Float64Array(cells * (DEG + 1));
  const N = DEG + 1;
  const fv = new Float64Array(N);
  for (let c = 0; c < cells; c++) {
    const a = lo + c * CELL;
    for (let k = 0; k < N; k++) {
      const t = Math.cos((Math.PI * (k + 0.5)) / N);
      fv[k] = fn(a + (CELL * (t + 1)) / 2);
    }
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < N; k++) s += fv[k] * Math.cos((Math.PI * j * (k + 0.5)) / N);
      coef[c * N + j] = ((j === 0 ? 1 : 2) / N) * s;
    }
  }
  return { lo, hi, coef };
}

function evalTable(tb: ChebTable, x: number): number {
  const u = (x - tb.lo) / CELL;
  let c = Math.floor(u);
  if (c * CELL + tb.lo >= tb.hi) c -= 1;
  const t = 2 * (u - c) - 1;
  const base = c * (DEG + 1);
  const coef = tb.coef;
  let b1 = 0, b2 = 0;
  const t2 = 2 * t;
  for (let j = DEG; j >= 1; j--) {
    const b0 = t2 * b1 - b2 + coef[base + j];
    b2 = b1;
    b1 = b0;
  }
  return t * b1 - b2 + coef[base];
}

const ERF_HI = 6;
const ERF_MID = 1;
const ERFCX_LO = 0.5;
const ERFCX_HI = 8;

/**
 * Taylor tables for erf (on [0, 1)) and erfc (on [1, 6)): cells of width 1/16, expansion about the
 * cell centre m of degree 14, with exact derivatives d^k/dx^k erf = (2/√π)(−1)^{k−1} H_{k−1}(m) e^{−m²}
 * (physicists' Hermite polynomials).  The constant term is the reference value itself, so the result is
 * accurate to about one ulp (no accumulated quadrature rounding as in a Chebyshev fit).
 */
const TCELL = 1 / 16;
const TDEG = 14;
interface TaylorTable { lo: number; cells: number; coef: Float64Array }
function buildTaylor(value: (m: number) => number, sign: 1 | -1, lo: number, hi: number): TaylorTable {
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
const erfcTable = buildTaylor((x) => Math.exp(-x * x) * erfcxContinuedFraction(x), -1, ERF_MID, ERF_HI);
const erfcxTable = buildTable((x) => erfcxContinuedFraction(x), ERFCX_LO, ERFCX_HI);

/** Error function. */
export function erf(x: number): number {
  const ax = x < 0 ? -x : x;
  if (ax >= ERF_HI) return x < 0 ? -1 : x > 0 ? 1 : x; // |1 − erf(6)| < 3e-17
  const v = ax < ERF_MID ? evalTaylor(erfTable, ax) : 1 - evalTaylor(erfcTable, ax);
  return x < 0 ? -v : v;
}

/** Scaled complementary error function e^{x²} erfc(x), accurate for large x. */
export function erfcx(x: number): number {
  if (x < ERFCX_LO) return Math.exp(x * x) * (1 - erf(x));
  if (x < ERFCX_HI) return evalTable(erfcxTable, x);
  if (x > 1e8) return 1 / (SQRT_PI * x);
  return erfcxContinuedFraction(x, Math.ceil(40 + 400 / x));
}

/** Complementary error function with full relative accuracy in the right tail. */
export function erfc(x: number): number {
  if (x < ERFCX_LO) return 1 - erf(x);
  if (x >= ERF_MID && x < ERF_HI) return evalTaylor(erfcTable, x);
  if (x > 27.3) return 0;
  return Math.exp(-x * x) * erfcx(x);
}

/** Standard normal density. */
export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Standard normal CDF Φ(x), accurate in both tails. */
export function normCdf(x: number): number {
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
  if (p < 0.5) x = -x;
  for (let it = 0; it < 4; it++) {
    // Residual in the tail that keeps relative accuracy.
    const e = x < 0 ? normCdf(x) - p : (1 - p) - normCdf(-x);
    const u = e / normPdf(x); // Φ(x) − p, divided by Φ'(x)
    const dx = u / (1 + (x * u) / 2);
    x -= dx;
    if (Math.abs(dx) < 1e-15 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}
