/**
 * Complex FFT of any length, on split real/imaginary Float64Arrays.
 *
 * - Power-of-two lengths use fft.js (radix-4, well tested).
 * - Lengths whose prime factors are all ≤ 13 use a mixed-radix Stockham autosort FFT with
 *   precomputed per-stage twiddles (hand-written because fft.js supports powers of two only;
 *   D = 100, 400, 900 … are the common sizes here).
 * - Any other length uses Bluestein's chirp-z algorithm on top of a power-of-two fft.js plan.
 *
 * Conventions: forward X_k = Σ_j x_j e^{-2πi jk/n}; inverse includes the 1/n factor.
 * Plans are cached per length (`fftPlan(n)`); a plan owns scratch buffers, so it is not re-entrant
 * across concurrent callers (JS is single-threaded per worker, so this is safe).
 */
import FFTJS from "fft.js";

export interface FftPlan {
  readonly n: number;
  /** In-place forward transform of (re, im). */
  forward(re: Float64Array, im: Float64Array): void;
  /** In-place inverse transform of (re, im), including the 1/n normalisation. */
  inverse(re: Float64Array, im: Float64Array): void;
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function factorize(n: number): number[] {
  const f: number[] = [];
  let m = n;
  while (m % 4 === 0) { f.push(4); m /= 4; }
  for (const p of [2, 3, 5, 7, 11, 13]) {
    while (m % p === 0) { f.push(p); m /= p; }
  }
  if (m !== 1) return [];
  return f;
}

class Pow2Plan implements FftPlan {
  private f: FFTJS;
  private buf: number[];
  private out: number[];
  constructor(readonly n: number) {
    // fft.js needs n ≥ 2; length 1 is the identity.
    this.f = new FFTJS(Math.max(2, n));
    this.buf = this.f.createComplexArray() as number[];
    this.out = this.f.createComplexArray() as number[];
  }
  private run(re: Float64Array, im: Float64Array, inv: boolean): void {
    const n = this.n;
    if (n === 1) return;
    const b = this.buf, o = this.out;
    for (let i = 0; i < n; i++) { b[2 * i] = re[i]; b[2 * i + 1] = im[i]; }
    if (inv) this.f.inverseTransform(o, b); else this.f.transform(o, b);
    for (let i = 0; i < n; i++) { re[i] = o[2 * i]; im[i] = o[2 * i + 1]; }
  }
  forward(re: Float64Array, im: Float64Array): void { this.run(re, im, false); }
  inverse(re: Float64Array, im: Float64Array): void { this.run(re, im, true); }
}

const S60 = Math.sqrt(3) / 2;
const C51 = Math.cos((2 * Math.PI) / 5), C52 = Math.cos((4 * Math.PI) / 5);
const S51 = Math.sin((2 * Math.PI) / 5), S52 = Math.sin((4 * Math.PI) / 5);

interface Stage {
  R: number;
  Ns: number;
  /** Forward twiddles w^{r·jm}, w = e^{−2πi/(Ns R)}, for jm < Ns and r = 1 … R−1, laid out [jm(R−1) + r−1]. */
  twr: Float64Array;
  twi: Float64Array;
  /** DFT_R matrix roots cos/sin(−2π k/R) (generic radices only). */
  wr: Float64Array;
  wi: Float64Array;
}

/*
 * Stockham autosort stages, forward direction only (the inverse conjugates input and output).
 * Stage (R, Ns) with stride = n/R reads a[j + r·stride] for j = q·Ns + jm, multiplies input r by
 * w^{r·jm} and writes the length-R DFT to b[q·Ns·R + jm + k·Ns].  One function per radix with the
 * butterfly written out (no scratch arrays, no per-element radix switch): for n = 400 = 4·4·5·5 this
 * is ~4× faster than a generic butterfly loop.  Ns = 1 stages skip the (unit) twiddles.
 */
function stage2(ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, n: number, Ns: number, twr: Float64Array, twi: Float64Array): void {
  const stride = n >> 1;
  for (let q = 0, j = 0; j < stride; q += 2 * Ns) {
    for (let jm = 0; jm < Ns; jm++, j++) {
      const x0r = ar[j], x0i = ai[j];
      let x1r = ar[j + stride], x1i = ai[j + stride];
      if (Ns > 1) {
        const cr = twr[jm], ci = twi[jm];
        const t = x1r * cr - x1i * ci; x1i = x1r * ci + x1i * cr; x1r = t;
      }
      const o = q + jm;
      br[o] = x0r + x1r; bi[o] = x0i + x1i;
      br[o + Ns] = x0r - x1r; bi[o + Ns] = x0i - x1i;
    }
  }
}

function stage3(ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, n: number, Ns: number, twr: Float64Array, twi: Float64Array): void {
  const stride = n / 3;
  for (let q = 0, j = 0; j < stride; q += 3 * Ns) {
    for (let jm = 0; jm < Ns; jm++, j++) {
      const x0r = ar[j], x0i = ai[j];
      let x1r = ar[j + stride], x1i = ai[j + stride], x2r = ar[j + 2 * stride], x2i = ai[j + 2 * stride];
      if (Ns > 1) {
        const t = 2 * jm;
        const c1 = twr[t], s1 = twi[t], c2 = twr[t + 1], s2 = twi[t + 1];
        let u = x1r * c1 - x1i * s1; x1i = x1r * s1 + x1i * c1; x1r = u;
        u = x2r * c2 - x2i * s2; x2i = x2r * s2 + x2i * c2; x2r = u;
      }
      const t1r = x1r + x2r, t1i = x1i + x2i;
      const t2r = x0r - 0.5 * t1r, t2i = x0i - 0.5 * t1i;
      const dr = S60 * (x1r - x2r), di = S60 * (x1i - x2i);
      const o = q + jm;
      br[o] = x0r + t1r; bi[o] = x0i + t1i;
      br[o + Ns] = t2r + di; bi[o + Ns] = t2i - dr;
      br[o + 2 * Ns] = t2r - di; bi[o + 2 * Ns] = t2i + dr;
    }
  }
}

function stage4(ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, n: number, Ns: number, twr: Float64Array, twi: Float64Array): void {
  const stride = n >> 2;
  for (let q = 0, j = 0; j < stride; q += 4 * Ns) {
    for (let jm = 0; jm < Ns; jm++, j++) {
      const x0r = ar[j], x0i = ai[j];
      let x1r = ar[j + stride], x1i = ai[j + stride];
      let x2r = ar[j + 2 * stride], x2i = ai[j + 2 * stride];
      let x3r = ar[j + 3 * stride], x3i = ai[j + 3 * stride];
      if (Ns > 1) {
        const t = 3 * jm;
        const c1 = twr[t], s1 = twi[t], c2 = twr[t + 1], s2 = twi[t + 1], c3 = twr[t + 2], s3 = twi[t + 2];
        let u = x1r * c1 - x1i * s1; x1i = x1r * s1 + x1i * c1; x1r = u;
        u = x2r * c2 - x2i * s2; x2i = x2r * s2 + x2i * c2; x2r = u;
        u = x3r * c3 - x3i * s3; x3i = x3r * s3 + x3i * c3; x3r = u;
      }
      const t0r = x0r + x2r, t0i = x0i + x2i;
      const t1r = x0r - x2r, t1i = x0i - x2i;
      const t2r = x1r + x3r, t2i = x1i + x3i;
      // (x1 − x3)·(−i)
      const t3r = x1i - x3i, t3i = x3r - x1r;
      const o = q + jm;
      br[o] = t0r + t2r; bi[o] = t0i + t2i;
      br[o + Ns] = t1r + t3r; bi[o + Ns] = t1i + t3i;
      br[o + 2 * Ns] = t0r - t2r; bi[o + 2 * Ns] = t0i - t2i;
      br[o + 3 * Ns] = t1r - t3r; bi[o + 3 * Ns] = t1i - t3i;
    }
  }
}

function stage5(ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, n: number, Ns: number, twr: Float64Array, twi: Float64Array): void {
  const stride = n / 5;
  for (let q = 0, j = 0; j < stride; q += 5 * Ns) {
    for (let jm = 0; jm < Ns; jm++, j++) {
      const x0r = ar[j], x0i = ai[j];
      let x1r = ar[j + stride], x1i = ai[j + stride];
      let x2r = ar[j + 2 * stride], x2i = ai[j + 2 * stride];
      let x3r = ar[j + 3 * stride], x3i = ai[j + 3 * stride];
      let x4r = ar[j + 4 * stride], x4i = ai[j + 4 * stride];
      if (Ns > 1) {
        const t = 4 * jm;
        const c1 = twr[t], s1 = twi[t], c2 = twr[t + 1], s2 = twi[t + 1];
        const c3 = twr[t + 2], s3 = twi[t + 2], c4 = twr[t + 3], s4 = twi[t + 3];
        let u = x1r * c1 - x1i * s1; x1i = x1r * s1 + x1i * c1; x1r = u;
        u = x2r * c2 - x2i * s2; x2i = x2r * s2 + x2i * c2; x2r = u;
        u = x3r * c3 - x3i * s3; x3i = x3r * s3 + x3i * c3; x3r = u;
        u = x4r * c4 - x4i * s4; x4i = x4r * s4 + x4i * c4; x4r = u;
      }
      const a1r = x1r + x4r, a1i = x1i + x4i, b1r = x1r - x4r, b1i = x1i - x4i;
      const a2r = x2r + x3r, a2i = x2i + x3i, b2r = x2r - x3r, b2i = x2i - x3i;
      const p1r = x0r + C51 * a1r + C52 * a2r, p1i = x0i + C51 * a1i + C52 * a2i;
      const p2r = x0r + C52 * a1r + C51 * a2r, p2i = x0i + C52 * a1i + C51 * a2i;
      const q1r = S51 * b1r + S52 * b2r, q1i = S51 * b1i + S52 * b2i;
      const q2r = S52 * b1r - S51 * b2r, q2i = S52 * b1i - S51 * b2i;
      const o = q + jm;
      br[o] = x0r + a1r + a2r; bi[o] = x0i + a1i + a2i;
      br[o + Ns] = p1r + q1i; bi[o + Ns] = p1i - q1r;
      br[o + 4 * Ns] = p1r - q1i; bi[o + 4 * Ns] = p1i + q1r;
      br[o + 2 * Ns] = p2r + q2i; bi[o + 2 * Ns] = p2i - q2r;
      br[o + 3 * Ns] = p2r - q2i; bi[o + 3 * Ns] = p2i + q2r;
    }
  }
}

/** Any radix R (7, 11, 13): twiddles, then the R-point DFT by its matrix; v*, u* are scratch of length R. */
function stageGeneric(
  ar: Float64Array, ai: Float64Array, br: Float64Array, bi: Float64Array, n: number, st: Stage,
  vr: Float64Array, vi: Float64Array,
): void {
  const { R, Ns, twr, twi, wr, wi } = st;
  const stride = n / R;
  for (let q = 0, j = 0; j < stride; q += R * Ns) {
    for (let jm = 0; jm < Ns; jm++, j++) {
      vr[0] = ar[j]; vi[0] = ai[j];
      for (let r = 1; r < R; r++) {
        const xr = ar[j + r * stride], xi = ai[j + r * stride];
        const t = jm * (R - 1) + r - 1;
        const cr = twr[t], ci = twi[t];
        vr[r] = xr * cr - xi * ci;
        vi[r] = xr * ci + xi * cr;
      }
      const o = q + jm;
      for (let k = 0; k < R; k++) {
        let sr = 0, si = 0;
        let e = 0; // (k·r) mod R, advanced without a modulo in the inner loop
        for (let r = 0; r < R; r++, e += k) {
          if (e >= R) e -= R;
          const cr = wr[e], ci = wi[e];
          sr += vr[r] * cr - vi[r] * ci;
          si += vr[r] * ci + vi[r] * cr;
        }
        br[o + k * Ns] = sr; bi[o + k * Ns] = si;
      }
    }
  }
}

class StockhamPlan implements FftPlan {
  private stages: Stage[] = [];
  private sr: Float64Array;
  private si: Float64Array;
  private vr: Float64Array;
  private vi: Float64Array;
  constructor(readonly n: number, radices: number[]) {
    let Ns = 1;
    let maxR = 1;
    for (const R of radices) {
      const twr = new Float64Array(Ns * (R - 1)), twi = new Float64Array(Ns * (R - 1));
      for (let jm = 0; jm < Ns; jm++) {
        for (let r = 1; r < R; r++) {
          const a = (-2 * Math.PI * r * jm) / (Ns * R);
          twr[jm * (R - 1) + r - 1] = Math.cos(a);
          twi[jm * (R - 1) + r - 1] = Math.sin(a);
        }
      }
      const wr = new Float64Array(R), wi = new Float64Array(R);
      for (let k = 0; k < R; k++) { wr[k] = Math.cos((-2 * Math.PI * k) / R); wi[k] = Math.sin((-2 * Math.PI * k) / R); }
      this.stages.push({ R, Ns, twr, twi, wr, wi });
      Ns *= R;
      maxR = Math.max(maxR, R);
    }
    this.sr = new Float64Array(n); this.si = new Float64Array(n);
    this.vr = new Float64Array(maxR); this.vi = new Float64Array(maxR);
  }

