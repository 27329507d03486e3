/**
 * Receptive-field position and size on the periodic lattice.
 *
 * The weight intensity p_i = w_i² / Σ_j w_j² is treated as a distribution on the ring of L sites
 * (angle θ_i = 2π i/L).  Its circular mean gives the RF centre and its circular spread the width:
 *
 *   z = Σ_i p_i e^{iθ_i},  R = |z| ∈ [0, 1],
 *   centre = (L/2π) arg z   (mod L, in lattice units, ∈ [0, L)),
 *   width  = (L/2π) √(−2 ln R)   (circular standard deviation in lattice units; 0 for a single
 *            site, ≈ the standard deviation of p for a bump narrow compared with L, ∞ when R = 0).
 *
 * In 2D (D = L×L row-major, index a·L + b) the same is done per axis on the marginal intensities
 * (axis 0 = row index a: p_a = Σ_b p_ab; axis 1 = column index b).
 */
import type { Geometry } from "../data/kernels.js";

export interface RfStats1D {
  /** Circular mean position ∈ [0, L) (NaN if R = 0 or w = 0). */
  centre: number;
  /** Circular standard deviation (L/2π)√(−2 ln R), in lattice units. */
  width: number;
  /** Mean resultant length R ∈ [0, 1]. */
  resultant: number;
}

/** Circular statistics of a non-negative intensity p on a ring of `L` sites (p read with stride). */
export function circularStats(p: ArrayLike<number>, L: number, off = 0, stride = 1): RfStats1D {
  let tot = 0, c = 0, s = 0;
  for (let i = 0; i < L; i++) {
    const v = p[off + i * stride];
    const th = (2 * Math.PI * i) / L;
    tot += v;
    c += v * Math.cos(th);
    s += v * Math.sin(th);
  }
  if (!(tot > 0)) return { centre: NaN, width: NaN, resultant: NaN };
  c /= tot;
  s /= tot;
  const R = Math.min(1, Math.hypot(c, s));
  // Round-off: treat |z| below 1e-12 as zero (centre undefined).
  if (R < 1e-12) return { centre: NaN, width: Infinity, resultant: 0 };
  let centre = (L * Math.atan2(s, c)) / (2 * Math.PI);
  if (centre < 0) centre += L;
  if (centre >= L) centre -= L;
  const width = R >= 1 ? 0 : (L / (2 * Math.PI)) * Math.sqrt(-2 * Math.log(R));
  return { centre, width, resultant: R };
}

/** RF centre/width of a 1D weight vector on a ring of L = w.length sites. */
export function receptiveField1D(w: ArrayLike<number>, off = 0, L = w.length - off): RfStats1D {
  const p = new Float64Array(L);
  for (let i = 0; i < L; i++) p[i] = w[off + i] * w[off + i];
  return circularStats(p, L);
}

/** Per-axis RF statistics of a 2D weight vector (L×L row-major). Returns [axis 0 (rows), axis 1 (columns)]. */
export function receptiveField2D(w: ArrayLike<number>, L: number, off = 0): [RfStats1D, RfStats1D] {
  const pa = new Float64Array(L), pb = new Float64Array(L);
  for (let a = 0; a < L; a++) {
    for (let b = 0; b < L; b++) {
      const v = w[off + a * L + b] ** 2;
      pa[a] += v;
      pb[b] += v;
    }
  }
  return [circularStats(pa, L), circularStats(pb, L)];
}

/** RF statistics for every row of a K×D weight matrix; 2D geometries give one entry per axis. */
export function receptiveFields(W: ArrayLike<number>, K: number, geom: Geometry): { centre: number[]; width: number[]; resultant: number[] }[] {
  const D = geom.dim === 1 ? geom.L : geom.L * geom.L;
  const out: { centre: number[]; width: number[]; resultant: number[] }[] = [];
  for (let k = 0; k < K; k++) {
    const st = geom.dim === 1 ? [receptiveField1D(W, k * D, D)] : receptiveField2D(W, geom.L, k * D);
    out.push({ centre: st.map((s) => s.centre), width: st.map((s) => s.width), resultant: st.map((s) => s.resultant) });
  }
  return out;
}
