/**
 * Sparse row sums out[o + j] = Σ_e c_je x[k_je] of a fixed sparse matrix given as CSR rows (the
 * Saad–Solla guard functionals' derivatives: ~34,000 rows of two or three terms at K = M = 32), each
 * summed as `let s = 0; for e in row order: s += c_e·x[k_e]`.
 *
 * The rows are stored as "affine runs": maximal blocks of consecutive rows with the same number of
 * terms in which every term's coefficient is the same and its column advances by a fixed step from
 * row to row (the generator emits its rows by kind, so e.g. R_in − R_kn for n = 0 … M − 1 is one run
 * with steps 1, 1).  Each row r of a run is summed as s = 0, s += c_t·x[k_t + step_t·r] for its terms
 * t in order — the row's own sum, in its own order.
 *
 * `tsRowSums` is the reference (and the fallback); the SIMD kernel `rowSums` of wasm/kernels.ts
 * repeats it operation for operation with two rows per vector (test/row-sums.test.ts: bit-identical).
 * The kernel runs when x and out live in the kernels' WebAssembly memory (e.g. the GBS integrator's
 * resident work arrays), the TS loop otherwise.
 */
import { allocResident, simdKernels, type WasmKernels } from "./index.js";
import { wasmRowSums } from "./wasm.js";

/**
 * The runs of the CSR rows (start: row starts, length rows + 1; col, coef: per term): `ints` holds per
 * run [j0, count, len, (col0, step) × len], `coefs` one coefficient per run term, in the same order.
 */
export function affineRuns(start: Int32Array, col: Int32Array, coef: Float64Array): { ints: number[]; coefs: number[]; runs: number } {
  const nRows = start.length - 1;
  const ints: number[] = [], coefs: number[] = [];
  let runs = 0;
  for (let j = 0; j < nRows;) {
    const len = start[j + 1] - start[j], e0 = start[j];
    // Row j1 joins the run if it has len terms with row j's coefficients and columns advanced by
    // (j1 − j)·step, the steps set by row j + 1.
    let j1 = j + 1;
    const step = j1 < nRows ? Array.from({ length: len }, (_, t) => col[start[j + 1] + t] - col[e0 + t]) : [];
    while (j1 < nRows && start[j1 + 1] - start[j1] === len) {
      const e = start[j1];
      let same = true;
      for (let t = 0; t < len && same; t++) same = Object.is(coef[e + t], coef[e0 + t]) && col[e + t] === col[e0 + t] + (j1 - j) * step[t];
      if (!same) break;
      j1++;
    }
    ints.push(j, j1 - j, len);
    for (let t = 0; t < len; t++) {
      ints.push(col[e0 + t], j1 - j > 1 ? step[t] : 0);
      coefs.push(coef[e0 + t]);
    }
    runs++;
    j = j1;
  }
  return { ints, coefs, runs };
}

/**
 * out[o + j] for every row j of the runs (see `affineRuns`): the reference loop.  x and out may be
 * the same array if the rows' columns all lie below o.
 */
export function tsRowSums(ints: Int32Array, coefs: Float64Array, runs: number, x: Float64Array, out: Float64Array, o: number): void {
  let p = 0, pc = 0;
  for (let q = 0; q < runs; q++) {
    const ob = o + ints[p], cnt = ints[p + 1], len = ints[p + 2];
    p += 3;
    if (len === 2) {
      // (the common case, unrolled: the same sums)
      const c0 = coefs[pc], c1 = coefs[pc + 1], s0 = ints[p + 1], s1 = ints[p + 3];
      for (let r = 0, i0 = ints[p], i1 = ints[p + 2]; r < cnt; r++, i0 += s0, i1 += s1) {
        let s = 0;
        s += c0 * x[i0];
        s += c1 * x[i1];
        out[ob + r] = s;
      }
    } else {
      for (let r = 0; r < cnt; r++) {
        let s = 0;
        for (let t = 0; t < len; t++) s += coefs[pc + t] * x[ints[p + 2 * t] + ints[p + 2 * t + 1] * r];
        out[ob + r] = s;
      }
    }
    p += 2 * len;
    pc += len;
  }
}

