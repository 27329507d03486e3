/**
 * Translation-invariant covariances on a 1D ring of L sites or a 2D L×L torus (D = L², row-major).
 *
 * Σ_ij = exp(−(d_ij/ξ)²) with the periodic distance d_ij = min(|i−j|, L−|i−j|) (ξ = 0 ⇒ Σ = I);
 * the 2D kernel is Σ⊗Σ.  These matrices are circulant (block-circulant in 2D), so they are fully
 * described by their first row and diagonalised by the DFT: eigenvalues = DFT of the first row.
 */
import { fft2, fftPlan } from "../stats/fft.js";

export type Geometry = { dim: 1; L: number } | { dim: 2; L: number };

export function geometrySize(g: Geometry): number {
  return g.dim === 1 ? g.L : g.L * g.L;
}

/** Periodic distance on a ring of L sites. */
export function ringDistance(i: number, j: number, L: number): number {
  const d = Math.abs(i - j) % L;
  return Math.min(d, L - d);
}

/** First row of the 1D squared-exponential kernel exp(−(d/ξ)²) on a ring (ξ = 0 ⇒ δ). */
export function seKernelRow(L: number, xi: number): Float64Array {
  if (!(xi >= 0)) throw new RangeError(`kernel length scale xi must be ≥ 0 (got ${xi})`);
  const row = new Float64Array(L);
  for (let j = 0; j < L; j++) {
    const d = ringDistance(0, j, L);
    row[j] = xi === 0 ? (d === 0 ? 1 : 0) : Math.exp(-(d / xi) * (d / xi));
  }
  return row;
}

/**
 * Real eigenvalues of the symmetric circulant matrix with first row `row` (the DFT of the row).
 * Negative round-off (|λ| ≤ 1e-12·max λ) is clipped to 0; genuinely negative eigenvalues are kept
 * (callers that need a PSD spectrum use `clipSpectrum`).
 */
export function circulantSpectrum(row: ArrayLike<number>): Float64Array {
  const L = row.length;
  const re = Float64Array.from(row), im = new Float64Array(L);
  fftPlan(L).forward(re, im);
  let mx = 0;
  for (let k = 0; k < L; k++) mx = Math.max(mx, Math.abs(re[k]));
  for (let k = 0; k < L; k++) if (Math.abs(re[k]) <= 1e-12 * mx) re[k] = 0;
  return re;
}

/** Spectrum with negative eigenvalues clipped to zero (for sampling). */
export function clipSpectrum(lambda: Float64Array): Float64Array {
  return lambda.map((v) => (v > 0 ? v : 0));
}

/** 2D spectrum of Σ⊗Σ laid out row-major: λ_{ab} = λ_a λ_b. */
export function kronSpectrum(lambda1: Float64Array): Float64Array {
  const L = lambda1.length;
  const out = new Float64Array(L * L);
  for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) out[a * L + b] = lambda1[a] * lambda1[b];
  return out;
}

/**
 * First row (2D: first row of the D×D matrix, i.e. covariance of site 0 with every site) of a
 * translation-invariant covariance obtained by applying `f` elementwise to the base kernel.
 */
export function kernelRow(geom: Geometry, xi: number, f: (s: number) => number = (s) => s): Float64Array {
  const r1 = seKernelRow(geom.L, xi);
  if (geom.dim === 1) return r1.map(f);
  const L = geom.L;
  const out = new Float64Array(L * L);
  for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) out[a * L + b] = f(r1[a] * r1[b]);
  return out;
}

/** Spectrum of a translation-invariant covariance given its first row (1D or 2D). */
export function spectrumOfRow(geom: Geometry, row: Float64Array): Float64Array {
  if (geom.dim === 1) return circulantSpectrum(row);
  const L = geom.L;
  const re = Float64Array.from(row), im = new Float64Array(L * L);
  fft2(re, im, L, L);
  let mx = 0;
  for (let k = 0; k < L * L; k++) mx = Math.max(mx, Math.abs(re[k]));
  for (let k = 0; k < L * L; k++) if (Math.abs(re[k]) <= 1e-12 * mx) re[k] = 0;
  return re;
}

/** Dense D×D covariance from a translation-invariant first row (small D only: tests, brute force). */
export function denseFromRow(geom: Geometry, row: Float64Array): Float64Array {
  const D = geometrySize(geom);
  const C = new Float64Array(D * D);
  if (geom.dim === 1) {
    const L = geom.L;
    for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) C[i * L + j] = row[(j - i + L) % L];
  } else {
    const L = geom.L;
    for (let i = 0; i < D; i++) {
      const ia = Math.floor(i / L), ib = i % L;
      for (let j = 0; j < D; j++) {
        const ja = Math.floor(j / L), jb = j % L;
        C[i * D + j] = row[((ja - ia + L) % L) * L + ((jb - ib + L) % L)];
      }
    }
  }
  return C;
}

/** y = C x for a translation-invariant C given by its spectrum, in O(D log D). */
export function circulantApply(geom: Geometry, lambda: Float64Array, x: ArrayLike<number>, out: Float64Array): Float64Array {
  const D = geometrySize(geom);
  const re = Float64Array.from(x as ArrayLike<number>), im = new Float64Array(D);
  if (geom.dim === 1) {
    const p = fftPlan(D);
    p.forward(re, im);
    for (let k = 0; k < D; k++) { re[k] *= lambda[k]; im[k] *= lambda[k]; }
    p.inverse(re, im);
  } else {
    fft2(re, im, geom.L, geom.L);
    for (let k = 0; k < D; k++) { re[k] *= lambda[k]; im[k] *= lambda[k]; }
    fft2(re, im, geom.L, geom.L, true);
  }
  out.set(re);
  return out;
}
