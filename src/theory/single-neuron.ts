/**
 * Single-neuron gradient flow of IG22 (eqs. 3, 5, 16): right-hand sides for `solve`.
 *
 * Neuron φ(x) = v σ(w·x + b) with fixed v and b, loss ½(y − φ)², M classes with weights π_μ
 * (Σ π_μ = 1; IG22's 1/M for balanced classes, or the empirical fractions n_μ/P of a finite data
 * set, which makes the flow the exact full-batch gradient of the empirical loss).  Time is the
 * gradient-descent "learning time": Euler with dt = η is full-batch gradient descent with rate η.
 *
 * Variants (all evaluate dw/dt = Σ_μ π_μ · (class-μ drift)):
 *
 *   gaussian  (c2^μ + 3 c4 q^μ) C^μ w,                     q^μ = wᵀ C^μ w            (ΔT = 0)
 *   full      (c2^μ + 3 c4 q^μ) C^μ w + c4 ΔT̂^μ w⊗3,      ΔT̂ from the class's n_μ samples,
 *             (ΔT̂ w⊗3)_i = (1/n) Σ_ν λ_ν³ x_νi − 3 q̂ (Ĉ w)_i,  λ_ν = x_ν·w,  Ĉ w = (1/n) Σ λ_ν x_ν,
 *             q̂ = (1/n) Σ λ_ν²   — contracted implicitly in O(n D), never a D⁴ tensor.
 *             With C^μ = Ĉ^μ (covariance "sample") the two terms collapse to one fused pass:
 *             (1/n) Σ_ν (c2 λ_ν + c4 λ_ν³) x_ν.
 *   cp        (c2^μ + 3 c4 q^μ) C^μ w + c4 Σ_a γ_a (u_a·w)³ u_a   (ΔT^μ ≈ Σ_a γ_a u_a⊗4, given factors)
 *   exact     (1/n) Σ_ν v (y^μ − v σ(λ_ν + b)) σ'(λ_ν + b) x_ν   (σ = erf(h/√2) or the cubic σ̃; no
 *             Taylor truncation — Euler with dt = η is full-batch GD on the same samples, exactly).
 *
 * C^μ is either the exact (translation-invariant) covariance of the class — applied densely for
 * D ≤ 1024 and by FFT above — or the sample second moment Ĉ^μ = (1/n) Σ x xᵀ of the class's samples
 * (uncentred: the data have zero mean by construction, and the cumulant split T = ΔT + 3 sym(C⊗C)
 * assumes it).  c2^μ, c4 come from `deriveFlowCoefficients` (symbolic, src/theory/coefficients.ts).
 *
 * All RHS closures are allocation-free: scratch buffers are allocated once per flow.
 */
import type { Jac, Rhs } from "../integrate/index.js";
import { gemv, pin, simdKernels, syrkWeighted } from "../kernels/index.js";
import { fftPlan } from "../stats/fft.js";
import { erf } from "../stats/special.js";
import { denseFromRow, geometrySize, spectrumOfRow, type Geometry } from "../data/kernels.js";
import { addCpContraction, addCpJacobian, type CpFactors } from "../analysis/cp-flow.js";
import { deriveFlowCoefficients, type FlowCoefficients } from "./coefficients.js";
import { flowGemv, flowSyrk, fusedRowPassF32 } from "./single-neuron-f32.js";
import { RowFn, rowFn } from "./row-fn.js";
import { KernelTeam, chunkBounds, fixedChunkRows, sharedFloat64, toShared } from "../kernels/parallel.js";

export type FlowVariant = "gaussian" | "full" | "cp" | "exact";
export const FLOW_VARIANTS: readonly FlowVariant[] = ["gaussian", "full", "cp", "exact"];
export type ExactActivation = "erf" | "cubic";

/** A symmetric linear operator w ↦ C w (allocation-free `apply`). */
export interface CovOperator {
  readonly D: number;
  apply(w: Float64Array, out: Float64Array): void;
  readonly description: string;
}

export { RowFn } from "./row-fn.js";

const SQRT_2_PI = Math.sqrt(2 / Math.PI);

/**
 * The hot loop of every sample-based RHS: out += Σ_ν f(λ_ν) x_ν with λ_ν = x_ν·w over all n rows.
 * Returns Σ_ν λ_ν².  Runs the WebAssembly-SIMD kernel when that backend is selected (bit-identical to
 * `tsFusedRowPass` except for the Erf kind, whose erf/exp may differ by a few ulp), else the TS loop.
 * Float32 samples (flow data.precision "float32") go to `fusedRowPassF32` (float64 accumulation, same order).
 */
export function fusedRowPass(
  X: Float64Array | Float32Array, n: number, D: number, w: Float64Array, out: Float64Array,
  kind: RowFn, a: number, c = 0, d = 0, y = 0, v = 0, b = 0,
): number {
  if (X instanceof Float32Array) return fusedRowPassF32(X, n, D, w, out, kind, a, c, d, y, v, b);
  return fusedRowPassRange(X, 0, n, D, w, out, kind, a, c, d, y, v, b);
}

