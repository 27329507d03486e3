/**
 * WebAssembly-SIMD backend of the kernels: glue between Float64Arrays and the module built from
 * wasm/kernels.ts (AssemblyScript) by scripts/build-wasm.mjs into ./wasm-binary.ts (base64; generated
 * at install, not committed).  The module is instantiated synchronously on first use; if WebAssembly,
 * SIMD or the binary is missing, `wasmKernels()` returns null and the callers use the pure-TS kernels.
 *
 * Memory.  The module imports a SHARED linear memory (a SharedArrayBuffer, created here with a 4 GiB
 * maximum and grown on demand) managed here by a first-fit allocator.  Growing a shared memory never
 * detaches views of it, so JS arrays may live inside it: `allocResident(length)` returns a Float64Array
 * view into wasm memory ("resident"), which the kernels read in place, with no copy.  Any Float64Array
 * whose buffer is the wasm memory — a resident array or a subarray of one — is passed by its byte
 * offset.  A resident block is freed by `release(X)` or when X is garbage-collected; a subarray
 * does NOT keep its parent alive, so keep the parent referenced while its subarrays are in use (or
 * take them with `residentSubarray`, which ties the parent's lifetime to the subarray).  Per call, small operands (vectors, factor matrices, output blocks) are copied in and
 * results copied out.  Large read-only matrices — the sample matrices X of the flow and of the CP loss
 * — are copied once and cached ("pinned"), keyed by the Float64Array object (a WeakMap; the copy is
 * freed when the array is garbage-collected, or by `unpin`).
 *
 * Contract for pinned arrays: the contents must not change after the first kernel call that uses them
 * (samples are drawn once and then only read).  As a guard, 16 entries spread over the array are
 * compared on every call and the copy is refreshed if any differs — this catches an array refilled
 * with new data, not a change to a few entries; call `unpin(X)` after modifying X in place.  Pinning
 * is skipped (the TS kernels run instead) when it would take the pinned total above the budget
 * RFDYN_WASM_PIN_MB (default 1024 MiB): at those sizes the passes are memory-bound and a second copy
 * of the data would double the resident size.
 */
import { WASM_KERNELS_BASE64 } from "./wasm-binary.js";

/** The part of the WebAssembly JS API used here (lib ES2023 declares none of it). */
declare namespace WebAssembly {
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(pages: number): number;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: Uint8Array): boolean;
}

interface Exports {
  heapBase(): number;
  erf(x: number): number;
  /** erf through the four-argument interleaved erf of the row pass, in lane 0 … 3 (tests). */
  erf4Probe(x: number, lane: number): number;
  rowPass(X: number, n0: number, n1: number, D: number, w: number, out: number, kind: number, a: number, c: number, d: number, y: number, v: number, b: number): number;
  /** 1 if rowPass has a compiled-in variant for this D (constant row offsets), else 0. */
  rowPassSpecialised(D: number): number;
  rowPassChunks(X: number, D: number, w: number, nChunks: number, bounds: number, partial: number, ss: number, kind: number, a: number, c: number, d: number, y: number, v: number, b: number): void;
  cpPass(X: number, n0: number, n1: number, D: number, UT: number, r: number, rP: number, Y: number, Z: number, s2: number, s4: number, A: number, B: number, withA: number): void;
  gemmWorkspaceBytes(): number;
  gemm(tA: number, tB: number, m: number, n: number, k: number, alpha: number, A: number, B: number, C: number, W: number): void;
  syrkUpper(X: number, n: number, D: number, s: number, alpha: number, C: number, W: number): void;
  mirror(C: number, D: number): void;
  gemvN(m: number, n: number, alpha: number, A: number, x: number, beta: number, y: number): void;
  gemvT(m: number, n: number, alpha: number, A: number, x: number, y: number): void;
  peakSimd(iters: number, x: number): number;
  peakLoads(iters: number): number;
  i4Sums(n: number, K: number, p0: number, p1: number, C: number, w: number, S: number, out: number): void;
}

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // wasm32: 4 GiB
const ALIGN = 64;

function envVar(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.[name];
}

