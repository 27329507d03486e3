/**
 * The η² pair sums of the Saad–Solla ODEs, S_ik = Σ_ab w_a w_b asin(r_ab^{(ik)}) for every pair
 * i ≤ k of students (K(K+1)/2 pairs, n² arcsines each: the K⁴ part of the RHS), on the
 * WebAssembly-SIMD kernel `i4Sums` of wasm/kernels.ts (src/kernels/wasm.ts) or in TS (`i4SumTs`, the
 * reference), optionally spread over threads.
 *
 * Threads.  The pairs are independent: a fixed split of the pair list into chunks (`i4ChunkBounds`, a
 * function of K only) runs on a KernelTeam (src/kernels/parallel.ts; chunk kind "i4SumsChunk"), each
 * chunk writing its own pairs' sums into a shared output.  Every pair's sum is computed by the same
 * code from the same inputs whichever thread runs it, so the sums — hence whole trajectories — are
 * bit-identical for every thread count.  Each thread keeps its own copy of C and w in its wasm
 * memory, refreshed when the caller's generation counter moves (once per RHS).
 *
 * `setI4Backend("ts")` forces the TS path for new instances (tests, benchmarks).
 */
import { KernelTeam, sharedFloat64 } from "../kernels/parallel.js";
import { i4ScratchLength, wasmKernels, type WasmKernels } from "../kernels/wasm.js";

export type I4Backend = "wasm-simd" | "ts";
let backend: I4Backend = "wasm-simd";

/** Choose the backend of new I4Sums (hence SaadSollaOde) instances; returns the previous choice. */
export function setI4Backend(b: I4Backend): I4Backend {
  const prev = backend;
  backend = b;
  return prev;
}
export function i4Backend(): I4Backend {
  return backend;
}

/**
 * Σ_ab w_a w_b asin(r_ab) for the pair (i, k) — the TS reference of the SIMD kernel.  With α_a = C_ia,
 * β_a = C_ka and Λ4 = (1 + C_ii)(1 + C_kk) − C_ik²,
 *   Λ0(a,b) = Λ4 C_ab − α_a X_b − β_a Y_b,  X_b = (1+C_kk)α_b − C_ik β_b,  Y_b = (1+C_ii)β_b − C_ik α_b,
 *   Λ1(a)   = Λ4(1 + C_aa) − α_a X_a − β_a Y_a,
 * (the expansions of REFERENCE.md regrouped), so the correlation is
 *   r_ab = s_a (Λ4 C_ab s_b − α_a X̂_b − β_a Ŷ_b),  s = Λ1^{-1/2}, X̂ = s X, Ŷ = s Y,
 * three multiplies and two subtractions per element before the arcsine; the sum runs over b ≥ a (r is
 * symmetric).  O(n) set-up (into the scratch sV, xV, yV of length ≥ n) and O(n²) work, no allocation.
 */
export function i4SumTs(C: ArrayLike<number>, w: ArrayLike<number>, n: number, i: number, k: number, sV: Float64Array, xV: Float64Array, yV: Float64Array): number {
  const c11 = 1 + C[i * n + i], c22 = 1 + C[k * n + k], c12 = C[i * n + k];
  const l4 = c11 * c22 - c12 * c12;
  const io = i * n, ko = k * n;
  for (let b = 0; b < n; b++) {
    const al = C[io + b], be = C[ko + b];
    const X = c22 * al - c12 * be, Y = c11 * be - c12 * al;
    const l1 = l4 * (1 + C[b * n + b]) - al * X - be * Y;
    const s = 1 / Math.sqrt(l1);
    sV[b] = s;
    xV[b] = X * s;
    yV[b] = Y * s;
  }
  let s4 = 0;
  for (let a = 0; a < n; a++) {
    const wa = w[a];
    if (wa === 0) continue;
    const sa = sV[a], al = C[io + a], be = C[ko + a];
    const ao = a * n;
    const f = l4 * sa, ga = al * sa, ha = be * sa;
    let r = f * C[ao + a] * sa - ga * xV[a] - ha * yV[a];
    r = r > 1 ? 1 : r < -1 ? -1 : r;
    const diag = wa * Math.asin(r);
    let off = 0;
    for (let b = a + 1; b < n; b++) {
      let x = f * C[ao + b] * sV[b] - ga * xV[b] - ha * yV[b];
      x = x > 1 ? 1 : x < -1 ? -1 : x;
      off += w[b] * Math.asin(x);
    }
    s4 += wa * (diag + 2 * off);
  }
  return s4;
}

