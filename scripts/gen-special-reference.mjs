#!/usr/bin/env node
/**
 * Generates test/fixtures/special-reference.json: high-precision reference values of erf, erfc,
 * erfcx, the normal pdf/cdf and its inverse, for test/special.test.ts.
 *
 * Every argument is a double; it is converted to decimal EXACTLY (mantissa · 2^exponent) before the
 * function is evaluated with decimal.js at ≥ 60 significant digits (more where 1 − erf cancels), so
 * each stored value is the correctly rounded-to-25-digits value of the function at that double.
 *   erf(x)    = (2/√π) e^{−x²} Σ_n x (2x²)^n / (1·3·…·(2n+1))        (positive terms, all x)
 *   erfc(x)   = 1 − erf(x) with the working precision raised by x²/ln 10 digits (cancellation)
 *   erfcx(x)  = e^{x²} erfc(x); for x ≥ 12 the asymptotic series (1/(x√π)) Σ (−1)^n (2n−1)!!/(2x²)^n,
 *               truncated at its smallest term (< e^{−x²} ≤ 1e−62 relative)
 *   Φ(x)      = ½ erfc(−x/√2),  φ(x) = e^{−x²/2}/√(2π)
 *   Φ⁻¹(p)    by Newton's method on Φ at 60 digits.
 * Usage: node scripts/gen-special-reference.mjs   (deterministic; ~30 s)
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Decimal from "decimal.js";

const BASE = 60;
const D = Decimal.clone({ precision: BASE, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -9e15, toExpPos: 9e15, minE: -9e15, maxE: 9e15 });

/** Exact decimal value of a double. */
function exact(x) {
  if (x === 0) return new D(0);
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0), lo = buf.getUint32(4);
  const sign = hi >>> 31 ? -1 : 1;
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e;
  if (bexp === 0) e = -1074;
  else { mant |= 1n << 52n; e = bexp - 1075; }
  // mant·2^e exactly: for e < 0, mant·5^{−e} / 10^{−e} (BigInt, then a decimal exponent).
  const v = e >= 0 ? `${mant << BigInt(e)}` : `${mant * 5n ** BigInt(-e)}e${e}`;
  return new D(v).times(sign);
}

const piCache = new Map();
/** √π at `digits` digits (cached: decimal.js recomputes π on every acos call). */
function sqrtPi(P) {
  let v = piCache.get(P.precision);
  if (!v) piCache.set(P.precision, (v = P.acos(-1).sqrt()));
  return new P(v);
}

const clones = new Map();
function withPrecision(digits, f) {
  let P = clones.get(digits);
  if (!P) clones.set(digits, (P = D.clone({ precision: digits })));
  return f(P);
}

/** erf(x), x ≥ 0, by the positive series, at `digits` digits. */
function erfPos(x, P) {
  const X = new P(x);
  if (X.isZero()) return X;
  const x2 = X.times(X);
  const two_x2 = x2.times(2);
  let term = X, sum = X;
  const eps = new P(10).pow(-P.precision - 5);
  for (let n = 0; ; n++) {
    term = term.times(two_x2).div(2 * n + 3);
    sum = sum.plus(term);
    if (n > x2.toNumber() && term.lte(sum.times(eps))) break;
    if (n > 100000) throw new Error(`erf series did not converge for x = ${x}`);
  }
  return sum.times(2).div(sqrtPi(P)).times(x2.neg().exp());
}

function digitsFor(x) {
  return 50 * Math.ceil((BASE + (x * x) / Math.LN10 + 10) / 50); // multiples of 50 share the √π cache
}

function erf(x) {
  const ax = Math.abs(x);
  const v = withPrecision(BASE + 10, (P) => erfPos(exact(ax), P));
  return x < 0 ? v.neg() : v;
}

/** erfc at the exact double x. */
function erfc(x) {
  if (x <= 0) return new D(1).plus(erf(-x));
  return withPrecision(digitsFor(x), (P) => new P(1).minus(erfPos(exact(x), P)));
}

