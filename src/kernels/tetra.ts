/**
 * Tetrachoric (Mehler) series sums for the η² term of the mixture ODE (src/stats/gaussian-integrals.ts
 * `ErfExpectations.computeSecond`): for one pair of Gaussian tilts, the sum over index pairs j ≤ m of
 *   T_jm = Σ_{i<N_jm} r_jm^{i+1} U_j,i U_m,i,   U_j,i = v_j ψ_i(h_j)/√(i+1),   ψ_i = φ He_i/√(i!),
 * with the correlations r_jm taken from a base covariance B after a rank-one update (the second tilt):
 *   r_jm = ((B_jm − fc_j col_m) isq_j) isq_m,   clamped to [−1, 1].
 * N_jm comes from a table of the tail bound at |r| (see tetraTerms in gaussian-integrals.ts); pairs
 * with |r| > rMax ("big") are not summed here — their number is reported and the caller adds them
 * (Genz's bvnCdf): a pair is big when !(|R_jm| ≤ rMax) (NaN included).
 *
 * This file is the TS reference (`tsTetraSum`); the WebAssembly-SIMD kernel `tetraSum` in
 * wasm/kernels.ts repeats it operation for operation (lanes hold different pairs, never partial sums),
 * so both give bit-identical totals; `TetraWorkspace.sum` picks the backend like every kernel here.
 *
 * The SIMD kernel sizes the factor tables a priori by the Cauchy–Schwarz bound |r_jm| ≤ √(|r_jj| |r_mm|)
 * (valid for a covariance) instead of scanning the pairs first; if a pair exceeds it, the kernel
 * says so and `sum` runs the reference — same results either way.
 *
 * Summation order (the reference):
 *   1. for j < n, m = j … n−1 (row-major): r_jm as above; a = |r|; a ≤ rMax: Neff = (N + 1) & ~1
 *      with N = terms[⌊a·bins⌋] (even: two Horner chains), need_j, need_m ← max(·, Neff); else
 *      Neff = −1;
 *   2. for each j: p_0 = phi_j, p_{−1} = 0, for i = 0 … need_j − 1:
 *      U_j,i = (vv_j p_i) invs[i+1],  p_{i+1} = (h_j p_i − sqi[i] p_{i−1}) invs[i+1];
 *   3. for j < n, m = j … n−1 with Neff ≥ 0: r2 = r·r, e = o = 0, for i = Neff, Neff − 2, …, 2:
 *      e = e r2 + U_j,i−2 U_m,i−2,  o = o r2 + U_j,i−1 U_m,i−1;  t = r (e + r o);
 *      total += t (j = m) or 2t.
 * Neff ≤ need, so step 3 only reads the factors step 2 computed (the SIMD kernel may compute a
 * few more: the same recurrence, never read).
 */
import { residentSubarray, simdKernels } from "./index.js";
import { wasmTetraSum } from "./wasm.js";

/** The tables of the series (from the stats layer): terms per |r| bin, √i and 1/√i. */
export interface TetraTables {
  /** N(|r|) on bins of width 1/bins, for |r| ≤ rMax. */
  terms: ArrayLike<number>;
  bins: number;
  rMax: number;
  /** Largest entry of `terms`. */
  nMax: number;
  /** √i for i = 0 … nMax + 1. */
  sqrtInt: ArrayLike<number>;
  /** 1/√i for i = 0 … nMax + 1 (entry 0 unused). */
  invSqrt: ArrayLike<number>;
}

/**
 * Work arrays for up to `cap` indices, in the SIMD kernels' memory when they are available (the
 * kernel reads them in place), else plain arrays.  The caller fills B0 or B1 (rows of stride
 * ldb = cap), col, fc, isq, h, phi and vv for indices 0 … n−1, then calls `sum(n, B)`.  Afterwards R
 * (row stride `stride(n)`) holds r_jm (j ≤ m) and `big` the number of big pairs.  The other arrays
 * are scratch (their contents differ between the backends; the results do not).
 */