/** First-fit allocator over the module's memory (64-byte aligned blocks). */
class Heap {
  private top: number;
  private readonly free: { ptr: number; size: number }[] = [];
  private readonly sizes = new Map<number, number>();
  private view: Float64Array;
  /** Every buffer object the memory has had (one per growth; all alias the same shared bytes). */
  readonly buffers = new WeakSet<ArrayBufferLike>();

  constructor(readonly mem: WebAssembly.Memory, base: number) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
    this.view = new Float64Array(mem.buffer);
    this.buffers.add(mem.buffer);
  }

  /** Float64 view of the whole memory (refreshed after growth). */
  f64(): Float64Array {
    if (this.view.length * 8 !== this.mem.buffer.byteLength) {
      this.view = new Float64Array(this.mem.buffer);
      this.buffers.add(this.view.buffer);
    }
    return this.view;
  }

  /** Whether X is a view into this memory (then X.byteOffset is its address in wasm). */
  owns(X: Float64Array): boolean {
    return this.buffers.has(X.buffer);
  }

  /** Byte offset of a new block, or −1 if the memory cannot grow that far. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    for (let k = 0; k < this.free.length; k++) {
      const f = this.free[k];
      if (f.size >= size) {
        const ptr = f.ptr;
        if (f.size === size) this.free.splice(k, 1);
        else { f.ptr += size; f.size -= size; }
        this.sizes.set(ptr, size);
        return ptr;
      }
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > MAX_BYTES) return -1;
    const have = this.mem.buffer.byteLength;
    if (end > have) {
      // Grow by at least 1/8 of the current size to amortise (never past 4 GiB).
      const want = Math.min(MAX_BYTES, Math.max(end, have + have / 8));
      try {
        this.mem.grow(Math.ceil((want - have) / PAGE));
      } catch {
        try { this.mem.grow(Math.ceil((end - have) / PAGE)); } catch { return -1; }
      }
    }
    this.top = end;
    this.sizes.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    let k = 0;
    while (k < this.free.length && this.free[k].ptr < ptr) k++;
    this.free.splice(k, 0, { ptr, size });
    // Coalesce with the neighbours, then give the tail back to the bump pointer.
    if (k + 1 < this.free.length && this.free[k].ptr + this.free[k].size === this.free[k + 1].ptr) {
      this.free[k].size += this.free[k + 1].size;
      this.free.splice(k + 1, 1);
    }
    if (k > 0 && this.free[k - 1].ptr + this.free[k - 1].size === this.free[k].ptr) {
      this.free[k - 1].size += this.free[k].size;
      this.free.splice(k, 1);
      k--;
    }
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  /** Copies src[from … from+len) to the block at ptr. */
  put(ptr: number, src: Float64Array, from = 0, len = src.length - from): void {
    this.f64().set(from === 0 && len === src.length ? src : src.subarray(from, from + len), ptr >> 3);
  }

  /** Copies len doubles at ptr into dst[to …]. */
  get(ptr: number, dst: Float64Array, to = 0, len = dst.length - to): void {
    const o = ptr >> 3;
    dst.set(this.f64().subarray(o, o + len), to);
  }
}

/** dst[0 … len) = f[o … o + len) (a loop: no subarray view per call, for small hot copies). */
function copyOut(f: Float64Array, o: number, dst: Float64Array, len: number): void {
  for (let i = 0; i < len; i++) dst[i] = f[o + i];
}

interface Pin {
  ptr: number;
  len: number;
  probes: Float64Array;
}

/** Parents of subarrays taken with `residentSubarray` (keeps a resident block alive while a view is). */
const residentParents = new WeakMap<Float64Array, Float64Array>();

const PROBES = 16;

/** The loaded module with its allocator and the pinned-array cache. */
export class WasmKernels {
  readonly heap: Heap;
  private readonly pins = new WeakMap<Float64Array, Pin>();
  private pinnedBytes = 0;
  private readonly pinBudget: number;
  private readonly registry: FinalizationRegistry<{ ptr: number; bytes: number }>;
  private readonly residentRegistry: FinalizationRegistry<number>;
  private readonly residents = new WeakMap<Float64Array, number>();
  private residentBytes = 0;
  private readonly workBytes: number;