/** Chunk boundaries of the pair list: ⌈P/32⌉ pairs per chunk (a function of K only). */
export function i4ChunkBounds(K: number): Int32Array {
  const P = (K * (K + 1)) / 2;
  const per = Math.max(1, Math.ceil(P / 32));
  const b = [0];
  for (let p = per; p < P; p += per) b.push(p);
  b.push(P);
  return Int32Array.from(b);
}

/** What a chunk needs (structured-cloned to the workers once; the arrays are shared). */
export interface I4ChunkData {
  n: number;
  K: number;
  /** 1: the SIMD kernel, 0: TS. */
  simd: number;
  /** Covariance (n² + 8 entries) and weights (n + 8, zero-padded), written by the caller per call. */
  C: Float64Array;
  w: Float64Array;
  /** [0]: generation of C and w (incremented by the caller before each call). */
  gen: Int32Array;
  bounds: Int32Array;
  /** The K(K+1)/2 pair sums. */
  out: Float64Array;
}

/** Per-thread state of a chunk job: the thread's resident copies (SIMD) or TS scratch. */
interface ThreadState {
  gen: number;
  kern: WasmKernels | null;
  C: Float64Array;
  w: Float64Array;
  S: Float64Array;
  out: Float64Array;
}
const threadStates = new WeakMap<I4ChunkData, ThreadState>();

function threadState(data: I4ChunkData): ThreadState {
  let st = threadStates.get(data);
  if (st) return st;
  const { n, K } = data;
  const kern = data.simd ? wasmKernels() : null;
  if (data.simd && !kern) throw new Error("i4SumsChunk: the WebAssembly kernels are unavailable in this thread");
  const alloc = (len: number): Float64Array => {
    const x = kern ? kern.allocResident(len) : new Float64Array(len);
    if (!x) throw new Error("i4SumsChunk: out of WebAssembly memory");
    return x;
  };
  st = { gen: -1, kern, C: alloc(n * n + 8), w: alloc(n + 8), S: alloc(i4ScratchLength(n)), out: alloc((K * (K + 1)) / 2) };
  threadStates.set(data, st);
  return st;
}

/** Chunk kind "i4SumsChunk" (src/kernels/parallel.ts): the pairs [bounds[c], bounds[c+1]) into out. */
export function i4SumsChunk(data: I4ChunkData, chunk: number): void {
  const p0 = data.bounds[chunk], p1 = data.bounds[chunk + 1];
  const st = threadState(data);
  const gen = Atomics.load(data.gen, 0);
  if (st.gen !== gen) {
    st.C.set(data.C);
    st.w.set(data.w);
    st.gen = gen;
  }
  if (st.kern) {
    st.kern.i4Sums(data.n, data.K, p0, p1, st.C, st.w, st.S, st.out);
    data.out.set(st.out.subarray(0, p1 - p0), p0);
  } else {
    pairsTs(data.n, data.K, p0, p1, st.C, st.w, st.S, data.out);
  }
}

/** The TS sums of pairs [p0, p1) into out[p0 …]. */
function pairsTs(n: number, K: number, p0: number, p1: number, C: Float64Array, w: Float64Array, S: Float64Array, out: Float64Array): void {
  const L = n + 4;
  const sV = S.subarray(0, L), xV = S.subarray(L, 2 * L), yV = S.subarray(2 * L, 3 * L);
  let p = 0;
  for (let i = 0; i < K; i++) for (let k = i; k < K; k++, p++) {
    if (p >= p0 && p < p1) out[p] = i4SumTs(C, w, n, i, k, sV, xV, yV);
  }
}

