/**
 * Dense linear-algebra kernels shared by every hot loop (flow RHS and Jacobian, CP loss and second
 * moment, cumulant theory, SGD).  Row-major Float64Array storage, BLAS-like signatures.
 *
 * This file is the one entry point; backends live beside it.  The pure-TS backend below is the
 * reference; the WebAssembly-SIMD backend (./wasm.ts, built from wasm/kernels.ts at install) computes
 * every output entry with the SAME sequence of floating-point operations (SIMD lanes hold different
 * entries, never partial sums of one entry), so both backends give bit-identical results and the
 * choice of backend never changes a number.  Summation order within the reference:
 *   gemm  C_ij ← β C_ij, then C_ij ← C_ij + (α op(A)_ip) op(B)_pj for p = 0, 1, … in order;
 *   gemv  y_i = β y_i + α Σ_j A_ij x_j (j in order), or y ← β y, y_j ← y_j + (α x_i) A_ij (i in order);
 *   syrk  C_ij ← β C_ij, then C_ij ← C_ij + ((α s_ν) X_νi) X_νj for ν in order (i ≤ j), mirrored.
 *
 * Backend: "wasm-simd" when WebAssembly SIMD and the built binary are available, else "ts";
 * RFDYN_KERNELS=ts|wasm forces one (wasm fails loudly if unavailable).  Sample-pass kernels (the
 * flow's fused row pass, the CP loss pass) are reached through `simdKernels()` by their modules,
 * which keep their TS loops as the reference/fallback.
 */
import { residentSubarray as wasmResidentSubarray, wasmKernels, wasmUnavailableReason, type WasmKernels } from "./wasm.js";

export type KernelBackend = "wasm-simd" | "ts";
export { type WasmKernels } from "./wasm.js";

let backend: KernelBackend | undefined;

function initialBackend(): KernelBackend {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RFDYN_KERNELS;
  if (env === "ts") return "ts";
  if (env === "wasm" || env === "wasm-simd") {
    if (!wasmKernels()) throw new Error(`RFDYN_KERNELS=${env}, but the WebAssembly SIMD kernels are unavailable: ${wasmUnavailableReason()}`);
    return "wasm-simd";
  }
  if (env !== undefined && env !== "" && env !== "auto") throw new Error(`RFDYN_KERNELS must be ts, wasm or auto (got "${env}")`);
  return wasmKernels() ? "wasm-simd" : "ts";
}

/** The backend in use. */
export function kernelBackend(): KernelBackend {
  return (backend ??= initialBackend());
}

/** Force a backend (tests and benchmarks); returns the previous one.  Throws if wasm is unavailable. */
export function setKernelBackend(b: KernelBackend): KernelBackend {
  const prev = kernelBackend();
  if (b === "wasm-simd" && !wasmKernels()) throw new Error(`the WebAssembly SIMD kernels are unavailable: ${wasmUnavailableReason()}`);
  if (b !== "wasm-simd" && b !== "ts") throw new Error(`kernel backend must be "wasm-simd" or "ts" (got ${String(b)})`);
  backend = b;
  return prev;
}

/** Whether the SIMD kernels can be used in this runtime (whatever the selected backend). */
export function simdAvailable(): boolean {
  return wasmKernels() !== null;
}

/** The SIMD kernels when they are the selected backend, else null (callers then run their TS loops). */
export function simdKernels(): WasmKernels | null {
  return kernelBackend() === "wasm-simd" ? wasmKernels() : null;
}

/**
 * Keep a copy of the read-only matrix X inside the SIMD backend's memory so that later calls do not
 * copy it (X must not be modified afterwards, or call `unpin`).  The sample-pass kernels pin their
 * sample matrices automatically.  No-op on the TS backend.  Returns whether X is pinned.
 */
export function pin(X: Float64Array): boolean {
  const k = simdKernels();
  return k !== null && k.pinned(X, X.length) >= 0;
}

/** Drop the pinned copy of X (if any). */
export function unpin(X: Float64Array): void {
  wasmKernels()?.unpin(X);
}

/**
 * A zero-filled Float64Array of `length` entries for a large read-only operand (sample matrices): on
 * the SIMD backend it lives in the kernels' (shared) wasm memory and is read there in place — never
 * copied or pinned — so the data are held once; otherwise (TS backend, or wasm memory exhausted) a
 * plain Float64Array.  Its block is freed when the array is garbage-collected or by `releaseResident`.
 * Subarrays do not keep the parent alive: take them with `residentSubarray`, or keep the parent.
 * On the SIMD backend its buffer is a SharedArrayBuffer (it can be posted to worker threads without
 * copying).
 */