function erfcx(x) {
  if (x >= 12) {
    const X = exact(x);
    const inv2x2 = new D(1).div(X.times(X).times(2));
    let term = new D(1), sum = new D(1);
    for (let n = 1; ; n++) {
      const next = term.times(-(2 * n - 1)).times(inv2x2);
      if (next.abs().gte(term.abs())) break; // smallest term reached
      term = next;
      sum = sum.plus(term);
      if (term.abs().lt(new D(10).pow(-BASE - 5))) break;
    }
    return sum.div(X.times(sqrtPi(D)));
  }
  const X = exact(x);
  return withPrecision(digitsFor(Math.max(x, 0)) + 10, (P) => {
    const e = new P(X).times(X).exp();
    const c = x <= 0 ? new P(1).plus(erfPos(X.neg(), P)) : new P(1).minus(erfPos(X, P));
    return new D(e.times(c));
  });
}

const SQRT2 = () => new D(2).sqrt();

/** Φ at a decimal x (the argument −x/√2 is formed in high precision). */
function normCdfD(X) {
  const t = X.neg().div(SQRT2()); // erfc argument
  if (t.lte(0)) return withPrecision(BASE + 10, (P) => new P(1).plus(erfPos(t.neg(), P)).div(2));
  const tn = t.toNumber();
  return withPrecision(digitsFor(tn), (P) => new D(new P(1).minus(erfPos(new P(t), P)).div(2)));
}
const normCdf = (x) => normCdfD(exact(x));

function normPdfD(X) {
  return X.times(X).div(-2).exp().div(sqrtPi(D).times(D.sqrt(2)));
}
const normPdf = (x) => normPdfD(exact(x));

/** Φ⁻¹(p) by Newton's method on ln Φ(x) = ln p (robust in the tails), from a crude tail guess. */
function normPpf(p) {
  if (p === 0.5) return new D(0);
  const lnp = exact(p).ln();
  const q = Math.min(p, 1 - p);
  const t = Math.sqrt(-2 * Math.log(q));
  let x = new D((p < 0.5 ? -1 : 1) * (t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)));
  for (let it = 0; it < 100; it++) {
    const F = normCdfD(x);
    const step = F.ln().minus(lnp).times(F).div(normPdfD(x));
    x = x.minus(step);
    if (step.abs().lte(x.abs().times(new D(10).pow(-50)))) return x;
  }
  throw new Error(`normPpf reference did not converge for p = ${p}`);
}

// ---------------------------------------------------------------------------------------------
// Arguments

const up = (x) => { const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, x); b.setBigUint64(0, b.getBigUint64(0) + (x >= 0 ? 1n : -1n)); return b.getFloat64(0); };
const down = (x) => -up(-x);
function around(xs) {
  const s = new Set();
  for (const x of xs) { s.add(x); if (x !== 0) { s.add(up(x)); s.add(down(x)); } }
  return [...s];
}
const uniq = (xs) => [...new Set(xs)].sort((a, b) => a - b);

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);