/**
 * `fusedRowPass` over rows n0 … n1−1 only (blocks of four counted from n0), adding into `out`; the
 * entry point for data-parallel chunks.  X is the whole sample matrix (the SIMD backend caches a copy
 * keyed by X: it must not change after first use — see src/kernels/wasm.ts).
 */
export function fusedRowPassRange(
  X: Float64Array, n0: number, n1: number, D: number, w: Float64Array, out: Float64Array,
  kind: RowFn, a: number, c = 0, d = 0, y = 0, v = 0, b = 0,
): number {
  const k = n1 > n0 ? simdKernels() : null;
  if (k !== null) {
    const ss = k.rowPass(X, n0, n1, D, w, out, kind, a, c, d, y, v, b);
    if (ss !== undefined) return ss;
  }
  return tsFusedRowPass(X, n0, n1, D, w, out, kind, a, c, d, y, v, b);
}

/**
 * λ = x·w of the row at offset o, in the row pass's fixed order: four interleaved partial sums
 * S_k = Σ_{j ≡ k (mod 4)} x_j w_j, each in increasing j, combined as (S0 + S2) + (S1 + S3).  Four
 * independent add chains per row (the SIMD kernel keeps (S0, S1) and (S2, S3) in two vectors and runs
 * four rows at once: eight chains instead of the add latency of one).
 */
