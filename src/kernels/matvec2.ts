/**
 * Two dense matrix–vector products with one vector, u = A w and r = B w (A, B D×D, row-major), for a
 * small system evaluated many times: the LSG24 effective ODE's Σ1 w and (Σ0 + Σ1) w
 * (src/theory/lsg24.ts; D = 40 in the paper's sweeps, 10⁴ right-hand sides per run).
 *
 * Every entry is summed over j = 0, 1, …, D − 1 in order, from +0, one product then one add.
 * `tsMatvec2` is the reference (and the fallback without WebAssembly); the SIMD kernel `matvec2T`
 * of wasm/kernels.ts computes the same sums with lanes holding different ROWS (it reads the matrices
 * transposed, so that one load holds rows i and i + 1 of column j), so both backends give
 * bit-identical results (test/matvec2.test.ts).
 *
 * `Matvec2` holds the operands: on the SIMD backend, in the kernels' WebAssembly memory — a matrix
 * that already lives there (`allocResident`) and is exactly symmetric is read in place (its
 * transpose is itself), any other is copied there transposed once — with the vector and the two
 * results as resident arrays, so a product costs no copies beyond setting `w`.
 */
import { isResident, releaseResident, residentSubarray, simdKernels } from "./index.js";

/**
 * u = A w, r = B w (see the file comment for the order of the sums).  Rows four at a time: eight
 * independent sums share each load of w_j (one row at a time, the add latency of its two sums bound
 * the loop); every entry's sum is the same.
 */
export function tsMatvec2(D: number, A: Float64Array, B: Float64Array, w: Float64Array, u: Float64Array, r: Float64Array): void {
  let i = 0;
  for (; i + 3 < D; i += 4) {
    const o0 = i * D, o1 = o0 + D, o2 = o1 + D, o3 = o2 + D;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, r0 = 0, r1 = 0, r2 = 0, r3 = 0;
    for (let j = 0; j < D; j++) {
      const wj = w[j];
      s0 += A[o0 + j] * wj; r0 += B[o0 + j] * wj;
      s1 += A[o1 + j] * wj; r1 += B[o1 + j] * wj;
      s2 += A[o2 + j] * wj; r2 += B[o2 + j] * wj;
      s3 += A[o3 + j] * wj; r3 += B[o3 + j] * wj;
    }
    u[i] = s0; u[i + 1] = s1; u[i + 2] = s2; u[i + 3] = s3;
    r[i] = r0; r[i + 1] = r1; r[i + 2] = r2; r[i + 3] = r3;
  }
  for (; i < D; i++) {
    let s = 0, t = 0;
    const o = i * D;
    for (let j = 0; j < D; j++) {
      s += A[o + j] * w[j];
      t += B[o + j] * w[j];
    }
    u[i] = s;
    r[i] = t;
  }
}

interface Matvec2Exports {
  matvec2T(D: number, AT: number, BT: number, w: number, u: number, r: number): void;
}

/**
 * Whether A equals its transpose entry by entry (+0 and −0 count as equal: a sum started at +0 gives
 * the same bits either way; a NaN anywhere off the diagonal counts as asymmetric).
 */
export function exactlySymmetric(D: number, A: Float64Array): boolean {
  for (let i = 0; i < D; i++) {
    for (let j = i + 1; j < D; j++) if (A[i * D + j] !== A[j * D + i]) return false;
  }
  return true;
}

/** u = A w and r = B w for fixed A, B and a vector set in `w` before each `run`. */
export class Matvec2 {
  readonly backend: "wasm-simd" | "ts";
  /** Set the vector here (D entries), then `run`; the products are then in `u` and `r`. */
  readonly w: Float64Array;
  readonly u: Float64Array;
  readonly r: Float64Array;
  /** Matrices read in place (resident and exactly symmetric) rather than copied: [A, B]. */
  readonly inPlace: [boolean, boolean] = [false, false];
  private readonly block: Float64Array | null = null;
  private readonly ex: Matvec2Exports | null = null;
  private readonly offs: [number, number] = [0, 0];

  constructor(readonly D: number, private readonly A: Float64Array, private readonly B: Float64Array) {
    if (!(Number.isInteger(D) && D >= 1)) throw new RangeError(`Matvec2: D must be an integer ≥ 1 (got ${D})`);
    if (A.length < D * D || B.length < D * D) throw new RangeError(`Matvec2: the matrices need D² = ${D * D} entries (got ${A.length}, ${B.length})`);
    const k = simdKernels();
    const mats = [A, B] as const;
    const direct = k ? mats.map((M) => isResident(M) && exactlySymmetric(D, M)) : [false, false];
    const ld = Math.ceil(D / 2) * 2; // keeps the resident vectors 16-byte aligned
    const copies = direct.filter((d) => !d).length;
    const block = k?.allocResident(3 * ld + copies * D * D) ?? null;
    if (k && block) {
      this.block = block;
      this.backend = "wasm-simd";
      this.ex = k.ex as unknown as Matvec2Exports;
      this.w = residentSubarray(block, 0, D);
      this.u = residentSubarray(block, ld, ld + D);
      this.r = residentSubarray(block, 2 * ld, 2 * ld + D);
      let at = 3 * ld;
      mats.forEach((M, m) => {
        if (direct[m]) {
          this.inPlace[m] = true;
          this.offs[m] = M.byteOffset;
          return;
        }
        const T = residentSubarray(block, at, at + D * D);
        for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) T[j * D + i] = M[i * D + j];
        this.offs[m] = T.byteOffset;
        at += D * D;
      });
    } else {
      this.backend = "ts";
      this.w = new Float64Array(D);
      this.u = new Float64Array(D);
      this.r = new Float64Array(D);
    }
  }

  /** u = A w, r = B w. */
  run(): void {
    if (this.ex) this.ex.matvec2T(this.D, this.offs[0], this.offs[1], this.w.byteOffset, this.u.byteOffset, this.r.byteOffset);
    else tsMatvec2(this.D, this.A, this.B, this.w, this.u, this.r);
  }

  /** Free the resident block now (SIMD backend; a no-op otherwise).  w, u, r must not be used afterwards. */
  release(): void {
    if (this.block) releaseResident(this.block);
  }
}
