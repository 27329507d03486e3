/**
 * Localisation measures of weight vectors (IG22 eq. 2).
 *
 *   IPR(w) = Σ_i w_i⁴ / (Σ_i w_i²)²  ∈ [1/D, 1]   (inverse participation ratio; 1 = one site, 1/D = flat)
 *   PR(w)  = 1 / IPR(w)               ∈ [1, D]     (participation ratio: effective number of sites)
 *
 * The zero vector has no defined IPR: both functions return NaN for it.
 */

/** Inverse participation ratio of `w` (entries `off … off+n−1`). */
export function ipr(w: ArrayLike<number>, off = 0, n = w.length - off): number {
  let s2 = 0, s4 = 0;
  for (let i = off; i < off + n; i++) {
    const q = w[i] * w[i];
    s2 += q;
    s4 += q * q;
  }
  return s2 > 0 ? s4 / (s2 * s2) : NaN;
}

/** Participation ratio 1/IPR (effective number of occupied sites). */
export function participationRatio(w: ArrayLike<number>, off = 0, n = w.length - off): number {
  return 1 / ipr(w, off, n);
}

/** IPR of every row of a K×D row-major matrix. */
export function iprRows(W: ArrayLike<number>, K: number, D: number, out = new Float64Array(K)): Float64Array {
  if (W.length < K * D) throw new RangeError(`iprRows: matrix has ${W.length} entries, need K·D = ${K * D}`);
  for (let k = 0; k < K; k++) out[k] = ipr(W, k * D, D);
  return out;
}

/** Participation ratio of every row of a K×D row-major matrix. */
export function participationRatioRows(W: ArrayLike<number>, K: number, D: number, out = new Float64Array(K)): Float64Array {
  iprRows(W, K, D, out);
  for (let k = 0; k < K; k++) out[k] = 1 / out[k];
  return out;
}
