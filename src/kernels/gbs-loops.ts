/**
 * The per-component loops of the GBS integrator (src/integrate/gbs.ts, the Float64Array port of
 * odex's ODEX) on its work arrays: the midpoint substep, the stability check, and the final
 * smoothing step fused with the polynomial extrapolation and the error norm; and the finiteness
 * check of accepted states.
 *
 * The functions `tsGbs*` below are the reference (and the fallback without WebAssembly); the SIMD
 * kernels `gbsAxpy`, `gbsAxpyStab` and `gbsExtrapolate` of wasm/kernels.ts repeat them operation for
 * operation: vector lanes hold different components, never partial sums of one, and the two norms
 * are summed lane by lane in component order, so both backends give bit-identical results
 * (test/gbs-loops.test.ts).  Every component's arithmetic is odex's, in odex's order (only loops are
 * fused: the norms' sums still run over i = 0, 1, … n − 1), so the integrator stays bit-identical to
 * the odex package (test/gbs-port.test.ts, on both backends).
 *
 * `GbsWork` owns the integrator's arrays: in the kernels' WebAssembly memory when the SIMD backend
 * is selected (one resident block, so the kernels read them in place and nothing is copied per
 * call), plain Float64Arrays otherwise.
 */
import { releaseResident, residentSubarray, simdKernels, type WasmKernels } from "./index.js";
import { gbsExports, wasmAllFinite, type GbsExports } from "./wasm.js";

/** out[i] = x[i] + a·d[i] for i < n (out may be x). */
export function tsGbsAxpy(n: number, a: number, x: Float64Array, d: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) out[i] = x[i] + a * d[i];
}

/**
 * `tsGbsAxpy` and odex's stability-check norms in one pass: del[0] = Σ (dz_i/scal_i)²,
 * del[1] = Σ ((d_i − dz_i)/scal_i)², each summed in component order.
 */
export function tsGbsAxpyStab(
  n: number, a: number, x: Float64Array, d: Float64Array, out: Float64Array,
  dz: Float64Array, scal: Float64Array, del: Float64Array,
): void {
  let del1 = 0, del2 = 0;
  for (let i = 0; i < n; i++) {
    const di = d[i], dzi = dz[i], si = scal[i];
    out[i] = x[i] + a * di;
    const q1 = dzi / si;
    del1 += q1 * q1;
    const q2 = (di - dzi) / si;
    del2 += q2 * q2;
  }
  del[0] = del1;
  del[1] = del2;
}

/**
 * The end of odex's extrapolation line j (1-based): the smoothing step
 *   T_j = (yh1 + yh2 + hj·dy)/2,
 * then for j ≥ 2 the extrapolation T_{l−1} ← T_l + (T_l − T_{l−1})/fac[l] for l = j … 2 and the
 * error norm: scal_i ← atol + rtol·max(|y_i|, |T_1,i|), returns Σ ((T_1,i − T_2,i)/scal_i)² (in
 * component order; 0 for j = 1).  `tab[l]` is row T_l (tab[0] unused).
 */
export function tsGbsExtrapolate(
  n: number, j: number, hj: number, yh1: Float64Array, yh2: Float64Array, dy: Float64Array,
  tab: readonly Float64Array[], fac: Float64Array, y: Float64Array, scal: Float64Array, aTol: number, rTol: number,
): number {
  const tj = tab[j];
  if (j === 1) {
    for (let i = 0; i < n; i++) tj[i] = (yh1[i] + yh2[i] + hj * dy[i]) / 2;
    return 0;
  }
  let err = 0;
  for (let i = 0; i < n; i++) {
    let cur = (yh1[i] + yh2[i] + hj * dy[i]) / 2;
    tj[i] = cur;
    let prev = cur;
    for (let l = j; l > 1; --l) {
      const tm = tab[l - 1];
      prev = cur;
      cur = cur + (cur - tm[i]) / fac[l];
      tm[i] = cur;
    }
    // cur = T_1,i, prev = T_2,i (both new)
    const t1i = Math.max(Math.abs(y[i]), Math.abs(cur));
    const s = aTol + rTol * t1i;
    scal[i] = s;
    const q = (cur - prev) / s;
    err += q * q;
  }
  return err;
}

/** Whether x[0 … n) are all finite (no NaN, no ±∞). */
export function tsAllFinite(x: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}

/**
 * Whether x[0 … x.length) are all finite: the SIMD kernel `allFinite` when x lives in the kernels'
 * memory (e.g. the state GbsWork hands to the integrator's observer), else `tsAllFinite`.
 */
export function allFinite(x: Float64Array): boolean {
  const k = simdKernels();
  return k !== null && k.isResident(x) ? wasmAllFinite(k, x, x.length) : tsAllFinite(x, x.length);
}

