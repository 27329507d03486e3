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
  private sqrtLambda: Float64Array;
  private re: Float64Array;
  private im: Float64Array;
  private plan: FftPlan;
  private tr: Float64Array;
  private ti: Float64Array;
  /** Rng whose draws produced the cached second sample (null: none cached). */
  private spareOwner: Rng | null = null;
  private scale: number;

  /** `row` is the first row of C (covariance of site 0 with all sites). */
  constructor(readonly geom: Geometry, row: Float64Array) {
    this.D = geometrySize(geom);
    if (row.length !== this.D) throw new RangeError(`covariance row has length ${row.length}, expected D = ${this.D}`);
    this.spectrum = clipSpectrum(spectrumOfRow(geom, row));
    this.sqrtLambda = this.spectrum.map(Math.sqrt);
    this.re = new Float64Array(this.D);
    this.im = new Float64Array(this.D);
    this.plan = fftPlan(geom.L);
    this.tr = new Float64Array(geom.L);
    this.ti = new Float64Array(geom.L);
    this.scale = 1 / Math.sqrt(this.D);
  }

  /** Draw one sample into `out`. Consumes randomness for two samples every other call. */
  sample(out: Float64Array, rng: Rng): Float64Array {
    const D = this.D, re = this.re, im = this.im;
    if (this.spareOwner === rng) {
      this.spareOwner = null;
      for (let i = 0; i < D; i++) out[i] = im[i];
      return out;
    }
    const sl = this.sqrtLambda;
    for (let k = 0; k < D; k++) {
      re[k] = sl[k] * rng.normal();
      im[k] = sl[k] * rng.normal();
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
    const s = this.scale;
    for (let i = 0; i < D; i++) { re[i] *= s; im[i] *= s; out[i] = re[i]; }
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