  forward(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    let ar = re, ai = im, br = this.sr, bi = this.si;
    for (const st of this.stages) {
      const { R, Ns, twr, twi } = st;
      if (R === 4) stage4(ar, ai, br, bi, n, Ns, twr, twi);
      else if (R === 5) stage5(ar, ai, br, bi, n, Ns, twr, twi);
      else if (R === 2) stage2(ar, ai, br, bi, n, Ns, twr, twi);
      else if (R === 3) stage3(ar, ai, br, bi, n, Ns, twr, twi);
      else stageGeneric(ar, ai, br, bi, n, st, this.vr, this.vi);
      const tr = ar, ti = ai;
      ar = br; ai = bi; br = tr; bi = ti;
    }
    if (ar !== re) { re.set(ar); im.set(ai); }
  }

  /** Inverse = conj ∘ forward ∘ conj, then 1/n. */
  inverse(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    for (let i = 0; i < n; i++) im[i] = -im[i];
    this.forward(re, im);
    const s = 1 / n;
    for (let i = 0; i < n; i++) { re[i] *= s; im[i] *= -s; }
  }
}

class BluesteinPlan implements FftPlan {
  private m: number;
  private inner: Pow2Plan;
  private cr: Float64Array; // chirp cos(π k²/n)
  private ci: Float64Array; // chirp sin(π k²/n)
  private br: Float64Array; // FFT of conj-chirp filter (forward direction)
  private bi: Float64Array;
  private xr: Float64Array;
  private xi: Float64Array;
  constructor(readonly n: number) {
    let m = 1;
    while (m < 2 * n - 1) m *= 2;
    this.m = m;
    this.inner = new Pow2Plan(m);
    this.cr = new Float64Array(n); this.ci = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      // k² mod 2n keeps the angle exact for large k.
      const a = (Math.PI * ((k * k) % (2 * n))) / n;
      this.cr[k] = Math.cos(a); this.ci[k] = Math.sin(a);
    }
    this.br = new Float64Array(m); this.bi = new Float64Array(m);
    this.br[0] = this.cr[0]; this.bi[0] = this.ci[0];
    for (let k = 1; k < n; k++) {
      this.br[k] = this.br[m - k] = this.cr[k];
      this.bi[k] = this.bi[m - k] = this.ci[k];
    }
    this.inner.forward(this.br, this.bi);
    this.xr = new Float64Array(m); this.xi = new Float64Array(m);
  }
  private transform(re: Float64Array, im: Float64Array, sign: 1 | -1): void {
    // X_k = conj(c_k) Σ_j (x_j conj(c_j)) c_{k-j} with c_k = e^{iπk²/n} (forward); conj for inverse.
    const { n, m, cr, ci, br, bi, xr, xi } = this;
    xr.fill(0); xi.fill(0);
    for (let j = 0; j < n; j++) {
      const c = cr[j], s = sign * ci[j];
      // x * conj(chirp) for forward (sign=1), x * chirp for inverse.
      xr[j] = re[j] * c + im[j] * s;
      xi[j] = im[j] * c - re[j] * s;
    }
    this.inner.forward(xr, xi);
    for (let k = 0; k < m; k++) {
      const fr = br[k], fi = sign * bi[k];
      // For the inverse we need FFT of conj(chirp filter) = conj(FFT(chirp)) evaluated at −k;
      // the filter is symmetric (b_k = b_{m−k}), so its FFT is real-symmetric too and conj suffices.
      const a = xr[k] * fr - xi[k] * fi;
      xi[k] = xr[k] * fi + xi[k] * fr;
      xr[k] = a;
    }
    this.inner.inverse(xr, xi);
    for (let k = 0; k < n; k++) {
      const c = cr[k], s = sign * ci[k];
      re[k] = xr[k] * c + xi[k] * s;
      im[k] = xi[k] * c - xr[k] * s;
    }
  }
  forward(re: Float64Array, im: Float64Array): void { this.transform(re, im, 1); }
  inverse(re: Float64Array, im: Float64Array): void {
    this.transform(re, im, -1);
    const s = 1 / this.n;
    for (let i = 0; i < this.n; i++) { re[i] *= s; im[i] *= s; }
  }
}