/** Rows of the work block: y, dz, yh1, yh2, dy, scal, the extrapolation table T_1 … T_km, scratch. */
const FIXED_ROWS = 6;

/**
 * The GBS integrator's arrays for states of n components and extrapolation tables of `km` rows,
 * with the loops above on the selected kernel backend.  `fac` (length km + 1) and `del` (2) are
 * small scratch the loops read and write.
 */
export class GbsWork {
  readonly backend: "wasm-simd" | "ts";
  readonly y: Float64Array;
  readonly dz: Float64Array;
  readonly yh1: Float64Array;
  readonly yh2: Float64Array;
  readonly dy: Float64Array;
  readonly scal: Float64Array;
  /** T_1 … T_km at tab[1 … km] (tab[0] is empty). */
  readonly tab: Float64Array[];
  readonly fac: Float64Array;
  readonly del: Float64Array;
  /** The SIMD kernels (wasm backend): called with the byte offsets of this block's rows. */
  private readonly ex: GbsExports | null;
  /** Byte distance between consecutive table rows (wasm backend). */
  private readonly strideBytes: number;
  private readonly block: Float64Array | null;
  /** The arrays the loops accept (their own rows; checked by identity, see `at`). */
  private readonly rows: Float64Array[];

  constructor(readonly n: number, readonly km: number) {
    // Rows padded to 8 doubles (64-byte aligned in the resident block); the scratch row holds km + 3.
    const ld = Math.ceil(Math.max(n, km + 3) / 8) * 8;
    const rows = FIXED_ROWS + km + 1;
    const k: WasmKernels | null = simdKernels();
    const block = k?.allocResident(rows * ld) ?? null;
    this.ex = block && k ? gbsExports(k) : null;
    this.block = block;
    this.backend = block ? "wasm-simd" : "ts";
    const row = (r: number, len = n): Float64Array =>
      block ? residentSubarray(block, r * ld, r * ld + len) : new Float64Array(len);
    this.y = row(0);
    this.dz = row(1);
    this.yh1 = row(2);
    this.yh2 = row(3);
    this.dy = row(4);
    this.scal = row(5);
    this.tab = Array.from({ length: km + 1 }, (_, i) => (i === 0 ? new Float64Array(0) : row(FIXED_ROWS + i - 1)));
    const scratch = row(FIXED_ROWS + km, km + 3);
    this.fac = scratch.subarray(0, km + 1);
    this.del = scratch.subarray(km + 1, km + 3);
    this.strideBytes = ld * 8;
    this.rows = [this.y, this.dz, this.yh1, this.yh2, this.dy, this.scal, ...this.tab.slice(1)];
  }

  /**
   * Free the resident block now (wasm backend; a no-op otherwise) instead of when the arrays are
   * garbage-collected, so that a sequence of runs reuses it.  The arrays must not be used afterwards.
   */
  release(): void {
    if (this.block) releaseResident(this.block);
  }

  /** Byte offset of one of this block's rows (wasm backend; anything else is a programming error). */
  private at(x: Float64Array): number {
    if (!this.rows.includes(x)) throw new Error("GbsWork: the loops run on the work arrays only");
    return x.byteOffset;
  }

  /** out = x + a·d (out may be x). */
  axpy(a: number, x: Float64Array, d: Float64Array, out: Float64Array): void {
    if (this.ex) this.ex.gbsAxpy(this.n, a, this.at(x), this.at(d), this.at(out));
    else tsGbsAxpy(this.n, a, x, d, out);
  }

  /** out = x + a·d and the stability norms into `del` (see tsGbsAxpyStab). */
  axpyStab(a: number, x: Float64Array, d: Float64Array, out: Float64Array): void {
    if (this.ex) this.ex.gbsAxpyStab(this.n, a, this.at(x), this.at(d), this.at(out), this.dz.byteOffset, this.scal.byteOffset, this.del.byteOffset);
    else tsGbsAxpyStab(this.n, a, x, d, out, this.dz, this.scal, this.del);
  }

  /** Smoothing step of line j, extrapolation and error sum (see tsGbsExtrapolate); fac[2 … j] must be set. */
  extrapolate(j: number, hj: number, yh1: Float64Array, yh2: Float64Array, aTol: number, rTol: number): number {
    if (!(Number.isInteger(j) && j >= 1 && j <= this.km)) throw new RangeError(`GbsWork.extrapolate: line ${j} outside 1 … ${this.km}`);
    if (this.ex) {
      return this.ex.gbsExtrapolate(this.n, j, hj, this.at(yh1), this.at(yh2), this.dy.byteOffset, this.tab[1].byteOffset, this.strideBytes,
        this.fac.byteOffset, this.y.byteOffset, this.scal.byteOffset, aTol, rTol);
    }
    return tsGbsExtrapolate(this.n, j, hj, yh1, yh2, this.dy, this.tab, this.fac, this.y, this.scal, aTol, rTol);
  }
}
