/**
 * Dense linear-algebra kernels shared by every hot loop (flow RHS and Jacobian, CP loss and second
 * moment, cumulant theory, SGD).  Row-major Float64Array storage, BLAS-like signatures.
 *
 * This file is the one entry point; backends live beside it.  The pure-TS backend below is the
 * reference every faster backend (WebAssembly SIMD) is tested against.  Summation order within a
 * backend is fixed, so results are bit-reproducible run to run.
 */

export type KernelBackend = "wasm-simd" | "ts";

let backend: KernelBackend = "ts";

/** The backend in use. */
export function kernelBackend(): KernelBackend {
  return backend;
}

/** Force a backend (tests and benchmarks); returns the previous one. */
export function setKernelBackend(b: KernelBackend): KernelBackend {
  const prev = backend;
  backend = b;
  return prev;
}

/**
 * C = α op(A) op(B) + β C, with C m×n, op(A) m×k, op(B) k×n (row-major).  A is m×k (k×m when
 * transA), B is k×n (n×k when transB).  β = 0 overwrites C (NaNs in C are ignored).
 */
export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, A: Float64Array, B: Float64Array, beta: number, C: Float64Array,
): void {
  tsGemm(transA, transB, m, n, k, alpha, A, B, beta, C);
}

/** y = α op(A) x + β y with A m×n row-major; op(A) = Aᵀ when trans (then x has m entries, y n). */
export function gemv(
  trans: boolean, m: number, n: number, alpha: number, A: Float64Array, x: Float64Array, beta: number, y: Float64Array,
): void {
  tsGemv(trans, m, n, alpha, A, x, beta, y);
}

/** C = α Xᵀ diag(s) X + β C (D×D, both triangles written); X is n×D, s = null means all ones. */
export function syrkWeighted(
  X: Float64Array, n: number, D: number, s: Float64Array | null, alpha: number, beta: number, C: Float64Array,
): void {
  tsSyrkWeighted(X, n, D, s, alpha, beta, C);
}

// ---------------------------------------------------------------------------------------------
// Pure-TS reference backend

function scaleC(C: Float64Array, len: number, beta: number): void {
  if (beta === 0) C.fill(0, 0, len);
  else if (beta !== 1) for (let i = 0; i < len; i++) C[i] *= beta;
}

export function tsGemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, A: Float64Array, B: Float64Array, beta: number, C: Float64Array,
): void {
  scaleC(C, m * n, beta);
  if (alpha === 0 || k === 0) return;
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    if (!transB) {
      // C[i,:] += α Σ_p op(A)[i,p] B[p,:]
      for (let p = 0; p < k; p++) {
        const a = alpha * (transA ? A[p * m + i] : A[i * k + p]);
        if (a === 0) continue;
        const bp = p * n;
        for (let j = 0; j < n; j++) C[ci + j] += a * B[bp + j];
      }
    } else {
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let s = 0;
        if (transA) for (let p = 0; p < k; p++) s += A[p * m + i] * B[bj + p];
        else {
          const ai = i * k;
          for (let p = 0; p < k; p++) s += A[ai + p] * B[bj + p];
        }
        C[ci + j] += alpha * s;
      }
    }
  }
}

export function tsGemv(
  trans: boolean, m: number, n: number, alpha: number, A: Float64Array, x: Float64Array, beta: number, y: Float64Array,
): void {
  if (!trans) {
    for (let i = 0; i < m; i++) {
      const o = i * n;
      let s = 0;
      for (let j = 0; j < n; j++) s += A[o + j] * x[j];
      y[i] = (beta === 0 ? 0 : beta * y[i]) + alpha * s;
    }
  } else {
    scaleC(y, n, beta);
    for (let i = 0; i < m; i++) {
      const a = alpha * x[i];
      if (a === 0) continue;
      const o = i * n;
      for (let j = 0; j < n; j++) y[j] += a * A[o + j];
    }
  }
}

export function tsSyrkWeighted(
  X: Float64Array, n: number, D: number, s: Float64Array | null, alpha: number, beta: number, C: Float64Array,
): void {
  scaleC(C, D * D, beta);
  for (let nu = 0; nu < n; nu++) {
    const o = nu * D;
    const w = alpha * (s === null ? 1 : s[nu]);
    if (w === 0) continue;
    for (let i = 0; i < D; i++) {
      const a = w * X[o + i];
      const ci = i * D;
      for (let j = i; j < D; j++) C[ci + j] += a * X[o + j];
    }
  }
  for (let i = 0; i < D; i++) for (let j = i + 1; j < D; j++) C[j * D + i] = C[i * D + j];
}