const cache = new Map<number, FftPlan>();

/** Cached FFT plan for length n ≥ 1. */
export function fftPlan(n: number): FftPlan {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT length must be a positive integer, got ${n}`);
  let p = cache.get(n);
  if (!p) {
    if (isPow2(n)) p = new Pow2Plan(n);
    else {
      const f = factorize(n);
      p = f.length > 0 ? new StockhamPlan(n, f) : new BluesteinPlan(n);
    }
    cache.set(n, p);
  }
  return p;
}

/** Fresh (uncached) plan of a given algorithm, for tests and benchmarks. */
export function fftPlanOf(n: number, kind: "pow2" | "stockham" | "bluestein"): FftPlan {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT length must be a positive integer, got ${n}`);
  if (kind === "pow2") return new Pow2Plan(n);
  if (kind === "bluestein") return new BluesteinPlan(n);
  const f = factorize(n);
  if (f.length === 0) throw new RangeError(`length ${n} has a prime factor > 13`);
  return new StockhamPlan(n, f);
}

/** Forward DFT of a real vector; returns {re, im} of length n. */
export function rfft(x: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const re = Float64Array.from(x), im = new Float64Array(n);
  fftPlan(n).forward(re, im);
  return { re, im };
}

/** 2D DFT (inverse with 1/(L1·L2) when `inverse`) of an L1×L2 row-major complex array, in place. */
export function fft2(re: Float64Array, im: Float64Array, L1: number, L2: number, inverse = false): void {
  const rowPlan = fftPlan(L2), colPlan = fftPlan(L1);
  const tr = new Float64Array(Math.max(L1, L2)), ti = new Float64Array(Math.max(L1, L2));
  const rr = tr.subarray(0, L2), ri = ti.subarray(0, L2);
  for (let a = 0; a < L1; a++) {
    rr.set(re.subarray(a * L2, (a + 1) * L2)); ri.set(im.subarray(a * L2, (a + 1) * L2));
    if (inverse) rowPlan.inverse(rr, ri); else rowPlan.forward(rr, ri);
    re.set(rr, a * L2); im.set(ri, a * L2);
  }
  const cr = tr.subarray(0, L1), ci = ti.subarray(0, L1);
  for (let b = 0; b < L2; b++) {
    for (let a = 0; a < L1; a++) { cr[a] = re[a * L2 + b]; ci[a] = im[a * L2 + b]; }
    if (inverse) colPlan.inverse(cr, ci); else colPlan.forward(cr, ci);
    for (let a = 0; a < L1; a++) { re[a * L2 + b] = cr[a]; im[a * L2 + b] = ci[a]; }
  }
}