// erf / erfc: tiny, the 1/16 Taylor cells on [0, 6), the 1/4 Chebyshev cells of erfcx on [0.5, 8),
// the branch points 0.5, 1, 6, 8, 27.3, a dense grid and random points; negatives.
const tiny = [5e-324, 1e-310, 1e-300, 1e-200, 1e-100, 1e-30, 1e-20, 1e-16, 1e-12, 1e-8, 1e-6, 1e-4, 1e-3, 0.01, 0.05];
const cells = [];
for (let k = 1; k < 16 * 8; k++) cells.push(k / 16);
const branch = [0.5, 1, 6, 8, 26, 26.5, 26.55, 27, 27.2, 27.3];
const grid = [];
for (let k = 1; k < 27 * 8; k++) grid.push(k / 8 + 1 / 37);
const rnd = [];
for (let i = 0; i < 100; i++) rnd.push(rand() * 7);
for (let i = 0; i < 50; i++) rnd.push(7 + rand() * 20);
const erfPos_ = uniq([0, ...tiny, ...around(cells), ...around(branch), ...grid, ...rnd, Math.SQRT1_2, 1 / 3, 2 / 3, 0.3, 0.7]);
const erfArgs = uniq([...erfPos_, ...erfPos_.filter((x) => x < 7).map((x) => -x)]);
const erfcArgs = uniq([...erfPos_.filter((x) => x <= 27.3), ...erfPos_.filter((x) => x > 0 && x < 7).map((x) => -x), -10, -30]);
const erfcxArgs = uniq([
  ...erfPos_.filter((x) => x <= 27.3), -0.1, -0.5, -1, -2, -3, -5, -10, -20,
  30, 50, 100, 1e3, 1e4, 1e6, 1e8, up(1e8), 1e9, 1e15, 1e20, 1e100, 1e300,
]);
const cdfArgs = uniq([
  0, ...tiny.flatMap((x) => [x, -x]),
  ...Array.from({ length: 38 * 8 }, (_, k) => -38 + k / 8 + 1 / 53),
  -38.4, -38.47, -37.5, -20, -10,
  ...Array.from({ length: 9 * 8 }, (_, k) => k / 8 + 1 / 41), 8.2, 8.29, -Math.SQRT2 * 0.5, Math.SQRT2 * 0.5, Math.SQRT2, -Math.SQRT2,
  ...around([-Math.SQRT2 * 6, -Math.SQRT2, -Math.SQRT2 * 0.5, Math.SQRT2 * 0.5]),
]);
const pdfArgs = uniq([0, 1e-10, 0.5, 1, 2, 3, 5, 10, 20, 30, 37, 38.5, -1, -7.25]);
const ppfArgs = uniq([
  5e-324, 1e-320, 2.2250738585072014e-308, 1e-300, 1e-250, 1e-200, 1e-150, 1e-100, 1e-50, 1e-30, 1e-20, 1e-16, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4,
  1e-3, 0.01, 0.02, 0.02425, 0.05, 0.1, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.45, 0.49, 0.4999999, 0.5 - 1e-10, 0.5, 0.5 + 1e-10, 0.5000001, 0.51, 0.6,
  2 / 3, 0.75, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999, 0.9999, 1 - 1e-6, 1 - 1e-8, 1 - 1e-10, 1 - 1e-12, 1 - 1e-14, 1 - 1e-15, 1 - 1e-16, down(1), down(down(1)),
  ...Array.from({ length: 60 }, () => rand()),
  ...Array.from({ length: 60 }, (_, k) => 10 ** (-5 * k - 2 - rand())),
]);

const fmt = (v) => new D(v).toSignificantDigits(25).toExponential();
const table = (f, xs) => {
  const t0 = performance.now();
  const r = xs.map((x) => [String(x), fmt(f(x))]);
  console.error(`${f.name}: ${xs.length} values, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
};

const out = {
  description: "High-precision reference values for src/stats/special.ts (see scripts/gen-special-reference.mjs). Each row is [x as a JS double literal, f(x) to 25 significant digits at that exact double].",
  generator: "scripts/gen-special-reference.mjs (decimal.js, ≥ 60 digits)",
  erf: table(erf, erfArgs),
  erfc: table(erfc, erfcArgs),
  erfcx: table(erfcx, erfcxArgs),
  normPdf: table(normPdf, pdfArgs),
  normCdf: table(normCdf, cdfArgs),
  normPpf: table(normPpf, ppfArgs),
};
const here = dirname(fileURLToPath(import.meta.url));
const file = join(here, "..", "test", "fixtures", "special-reference.json");
writeFileSync(file, JSON.stringify(out, null, 0).replace(/\],\[/g, "],\n[") + "\n");
console.log(`wrote ${file}: ${Object.entries(out).filter(([, v]) => Array.isArray(v)).map(([k, v]) => `${k} ${v.length}`).join(", ")}`);