export function rowDot(X: Float64Array, o: number, w: Float64Array, D: number): number {
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
 * TS reference of the row pass over rows n0 … n1−1, in blocks of four from n0.  Returns Σ_ν λ_ν².
 * The summation order is fixed, so results are bit-reproducible, and the SIMD kernel (wasm/kernels.ts
 * rowPass) follows it exactly: λ of each row by `rowDot`; per block ss += λ0² + λ1² + λ2² + λ3² and
 * out_i += (f0 x0_i + f1 x1_i) + (f2 x2_i + f3 x3_i); leftover rows one at a time (ss += λ²,
 * out_i += f x_i).  A block's four rows (4D doubles) stay in L1 between the dot and the update.
 */
export function tsFusedRowPass(
  X: Float64Array, n0: number, n1: number, D: number, w: Float64Array, out: Float64Array,
  kind: RowFn, a: number, c = 0, d = 0, y = 0, v = 0, b = 0,
): number {
  let ss = 0;
  let nu = n0;
  for (; nu + 3 < n1; nu += 4) {
    const o0 = nu * D, o1 = o0 + D, o2 = o1 + D, o3 = o2 + D;
    const l0 = rowDot(X, o0, w, D), l1 = rowDot(X, o1, w, D), l2 = rowDot(X, o2, w, D), l3 = rowDot(X, o3, w, D);
    ss += l0 * l0 + l1 * l1 + l2 * l2 + l3 * l3;
    const f0 = rowFn(kind, l0, a, c, d, y, v, b), f1 = rowFn(kind, l1, a, c, d, y, v, b);
    const f2 = rowFn(kind, l2, a, c, d, y, v, b), f3 = rowFn(kind, l3, a, c, d, y, v, b);
    for (let i = 0; i < D; i++) {
      out[i] += (f0 * X[o0 + i] + f1 * X[o1 + i]) + (f2 * X[o2 + i] + f3 * X[o3 + i]);
    }
  }
  for (; nu < n1; nu++) {
    const o = nu * D;
    const l = rowDot(X, o, w, D);
    ss += l * l;
    const f = rowFn(kind, l, a, c, d, y, v, b);
    for (let i = 0; i < D; i++) out[i] += f * X[o + i];
  }
  return ss;
}

/** One pass of a RHS over a class's samples: f = rowFn(kind, λ; a, c, d, y, v, b). */
export interface RowPassSpec {
  X: Float64Array | Float32Array;
  n: number;
  kind: RowFn;
  a: number;
  c: number;
  d: number;
  y: number;
  v: number;
  b: number;
}

/**
 * Rows per chunk of a flow pass over n rows of dimension D: ≥ 2¹⁷/D rows (≈ 0.5 MFLOP, so a chunk
 * outweighs its dispatch), ≤ 64 chunks per pass, a multiple of 8 (so of the row blocks of four of `fusedRowPass`).
 * Depends on (n, D) only, never on the thread count, so the chunked sums are the same for every -j.
 */
export function flowChunkRows(n: number, D: number, override?: number): number {
  return fixedChunkRows(n, Math.max(64, Math.ceil(131072 / D)), 64, 8, override);
}

/** Shared data of a flow's chunked passes (structured-cloned to kernel workers; arrays shared). */
export interface FlowChunkData {
  D: number;
  /** The current w (written by the caller before each run). */
  w: Float64Array;
  /** Per pass: samples, and kind, a, c, d, y, v, b at params[7p …]. */
  X: (Float64Array | Float32Array)[];
  params: Float64Array;
  /** Per chunk: its pass and row range [lo, hi). */
  pass: Int32Array;
  lo: Int32Array;
  hi: Int32Array;
  /** Per chunk: partial Σ f(λ) x (D entries at chunk·D) and partial Σ λ². */
  partial: Float64Array;
  ss: Float64Array;
}

const flowOuts = new WeakMap<FlowChunkData, Float64Array[]>();

/**
 * Chunk kind "flowRowPassChunk" (src/kernels/parallel.ts): the rows [lo, hi) of one pass, by
 * `fusedRowPassRange` on the whole sample matrix (the SIMD backend caches X once; chunk bounds are
 * multiples of 8, hence of 4, so the row blocks are those of one unchunked pass), into the chunk's own partial slot
 * (from zero).  Float32 samples go to `fusedRowPassF32` on the chunk's rows.
 */
export function flowRowPassChunk(data: FlowChunkData, chunk: number): void {
  const D = data.D;
  let outs = flowOuts.get(data);
  if (!outs) {
    outs = Array.from(data.pass, (_, k) => data.partial.subarray(k * D, (k + 1) * D));
    flowOuts.set(data, outs);
  }
  const out = outs[chunk];
  out.fill(0);
  const p = data.pass[chunk], X = data.X[p], lo = data.lo[chunk], hi = data.hi[chunk];
  const o = 7 * p, q = data.params, kind = q[o] as RowFn;
  data.ss[chunk] = X instanceof Float64Array
    ? fusedRowPassRange(X, lo, hi, D, data.w, out, kind, q[o + 1], q[o + 2], q[o + 3], q[o + 4], q[o + 5], q[o + 6])
    : fusedRowPassF32(X.subarray(lo * D, hi * D), hi - lo, D, data.w, out, kind, q[o + 1], q[o + 2], q[o + 3], q[o + 4], q[o + 5], q[o + 6]);
}

/**
 * The sample passes of one RHS as one chunked job: `run(w)` leaves pass p's Σ f(λ) x in res[p] and
 * its Σ λ² in ss[p], each the sum of the pass's chunk partials in chunk order (so bit-identical for
 * every thread count).  With threads > 1 the samples are shared with the workers (copied to a
 * SharedArrayBuffer unless they already are one: allocate them with `sharedFloat64` to avoid it).
 */
export class RowPasses {
  readonly res: Float64Array[];
  readonly ss: Float64Array;
  private readonly data: FlowChunkData;
  private readonly first: number[];
  private readonly team: KernelTeam | null;
  private readonly job: number;
  private readonly local: (chunk: number) => void;
  private readonly firstPartial: Float64Array[];

  constructor(specs: readonly RowPassSpec[], readonly D: number, threads = 1, chunkRows?: number) {
    const par = threads > 1;
    const pass: number[] = [], lo: number[] = [], hi: number[] = [];
    this.first = [];
    specs.forEach((s, p) => {
      this.first.push(pass.length);
      const b = chunkBounds(s.n, flowChunkRows(s.n, D, chunkRows));
      for (let k = 0; k + 1 < b.length; k++) { pass.push(p); lo.push(b[k]); hi.push(b[k + 1]); }
    });
    this.first.push(pass.length);
    const alloc = (n: number) => (par ? sharedFloat64(n) : new Float64Array(n));
    const params = alloc(7 * specs.length);
    specs.forEach((s, p) => params.set([s.kind, s.a, s.c, s.d, s.y, s.v, s.b], 7 * p));
    const shareX = new Map<Float64Array | Float32Array, Float64Array | Float32Array>();
    const share = (x: Float64Array | Float32Array): Float64Array | Float32Array => {
      if (x instanceof Float64Array) return toShared(x);
      if (x.buffer instanceof SharedArrayBuffer) return x;
      const y = new Float32Array(new SharedArrayBuffer(Math.max(1, x.length) * 4), 0, x.length);
      y.set(x);
      return y;
    };
    this.data = {
      D, w: alloc(D), params,
      X: specs.map((s) => {
        if (!par) return s.X;
        let x = shareX.get(s.X);
        if (!x) shareX.set(s.X, (x = share(s.X.length === s.n * D ? s.X : s.X.subarray(0, s.n * D))));
        return x;
      }),
      pass: Int32Array.from(pass), lo: Int32Array.from(lo), hi: Int32Array.from(hi),
      partial: alloc(pass.length * D), ss: alloc(pass.length),
    };
    this.res = specs.map(() => new Float64Array(D));
    this.ss = new Float64Array(specs.length);
    this.team = par && pass.length > 1 ? new KernelTeam(threads) : null;
    this.job = this.team ? this.team.register(import.meta.url, "flowRowPassChunk", this.data) : -1;
    const data = this.data;
    this.local = (chunk) => flowRowPassChunk(data, chunk);
    this.firstPartial = specs.map((_, p) => data.partial.subarray(this.first[p] * D, this.first[p] * D + D));
  }

  private runs = 0;

  run(w: Float64Array): void {
    const { data, D } = this;
    this.runs++;
    data.w.set(w);
    const n = data.pass.length;
    if (this.team) this.team.run(this.job, n, this.local);
    else this.runLocal();
    for (let p = 0; p + 1 < this.first.length; p++) {
      const r = this.res[p];
      const k0 = this.first[p], k1 = this.first[p + 1];
      r.set(this.firstPartial[p]);
      let ss = data.ss[k0];
      for (let k = k0 + 1; k < k1; k++) {
        const o = k * D;
        for (let i = 0; i < D; i++) r[i] += data.partial[o + i];
        ss += data.ss[k];
      }
      this.ss[p] = ss;
    }
  }

  /**
   * All chunks on this thread: each float64 pass's chunks in one SIMD call (`rowPassChunks`, the same
   * per-chunk partials as one `flowRowPassChunk` per chunk), else chunk by chunk.
   */
  private runLocal(): void {
    const data = this.data;
    const k = simdKernels();
    for (let p = 0; p + 1 < this.first.length; p++) {
      const k0 = this.first[p], k1 = this.first[p + 1];
      const X = data.X[p];
      if (k !== null && X instanceof Float64Array) {
        const o = 7 * p, q = data.params;
        if (k.rowPassChunks(X, data.D, data.w, data.lo, data.hi, k0, k1, data.partial, data.ss, q[o], q[o + 1], q[o + 2], q[o + 3], q[o + 4], q[o + 5], q[o + 6])) continue;
      }
      for (let c = k0; c < k1; c++) this.local(c);
    }
  }

  close(): void {
    this.team?.close();
  }

  ready(): Promise<void> {
    return this.team ? this.team.ready() : Promise.resolve();
  }

  /** Chunks run so far, in all and by worker threads. */
  chunks(): { total: number; byWorkers: number } {
    return this.team ? this.team.chunks : { total: this.runs * this.data.pass.length, byWorkers: 0 };
  }
}

/** Dense D×D row-major covariance (C must not be modified afterwards: the SIMD backend keeps a copy). */
export function denseCovariance(C: Float64Array, D: number, description = "dense covariance"): CovOperator {
  if (C.length !== D * D) throw new RangeError(`denseCovariance: need D² = ${D * D} entries (got ${C.length})`);
  // C is read-only from here on: keep it in the SIMD backend's memory (no copy per RHS).
  pin(C);
  return {
    D,
    description,
    apply(w, out) {
      gemv(false, D, D, 1, C, w, 0, out); // out_i = Σ_j C_ij w_j, j in order
    },
  };
}

/**
 * Translation-invariant covariance from its first row (1D ring or 2D torus): dense matvec for
 * D ≤ `denseMax`, FFT (O(D log D), preallocated buffers) above.
 */
export function translationInvariantCovariance(geom: Geometry, row: Float64Array, denseMax = 1024, description = "exact covariance"): CovOperator {
  const D = geometrySize(geom);
  if (row.length !== D) throw new RangeError(`translationInvariantCovariance: row has ${row.length} entries, need D = ${D}`);
  if (D <= denseMax) return denseCovariance(denseFromRow(geom, row), D, description);
  const lambda = spectrumOfRow(geom, row);
  const re = new Float64Array(D), im = new Float64Array(D);
  if (geom.dim === 1) {
    const plan = fftPlan(D);
    return {
      D,
      description,
      apply(w, out) {
        re.set(w);
        im.fill(0);
        plan.forward(re, im);
        for (let k = 0; k < D; k++) { re[k] *= lambda[k]; im[k] *= lambda[k]; }
        plan.inverse(re, im);
        out.set(re);
      },
    };
  }
  // 2D: row and column transforms with preallocated line buffers (no allocation per call).
  const L = geom.L, plan = fftPlan(L), lr = new Float64Array(L), li = new Float64Array(L);
  const pass = (inverse: boolean) => {
    for (let a = 0; a < L; a++) {
      lr.set(re.subarray(a * L, (a + 1) * L)); li.set(im.subarray(a * L, (a + 1) * L));
      if (inverse) plan.inverse(lr, li); else plan.forward(lr, li);
      re.set(lr, a * L); im.set(li, a * L);
    }
    for (let b = 0; b < L; b++) {
      for (let a = 0; a < L; a++) { lr[a] = re[a * L + b]; li[a] = im[a * L + b]; }
      if (inverse) plan.inverse(lr, li); else plan.forward(lr, li);
      for (let a = 0; a < L; a++) { re[a * L + b] = lr[a]; im[a * L + b] = li[a]; }
    }
  };
  return {
    D,
    description,
    apply(w, out) {
      re.set(w);
      im.fill(0);
      pass(false);
      for (let k = 0; k < D; k++) { re[k] *= lambda[k]; im[k] *= lambda[k]; }
      pass(true);
      out.set(re);
    },
  };
}

/** Sample second moment Ĉ = (1/n) Σ_ν x_ν x_νᵀ applied implicitly in O(nD). */
export function sampleCovariance(X: Float64Array | Float32Array, n: number, D: number): CovOperator {
  checkSamples(X, n, D);
  return {
    D,
    description: `sample second moment (n = ${n})`,
    apply(w, out) {
      out.fill(0);
      fusedRowPass(X, n, D, w, out, RowFn.Linear, 1 / n);
    },
  };
}

/**
 * Exact CP form of the cumulant of a class with independent coordinates of excess kurtosis κ−3
 * (e.g. an NLGP with ξ = 0): ΔT = (κ−3) Σ_i e_i⊗4, rank D.
 */
export function diagonalCumulantFactors(D: number, excessKurtosis: number): CpFactors {
  const factors = new Float64Array(D * D);
  for (let i = 0; i < D; i++) factors[i * D + i] = 1;
  return { weights: new Float64Array(D).fill(excessKurtosis), factors, r: D, D, diagonal: true };
}

/**
 * Implicit contraction of the sample fourth cumulant, (ΔT̂ w⊗3)_i = (1/n) Σ_ν λ_ν³ x_νi − 3 q̂ (Ĉ w)_i,
 * in O(nD).  Writes into `out`; `cw` (length D) receives Ĉ w.  Returns q̂ = wᵀĈw.
 */
export function sampleCumulantContract(X: Float64Array | Float32Array, n: number, D: number, w: Float64Array, out: Float64Array, cw: Float64Array): number {
  out.fill(0);
  cw.fill(0);
  const q = fusedRowPass(X, n, D, w, cw, RowFn.Linear, 1 / n) / n;
  fusedRowPass(X, n, D, w, out, RowFn.Cubic, 0, 1 / n);
  for (let i = 0; i < D; i++) out[i] -= 3 * q * cw[i];
  return q;
}

function checkSamples(X: Float64Array | Float32Array, n: number, D: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`need at least one sample per class (got n = ${n})`);
  if (X.length < n * D) throw new RangeError(`samples: X has ${X.length} entries, need n·D = ${n * D}`);
}