  constructor(readonly ex: Exports, memory: WebAssembly.Memory) {
    this.heap = new Heap(memory, ex.heapBase());
    const mb = Number(envVar("RFDYN_WASM_PIN_MB") ?? "1024");
    this.pinBudget = (Number.isFinite(mb) && mb >= 0 ? mb : 1024) * 2 ** 20;
    this.registry = new FinalizationRegistry(({ ptr, bytes }) => {
      this.heap.release(ptr);
      this.pinnedBytes -= bytes;
    });
    this.residentRegistry = new FinalizationRegistry((ptr) => this.freeResident(ptr));
    this.workBytes = ex.gemmWorkspaceBytes();
  }

  private readonly residentSizes = new Map<number, number>();

  private freeResident(ptr: number): void {
    const bytes = this.residentSizes.get(ptr);
    if (bytes === undefined) return;
    this.residentSizes.delete(ptr);
    this.heap.release(ptr);
    this.residentBytes -= bytes;
  }

  /**
   * A zero-filled Float64Array of `length` entries living in wasm memory (the kernels read it in
   * place), or null if the memory cannot hold it.  Freed by `release` or when it is garbage-collected.
   * Not counted against the pin budget: it is the only copy of its data.
   */
  allocResident(length: number): Float64Array | null {
    if (!(Number.isInteger(length) && length >= 0)) throw new RangeError(`allocResident: length must be an integer ≥ 0 (got ${length})`);
    const ptr = this.heap.alloc(Math.max(8, length * 8));
    if (ptr < 0) return null;
    const f = this.heap.f64();
    const X = new Float64Array(f.buffer, ptr, length);
    X.fill(0); // the block may have held earlier data
    this.residents.set(X, ptr);
    this.residentSizes.set(ptr, length * 8);
    this.residentBytes += length * 8;
    this.residentRegistry.register(X, ptr, X);
    return X;
  }

  /**
   * Frees a resident array now — X itself, or a `residentSubarray` of it (then the whole parent block
   * is freed).  X, its parent and all their subarrays must not be used afterwards.  No-op otherwise.
   */
  release(X: Float64Array): void {
    const root = residentParents.get(X) ?? X;
    const ptr = this.residents.get(root);
    if (ptr === undefined) return;
    this.residents.delete(root);
    this.residentRegistry.unregister(root);
    this.freeResident(ptr);
  }

  /** Whether X is a view into wasm memory (a resident array or a subarray of one). */
  isResident(X: Float64Array): boolean {
    return this.heap.owns(X);
  }

  /** Bytes held by live resident arrays. */
  residentTotal(): number {
    return this.residentBytes;
  }

  private probeIndex(len: number, k: number): number {
    return len <= PROBES ? Math.min(k, len - 1) : Math.floor((k * (len - 1)) / (PROBES - 1));
  }

  private fill(p: Pin, X: Float64Array): void {
    this.heap.put(p.ptr, X, 0, p.len);
    for (let k = 0; k < PROBES; k++) p.probes[k] = X[this.probeIndex(p.len, k)];
  }

  /**
   * Byte offset of the cached copy of X[0 … len) (copied on first use; refreshed if a probe entry
   * changed or the length grew), or −1 when it does not fit the budget or the memory.
   */
  pinned(X: Float64Array, len: number): number {
    if (this.heap.owns(X)) return len <= X.length ? X.byteOffset : -1;
    const p = this.pins.get(X);
    if (p !== undefined) {
      if (p.len >= len) {
        let same = true;
        for (let k = 0; k < PROBES; k++) {
          const a = X[this.probeIndex(p.len, k)], b = p.probes[k];
          if (!(a === b || (a !== a && b !== b))) { same = false; break; }
        }
        if (!same) this.fill(p, X);
        return p.ptr;
      }
      this.unpin(X);
    }
    if (len === 0) return -1;
    const bytes = len * 8;
    if (this.pinnedBytes + bytes > this.pinBudget) return -1;
    const ptr = this.heap.alloc(bytes);
    if (ptr < 0) return -1;
    const pin: Pin = { ptr, len, probes: new Float64Array(PROBES) };
    this.fill(pin, X);
    this.pins.set(X, pin);
    this.pinnedBytes += bytes;
    this.registry.register(X, { ptr, bytes }, pin);
    return ptr;
  }