export class TetraWorkspace {
  readonly cap: number;
  readonly B0: Float64Array;
  readonly B1: Float64Array;
  readonly col: Float64Array;
  readonly fc: Float64Array;
  readonly isq: Float64Array;
  readonly h: Float64Array;
  readonly phi: Float64Array;
  readonly vv: Float64Array;
  readonly R: Float64Array;
  readonly Nt: Float64Array;
  readonly need: Float64Array;
  readonly Ut: Float64Array;
  /** Diagonal series t_jj (SIMD kernel scratch). */
  readonly Td: Float64Array;
  private readonly tab: Float64Array;
  private readonly sqi: Float64Array;
  private readonly invs: Float64Array;
  private readonly misc: Float64Array;
  /** Number of big pairs (|r| > rMax) of the last `sum`. */
  big = 0;
  /** Calls the SIMD kernel handed back to the TS reference (see `sum`). */
  fallbacks = 0;
  private readonly bins: number;
  private readonly rMax: number;
  private readonly rows: number;
  private readonly resident: boolean;

  constructor(cap: number, readonly tables: TetraTables) {
    if (!(Number.isInteger(cap) && cap >= 1)) throw new RangeError(`TetraWorkspace: cap must be an integer ≥ 1 (got ${cap})`);
    this.cap = cap;
    const np = TetraWorkspace.strideFor(cap);
    this.rows = tables.nMax + 2;
    this.bins = tables.bins;
    this.rMax = tables.rMax;
    // Every part starts on a 16-byte boundary (even offsets in doubles) for the vector loads.
    const even = (x: number) => x + (x & 1);
    const sizes = [cap * cap, cap * cap, np, np, np, np, np, np, cap * np, cap * np + 4, np, this.rows * np, tables.terms.length, tables.sqrtInt.length, tables.invSqrt.length, 2, np + 2].map(even);
    const total = sizes.reduce((a, c) => a + c, 0);
    const kern = simdKernels();
    const block = kern?.allocResident(total) ?? null;
    this.resident = block !== null;
    const base = block ?? new Float64Array(total);
    let o = 0;
    const take = (k: number): Float64Array => {
      const len = sizes[k];
      const v = block !== null ? residentSubarray(block, o, o + len) : base.subarray(o, o + len);
      o += len;
      return v;
    };
    this.B0 = take(0);
    this.B1 = take(1);
    this.col = take(2);
    this.fc = take(3);
    this.isq = take(4);
    this.h = take(5);
    this.phi = take(6);
    this.vv = take(7);
    this.R = take(8);
    this.Nt = take(9);
    this.need = take(10);
    this.Ut = take(11);
    this.tab = take(12);
    this.sqi = take(13);
    this.invs = take(14);
    this.misc = take(15);
    this.Td = take(16);
    for (let i = 0; i < tables.terms.length; i++) this.tab[i] = (tables.terms[i] + 1) & ~1;
    for (let i = 0; i < tables.sqrtInt.length; i++) this.sqi[i] = tables.sqrtInt[i];
    for (let i = 0; i < tables.invSqrt.length; i++) this.invs[i] = tables.invSqrt[i];
    if (tables.sqrtInt.length < this.rows || tables.invSqrt.length < this.rows) throw new RangeError("TetraWorkspace: √i tables must have nMax + 2 entries");
  }

  /** Row stride of R, Nt and Ut for n indices (even, ≥ n + 1). */
  static strideFor(n: number): number {
    return (n + 2) & ~1;
  }

  /** Row stride used for the last `sum` with n indices. */
  stride(n: number): number {
    return TetraWorkspace.strideFor(n);
  }