/** One class of the flow. */
export interface FlowClass {
  /** Label y^μ. */
  label: number;
  /** Class weight π_μ (weights are used as given; they should sum to 1). */
  weight: number;
  /**
   * The class's samples (n×D row-major): required by full, exact, and covariance "sample".  Float32
   * storage halves the memory (accumulation stays float64).
   */
  X?: Float64Array | Float32Array;
  n?: number;
  /**
   * Covariance for the Gaussian part (gaussian, cp, full): an operator, or "sample" for Ĉ^μ of X.
   * Ignored by `exact`.
   */
  cov?: CovOperator | "sample";
  /** CP factors of ΔT^μ (cp variant); null/undefined = no cumulant for this class. */
  cp?: CpFactors | null;
}

export interface SingleNeuronFlowOptions {
  variant: FlowVariant;
  D: number;
  v: number;
  b: number;
  classes: FlowClass[];
  /** Activation of the `exact` variant (default "erf"); the other variants use the cubic σ̃. */
  activation?: ExactActivation;
  /** Cubic coefficients (default: the Taylor coefficients of erf(h/√2)). */
  alpha1?: number;
  alpha3?: number;
  /** Precomputed coefficients (else derived symbolically). */
  coefficients?: FlowCoefficients;
  /**
   * Threads for the passes over the samples (the caller's plus threads − 1 workers, started on the
   * first RHS; default 1).  Results are bit-identical for every value (see `flowRowChunks`).
   */
  threads?: number;
  /** Rows per chunk of the sample passes (default: `flowChunkRows`; tests use small values). */
  chunkRows?: number;
}