  /** Drops the cached copy of X (after changing X in place, or to free memory early). */
  unpin(X: Float64Array): void {
    const p = this.pins.get(X);
    if (p === undefined) return;
    this.pins.delete(X);
    this.registry.unregister(p);
    this.heap.release(p.ptr);
    this.pinnedBytes -= p.len * 8;
  }

  /** Whether X currently has a cached copy. */
  isPinned(X: Float64Array): boolean {
    return this.pins.has(X);
  }

  /** Bytes held by cached copies. */
  pinnedTotal(): number {
    return this.pinnedBytes;
  }

  /** A pinned copy if X has one, else a temporary copy (freed by the caller via `done`). */
  private operand(X: Float64Array, len: number, temps: number[]): number {
    if (this.heap.owns(X) && len <= X.length) return X.byteOffset;
    const p = this.pins.get(X);
    if (p !== undefined && p.len >= len) return this.pinned(X, len);
    const ptr = this.heap.alloc(len * 8);
    if (ptr < 0) return -1;
    temps.push(ptr);
    this.heap.put(ptr, X, 0, len);
    return ptr;
  }

  private scratch(bytes: number, temps: number[]): number {
    const ptr = this.heap.alloc(bytes);
    if (ptr >= 0) temps.push(ptr);
    return ptr;
  }

  private done(temps: number[]): void {
    for (let k = temps.length - 1; k >= 0; k--) this.heap.release(temps[k]);
  }

  /** out += Σ_{ν∈[n0,n1)} f(λ_ν) x_ν (see rowPass in wasm/kernels.ts); undefined = not run. */
  rowPass(
    X: Float64Array, n0: number, n1: number, D: number, w: Float64Array, out: Float64Array,
    kind: number, a: number, c: number, d: number, y: number, v: number, b: number,
  ): number | undefined {
    if (n1 * D > X.length) throw new RangeError(`rowPass: X has ${X.length} entries, rows up to ${n1} need ${n1 * D}`);
    const xp = this.pinned(X, X.length);
    if (xp < 0) return undefined;
    const temps: number[] = [];
    const wp = this.scratch(D * 16, temps);
    if (wp < 0) return undefined;
    const op = wp + D * 8;
    this.heap.put(wp, w, 0, D);
    this.heap.put(op, out, 0, D);
    const ss = this.ex.rowPass(xp, n0, n1, D, wp, op, kind, a, c, d, y, v, b);
    this.heap.get(op, out, 0, D);
    this.done(temps);
    return ss;
  }

  /**
   * The chunks k0 … k1−1 of one pass (rows lo[k] … hi[k]−1 of X each) in one call: partial[k·D …] =
   * that chunk's Σ f(λ) x (overwritten, from zero) and ss[k] = its Σ λ², exactly as one `rowPass` per
   * chunk into a zeroed out would give.  Returns false if not run.
   */
  rowPassChunks(
    X: Float64Array, D: number, w: Float64Array, lo: Int32Array, hi: Int32Array, k0: number, k1: number,
    partial: Float64Array, ss: Float64Array,
    kind: number, a: number, c: number, d: number, y: number, v: number, b: number,
  ): boolean {
    const m = k1 - k0;
    if (m <= 0) return true;
    let top = 0;
    for (let k = k0; k < k1; k++) if (hi[k] > top) top = hi[k];
    if (top * D > X.length) throw new RangeError(`rowPassChunks: X has ${X.length} entries, rows up to ${top} need ${top * D}`);
    const xp = this.pinned(X, X.length);
    if (xp < 0) return false;
    const temps: number[] = [];
    // w (D), the partials (m·D), ss (m) and the bounds (2m int32 = m f64 slots), one block.
    const wp = this.scratch((D + m * D + 2 * m) * 8, temps);
    if (wp < 0) return false;
    const pp = wp + D * 8, sp = pp + m * D * 8, bp = sp + m * 8;
    this.heap.put(wp, w, 0, D);
    const bounds = new Int32Array(this.heap.f64().buffer, bp, 2 * m);
    for (let k = 0; k < m; k++) { bounds[2 * k] = lo[k0 + k]; bounds[2 * k + 1] = hi[k0 + k]; }
    this.ex.rowPassChunks(xp, D, wp, m, bp, pp, sp, kind, a, c, d, y, v, b);
    this.heap.get(pp, partial, k0 * D, m * D);
    this.heap.get(sp, ss, k0, m);
    this.done(temps);
    return true;
  }