  /**
   * Σ over the pairs j ≤ m < n with |r_jm| ≤ rMax of (j = m ? 1 : 2) T_jm, B = B0 or B1 (stride cap).
   * Phases 1–3 of the file comment; SIMD kernel when it is the selected backend.
   */
  sum(n: number, B: Float64Array): number {
    if (!(n >= 0 && n <= this.cap)) throw new RangeError(`TetraWorkspace.sum: n must be in [0, ${this.cap}] (got ${n})`);
    if (B !== this.B0 && B !== this.B1) throw new RangeError("TetraWorkspace.sum: B must be the workspace's B0 or B1");
    if (n === 0) { this.big = 0; return 0; }
    const np = TetraWorkspace.strideFor(n);
    const kern = this.resident ? simdKernels() : null;
    if (kern !== null) {
      const total = wasmTetraSum(kern, B, this.cap, this.col, this.fc, this.isq, this.h, this.phi, this.vv, n, np, this.R, this.Nt, this.need, this.Ut, this.tab, this.bins, this.rMax, this.sqi, this.invs, this.misc, this.Td);
      if (this.misc[1] === 0) {
        this.big = this.misc[0];
        return total;
      }
      // A pair exceeded the kernel's a-priori number of factors (a state outside the covariance
      // cone): the reference computes the same numbers with exact per-index needs.
      this.fallbacks++;
    }
    return this.tsSum(n, np, B);
  }

  /** The TS reference (also used when the SIMD kernels are not the selected backend). */
  private tsSum(n: number, np: number, B: Float64Array): number {
    this.big = tsTetraSum(B, this.cap, this.col, this.fc, this.isq, this.h, this.phi, this.vv, n, np, this.R, this.Nt, this.need, this.Ut, this.tab, this.bins, this.rMax, this.sqi, this.invs, this.misc);
    return this.misc[1];
  }
}

/**
 * The reference of phases 1–3 (see the file comment); returns the number of big pairs and stores the
 * total in out[1] (out[0] = the number of big pairs, as the SIMD kernel does).
 */
export function tsTetraSum(
  B: Float64Array, ldb: number, col: Float64Array, fc: Float64Array, isq: Float64Array, h: Float64Array,
  phi: Float64Array, vv: Float64Array, n: number, np: number, R: Float64Array, Nt: Float64Array,
  need: Float64Array, Ut: Float64Array, tab: Float64Array, bins: number, rMax: number,
  sqi: Float64Array, invs: Float64Array, out: Float64Array,
): number {
  // tab holds Neff = (N + 1) & ~1 per bin (the workspace converts the terms table once).
  need.fill(0, 0, np);
  let big = 0;
  for (let j = 0; j < n; j++) {
    const bj = j * ldb, fj = fc[j], ij = isq[j], rj = j * np;
    for (let m = j; m < n; m++) {
      let r = (B[bj + m] - fj * col[m]) * ij * isq[m];
      r = r > 1 ? 1 : r < -1 ? -1 : r;
      const a = r < 0 ? -r : r;
      R[rj + m] = r;
      if (a <= rMax) {
        const N = tab[(a * bins) | 0];
        if (N > need[j]) need[j] = N;
        if (N > need[m]) need[m] = N;
        Nt[rj + m] = N;
      } else {
        Nt[rj + m] = -1;
        big++;
      }
    }
    for (let m = n; m < np; m++) { R[rj + m] = 0; Nt[rj + m] = 0; }
  }
  for (let j = 0; j < n; j++) {
    const x = h[j], c = vv[j], top = need[j];
    let p0 = 0, p1 = phi[j];
    for (let i = 0; i < top; i++) {
      const iv = invs[i + 1];
      Ut[i * np + j] = c * p1 * iv;
      const p2 = (x * p1 - sqi[i] * p0) * iv;
      p0 = p1;
      p1 = p2;
    }
  }
  let total = 0;
  for (let j = 0; j < n; j++) {
    const rj = j * np;
    for (let m = j; m < n; m++) {
      const N = Nt[rj + m];
      if (N < 0) continue;
      const r = R[rj + m], r2 = r * r;
      let e = 0, o = 0;
      for (let i = N; i > 0; i -= 2) {
        const pe = (i - 2) * np, po = pe + np;
        e = e * r2 + Ut[pe + j] * Ut[pe + m];
        o = o * r2 + Ut[po + j] * Ut[po + m];
      }
      const t = r * (e + r * o);
      total += j === m ? t : 2 * t;
    }
  }
  out[0] = big;
  out[1] = total;
  return big;
}