export function allocResident(length: number): Float64Array {
  if (!(Number.isInteger(length) && length >= 0)) throw new RangeError(`allocResident: length must be an integer ≥ 0 (got ${length})`);
  return simdKernels()?.allocResident(length) ?? new Float64Array(length);
}

/**
 * Frees a resident array now — X itself or a `residentSubarray` of it (then its whole parent block):
 * none of their views may be used afterwards.  No-op for other arrays.  Runs that hold large resident
 * data call it when done, so that a sequence of runs reuses the block instead of growing the wasm
 * memory until the garbage collector (which does not see wasm memory pressure) finalises old arrays.
 */
export function releaseResident(X: Float64Array): void {
  wasmKernels()?.release(X);
}

/** Whether X lives in the SIMD backend's memory (a resident array or a subarray of one). */
export function isResident(X: Float64Array): boolean {
  return wasmKernels()?.isResident(X) ?? false;
}

/** X.subarray(begin, end) that keeps X (and so its resident block) alive while the subarray is reachable. */
export function residentSubarray(X: Float64Array, begin: number, end: number): Float64Array {
  return wasmResidentSubarray(X, begin, end);
}

/** Below this many multiply–adds a call stays in TS (copying operands would cost more than it saves). */
const WASM_MIN_MACS = 4096;

/**
 * C = α op(A) op(B) + β C, with C m×n, op(A) m×k, op(B) k×n (row-major).  A is m×k (k×m when
 * transA), B is k×n (n×k when transB).  β = 0 overwrites C (NaNs in C are ignored).
 */
export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, A: Float64Array, B: Float64Array, beta: number, C: Float64Array,
): void {
  const w = m * n * k >= WASM_MIN_MACS ? simdKernels() : null;
  if (w && w.gemm(transA, transB, m, n, k, alpha, A, B, beta, C)) return;
  tsGemm(transA, transB, m, n, k, alpha, A, B, beta, C);
}

/** y = α op(A) x + β y with A m×n row-major; op(A) = Aᵀ when trans (then x has m entries, y n). */
export function gemv(
  trans: boolean, m: number, n: number, alpha: number, A: Float64Array, x: Float64Array, beta: number, y: Float64Array,
): void {
  const w = m * n >= WASM_MIN_MACS ? simdKernels() : null;
  if (w && w.gemv(trans, m, n, alpha, A, x, beta, y)) return;
  tsGemv(trans, m, n, alpha, A, x, beta, y);
}

/** C = α Xᵀ diag(s) X + β C (D×D, both triangles written); X is n×D, s = null means all ones. */
export function syrkWeighted(
  X: Float64Array, n: number, D: number, s: Float64Array | null, alpha: number, beta: number, C: Float64Array,
): void {
  const w = n * D * D >= 2 * WASM_MIN_MACS ? simdKernels() : null;
  if (w && w.syrk(X, n, D, s, alpha, beta, C)) return;
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
  if (k === 0) return;
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    if (!transB) {
      // C[i,:] += (α op(A)[i,p]) B[p,:] for p in order.
      for (let p = 0; p < k; p++) {
        const a = alpha * (transA ? A[p * m + i] : A[i * k + p]);
        const bp = p * n;
        for (let j = 0; j < n; j++) C[ci + j] += a * B[bp + j];
      }
    } else {
      // Rows of B are contiguous in p: the same sums as dot products, C_ij carried as the accumulator.
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let s = C[ci + j];
        if (transA) for (let p = 0; p < k; p++) s += alpha * A[p * m + i] * B[bj + p];
        else {
          const ai = i * k;
          for (let p = 0; p < k; p++) s += alpha * A[ai + p] * B[bj + p];
        }
        C[ci + j] = s;
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
    for (let i = 0; i < D; i++) {
      const a = w * X[o + i];
      const ci = i * D;
      for (let j = i; j < D; j++) C[ci + j] += a * X[o + j];
    }
  }
  for (let i = 0; i < D; i++) for (let j = i + 1; j < D; j++) C[j * D + i] = C[i * D + j];
}