  /**
   * CP sample pass over rows [n0, n1) for the r factors at U[uOff + a·D]: s2 += Σ y², s4 += Σ y⁴,
   * A += Σ y³ x and B += Σ y x when given (A, B r×D).  Returns false if not run.
   */
  cpPass(
    X: Float64Array, n0: number, n1: number, D: number, U: Float64Array, uOff: number, r: number,
    s2: Float64Array, s4: Float64Array, A: Float64Array | null, B: Float64Array | null,
  ): boolean {
    if (n1 * D > X.length) throw new RangeError(`cpPass: X has ${X.length} entries, rows up to ${n1} need ${n1 * D}`);
    const xp = this.pinned(X, X.length);
    if (xp < 0) return false;
    const rP = (r + 3) & ~3;
    // (Called once per chunk of every CP loss evaluation: no temporary arrays or views here.)
    const base = this.heap.alloc((D * rP + 2 * 64 * rP + 2 * r + (A ? r * D : 0) + (B ? r * D : 0)) * 8);
    if (base < 0) return false;
    const ut = base, yb = ut + D * rP * 8, zb = yb + 64 * rP * 8, s2p = zb + 64 * rP * 8, s4p = s2p + r * 8;
    const ap = A ? s4p + r * 8 : 0, bp = B ? s4p + r * 8 + (A ? r * D * 8 : 0) : 0;
    const f = this.heap.f64();
    const o = ut >> 3;
    f.fill(0, o, o + D * rP);
    for (let a = 0; a < r; a++) {
      const ua = uOff + a * D;
      for (let i = 0; i < D; i++) f[o + i * rP + a] = U[ua + i];
    }
    this.heap.put(s2p, s2, 0, r);
    this.heap.put(s4p, s4, 0, r);
    if (A) this.heap.put(ap, A, 0, r * D);
    if (B) this.heap.put(bp, B, 0, r * D);
    this.ex.cpPass(xp, n0, n1, D, ut, r, rP, yb, zb, s2p, s4p, ap, bp, A ? 1 : 0);
    const g = this.heap.f64(); // (the same view: nothing grows the memory during the call)
    copyOut(g, s2p >> 3, s2, r);
    copyOut(g, s4p >> 3, s4, r);
    if (A) copyOut(g, ap >> 3, A, r * D);
    if (B) copyOut(g, bp >> 3, B, r * D);
    this.heap.release(base);
    return true;
  }

