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
 * out += Σ_ν f(λ_ν) x_ν with λ_ν = x_ν·w for float32 rows X (n×D), float64 accumulation, rows in
 * blocks of eight exactly as `fusedRowPass`.  Returns Σ_ν λ_ν².
 */
export function fusedRowPassF32(
  X: Float32Array, n: number, D: number, w: Float64Array, out: Float64Array,
  kind: RowFn, a: number, c = 0, d = 0, y = 0, v = 0, b = 0,
): number {
  let ss = 0;
  let nu = 0;
  for (; nu + 7 < n; nu += 8) {
    const o0 = nu * D, o1 = o0 + D, o2 = o1 + D, o3 = o2 + D, o4 = o3 + D, o5 = o4 + D, o6 = o5 + D, o7 = o6 + D;
    let l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
    for (let i = 0; i < D; i++) {
      const wi = w[i];
      l0 += X[o0 + i] * wi;
      l1 += X[o1 + i] * wi;
      l2 += X[o2 + i] * wi;
      l3 += X[o3 + i] * wi;
      l4 += X[o4 + i] * wi;
      l5 += X[o5 + i] * wi;
      l6 += X[o6 + i] * wi;
      l7 += X[o7 + i] * wi;
    }
    ss += l0 * l0 + l1 * l1 + l2 * l2 + l3 * l3 + l4 * l4 + l5 * l5 + l6 * l6 + l7 * l7;
    const f0 = rowFn(kind, l0, a, c, d, y, v, b), f1 = rowFn(kind, l1, a, c, d, y, v, b);
    const f2 = rowFn(kind, l2, a, c, d, y, v, b), f3 = rowFn(kind, l3, a, c, d, y, v, b);
    const f4 = rowFn(kind, l4, a, c, d, y, v, b), f5 = rowFn(kind, l5, a, c, d, y, v, b);
    const f6 = rowFn(kind, l6, a, c, d, y, v, b), f7 = rowFn(kind, l7, a, c, d, y, v, b);
    for (let i = 0; i < D; i++) {
      out[i] += f0 * X[o0 + i] + f1 * X[o1 + i] + f2 * X[o2 + i] + f3 * X[o3 + i] + f4 * X[o4 + i] + f5 * X[o5 + i] + f6 * X[o6 + i] + f7 * X[o7 + i];
    }
  }
  for (; nu < n; nu++) {
    const o = nu * D;
    let l = 0;
    for (let i = 0; i < D; i++) l += X[o + i] * w[i];
    ss += l * l;
    const f = rowFn(kind, l, a, c, d, y, v, b);
    for (let i = 0; i < D; i++) out[i] += f * X[o + i];
  }
  return ss;
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
