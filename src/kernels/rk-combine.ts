/**
 * Stage combinations of explicit Runge–Kutta methods (DOP853, src/integrate/dop853.ts) on a block
 * of work arrays: out = base + h·Σ_j c_j k_j.
 *
 * `tsRkCombine` is the reference (and the fallback without WebAssembly); the SIMD kernel
 * `rkCombine` of wasm/kernels.ts repeats it operation for operation (vector lanes hold different
 * components), so both backends give bit-identical results (test/dop853.test.ts).
 *
 * `RkWork` owns the integrator's arrays: in the kernels' WebAssembly memory when the SIMD backend is
 * selected (one resident block, read in place by the kernel), plain Float64Arrays otherwise.  On the
 * ~40,000-component guarded Saad–Solla state at K = 32 a DOP853 step makes ~75 passes of this kind;
 * in TS (~1–2 ns per component and term in V8) that was ~6 ms per step, in SIMD ~0.5 ms.
 */
import { releaseResident, residentSubarray, simdKernels, type WasmKernels } from "./index.js";

/** Components per block of the TS loop (16 KB of partial sums stay in the L1 cache). */
const CHUNK = 2048;

/**
 * out[i] = base[i] + h·s_i (base null: out[i] = h·s_i), s_i = c_0 k_0[i] + c_1 k_1[i] + … summed left to
 * right, for i < n.  `sum` is scratch of length ≥ n; out may be base but no k_j.
 */
export function tsRkCombine(
  n: number, ks: readonly Float64Array[], cs: ArrayLike<number>, base: Float64Array | null, h: number, out: Float64Array, sum: Float64Array,
): void {
  const m = ks.length;
  const k0 = ks[0], c0 = cs[0];
  for (let i0 = 0; i0 < n; i0 += CHUNK) {
    const i1 = Math.min(n, i0 + CHUNK);
    for (let i = i0; i < i1; i++) sum[i] = c0 * k0[i];
    for (let j = 1; j < m; j++) {
      const kj = ks[j], cj = cs[j];
      for (let i = i0; i < i1; i++) sum[i] += cj * kj[i];
    }
    if (base === null) for (let i = i0; i < i1; i++) out[i] = h * sum[i];
    else for (let i = i0; i < i1; i++) out[i] = base[i] + h * sum[i];
  }
}

interface RkExports {
  rkCombine(n: number, m: number, offs: number, coefs: number, base: number, h: number, out: number): void;
}

/** Most terms one combination may have. */
export const RK_MAX_TERMS = 16;

/**
 * `rows` work arrays of n components (row r: `row(r)`), and combinations of them on the selected
 * kernel backend.  Only this block's rows may be passed to `combine`.
 */
export class RkWork {
  readonly backend: "wasm-simd" | "ts";
  private readonly rowsArr: Float64Array[];
  private readonly block: Float64Array | null;
  private readonly ex: RkExports | null;
  /** Resident scratch: term byte offsets (i32) and coefficients (f64) of one call. */
  private readonly offs: Int32Array | null;
  private readonly coefs: Float64Array | null;
  /** TS scratch sums. */
  private readonly sum: Float64Array | null;

  constructor(readonly n: number, rows: number) {
    const ld = Math.ceil(Math.max(n, 1) / 8) * 8;
    const k: WasmKernels | null = simdKernels();
    const block = k?.allocResident(rows * ld + 2 * RK_MAX_TERMS) ?? null;
    this.block = block;
    this.backend = block ? "wasm-simd" : "ts";
    this.ex = block && k ? (k.ex as unknown as RkExports) : null;
    this.rowsArr = Array.from({ length: rows }, (_, r) => (block ? residentSubarray(block, r * ld, r * ld + n) : new Float64Array(n)));
    if (block) {
      const scratch = residentSubarray(block, rows * ld, rows * ld + 2 * RK_MAX_TERMS);
      this.coefs = scratch.subarray(0, RK_MAX_TERMS);
      this.offs = new Int32Array(scratch.buffer, scratch.byteOffset + 8 * RK_MAX_TERMS, RK_MAX_TERMS);
      this.sum = null;
    } else {
      this.coefs = null;
      this.offs = null;
      this.sum = new Float64Array(n);
    }
  }

  /** Row r (a view into the resident block on the SIMD backend). */
  row(r: number): Float64Array {
    return this.rowsArr[r];
  }

  /** out = base + h·Σ_j cs[j]·ks[j] (base null: h·Σ …), see tsRkCombine; every array one of this block's rows. */
  combine(base: Float64Array | null, h: number, ks: readonly Float64Array[], cs: ArrayLike<number>, out: Float64Array): void {
    const m = ks.length;
    if (!(m >= 1 && m <= RK_MAX_TERMS && cs.length === m)) throw new RangeError(`RkWork.combine: 1 … ${RK_MAX_TERMS} terms with one coefficient each (got ${m}, ${cs.length})`);
    if (this.ex && this.offs && this.coefs) {
      for (let j = 0; j < m; j++) {
        this.offs[j] = this.at(ks[j]);
        this.coefs[j] = cs[j];
      }
      this.ex.rkCombine(this.n, m, this.offs.byteOffset, this.coefs.byteOffset, base === null ? 0 : this.at(base), h, this.at(out));
    } else {
      tsRkCombine(this.n, ks, cs, base, h, out, this.sum as Float64Array);
    }
  }

  /** Free the resident block now (SIMD backend; a no-op otherwise).  The rows must not be used afterwards. */
  release(): void {
    if (this.block) releaseResident(this.block);
  }

  private at(x: Float64Array): number {
    if (!this.rowsArr.includes(x)) throw new Error("RkWork: combinations run on the work rows only");
    return x.byteOffset;
  }
}
