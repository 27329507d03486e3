/**
 * Float32 storage variant of the single-neuron flow's hot loop (`fusedRowPass` in ./single-neuron.ts):
 * the samples X are a Float32Array (half the memory of float64, `data.precision: "float32"` in a flow
 * model), every product and sum is accumulated in float64 (each float32 entry widens exactly to a
 * double), in the same order as the float64 pass — so on data that are exactly representable in
 * float32 both passes give the same bits (test/flow-memory.test.ts checks this for every row
 * function).  A separate function rather than a union-typed parameter: V8 keeps each loop
 * monomorphic in its element type.
 */
import { rowFn, type RowFn } from "./row-fn.js";
import { gemv, syrkWeighted } from "../kernels/index.js";


/**
 * out += Σ_ν f(λ_ν) x_ν with λ_ν = x_ν·w for float32 rows X (n×D), float64 accumulation, in the order
 * of `tsFusedRowPass` (λ by `rowDot`'s four interleaved partial sums, rows in blocks of four).
 * Returns Σ_ν λ_ν².
 */
export function fusedRowPassF32(
  X: Float32Array, n: number, D: number, w: Float64Array, out: Float64Array,
  kind: RowFn, a: number, c = 0, d = 0, y = 0, v = 0, b = 0,
): number {
  let ss = 0;
  let nu = 0;
  for (; nu + 3 < n; nu += 4) {
    const o0 = nu * D, o1 = o0 + D, o2 = o1 + D, o3 = o2 + D;
    const l0 = rowDot32(X, o0, w, D), l1 = rowDot32(X, o1, w, D), l2 = rowDot32(X, o2, w, D), l3 = rowDot32(X, o3, w, D);
    ss += l0 * l0 + l1 * l1 + l2 * l2 + l3 * l3;
    const f0 = rowFn(kind, l0, a, c, d, y, v, b), f1 = rowFn(kind, l1, a, c, d, y, v, b);
    const f2 = rowFn(kind, l2, a, c, d, y, v, b), f3 = rowFn(kind, l3, a, c, d, y, v, b);
    for (let i = 0; i < D; i++) {
      out[i] += (f0 * X[o0 + i] + f1 * X[o1 + i]) + (f2 * X[o2 + i] + f3 * X[o3 + i]);
    }
  }
  for (; nu < n; nu++) {
    const o = nu * D;
    const l = rowDot32(X, o, w, D);
    ss += l * l;
    const f = rowFn(kind, l, a, c, d, y, v, b);
    for (let i = 0; i < D; i++) out[i] += f * X[o + i];
  }
  return ss;
}

/** `rowDot` (./single-neuron.ts) on float32 rows: a separate copy so each stays monomorphic. */
function rowDot32(X: Float32Array, o: number, w: Float64Array, D: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let j = 0;
  for (; j + 3 < D; j += 4) {
    s0 += X[o + j] * w[j];
    s1 += X[o + j + 1] * w[j + 1];
    s2 += X[o + j + 2] * w[j + 2];
    s3 += X[o + j + 3] * w[j + 3];
  }
  if (j < D) s0 += X[o + j] * w[j];
  if (j + 1 < D) s1 += X[o + j + 1] * w[j + 1];
  if (j + 2 < D) s2 += X[o + j + 2] * w[j + 2];
  return (s0 + s2) + (s1 + s3);
}

/**
 * Float32-sample versions of the three kernels the flow Jacobian needs (float64 accumulation, the same
 * row order as the TS kernels): y = α X w (trans = false) or y = α Xᵀ w (trans = true, with β), and
 * C = α Xᵀ diag(s) X + β C.  Dispatch on X's element type via `flowGemv` / `flowSyrk`.
 */
export function flowGemv(
  trans: boolean, n: number, D: number, alpha: number, X: Float64Array | Float32Array, x: Float64Array, beta: number, y: Float64Array,
): void {
  if (X instanceof Float64Array) { gemv(trans, n, D, alpha, X, x, beta, y); return; }
  if (!trans) {
    for (let i = 0; i < n; i++) {
      const o = i * D;
      let s = 0;
      for (let j = 0; j < D; j++) s += X[o + j] * x[j];
      y[i] = (beta === 0 ? 0 : beta * y[i]) + alpha * s;
    }
  } else {
    if (beta === 0) y.fill(0, 0, D);
    else if (beta !== 1) for (let j = 0; j < D; j++) y[j] *= beta;
    for (let i = 0; i < n; i++) {
      const a = alpha * x[i], o = i * D;
      if (a !== 0) for (let j = 0; j < D; j++) y[j] += a * X[o + j];
    }
  }
}

export function flowSyrk(
  X: Float64Array | Float32Array, n: number, D: number, s: Float64Array | null, alpha: number, beta: number, C: Float64Array,
): void {
  if (X instanceof Float64Array) { syrkWeighted(X, n, D, s, alpha, beta, C); return; }
  if (beta === 0) C.fill(0, 0, D * D);
  else if (beta !== 1) for (let i = 0; i < D * D; i++) C[i] *= beta;
  for (let k = 0; k < n; k++) {
    const o = k * D, wk = alpha * (s === null ? 1 : s[k]);
    if (wk === 0) continue;
    for (let i = 0; i < D; i++) {
      const a = wk * X[o + i], ci = i * D;
      for (let j = i; j < D; j++) C[ci + j] += a * X[o + j];
    }
  }
  for (let i = 0; i < D; i++) for (let j = i + 1; j < D; j++) C[j * D + i] = C[i * D + j];
}