  /** C = α op(A) op(B) + β C (see gemm in index.ts); false if not run. */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, A: Float64Array, B: Float64Array, beta: number, C: Float64Array,
  ): boolean {
    const temps: number[] = [];
    const ap = this.operand(A, m * k, temps);
    const bp = ap < 0 ? -1 : this.operand(B, k * n, temps);
    const cp = bp < 0 ? -1 : this.scratch(m * n * 8, temps);
    const wp = cp < 0 ? -1 : this.scratch(this.workBytes, temps);
    if (wp < 0) { this.done(temps); return false; }
    const f = this.heap.f64(), o = cp >> 3, len = m * n;
    if (beta === 0) f.fill(0, o, o + len);
    else {
      f.set(C.subarray(0, len), o);
      if (beta !== 1) for (let i = o; i < o + len; i++) f[i] *= beta;
    }
    this.ex.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, ap, bp, cp, wp);
    this.heap.get(cp, C, 0, len);
    this.done(temps);
    return true;
  }

  /** y = α op(A) x + β y; false if not run. */
  gemv(trans: boolean, m: number, n: number, alpha: number, A: Float64Array, x: Float64Array, beta: number, y: Float64Array): boolean {
    const temps: number[] = [];
    const ap = this.operand(A, m * n, temps);
    const nx = trans ? m : n, ny = trans ? n : m;
    const xp = ap < 0 ? -1 : this.scratch((nx + ny) * 8, temps);
    if (xp < 0) { this.done(temps); return false; }
    const yp = xp + nx * 8;
    this.heap.put(xp, x, 0, nx);
    if (!trans) {
      if (beta !== 0) this.heap.put(yp, y, 0, ny);
      this.ex.gemvN(m, n, alpha, ap, xp, beta, yp);
    } else {
      const f = this.heap.f64(), o = yp >> 3;
      if (beta === 0) f.fill(0, o, o + ny);
      else {
        f.set(y.subarray(0, ny), o);
        if (beta !== 1) for (let i = o; i < o + ny; i++) f[i] *= beta;
      }
      this.ex.gemvT(m, n, alpha, ap, xp, yp);
    }
    this.heap.get(yp, y, 0, ny);
    this.done(temps);
    return true;
  }

  /**
   * C = α Xᵀ diag(s) X + β C.  X is used from its pinned copy if it has one; otherwise it is streamed
   * through wasm memory in row chunks of ≤ 8 MiB (the copy is O(nD) against O(nD²) flops).
   */
  syrk(X: Float64Array, n: number, D: number, s: Float64Array | null, alpha: number, beta: number, C: Float64Array): boolean {
    const temps: number[] = [];
    const cp = this.scratch(D * D * 8, temps);
    const wp = cp < 0 ? -1 : this.scratch(this.workBytes, temps);
    if (wp < 0) { this.done(temps); return false; }
    const pinnedX = this.pins.has(X) || this.heap.owns(X) ? this.pinned(X, n * D) : -1;
    const chunk = pinnedX >= 0 ? n : Math.max(1, Math.min(n, Math.floor((8 * 2 ** 20) / (8 * Math.max(1, D)))));
    const xp = pinnedX >= 0 ? pinnedX : this.scratch(chunk * D * 8, temps);
    const sp = xp < 0 || s === null ? 0 : this.scratch(chunk * 8, temps);
    if (xp < 0 || sp < 0) { this.done(temps); return false; }
    const f = this.heap.f64(), o = cp >> 3, len = D * D;
    if (beta === 0) f.fill(0, o, o + len);
    else {
      f.set(C.subarray(0, len), o);
      if (beta !== 1) for (let i = o; i < o + len; i++) f[i] *= beta;
    }
    for (let r0 = 0; r0 < n; r0 += chunk) {
      const m = Math.min(chunk, n - r0);
      let xr = xp;
      if (pinnedX >= 0) xr = xp + r0 * D * 8;
      else this.heap.put(xp, X, r0 * D, m * D);
      if (s !== null) this.heap.put(sp, s, r0, m);
      this.ex.syrkUpper(xr, m, D, s === null ? 0 : sp, alpha, cp, wp);
    }
    this.ex.mirror(cp, D);
    this.heap.get(cp, C, 0, len);
    this.done(temps);
    return true;
  }

  /**
   * Saad–Solla η² pair sums Σ_ab w_a w_b asin(r_ab) of the pairs p0 ≤ p < p1 (i ≤ k, row by row) into
   * out[0 … p1 − p0) (see i4Sums in wasm/kernels.ts).  All four arrays must be resident
   * (`allocResident`): C the n×n covariance with ≥ 2 finite entries past n², w the n weights followed
   * by ≥ 4 zeros, S scratch of ≥ `i4ScratchLength(n)` entries.
   */
  i4Sums(n: number, K: number, p0: number, p1: number, C: Float64Array, w: Float64Array, S: Float64Array, out: Float64Array): void {
    const P = (K * (K + 1)) / 2;
    if (!(Number.isInteger(p0) && Number.isInteger(p1) && 0 <= p0 && p0 <= p1 && p1 <= P)) throw new RangeError(`i4Sums: pair range [${p0}, ${p1}) outside [0, ${P}]`);
    if (C.length < n * n + 2 || w.length < n + 4 || S.length < i4ScratchLength(n) || out.length < p1 - p0) throw new RangeError("i4Sums: an array is too short");
    if (!(this.heap.owns(C) && this.heap.owns(w) && this.heap.owns(S) && this.heap.owns(out))) throw new RangeError("i4Sums: the arrays must be resident (allocResident)");
    this.ex.i4Sums(n, K, p0, p1, C.byteOffset, w.byteOffset, S.byteOffset, out.byteOffset);
  }

  /** Runs `iters` rounds of the f64x2 multiply–add microkernel (48 flops per round; for peak estimates). */
  peakSimd(iters: number): number {
    return this.ex.peakSimd(iters, 0.5);
  }

  /** Runs `iters` rounds of eight L1-resident v128 loads (for the load-throughput estimate). */
  peakLoads(iters: number): number {
    return this.ex.peakLoads(iters);
  }
}

