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
  /** twiddles for (j mod Ns, r): cos/sin of −2π r (j mod Ns)/(Ns R), laid out [jm*R + r]. */
  twr: Float64Array;
  twi: Float64Array;
  /** DFT_R matrix roots cos/sin(−2π k/R). */
  wr: Float64Array;
  wi: Float64Array;
}

class StockhamPlan implements FftPlan {
  private stages: Stage[] = [];
  private sr: Float64Array;
  private si: Float64Array;
  private vr: Float64Array;
  private vi: Float64Array;
  private ur: Float64Array;
  private ui: Float64Array;
  constructor(readonly n: number, radices: number[]) {
    let Ns = 1;
    let maxR = 1;
    for (const R of radices) {
      const twr = new Float64Array(Ns * R), twi = new Float64Array(Ns * R);
      for (let jm = 0; jm < Ns; jm++) {
        for (let r = 0; r < R; r++) {
          const a = (-2 * Math.PI * r * jm) / (Ns * R);
          twr[jm * R + r] = Math.cos(a);
          twi[jm * R + r] = Math.sin(a);
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
    this.ur = new Float64Array(maxR); this.ui = new Float64Array(maxR);
  }

  private transform(re: Float64Array, im: Float64Array, sign: 1 | -1): void {
    const n = this.n;
    let ar = re, ai = im, br = this.sr, bi = this.si;
    const vr = this.vr, vi = this.vi, ur = this.ur, ui = this.ui;
    for (const st of this.stages) {
      const { R, Ns, twr, twi, wr, wi } = st;
      const stride = n / R;
      for (let j = 0, jm = 0; j < stride; j++, jm++) {
        if (jm === Ns) jm = 0;
        const tb = jm * R;
        for (let r = 0; r < R; r++) {
          const xr = ar[j + r * stride], xi = ai[j + r * stride];
          const cr = twr[tb + r], ci = sign * twi[tb + r];
          vr[r] = xr * cr - xi * ci;
          vi[r] = xr * ci + xi * cr;
        }
        const idx = (j - jm) * R + jm;
        if (R === 2) {
          br[idx] = vr[0] + vr[1]; bi[idx] = vi[0] + vi[1];
          br[idx + Ns] = vr[0] - vr[1]; bi[idx + Ns] = vi[0] - vi[1];
        } else if (R === 4) {
          const t0r = vr[0] + vr[2], t0i = vi[0] + vi[2];
          const t1r = vr[0] - vr[2], t1i = vi[0] - vi[2];
          const t2r = vr[1] + vr[3], t2i = vi[1] + vi[3];
          // (v1 - v3) * (∓i)
          const dr = vr[1] - vr[3], di = vi[1] - vi[3];
          const t3r = sign * di, t3i = -sign * dr;
          br[idx] = t0r + t2r; bi[idx] = t0i + t2i;
          br[idx + Ns] = t1r + t3r; bi[idx + Ns] = t1i + t3i;
          br[idx + 2 * Ns] = t0r - t2r; bi[idx + 2 * Ns] = t0i - t2i;
          br[idx + 3 * Ns] = t1r - t3r; bi[idx + 3 * Ns] = t1i - t3i;
        } else if (R === 3) {
          const t1r = vr[1] + vr[2], t1i = vi[1] + vi[2];
          const t2r = vr[0] - 0.5 * t1r, t2i = vi[0] - 0.5 * t1i;
          const dr = S60 * sign * (vr[1] - vr[2]), di = S60 * sign * (vi[1] - vi[2]);
          br[idx] = vr[0] + t1r; bi[idx] = vi[0] + t1i;
          br[idx + Ns] = t2r + di; bi[idx + Ns] = t2i - dr;
          br[idx + 2 * Ns] = t2r - di; bi[idx + 2 * Ns] = t2i + dr;
        } else if (R === 5) {
          const a1r = vr[1] + vr[4], a1i = vi[1] + vi[4], b1r = vr[1] - vr[4], b1i = vi[1] - vi[4];
          const a2r = vr[2] + vr[3], a2i = vi[2] + vi[3], b2r = vr[2] - vr[3], b2i = vi[2] - vi[3];
          const p1r = vr[0] + C51 * a1r + C52 * a2r, p1i = vi[0] + C51 * a1i + C52 * a2i;
          const p2r = vr[0] + C52 * a1r + C51 * a2r, p2i = vi[0] + C52 * a1i + C51 * a2i;
          const q1r = sign * (S51 * b1r + S52 * b2r), q1i = sign * (S51 * b1i + S52 * b2i);
          const q2r = sign * (S52 * b1r - S51 * b2r), q2i = sign * (S52 * b1i - S51 * b2i);
          br[idx] = vr[0] + a1r + a2r; bi[idx] = vi[0] + a1i + a2i;
          br[idx + Ns] = p1r + q1i; bi[idx + Ns] = p1i - q1r;
          br[idx + 4 * Ns] = p1r - q1i; bi[idx + 4 * Ns] = p1i + q1r;
          br[idx + 2 * Ns] = p2r + q2i; bi[idx + 2 * Ns] = p2i - q2r;
          br[idx + 3 * Ns] = p2r - q2i; bi[idx + 3 * Ns] = p2i + q2r;
        } else {
          // Generic small-radix DFT.
          for (let k = 0; k < R; k++) {
            let sr = 0, si = 0;
            let e = 0; // (k·r) mod R, advanced without a modulo in the inner loop
            for (let r = 0; r < R; r++, e += k) {
              if (e >= R) e -= R;
              const cr = wr[e], ci = sign * wi[e];
              sr += vr[r] * cr - vi[r] * ci;
              si += vr[r] * ci + vi[r] * cr;
            }
            ur[k] = sr; ui[k] = si;
          }
          for (let k = 0; k < R; k++) { br[idx + k * Ns] = ur[k]; bi[idx + k * Ns] = ui[k]; }
        }
      }
      const tr = ar, ti = ai;
      ar = br; ai = bi; br = tr; bi = ti;
    }
    if (ar !== re) { re.set(ar); im.set(ai); }
  }

  forward(re: Float64Array, im: Float64Array): void { this.transform(re, im, 1); }
  inverse(re: Float64Array, im: Float64Array): void {
    this.transform(re, im, -1);
    const s = 1 / this.n;
    for (let i = 0; i < this.n; i++) { re[i] *= s; im[i] *= s; }
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
