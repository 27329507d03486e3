/**
 * WebAssembly-SIMD backend of the Saad–Solla η² pair sums Σ_ab w_a w_b asin(r_ab^{(ik)}) (the same
 * algebra as SaadSollaOde.i4Sum, source asm/i4sum.ts): the ~10⁶ arcsines per RHS at K = M = 32 run
 * two lanes at a time with a branch-free rational arcsine (fdlibm's coefficients, ≤ ~2 ulp).
 *
 * `I4Kernel.create(n, K)` returns null when WebAssembly SIMD is unavailable (the TS path is then
 * used).  `setI4Backend("ts")` forces the TS path (tests, benchmarks).
 */
import { I4_WASM_BASE64 } from "./i4-wasm-bytes.js";

export type I4Backend = "wasm-simd" | "ts";
let backend: I4Backend = "wasm-simd";

/** Choose the backend of new SaadSollaOde instances; returns the previous choice. */
export function setI4Backend(b: I4Backend): I4Backend {
  const prev = backend;
  backend = b;
  return prev;
}
export function i4Backend(): I4Backend {
  return backend;
}

/** The part of the WebAssembly JS API used here (not in the ES/Node type libraries of this build). */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface I4Exports {
  memory: WasmMemory;
  i4Sums(n: number, K: number, cOff: number, wOff: number, sOff: number, xOff: number, yOff: number, outOff: number): void;
}

let module: object | null | undefined;
function compiled(): object | null {
  if (module !== undefined) return module;
  if (!WA) return (module = null);
  try {
    const bin = atob(I4_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    module = new WA.Module(bytes);
  } catch {
    module = null;
  }
  return module;
}

/** First byte the kernel's buffers may use (the module's own data lives below 1 KiB). */
const BASE = 65536;

/** One instance per ODE (its own memory): buffers for an n×n covariance and K(K+1)/2 outputs. */
export class I4Kernel {
  private f64!: Float64Array;
  private readonly cOff: number;
  private readonly wOff: number;
  private readonly sOff: number;
  private readonly xOff: number;
  private readonly yOff: number;
  private readonly outOff: number;

  private constructor(private readonly ex: I4Exports, readonly n: number, readonly K: number) {
    const pad = n + 2;
    this.cOff = BASE;
    this.wOff = this.cOff + 8 * (n * n + 2);
    this.sOff = this.wOff + 8 * pad;
    this.xOff = this.sOff + 8 * pad;
    this.yOff = this.xOff + 8 * pad;
    this.outOff = this.yOff + 8 * pad;
    const need = this.outOff + (8 * K * (K + 1)) / 2;
    const mem = ex.memory;
    if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    this.f64 = new Float64Array(mem.buffer);
  }

  /** A kernel for n = K + M fields and K students, or null (no WebAssembly SIMD, or TS forced). */
  static create(n: number, K: number): I4Kernel | null {
    if (backend !== "wasm-simd") return null;
    const m = compiled();
    if (!m) return null;
    try {
      return new I4Kernel(new WA!.Instance(m, {}).exports as I4Exports, n, K);
    } catch {
      return null;
    }
  }

  /**
   * out[p] for the pairs i ≤ k (row by row) = Σ_ab w_a w_b asin(r_ab^{(ik)}) for the covariance C
   * (n×n row-major) and weights w (length n).  Returns a view valid until the next call.
   */
  sums(C: Float64Array, w: Float64Array): Float64Array {
    const { n, K, f64 } = this;
    f64.set(C.subarray(0, n * n), this.cOff / 8);
    f64[this.cOff / 8 + n * n] = f64[this.cOff / 8 + n * n + 1] = 0;
    f64.set(w.subarray(0, n), this.wOff / 8);
    // The zero lanes past n (read by the last, half-filled SIMD step).
    f64[this.wOff / 8 + n] = f64[this.wOff / 8 + n + 1] = 0;
    f64[this.sOff / 8 + n] = f64[this.sOff / 8 + n + 1] = 0;
    f64[this.xOff / 8 + n] = f64[this.xOff / 8 + n + 1] = 0;
    f64[this.yOff / 8 + n] = f64[this.yOff / 8 + n + 1] = 0;
    this.ex.i4Sums(n, K, this.cOff, this.wOff, this.sOff, this.xOff, this.yOff, this.outOff);
    return f64.subarray(this.outOff / 8, this.outOff / 8 + (K * (K + 1)) / 2);
  }
}