/** Entries of the scratch array of `WasmKernels.i4Sums` for n fields. */
export function i4ScratchLength(n: number): number {
  return 7 * (n + 4) + 44;
}

let loaded: WasmKernels | null | undefined;
let loadError = "";

/** The SIMD kernels, or null when unavailable (`wasmUnavailableReason()` says why). */
export function wasmKernels(): WasmKernels | null {
  // Called by every kernel call: the one-time loader is a function of its own, so that this hot
  // function stays tiny for V8 to optimise (it compiled the whole loader into it, in every thread).
  return loaded !== undefined ? loaded : loadWasmKernels();
}

function loadWasmKernels(): WasmKernels | null {
  loaded = null;
  try {
    if (typeof WebAssembly !== "object") loadError = "no WebAssembly in this runtime";
    else if (WASM_KERNELS_BASE64 === null) loadError = "the kernels binary was not built (AssemblyScript missing at install)";
    else {
      const bin = atob(WASM_KERNELS_BASE64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      if (!WebAssembly.validate(bytes)) loadError = "WebAssembly SIMD is not supported by this runtime";
      else {
        // Shared memory (4 GiB maximum reserved as address space, committed only as touched).
        const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_BYTES / PAGE, shared: true });
        const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
        loaded = new WasmKernels(inst.exports as unknown as Exports, memory);
      }
    }
  } catch (e) {
    loadError = `could not instantiate the kernels: ${(e as Error).message}`;
  }
  return loaded;
}

export function wasmUnavailableReason(): string {
  wasmKernels();
  return loaded ? "" : loadError;
}

/**
 * X.subarray(begin, end) that keeps X alive as long as it is reachable (for resident arrays, whose
 * block is freed when the parent is collected; a plain subarray does not hold its parent).
 */
export function residentSubarray(X: Float64Array, begin: number, end: number): Float64Array {
  const sub = X.subarray(begin, end);
  residentParents.set(sub, residentParents.get(X) ?? X);
  return sub;
}

// ---------------------------------------------------------------------------------------------
// Tetrachoric series sums of the mixture ODE (branch mix32; append-only block): the `tetraSum`
// export of wasm/kernels.ts, reached by src/kernels/tetra.ts (its TS reference).  Every array must be
// resident (a view into the kernels' memory, see `allocResident`): passed by byte offset, no copies.

type TetraSumExport = (
  B: number, ldb: number, col: number, fc: number, isq: number, h: number, phi: number, vv: number,
  n: number, np: number, R: number, Nt: number, need: number, Ut: number,
  tab: number, bins: number, rMax: number, sqi: number, invs: number, outBig: number, Td: number,
) => number;

/** Runs the SIMD `tetraSum` on resident arrays (see src/kernels/tetra.ts); returns the series total. */
export function wasmTetraSum(
  k: WasmKernels, B: Float64Array, ldb: number, col: Float64Array, fc: Float64Array, isq: Float64Array,
  h: Float64Array, phi: Float64Array, vv: Float64Array, n: number, np: number, R: Float64Array,
  Nt: Float64Array, need: Float64Array, Ut: Float64Array, tab: Float64Array, bins: number, rMax: number,
  sqi: Float64Array, invs: Float64Array, out: Float64Array, Td: Float64Array,
): number {
  const f = (k.ex as unknown as { tetraSum: TetraSumExport }).tetraSum;
  if (!k.isResident(B) || !k.isResident(Ut) || !k.isResident(out)) throw new Error("wasmTetraSum: every array must be resident in the kernels' memory");
  return f(B.byteOffset, ldb, col.byteOffset, fc.byteOffset, isq.byteOffset, h.byteOffset, phi.byteOffset, vv.byteOffset, n, np,
    R.byteOffset, Nt.byteOffset, need.byteOffset, Ut.byteOffset, tab.byteOffset, bins, rMax, sqi.byteOffset, invs.byteOffset, out.byteOffset, Td.byteOffset);
}