/** A ready-to-integrate single-neuron flow. */
export interface SingleNeuronFlow {
  readonly variant: FlowVariant;
  readonly D: number;
  readonly coefficients: FlowCoefficients;
  /** dw/dt (allocation-free). */
  readonly rhs: Rhs;
  /**
   * Analytic Jacobian ∂(dw/dt)/∂w (D×D row-major), for the implicit solvers (rodas, bdf).  Sample
   * terms cost one weighted X_μᵀ diag(s) X_μ per class (syrkWeighted, O(n D²)); dense covariances
   * are formed once, on the first call (D applications of the operator, or one syrk for Ĉ).
   */
  readonly jac: Jac;
  /** Self-overlaps q^μ = wᵀ C^μ w with the flow's covariances (sample ones for `exact`). */
  overlaps(w: Float64Array, out?: Float64Array): Float64Array;
  /** Stop the flow's worker threads, if any (idempotent; the RHS must not be called afterwards). */
  close(): void;
  /** Resolves when the worker threads (threads > 1) are started and loaded (optional before `rhs`). */
  ready(): Promise<void>;
  /** Chunks of sample passes run so far, in all and by worker threads (threads > 1). */
  kernelChunks(): { total: number; byWorkers: number };
}

interface Prepared {
  label: number;
  weight: number;
  c2: number;
  X?: Float64Array | Float32Array;
  n: number;
  cov?: CovOperator;
  sampleCov: boolean;
  cp?: CpFactors | null;
}

