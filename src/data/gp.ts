/**
 * Gaussian process with a translation-invariant (circulant / block-circulant) covariance, sampled by
 * FFT in O(D log D): z = Re/Im of F(√λ ⊙ ζ)/√D with ζ complex standard normal, which gives two
 * independent N(0, C) samples per transform (the second is cached).
 *
 * The cached sample belongs to the Rng that paid for it: a call with another Rng draws afresh, so a
 * stream of samples depends only on its own Rng (e.g. replicate r's data set is the same whether or
 * not replicate r − 1 was drawn from this sampler before, on this thread or another).
 */
import { Rng } from "../stats/rng.js";
import { fftPlan, type FftPlan } from "../stats/fft.js";
import { clipSpectrum, geometrySize, spectrumOfRow, type Geometry } from "./kernels.js";

/** What `CirculantGaussian` carries between draws of one stream: the cached second sample, if any. */
export interface GaussianSamplerState {
  spare: Float64Array | null;
}

export class CirculantGaussian {
  readonly D: number;
  /** Eigenvalues of C (clipped at 0), row-major in 2D. */
  readonly spectrum: Float64Array;
  /** Indices k with λ_k > 0 and √λ_k / √D there (zero modes draw no normals: they contribute nothing). */
  private modes: Int32Array;
  private amp: Float64Array;
  /** 2·(number of modes) normals per transform, (re, im) interleaved per mode. */
  private zeta: Float64Array;
  private re: Float64Array;
  private im: Float64Array;
  private plan: FftPlan;
  private tr: Float64Array;
  private ti: Float64Array;
  /** Rng whose draws produced the cached second sample (null: none cached). */
  private spareOwner: Rng | null = null;

  /** `row` is the first row of C (covariance of site 0 with all sites). */
  constructor(readonly geom: Geometry, row: Float64Array) {
    this.D = geometrySize(geom);
    if (row.length !== this.D) throw new RangeError(`covariance row has length ${row.length}, expected D = ${this.D}`);
    this.spectrum = clipSpectrum(spectrumOfRow(geom, row));
    const nz: number[] = [];
    for (let k = 0; k < this.D; k++) if (this.spectrum[k] > 0) nz.push(k);
    this.modes = Int32Array.from(nz);
    // The 1/√D of z = F(√λ ⊙ ζ)/√D is folded into the amplitudes (one rounding fewer per entry).
    this.amp = Float64Array.from(nz, (k) => Math.sqrt(this.spectrum[k] / this.D));
    this.zeta = new Float64Array(2 * nz.length);
    this.re = new Float64Array(this.D);
    this.im = new Float64Array(this.D);
    this.plan = fftPlan(geom.L);
    this.tr = new Float64Array(geom.L);
    this.ti = new Float64Array(geom.L);
  }

  /** Draw one sample into `out`. Consumes randomness for two samples every other call. */
  sample(out: Float64Array, rng: Rng): Float64Array {
    const re = this.re, im = this.im;
    if (this.spareOwner === rng) {
      this.spareOwner = null;
      out.set(im);
      return out;
    }
    // Only the modes with λ_k > 0 draw normals (two per mode, real part first): circulantSpectrum
    // sets eigenvalues ≤ 1e-12·max to exactly 0, and a smooth kernel has most of them there
    // (SE kernel, L = 400: 167 of 400 modes at ξ = 8, 83 at ξ = 16).  The distribution is that of
    // F(√λ ⊙ ζ)/√D with all D modes drawn: a mode with λ_k = 0 adds exactly zero either way.
    const modes = this.modes, amp = this.amp, zeta = this.zeta, M = modes.length;
    rng.fillNormal(zeta);
    re.fill(0); im.fill(0);
    for (let m = 0; m < M; m++) {
      const k = modes[m], s = amp[m];
      re[k] = s * zeta[2 * m];
      im[k] = s * zeta[2 * m + 1];
    }
    if (this.geom.dim === 1) {
      this.plan.forward(re, im);
    } else {
      const L = this.geom.L, tr = this.tr, ti = this.ti, p = this.plan;
      for (let a = 0; a < L; a++) {
        const o = a * L;
        for (let b = 0; b < L; b++) { tr[b] = re[o + b]; ti[b] = im[o + b]; }
        p.forward(tr, ti);
        for (let b = 0; b < L; b++) { re[o + b] = tr[b]; im[o + b] = ti[b]; }
      }
      for (let b = 0; b < L; b++) {
        for (let a = 0; a < L; a++) { tr[a] = re[a * L + b]; ti[a] = im[a * L + b]; }
        p.forward(tr, ti);
        for (let a = 0; a < L; a++) { re[a * L + b] = tr[a]; im[a * L + b] = ti[a]; }
      }
    }
    out.set(re);
    this.spareOwner = rng;
    return out;
  }

  /**
   * The sampler's state as seen by the stream of `rng` (for checkpoints): the cached second sample
   * if `rng` paid for it, else null (a sample cached for another Rng is never served to `rng`).
   */
  saveState(rng: Rng): GaussianSamplerState {
    return { spare: this.spareOwner === rng ? this.im.slice() : null };
  }

  /** Restore a state from `saveState`, the cached sample (if any) again belonging to `rng`. */
  restoreState(s: GaussianSamplerState, rng: Rng): void {
    if (s.spare) {
      if (s.spare.length !== this.D) throw new RangeError(`sampler state has length ${s.spare.length}, expected D = ${this.D}`);
      this.im.set(s.spare);
      this.spareOwner = rng;
    } else this.spareOwner = null;
  }

  /** Forget a cached second sample (e.g. after reseeding, so streams restart cleanly). */
  reset(): void {
    this.spareOwner = null;
  }
}