/** A fixed sparse matrix for repeated row sums (see the file comment). */
export class RowSums {
  readonly rows: number;
  readonly runs: number;
  /** Columns referenced are < minOut: x and out may alias when the output offset is ≥ it. */
  readonly minOut: number;
  private readonly ints: Int32Array;
  private readonly coefs: Float64Array;

  constructor(start: Int32Array, col: Int32Array, coef: Float64Array) {
    const rows = start.length - 1;
    if (!(rows >= 0) || start[0] !== 0 || start[rows] !== col.length || coef.length !== col.length) throw new RangeError("RowSums: inconsistent CSR arrays");
    let maxCol = -1;
    for (let e = 0; e < col.length; e++) {
      if (!(Number.isInteger(col[e]) && col[e] >= 0)) throw new RangeError(`RowSums: column ${col[e]} is not an index`);
      maxCol = Math.max(maxCol, col[e]);
    }
    for (let j = 0; j < rows; j++) if (!(start[j + 1] >= start[j])) throw new RangeError("RowSums: row starts must not decrease");
    const { ints, coefs, runs } = affineRuns(start, col, coef);
    this.rows = rows;
    this.runs = runs;
    this.minOut = maxCol + 1;
    // In the kernels' memory when the SIMD backend is selected (read in place by `rowSums`): one
    // block, the coefficients then the integers.
    const nc = coefs.length, block = allocResident(nc + Math.ceil(ints.length / 2));
    this.coefs = block.subarray(0, nc);
    this.coefs.set(coefs);
    this.ints = new Int32Array(block.buffer, block.byteOffset + 8 * nc, ints.length);
    this.ints.set(ints);
    this.block = block;
  }

  /** Keeps the resident block (parent of coefs and ints) alive. */
  private readonly block: Float64Array;

  /** out[o + j] = Σ_e c_je x[k_je] for every row j (x === out allowed when o ≥ minOut). */
  apply(x: Float64Array, out: Float64Array, o: number): void {
    const k = simdKernels();
    // The checks and the choice of path are remembered for the last (x, out, o, kernels): an ODE's
    // RHS passes the same arrays call after call.
    if (x !== this.lastX || out !== this.lastOut || o !== this.lastO || k !== this.lastK) this.prepare(x, out, o, k);
    if (this.simd) wasmRowSums(k!, this.ints, this.coefs, this.runs, x, out, o);
    else tsRowSums(this.ints, this.coefs, this.runs, x, out, o);
  }

  private lastX: Float64Array | null = null;
  private lastOut: Float64Array | null = null;
  private lastO = -1;
  private lastK: WasmKernels | null | undefined = undefined;
  private simd = false;

  private prepare(x: Float64Array, out: Float64Array, o: number, k: WasmKernels | null): void {
    if (!(Number.isInteger(o) && o >= 0) || x.length < this.minOut || out.length < o + this.rows) throw new RangeError("RowSums.apply: an array is too short");
    if (x.buffer === out.buffer && !(out.byteOffset + 8 * o >= x.byteOffset + 8 * this.minOut || out.byteOffset + 8 * (o + this.rows) <= x.byteOffset)) {
      throw new RangeError("RowSums.apply: the output rows overlap the columns read");
    }
    this.simd = k !== null && k.isResident(this.block) && k.isResident(x) && k.isResident(out);
    this.lastX = x;
    this.lastOut = out;
    this.lastO = o;
    this.lastK = k;
  }

  /** The reference loop whatever the backend (tests). */
  applyTs(x: Float64Array, out: Float64Array, o: number): void {
    tsRowSums(this.ints, this.coefs, this.runs, x, out, o);
  }
}