/** Build a flow, deriving c2^μ and c4 symbolically unless `coefficients` is given. */
export async function makeSingleNeuronFlow(opts: SingleNeuronFlowOptions): Promise<SingleNeuronFlow> {
  const coefficients = opts.coefficients ?? (await deriveFlowCoefficients({ v: opts.v, b: opts.b, labels: opts.classes.map((c) => c.label), alpha1: opts.alpha1, alpha3: opts.alpha3 }));
  return buildSingleNeuronFlow(opts, coefficients);
}

/** Build a flow from given coefficients (synchronous). */
export function buildSingleNeuronFlow(opts: SingleNeuronFlowOptions, coefficients: FlowCoefficients): SingleNeuronFlow {
  const { variant, D, v, b } = opts;
  if (!FLOW_VARIANTS.includes(variant)) throw new RangeError(`variant must be one of ${FLOW_VARIANTS.join(", ")} (got ${String(variant)})`);
  if (!(Number.isInteger(D) && D >= 1)) throw new RangeError(`D must be a positive integer (got ${D})`);
  if (coefficients.c2.length !== opts.classes.length) throw new RangeError(`coefficients: need one c2 per class (${opts.classes.length}), got ${coefficients.c2.length}`);
  if (coefficients.v !== v || coefficients.b !== b) throw new RangeError(`coefficients were derived for v = ${coefficients.v}, b = ${coefficients.b}, not v = ${v}, b = ${b}`);
  const activation = opts.activation ?? "erf";
  const c4 = coefficients.c4;
  const cls: Prepared[] = opts.classes.map((c, mu) => {
    if (coefficients.labels[mu] !== c.label) throw new RangeError(`coefficients: class ${mu} label ${c.label} differs from ${coefficients.labels[mu]}`);
    if (!(c.weight >= 0 && Number.isFinite(c.weight))) throw new RangeError(`class ${mu}: weight must be ≥ 0 (got ${c.weight})`);
    const needX = variant === "full" || variant === "exact" || c.cov === "sample";
    let n = 0;
    if (needX) {
      if (!c.X || c.n === undefined) throw new RangeError(`class ${mu}: variant "${variant}" needs the class samples X and n`);
      checkSamples(c.X, c.n, D);
      n = c.n;
    }
    let cov: CovOperator | undefined;
    if (variant !== "exact") {
      if (c.cov === undefined) throw new RangeError(`class ${mu}: variant "${variant}" needs a covariance (operator or "sample")`);
      if (c.cov !== "sample") {
        if (c.cov.D !== D) throw new RangeError(`class ${mu}: covariance has D = ${c.cov.D}, need ${D}`);
        cov = c.cov;
      }
    }
    if (variant === "cp" && c.cp && c.cp.D !== D) throw new RangeError(`class ${mu}: CP factors have D = ${c.cp.D}, need ${D}`);
    return { label: c.label, weight: c.weight, c2: coefficients.c2[mu], X: c.X, n, cov, sampleCov: c.cov === "sample", cp: c.cp };
  });

  const g = new Float64Array(D), h = new Float64Array(D);
  const a1 = coefficients.alpha1, a3 = coefficients.alpha3;

  // Every pass over a class's samples (λ_ν = x_ν·w, Σ f(λ_ν) x_ν) of one RHS, run as one chunked job
  // (all classes at once, so the threads share the work of every class): pass results res[p], ss[p].
  const specs: RowPassSpec[] = [];
  const passOf = cls.map(() => ({ lin: -1, main: -1 }));
  cls.forEach((c, mu) => {
    const n = c.n;
    if (variant === "exact") {
      const sc = (c.weight * v) / n;
      passOf[mu].main = specs.push(activation === "erf"
        ? { X: c.X!, n, kind: RowFn.Erf, a: sc, c: 0, d: 0, y: c.label, v, b }
        : { X: c.X!, n, kind: RowFn.CubicNeuron, a: sc, c: a1, d: a3, y: c.label, v, b }) - 1;
    } else if (variant === "full" && c.sampleCov) {
      const sc = c.weight / n;
      passOf[mu].main = specs.push({ X: c.X!, n, kind: RowFn.Cubic, a: sc * c.c2, c: sc * c4, d: 0, y: 0, v: 0, b: 0 }) - 1;
    } else {
      if (c.sampleCov || variant === "full") passOf[mu].lin = specs.push({ X: c.X!, n, kind: RowFn.Linear, a: 1 / n, c: 0, d: 0, y: 0, v: 0, b: 0 }) - 1;
      if (variant === "full") passOf[mu].main = specs.push({ X: c.X!, n, kind: RowFn.Cubic, a: 0, c: 1 / n, d: 0, y: 0, v: 0, b: 0 }) - 1;
    }
  });
  const passes = new RowPasses(specs, D, opts.threads ?? 1, opts.chunkRows);

  /** out += π_μ (c2^μ + 3 c4 q^μ) C^μ w (sample covariance: from the pass results). */
  const gaussianTerm = (c: Prepared, mu: number, w: Float64Array, out: Float64Array): void => {
    let q: number;
    let gw: Float64Array;
    if (c.cov) {
      c.cov.apply(w, g);
      gw = g;
      q = 0;
      for (let i = 0; i < D; i++) q += w[i] * g[i];
    } else {
      const p = passOf[mu].lin;
      gw = passes.res[p];
      q = passes.ss[p] / c.n;
    }
    const s = c.weight * (c.c2 + 3 * c4 * q);
    for (let i = 0; i < D; i++) out[i] += s * gw[i];
  };

  let rhs: Rhs;
  switch (variant) {
    case "gaussian":
      rhs = (_t, w, dw) => {
        passes.run(w);
        dw.fill(0);
        for (let mu = 0; mu < cls.length; mu++) gaussianTerm(cls[mu], mu, w, dw);
      };
      break;
    case "cp":
      rhs = (_t, w, dw) => {
        passes.run(w);
        dw.fill(0);
        for (let mu = 0; mu < cls.length; mu++) {
          const c = cls[mu];
          gaussianTerm(c, mu, w, dw);
          if (c.cp) addCpContraction(c.cp, w, c.weight * c4, dw);
        }
      };
      break;
    case "full":
      rhs = (_t, w, dw) => {
        passes.run(w);
        dw.fill(0);
        for (let mu = 0; mu < cls.length; mu++) {
          const c = cls[mu];
          if (c.sampleCov) {
            // (c2 + 3c4 q̂) Ĉw + c4 (T̂w³ − 3q̂Ĉw) = (1/n) Σ (c2 λ + c4 λ³) x.
            const r = passes.res[passOf[mu].main];
            for (let i = 0; i < D; i++) dw[i] += r[i];
          } else {
            gaussianTerm(c, mu, w, dw);
            // (ΔT̂ w⊗3)_i = (1/n) Σ λ³ x_i − 3 q̂ (Ĉw)_i
            const cw = passes.res[passOf[mu].lin], t3 = passes.res[passOf[mu].main];
            const q = passes.ss[passOf[mu].lin] / c.n;
            const s = c.weight * c4;
            for (let i = 0; i < D; i++) {
              h[i] = t3[i] - 3 * q * cw[i];
              dw[i] += s * h[i];
            }
          }
        }
      };
      break;
    case "exact":
      rhs = (_t, w, dw) => {
        passes.run(w);
        dw.fill(0);
        for (let mu = 0; mu < cls.length; mu++) {
          const r = passes.res[passOf[mu].main];
          for (let i = 0; i < D; i++) dw[i] += r[i];
        }
      };
      break;
  }

  return {
    variant,
    D,
    coefficients,
    rhs,
    jac: flowJacobian(variant, D, cls, c4, v, b, activation, a1, a3),
    overlaps(w, out = new Float64Array(cls.length)) {
      for (let mu = 0; mu < cls.length; mu++) {
        const c = cls[mu];
        if (c.cov) {
          c.cov.apply(w, g);
          let q = 0;
          for (let i = 0; i < D; i++) q += w[i] * g[i];
          out[mu] = q;
        } else if (c.X) out[mu] = sampleCumulantContractCw(c.X, c.n, D, w, g);
        else out[mu] = NaN;
      }
      return out;
    },
    close() {
      passes.close();
    },
    kernelChunks() {
      return passes.chunks();
    },
    ready() {
      return passes.ready();
    },
  };
}