type MixtureDriftExport = (
  G: number, K: number, nc: number, Gm: number, cDrift: number, etaL2: number, Qg: number, Mt: number, MQ: number, W: number,
  noise: number, cNoise: number, second: number, out: number,
) => number;

/**
 * The mixture ODE's per-group drift (`mixtureDrift` of wasm/kernels.ts; TS reference: the loop in
 * MixtureOde.rhs) on resident arrays; W is a resident gemm workspace of `gemmWorkspaceBytes()` bytes.
 */
export function wasmMixtureDrift(
  k: WasmKernels, G: number, K: number, nc: number, Gm: Float64Array, cDrift: Float64Array, etaL2: number,
  Qg: Float64Array, Mt: Float64Array, MQ: Float64Array, W: Float64Array, noise: Float64Array, cNoise: Float64Array,
  second: boolean, out: Float64Array,
): void {
  if (!k.isResident(Gm) || !k.isResident(Qg) || !k.isResident(out) || !k.isResident(W)) throw new Error("wasmMixtureDrift: every array must be resident in the kernels' memory");
  const f = (k.ex as unknown as { mixtureDrift: MixtureDriftExport }).mixtureDrift;
  f(G, K, nc, Gm.byteOffset, cDrift.byteOffset, etaL2, Qg.byteOffset, Mt.byteOffset, MQ.byteOffset, W.byteOffset, noise.byteOffset, cNoise.byteOffset, second ? 1 : 0, out.byteOffset);
}

/** Bytes of the gemm workspace the SIMD kernels need. */
export function wasmGemmWorkspaceBytes(k: WasmKernels): number {
  return k.ex.gemmWorkspaceBytes();
}

// ---------------------------------------------------------------------------------------------
// GBS integrator loops and sparse row sums (branch ssserial; append-only block): the `gbsAxpy`,
// `gbsAxpyStab`, `gbsExtrapolate`, `allFinite` and `rowSums` exports of wasm/kernels.ts, reached by
// src/kernels/gbs-loops.ts and src/kernels/row-sums.ts (their TS references).  Every array must be
// resident (passed by byte offset, no copies).

export interface GbsExports {
  gbsAxpy(n: number, a: number, x: number, d: number, out: number): void;
  gbsAxpyStab(n: number, a: number, x: number, d: number, out: number, dz: number, scal: number, del: number): void;
  gbsExtrapolate(n: number, j: number, hj: number, yh1: number, yh2: number, dy: number, tab1: number, stride: number, fac: number, y: number, scal: number, aTol: number, rTol: number): number;
  allFinite(x: number, n: number): number;
}

/**
 * The raw exports (byte offsets in, no checks) for a caller that has verified once that its arrays
 * are resident and long enough (GbsWork: its own block).
 */
export function gbsExports(k: WasmKernels): GbsExports {
  return k.ex as unknown as GbsExports;
}

function gbsResident(k: WasmKernels, what: string, ...arrays: Float64Array[]): GbsExports {
  for (const a of arrays) if (!k.isResident(a)) throw new Error(`${what}: every array must be resident in the kernels' memory`);
  return k.ex as unknown as GbsExports;
}

/**
 * Sparse row sums by affine runs (SIMD `rowSums`; TS reference tsRowSums of ./row-sums.ts):
 * out[o + j] for every row of the runs.  The caller (RowSums.apply) has checked that ints, coefs, x
 * and out are views into the kernels' memory and long enough.
 */
export function wasmRowSums(k: WasmKernels, ints: Int32Array, coefs: Float64Array, runs: number, x: Float64Array, out: Float64Array, o: number): void {
  (k.ex as unknown as { rowSums(ints: number, coefs: number, runs: number, x: number, out: number): void }).rowSums(ints.byteOffset, coefs.byteOffset, runs, x.byteOffset, out.byteOffset + 8 * o);
}

/** Whether x[0 … n) are all finite (SIMD `allFinite`; TS reference tsAllFinite of ./gbs-loops.ts); x resident. */
export function wasmAllFinite(k: WasmKernels, x: Float64Array, n: number): boolean {
  if (x.length < n) throw new RangeError("wasmAllFinite: x is shorter than n");
  return gbsResident(k, "wasmAllFinite", x).allFinite(x.byteOffset, n) === 1;
}
