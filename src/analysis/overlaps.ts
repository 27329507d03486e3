/**
 * Translation-invariant similarity of receptive fields and their hierarchical clustering (IG22
 * Methods, "Invariant overlap and clustering", eq. 8; used for Figs. 1–2).
 *
 *   q̃_kl = (1/D) Σ_τ |ŵ_kτ| |ŵ_lτ|,   ŵ_k = DFT of w_k/|w_k| (unnormalised DFT, 2D DFT for 2D inputs)
 *
 * By Parseval Σ_τ |ŵ_τ|² = D for a unit vector, so q̃_kk = 1 and 0 ≤ q̃_kl ≤ 1; translates of the same
 * vector have q̃ = 1.  Distances d_kl = 1 − q̃_kl are clustered with average linkage (UPGMA).
 */
import { fft2, fftPlan } from "../stats/fft.js";
import type { Geometry } from "../data/kernels.js";

/** Fourier magnitudes |ŵ_k| of the normalised rows of W (K×D); zero rows give zero magnitudes. */
export function fourierMagnitudes(W: ArrayLike<number>, K: number, geom: Geometry): Float64Array {
  const D = geom.dim === 1 ? geom.L : geom.L * geom.L;
  if (W.length < K * D) throw new RangeError(`fourierMagnitudes: matrix has ${W.length} entries, need K·D = ${K * D}`);
  const out = new Float64Array(K * D);
  const re = new Float64Array(D), im = new Float64Array(D);
  const plan = geom.dim === 1 ? fftPlan(D) : null;
  for (let k = 0; k < K; k++) {
    let n2 = 0;
    for (let i = 0; i < D; i++) n2 += W[k * D + i] ** 2;
    if (!(n2 > 0)) continue;
    const s = 1 / Math.sqrt(n2);
    for (let i = 0; i < D; i++) { re[i] = s * W[k * D + i]; im[i] = 0; }
    if (plan) plan.forward(re, im); else fft2(re, im, geom.L, geom.L);
    for (let i = 0; i < D; i++) out[k * D + i] = Math.hypot(re[i], im[i]);
  }
  return out;
}

/** K×K matrix of translation-invariant overlaps q̃_kl (row-major). */
export function invariantOverlaps(W: ArrayLike<number>, K: number, geom: Geometry): Float64Array {
  const D = geom.dim === 1 ? geom.L : geom.L * geom.L;
  const M = fourierMagnitudes(W, K, geom);
  const Q = new Float64Array(K * K);
  for (let k = 0; k < K; k++) {
    for (let l = k; l < K; l++) {
      let s = 0;
      for (let t = 0; t < D; t++) s += M[k * D + t] * M[l * D + t];
      Q[k * K + l] = Q[l * K + k] = s / D;
    }
  }
  return Q;
}

/** Distance matrix d_kl = 1 − q̃_kl (diagonal exactly 0). */
export function invariantDistances(W: ArrayLike<number>, K: number, geom: Geometry): Float64Array {
  const Q = invariantOverlaps(W, K, geom);
  for (let k = 0; k < K * K; k++) Q[k] = 1 - Q[k];
  for (let k = 0; k < K; k++) Q[k * K + k] = 0;
  return Q;
}

export interface Merge {
  /** Cluster ids merged: leaves are 0 … n−1, the cluster formed by merge m has id n + m (scipy convention). */
  a: number;
  b: number;
  /** Average-linkage distance at which the merge happens. */
  height: number;
  /** Number of leaves in the new cluster. */
  size: number;
}

export interface Dendrogram {
  merges: Merge[];
  /** Leaves in dendrogram order (left-to-right traversal, smaller cluster id on the left). */
  order: number[];
}

/**
 * Average-linkage (UPGMA) agglomerative clustering of an n×n symmetric distance matrix.
 * Ties are broken by the smallest (a, b) pair, so the result is deterministic.  O(n³), fine for the
 * n ≲ 10³ neurons of a network.
 */
export function averageLinkage(dist: ArrayLike<number>, n: number): Dendrogram {
  if (dist.length < n * n) throw new RangeError(`averageLinkage: distance matrix needs n² = ${n * n} entries`);
  const d = Float64Array.from({ length: n * n }, (_, i) => dist[i]);
  const id = Int32Array.from({ length: n }, (_, i) => i); // cluster id held in slot i
  const size = new Int32Array(n).fill(1);
  const alive = new Uint8Array(n).fill(1);
  const merges: Merge[] = [];
  for (let m = 0; m < n - 1; m++) {
    let best = Infinity, bi = -1, bj = -1;
    for (let i = 0; i < n; i++) {
      if (!alive[i]) continue;
      for (let j = i + 1; j < n; j++) {
        if (!alive[j]) continue;
        const v = d[i * n + j];
        if (v < best || bi < 0) {
          // Strict < keeps the first (smallest-index) pair among ties.
          best = v; bi = i; bj = j;
        }
      }
    }
    const ia = id[bi], ib = id[bj];
    const ns = size[bi] + size[bj];
    merges.push({ a: Math.min(ia, ib), b: Math.max(ia, ib), height: best, size: ns });
    // New cluster lives in slot bi; UPGMA update of distances.
    for (let k = 0; k < n; k++) {
      if (!alive[k] || k === bi || k === bj) continue;
      const v = (size[bi] * d[bi * n + k] + size[bj] * d[bj * n + k]) / ns;
      d[bi * n + k] = d[k * n + bi] = v;
    }
    alive[bj] = 0;
    size[bi] = ns;
    id[bi] = n + m;
  }
  // Leaf order by depth-first traversal from the root.
  const order: number[] = [];
  if (n > 0) {
    const stack = [n === 1 ? 0 : 2 * n - 2];
    while (stack.length > 0) {
      const c = stack.pop()!;
      if (c < n) { order.push(c); continue; }
      const mg = merges[c - n];
      stack.push(mg.b, mg.a);
    }
  }
  return { merges, order };
}

/** Convenience: invariant distances of W's rows and their average-linkage dendrogram. */
export function clusterReceptiveFields(W: ArrayLike<number>, K: number, geom: Geometry): Dendrogram & { distances: Float64Array } {
  const distances = invariantDistances(W, K, geom);
  return { ...averageLinkage(distances, K), distances };
}