/** Ĉw = (1/n) Σ λ x into `cw`; returns q̂ = (1/n) Σ λ². */
function sampleCumulantContractCw(X: Float64Array | Float32Array, n: number, D: number, w: Float64Array, cw: Float64Array): number {
  cw.fill(0);
  return fusedRowPass(X, n, D, w, cw, RowFn.Linear, 1 / n) / n;
}

/**
 * The Jacobian of a flow's RHS (see the module comment for the drifts), summed over classes:
 *
 *   gaussian term  π[(c2 + 3c4 q) C + 6 c4 (Cw)(Cw)ᵀ]                      (q = wᵀCw, C symmetric)
 *   full, Ĉ        (π/n) Xᵀ diag(c2 + 3c4 λ²) X                              (λ = Xw)
 *   full, exact C  gaussian term + π c4 [(1/n) Xᵀ diag(3λ² − 3q̂) X − 6 (Ĉw)(Ĉw)ᵀ]
 *   cp             gaussian term + 3π c4 Σ_a γ_a (u_a·w)² u_a u_aᵀ
 *   exact          (π v/n) Xᵀ diag(g'(λ + b)) X,  g(h) = (y − vσ(h)) σ'(h),  g' = −v σ'² + (y − vσ) σ''
 *                  (erf: σ' = √(2/π) e^{−h²/2}, σ'' = −h σ';  cubic σ̃: σ̃' = α1 − α3 h², σ̃'' = −2α3 h).
 *
 * Buffers (λ per class, dense covariances) are allocated on the first call; tested against finite
 * differences in test/jacobians.test.ts.
 */