/** Work (arcsines) per call below which threads are not used: the dispatch costs more than it saves. */
const MIN_PARALLEL_WORK = 200_000;

/**
 * The pair sums of one ODE: fill `C` (n×n, row-major; entries past n² are padding) and `w` (length n;
 * the padding must stay zero), then `sums()` returns the K(K+1)/2 sums (pairs i ≤ k row by row; a
 * view valid until the next call).
 */
export class I4Sums {
  readonly backend: I4Backend;
  readonly C: Float64Array;
  readonly w: Float64Array;
  private readonly data: I4ChunkData | null;
  private readonly team: KernelTeam | null;
  private readonly job: number;
  private readonly local: (chunk: number) => void;
  private readonly st: ThreadState | null;
  private readonly P: number;

  constructor(readonly n: number, readonly K: number, threads = 1) {
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a positive integer (got ${threads})`);
    const kern = backend === "wasm-simd" ? wasmKernels() : null;
    this.backend = kern ? "wasm-simd" : "ts";
    this.P = (K * (K + 1)) / 2;
    const par = threads > 1 && this.P * n * n >= MIN_PARALLEL_WORK;
    if (!par) {
      // In-thread: C and w live where the kernel reads them (resident: no copy per call).
      const alloc = (len: number) => (kern ? kern.allocResident(len) : null) ?? new Float64Array(len);
      this.C = alloc(n * n + 8);
      this.w = alloc(n + 8);
      const resident = kern !== null && kern.isResident(this.C) && kern.isResident(this.w);
      const S = resident ? kern.allocResident(i4ScratchLength(n)) : null;
      const out = resident ? kern.allocResident(this.P) : null;
      this.backend = resident && S && out ? "wasm-simd" : "ts";
      this.st = { gen: 0, kern: this.backend === "wasm-simd" ? kern : null, C: this.C, w: this.w, S: S ?? new Float64Array(i4ScratchLength(n)), out: out ?? new Float64Array(this.P) };
      this.data = null;
      this.team = null;
      this.job = -1;
      this.local = () => undefined;
    } else {
      this.C = sharedFloat64(n * n + 8);
      this.w = sharedFloat64(n + 8);
      const data: I4ChunkData = {
        n, K, simd: this.backend === "wasm-simd" ? 1 : 0, C: this.C, w: this.w,
        gen: new Int32Array(new SharedArrayBuffer(4)), bounds: i4ChunkBounds(K), out: sharedFloat64(this.P),
      };
      this.data = data;
      this.st = null;
      this.team = new KernelTeam(threads);
      this.job = this.team.register(import.meta.url, "i4SumsChunk", data);
      this.local = (chunk) => i4SumsChunk(data, chunk);
    }
  }

  /** The pair sums for the current C and w. */
  sums(): Float64Array {
    const { n, K, P } = this;
    if (this.st) {
      const st = this.st;
      if (st.kern) st.kern.i4Sums(n, K, 0, P, st.C, st.w, st.S, st.out);
      else pairsTs(n, K, 0, P, st.C, st.w, st.S, st.out);
      return st.out;
    }
    const data = this.data!;
    Atomics.add(data.gen, 0, 1);
    this.team!.run(this.job, data.bounds.length - 1, this.local);
    return data.out;
  }

  /** Threads in use (1 when the work is too small to share). */
  get threads(): number {
    return this.team ? this.team.threads : 1;
  }

  /** Chunks run so far, in all and by worker threads. */
  get chunks(): { total: number; byWorkers: number } {
    return this.team ? this.team.chunks : { total: 0, byWorkers: 0 };
  }

  /** Resolves once the worker threads (if any) are started and loaded. */
  ready(): Promise<void> {
    return this.team ? this.team.ready() : Promise.resolve();
  }

  /** Stop the worker threads, if any (idempotent; `sums` must not be called afterwards). */
  close(): void {
    this.team?.close();
  }
}