function flowJacobian(
  variant: FlowVariant, D: number, cls: Prepared[], c4: number, v: number, b: number,
  activation: ExactActivation, a1: number, a3: number,
): Jac {
  const cw = new Float64Array(D);
  let lams: Float64Array[] | null = null;
  let dense: (Float64Array | null)[] | null = null;
  const lambdas = (): Float64Array[] => (lams ??= cls.map((c) => new Float64Array(c.n)));
  /** Dense C^μ (operator applied to unit vectors, or Ĉ = XᵀX/n), formed once. */
  const denseCov = (): (Float64Array | null)[] => {
    if (dense) return dense;
    dense = cls.map((c) => {
      if (variant === "exact") return null;
      const C = new Float64Array(D * D);
      if (c.cov) {
        const e = new Float64Array(D), col = new Float64Array(D);
        for (let j = 0; j < D; j++) {
          e.fill(0);
          e[j] = 1;
          c.cov.apply(e, col);
          for (let i = 0; i < D; i++) C[i * D + j] = col[i];
        }
        // Symmetrise (FFT operators are symmetric only to rounding).
        for (let i = 0; i < D; i++) for (let j = i + 1; j < D; j++) C[i * D + j] = C[j * D + i] = 0.5 * (C[i * D + j] + C[j * D + i]);
      } else flowSyrk(c.X!, c.n, D, null, 1 / c.n, 0, C);
      return C;
    });
    return dense;
  };
  /** J += π[(c2 + 3c4 q) C + 6 c4 (Cw)(Cw)ᵀ]. */
  const gaussianJac = (c: Prepared, C: Float64Array, w: Float64Array, J: Float64Array): void => {
    gemv(false, D, D, 1, C, w, 0, cw);
    let q = 0;
    for (let i = 0; i < D; i++) q += w[i] * cw[i];
    const s = c.weight * (c.c2 + 3 * c4 * q), r = 6 * c.weight * c4;
    for (let i = 0; i < D; i++) {
      const o = i * D, ri = r * cw[i];
      for (let j = 0; j < D; j++) J[o + j] += s * C[o + j] + ri * cw[j];
    }
  };
  return (_t, w, J) => {
    J.fill(0);
    for (let mu = 0; mu < cls.length; mu++) {
      const c = cls[mu];
      if (variant === "gaussian" || variant === "cp" || (variant === "full" && !c.sampleCov)) {
        gaussianJac(c, denseCov()[mu]!, w, J);
      }
      if (variant === "cp" && c.cp) {
        const sc = 3 * c.weight * c4;
        if (c.cp.diagonal) for (let i = 0; i < D; i++) J[i * D + i] += sc * c.cp.weights[i] * w[i] * w[i];
        else addCpJacobian(c.cp, w, sc, J);
      }
      if (variant === "full" || variant === "exact") {
        const X = c.X!, n = c.n, lam = lambdas()[mu];
        flowGemv(false, n, D, 1, X, w, 0, lam);
        if (variant === "full" && c.sampleCov) {
          for (let k = 0; k < n; k++) lam[k] = c.c2 + 3 * c4 * lam[k] * lam[k];
          flowSyrk(X, n, D, lam, c.weight / n, 1, J);
        } else if (variant === "full") {
          // Ĉw and q̂ from λ.
          let q = 0;
          for (let k = 0; k < n; k++) q += lam[k] * lam[k];
          q /= n;
          flowGemv(true, n, D, 1 / n, X, lam, 0, cw);
          for (let k = 0; k < n; k++) lam[k] = 3 * (lam[k] * lam[k] - q);
          flowSyrk(X, n, D, lam, (c.weight * c4) / n, 1, J);
          const r = -6 * c.weight * c4;
          for (let i = 0; i < D; i++) {
            const o = i * D, ri = r * cw[i];
            for (let j = 0; j < D; j++) J[o + j] += ri * cw[j];
          }
        } else {
          const y = c.label;
          for (let k = 0; k < n; k++) {
            const h = lam[k] + b;
            let sg: number, d1: number, d2: number;
            if (activation === "erf") {
              sg = erf(h / Math.SQRT2);
              d1 = SQRT_2_PI * Math.exp(-0.5 * h * h);
              d2 = -h * d1;
            } else {
              sg = a1 * h - (a3 / 3) * h * h * h;
              d1 = a1 - a3 * h * h;
              d2 = -2 * a3 * h;
            }
            lam[k] = -v * d1 * d1 + (y - v * sg) * d2;
          }
          flowSyrk(X, n, D, lam, (c.weight * v) / n, 1, J);
        }
      }
    }
  };
}
