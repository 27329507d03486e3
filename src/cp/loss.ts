/**
 * Symmetric rank-r CP approximation of a 4th-order cumulant tensor (IG22 SI A.4, after Sherman &
 * Kolda 2020):  ΔT ≈ T̂ = Σ_a γ_a u_a⊗4.
 *
 * The sample cumulant of P samples x_ν (rows of X, P×D) is
 *   ΔT = M4 − Wick(C),   M4 = (1/P) Σ_ν x_ν⊗4,   C = (1/P) Σ_ν x_ν x_νᵀ  (uncentred, like the paper),
 *   Wick(C)_ijkl = C_ij C_kl + C_ik C_jl + C_il C_jk.
 * The reconstruction loss ‖ΔT − T̂‖² is, up to the constant ‖ΔT‖²,
 *   L = Σ_ab γ_a γ_b (u_a·u_b)⁴ − 2 Σ_a γ_a [ m_a − 3 p_a² ],   m_a = (1/P)Σ_ν (x_ν·u_a)⁴,
 *                                                             p_a = (1/P)Σ_ν (x_ν·u_a)² = u_aᵀ C u_a,
 *   ∂L/∂γ_a = −2 [ m_a − 3 p_a² − Σ_b γ_b (u_a·u_b)⁴ ]
 *   ∂L/∂u_a = −8 γ_a [ (1/P)Σ_ν (x_ν·u_a)³ x_ν − 3 p_a C u_a − Σ_b γ_b (u_a·u_b)³ u_b ].
 *
 * Two objectives with the same parameter layout θ = [γ_0 … γ_{r−1}, u_0 (D) … u_{r−1} (D)]:
 *   - `ImplicitCumulantLoss`: never forms ΔT; O(P·D·r) per evaluation.  Hot kernel: one pass over X
 *     computing Y = X Uᵀ (2-row × 4-factor register blocks) and, while the rows are in L1, the
 *     rank-P update A = (Y∘Y∘Y)ᵀ X.  C u_a is taken from the precomputed D×D covariance (O(r D²)
 *     per evaluation), or accumulated in the same pass when D is too large to store C.
 *     Flops per evaluation ≈ 4·P·D·r (+ O(P r) + O(r D²) + O(r² D)).
 *   - `ExplicitCumulantLoss`: contracts an explicit D⁴ tensor (small D only), O(r D⁴).
 * Both return L without the constant unless `includeConstant` is set on the explicit one (then
 * L = ‖ΔT − T̂‖² exactly).
 */
import type { CPTensor } from "../stats/cp-tensor.js";
import { gemm, pin, simdKernels, syrkWeighted, unpin } from "../kernels/index.js";
import { KernelTeam, chunkBounds, fixedChunkRows, sharedFloat64, toShared } from "../kernels/parallel.js";

/** Objective over θ = [γ (r), U (r×D row-major)] used by the decomposition driver. */
export interface CpObjective {
  readonly D: number;
  readonly r: number;
  /** Number of parameters r + r·D. */
  readonly n: number;
  /** Loss at θ; writes ∂L/∂θ into g. */
  fg(theta: Float64Array, g: Float64Array): number;
  /**
   * Projections b_a = ⟨ΔT, u_a⊗4⟩ = m_a − 3 p_a² for the factors U (r×D); used to set γ optimally
   * for given factors (the normal equations G γ = b with G_ab = (u_a·u_b)⁴).
   */
  projections(U: Float64Array, out: Float64Array): Float64Array;
  /**
   * Data terms for factors stored at U[uOff + a·D]: b_a = ⟨ΔT, u_a⊗4⟩ and h_a = ΔT·u_a⊗3 (so that
   * ∇_{u_a} b_a = 4 h_a), written into b (r) and H (r×D).  The loss is
   * L = γᵀGγ − 2γᵀb with G_ab = (u_a·u_b)⁴ and ∇_{u_a}L = 8γ_a[Σ_b γ_b G_ab³ u_b − h_a].
   */
  dataTerms(U: Float64Array, uOff: number, b: Float64Array, H: Float64Array): void;
}

/**
 * Full loss and gradient from the data terms (shared by both objectives): writes ∂L/∂θ into g and
 * returns L = Σ_ab γ_a γ_b G_ab⁴ − 2 Σ_a γ_a b_a.
 */
export function assembleLoss(
  theta: Float64Array, g: Float64Array, r: number, D: number, b: Float64Array, H: Float64Array, gram: Float64Array,
): number {
  let data = 0;
  for (let a = 0; a < r; a++) {
    const ga = theta[a];
    data += ga * b[a];
    g[a] = -2 * b[a];
    const c = -8 * ga, o = r + a * D, oa = a * D;
    for (let i = 0; i < D; i++) g[o + i] = c * H[oa + i];
  }
  return modelPart(theta, g, r, D, gram) - 2 * data;
}

// ---------------------------------------------------------------------------------------------
// Shared pieces: the factor-factor (model) part of the loss
// ---------------------------------------------------------------------------------------------

/**
 * Adds the model part Σ_ab γ_a γ_b G_ab⁴ to the loss and its gradient; `gram` (r×r) is scratch.
 * Returns the model part.  gU_a += 8 γ_a Σ_b γ_b G_ab³ u_b, gγ_a += 2 Σ_b γ_b G_ab⁴.
 */
function modelPart(theta: Float64Array, g: Float64Array, r: number, D: number, gram: Float64Array): number {
  for (let a = 0; a < r; a++) {
    const oa = r + a * D;
    for (let b = a; b < r; b++) {
      const ob = r + b * D;
      let s = 0;
      for (let i = 0; i < D; i++) s += theta[oa + i] * theta[ob + i];
      gram[a * r + b] = s;
      gram[b * r + a] = s;
    }
  }
  let model = 0;
  for (let a = 0; a < r; a++) {
    const ga = theta[a];
    let sg = 0;
    const oa = r + a * D;
    for (let b = 0; b < r; b++) {
      const G = gram[a * r + b];
      const G2 = G * G;
      const gb = theta[b];
      sg += gb * G2 * G2;
      const coef = 8 * ga * gb * G2 * G;
      if (coef !== 0) {
        const ob = r + b * D;
        for (let i = 0; i < D; i++) g[oa + i] += coef * theta[ob + i];
      }
    }
    model += ga * sg;
    g[a] += 2 * sg;
  }
  return model;
}

// ---------------------------------------------------------------------------------------------
// Implicit objective (from samples)
// ---------------------------------------------------------------------------------------------

export interface ImplicitLossOptions {
  /**
   * Use a precomputed D×D second-moment matrix C for the C·u_a terms (default: D ≤ 2048).  Without
   * it, Σ_ν (x_ν·u_a) x_ν is accumulated in the sample pass (twice the rank-P update flops).
   */
  useCovariance?: boolean;
  /**
   * Threads for the pass over the samples (the caller's plus threads − 1 workers, started on the
   * first evaluation; default 1).  Results are bit-identical for every value (see `cpChunkRows`).
   */
  threads?: number;
  /** Rows per chunk of the sample pass (default `cpChunkRows`; tests use small values). */
  chunkRows?: number;
}

/**
 * Uncentred second moment C = (1/P) XᵀX (D×D): the weighted SYRK kernel (blocked, SIMD when
 * available; upper triangle summed over the samples in order, then mirrored) scaled by 1/P.
 */
export function secondMoment(X: Float64Array, P: number, D: number): Float64Array {
  const C = new Float64Array(D * D);
  syrkWeighted(X, P, D, null, 1, 0, C);
  const inv = 1 / P;
  for (let k = 0; k < D * D; k++) C[k] *= inv;
  return C;
}

/**
 * y_{n,a} = x_n·u_a for rows n0…n1−1 of X and all r factors stored at U[uOff + a·D], written to
 * Y[(n − n0)·r + a] (a block buffer).  2 rows × 4 factors per micro-kernel.
 */
export function projectRows(
  X: Float64Array, D: number, n0: number, n1: number,
  U: Float64Array, uOff: number, r: number, Y: Float64Array,
): void {
  let n = n0;
  for (; n + 1 < n1; n += 2) {
    const x0 = n * D, x1 = x0 + D, y0 = (n - n0) * r, y1 = y0 + r;
    let a = 0;
    for (; a + 3 < r; a += 4) {
      const u0 = uOff + a * D, u1 = u0 + D, u2 = u1 + D, u3 = u2 + D;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let i = 0; i < D; i++) {
        const p = X[x0 + i], q = X[x1 + i];
        const v0 = U[u0 + i], v1 = U[u1 + i], v2 = U[u2 + i], v3 = U[u3 + i];
        s00 += p * v0; s01 += p * v1; s02 += p * v2; s03 += p * v3;
        s10 += q * v0; s11 += q * v1; s12 += q * v2; s13 += q * v3;
      }
      Y[y0 + a] = s00; Y[y0 + a + 1] = s01; Y[y0 + a + 2] = s02; Y[y0 + a + 3] = s03;
      Y[y1 + a] = s10; Y[y1 + a + 1] = s11; Y[y1 + a + 2] = s12; Y[y1 + a + 3] = s13;
    }
    for (; a < r; a++) {
      const u0 = uOff + a * D;
      let s0 = 0, s1 = 0;
      for (let i = 0; i < D; i++) {
        const v = U[u0 + i];
        s0 += X[x0 + i] * v;
        s1 += X[x1 + i] * v;
      }
      Y[y0 + a] = s0;
      Y[y1 + a] = s1;
    }
  }
  for (; n < n1; n++) {
    const x0 = n * D, y0 = (n - n0) * r;
    for (let a = 0; a < r; a++) {
      const u0 = uOff + a * D;
      let s = 0;
      for (let i = 0; i < D; i++) s += X[x0 + i] * U[u0 + i];
      Y[y0 + a] = s;
    }
  }
}

/**
 * A[a·D + i] += Σ_n Z[(n − n0)·r + a] X[n·D + i] for rows n0…n1−1 (a rank-(n1−n0) update; Z is a
 * block buffer), 2 rows × 4 factors per micro-kernel.
 */
export function accumulateRows(
  X: Float64Array, D: number, n0: number, n1: number,
  Z: Float64Array, r: number, A: Float64Array,
): void {
  let n = n0;
  for (; n + 1 < n1; n += 2) {
    const x0 = n * D, x1 = x0 + D, z0 = (n - n0) * r, z1 = z0 + r;
    let a = 0;
    for (; a + 3 < r; a += 4) {
      const p0 = Z[z0 + a], p1 = Z[z0 + a + 1], p2 = Z[z0 + a + 2], p3 = Z[z0 + a + 3];
      const q0 = Z[z1 + a], q1 = Z[z1 + a + 1], q2 = Z[z1 + a + 2], q3 = Z[z1 + a + 3];
      const o0 = a * D, o1 = o0 + D, o2 = o1 + D, o3 = o2 + D;
      for (let i = 0; i < D; i++) {
        const xp = X[x0 + i], xq = X[x1 + i];
        A[o0 + i] += p0 * xp + q0 * xq;
        A[o1 + i] += p1 * xp + q1 * xq;
        A[o2 + i] += p2 * xp + q2 * xq;
        A[o3 + i] += p3 * xp + q3 * xq;
      }
    }
    for (; a < r; a++) {
      const p0 = Z[z0 + a], q0 = Z[z1 + a], o0 = a * D;
      for (let i = 0; i < D; i++) A[o0 + i] += p0 * X[x0 + i] + q0 * X[x1 + i];
    }
  }
  for (; n < n1; n++) {
    const x0 = n * D, z0 = (n - n0) * r;
    for (let a = 0; a < r; a++) {
      const p0 = Z[z0 + a], o0 = a * D;
      for (let i = 0; i < D; i++) A[o0 + i] += p0 * X[x0 + i];
    }
  }
}

/** Rows per block of the fused pass (Y/Z blocks stay in L1/L2 while X rows are reused). */
const BLOCK = 64;

/**
 * The CP loss's pass over samples n0 … n1−1 (blocks of 64 rows from n0): accumulates s2[a] += Σ y²,
 * s4[a] += Σ y⁴ (y = x_n·u_a, factors at U[uOff + a·D]), and when given A[a·D + i] += Σ y³ x_ni and
 * B[a·D + i] += Σ y x_ni.  The entry point for data-parallel chunks (accumulate per chunk, add the
 * chunks in a fixed order).  Runs the WebAssembly-SIMD kernel when that backend is selected (bit-
 * identical results; X is cached there and must not change after first use), else the TS loops with
 * the scratch blocks Yb, Zb (BLOCK·r each; allocated when not given).
 */
export function cpSamplePass(
  X: Float64Array, D: number, n0: number, n1: number, U: Float64Array, uOff: number, r: number,
  s2: Float64Array, s4: Float64Array, A: Float64Array | null, B: Float64Array | null,
  Yb?: Float64Array, Zb?: Float64Array,
): void {
  if (n1 <= n0) return;
  const k = simdKernels();
  if (k !== null && k.cpPass(X, n0, n1, D, U, uOff, r, s2, s4, A, B)) return;
  const Y = Yb ?? new Float64Array(BLOCK * r), Z = Zb ?? new Float64Array(BLOCK * r);
  for (let b0 = n0; b0 < n1; b0 += BLOCK) {
    const b1 = Math.min(n1, b0 + BLOCK);
    const m = b1 - b0;
    projectRows(X, D, b0, b1, U, uOff, r, Y);
    for (let q = 0; q < m * r; q += r) {
      for (let a = 0; a < r; a++) {
        const y = Y[q + a];
        const y2 = y * y;
        s2[a] += y2;
        s4[a] += y2 * y2;
        Z[q + a] = y2 * y;
      }
    }
    if (A) accumulateRows(X, D, b0, b1, Z, r, A);
    if (B) accumulateRows(X, D, b0, b1, Y, r, B);
  }
}

/**
 * Rows per chunk of the CP sample pass over P rows: ≥ 2¹⁹/(D·r) rows (≈ 2 MFLOP), ≤ 64 chunks, a
 * multiple of the 64-row block.  Depends on (P, D, r) only, never on the thread count, so the chunked
 * sums are the same for every -j; a pass of one chunk is the former unchunked pass, bit for bit.
 */
export function cpChunkRows(P: number, D: number, r: number, override?: number): number {
  return fixedChunkRows(P, Math.max(BLOCK, Math.ceil(524288 / (D * r))), 64, BLOCK, override);
}

/** Shared data of the chunked CP pass (structured-cloned to kernel workers; arrays shared). */
export interface CpChunkData {
  X: Float64Array;
  D: number;
  r: number;
  /** θ (or U) written by the caller before each run; factors at uOff = flags[0]. */
  U: Float64Array;
  /** [uOff, withA, accB] of the current run (written by the caller). */
  flags: Int32Array;
  /** Chunk k: rows [bounds[k], bounds[k+1]). */
  bounds: Int32Array;
  /** Per chunk k: s2 (r) and s4 (r) at k·2r, A (r·D) and B (r·D) at k·2rD. */
  s: Float64Array;
  AB: Float64Array;
}

/** Per chunk data: scratch blocks, and views of each chunk's partial slots (made once, not per pass). */
interface CpChunkScratch {
  Yb: Float64Array;
  Zb: Float64Array;
  /** Chunk k's s2, s4, A, B views (created on its first pass). */
  views: ({ s2: Float64Array; s4: Float64Array; A: Float64Array; B: Float64Array } | undefined)[];
}

const cpScratch = new WeakMap<CpChunkData, CpChunkScratch>();

/**
 * Chunk kind "cpPassChunk" (src/kernels/parallel.ts): the rows of chunk k of the pass Y = X Uᵀ,
 * s2 = Σ y², s4 = Σ y⁴, A = (Y∘Y∘Y)ᵀ X (and B = Yᵀ X without a stored C), into the chunk's own
 * partial slots (from zero).  The one place to swap in a faster CP pass kernel per chunk.
 */
export function cpPassChunk(d: CpChunkData, k: number): void {
  const { X, D, r, U } = d;
  let sc = cpScratch.get(d);
  if (!sc) cpScratch.set(d, (sc = { Yb: new Float64Array(BLOCK * r), Zb: new Float64Array(BLOCK * r), views: [] }));
  const { Yb, Zb } = sc;
  const uOff = d.flags[0], withA = d.flags[1] !== 0, accB = d.flags[2] !== 0;
  const v = sc.views[k] ??= {
    s2: d.s.subarray(2 * r * k, 2 * r * k + r), s4: d.s.subarray(2 * r * k + r, 2 * r * (k + 1)),
    A: d.AB.subarray(2 * r * D * k, 2 * r * D * k + r * D), B: d.AB.subarray(2 * r * D * k + r * D, 2 * r * D * (k + 1)),
  };
  const { s2, s4, A, B } = v;
  s2.fill(0);
  s4.fill(0);
  if (withA) A.fill(0);
  if (accB) B.fill(0);
  cpSamplePass(X, D, d.bounds[k], d.bounds[k + 1], U, uOff, r, s2, s4, withA ? A : null, accB ? B : null, Yb, Zb);
}

/**
 * Implicit CP loss of the sample 4th cumulant of the rows of X (P×D).  Keeps a reference to X
 * (not copied).  Allocation happens once in the constructor; `fg` allocates nothing.
 */
export class ImplicitCumulantLoss implements CpObjective {
  readonly n: number;
  /** Uncentred second moment (D×D), or null if not stored. */
  readonly C: Float64Array | null;
  private readonly chunks: CpChunkData;
  private readonly team: KernelTeam | null;
  private readonly job: number;
  private readonly local: (k: number) => void;
  private readonly A: Float64Array; // r×D  Σ y³ x
  private readonly B: Float64Array; // r×D  C u_a (or Σ y x)
  private readonly s2: Float64Array;
  private readonly s4: Float64Array;
  private readonly gram: Float64Array;
  private readonly bBuf: Float64Array;
  private readonly hBuf: Float64Array;
  /** Number of evaluations (passes with gradient) so far. */
  evaluations = 0;

  constructor(
    readonly X: Float64Array,
    readonly P: number,
    readonly D: number,
    readonly r: number,
    opts: ImplicitLossOptions = {},
  ) {
    if (!(Number.isInteger(P) && P >= 1)) throw new RangeError(`ImplicitCumulantLoss: P must be a positive integer (got ${P})`);
    if (!(Number.isInteger(D) && D >= 1)) throw new RangeError(`ImplicitCumulantLoss: D must be a positive integer (got ${D})`);
    if (!(Number.isInteger(r) && r >= 1)) throw new RangeError(`ImplicitCumulantLoss: r must be a positive integer (got ${r})`);
    if (X.length < P * D) throw new RangeError(`ImplicitCumulantLoss: X has ${X.length} entries, need P·D = ${P * D}`);
    this.n = r + r * D;
    const useC = opts.useCovariance ?? D <= 2048;
    this.C = useC ? secondMoment(X, P, D) : null;
    // The second moment is read by every evaluation: keep it in the SIMD backend's memory.
    if (this.C) pin(this.C);
    const threads = opts.threads ?? 1;
    const bounds = chunkBounds(P, cpChunkRows(P, D, r, opts.chunkRows));
    const nk = bounds.length - 1;
    const par = threads > 1 && nk > 1;
    const alloc = (n: number) => (par ? sharedFloat64(n) : new Float64Array(n));
    this.chunks = {
      X: par ? toShared(X.length === P * D ? X : X.subarray(0, P * D)) : X, D, r,
      U: alloc(r + r * D), flags: par ? new Int32Array(new SharedArrayBuffer(12)) : new Int32Array(3),
      bounds: Int32Array.from(bounds), s: alloc(2 * r * nk), AB: alloc(2 * r * D * nk),
    };
    this.team = par ? new KernelTeam(threads) : null;
    this.job = this.team ? this.team.register(import.meta.url, "cpPassChunk", this.chunks) : -1;
    const chunks = this.chunks;
    this.local = (k) => cpPassChunk(chunks, k);
    this.A = new Float64Array(r * D);
    this.B = new Float64Array(r * D);
    this.s2 = new Float64Array(r);
    this.s4 = new Float64Array(r);
    this.gram = new Float64Array(r * r);
    this.bBuf = new Float64Array(r);
    this.hBuf = new Float64Array(r * D);
  }

  /** Flops of one `fg` call, counted explicitly (multiply and add = 2 flops). */
  flopsPerEval(): number {
    const { P, D, r } = this;
    const pass = 2 * P * D * r /* Y */ + 2 * P * D * r /* A */ + (this.C ? 0 : 2 * P * D * r) + 6 * P * r;
    const cov = this.C ? 2 * r * D * D : 0;
    const model = r * (r + 1) * D /* gram */ + 2 * r * r * D /* gU model */ + 8 * r * r;
    const assemble = 6 * r * D;
    return pass + cov + model + assemble;
  }

  /**
   * One pass over the samples: s2, s4, A (= Σ y³ x) and, without C, B (= Σ y x); unnormalised.  Run
   * as fixed chunks (on the team's threads if any), reduced in chunk order.
   */
  private samplePass(U: Float64Array, uOff: number, withA: boolean): void {
    const { D, r, A, B, s2, s4, chunks: d } = this;
    const accB = withA && this.C === null;
    const len = uOff + r * D;
    if (d.U.length < len) throw new RangeError(`ImplicitCumulantLoss: factors at offset ${uOff} exceed the parameter vector`);
    d.U.set(U.length === len ? U : U.subarray(0, len));
    d.flags[0] = uOff;
    d.flags[1] = withA ? 1 : 0;
    d.flags[2] = accB ? 1 : 0;
    const nk = d.bounds.length - 1;
    if (this.team) this.team.run(this.job, nk, this.local);
    else for (let k = 0; k < nk; k++) this.local(k);
    const rD = r * D;
    for (let a = 0; a < r; a++) {
      let p2 = d.s[a], p4 = d.s[r + a];
      for (let k = 1; k < nk; k++) {
        p2 += d.s[2 * r * k + a];
        p4 += d.s[2 * r * k + r + a];
      }
      s2[a] = p2;
      s4[a] = p4;
    }
    if (withA) {
      for (let i = 0; i < rD; i++) A[i] = d.AB[i];
      if (accB) for (let i = 0; i < rD; i++) B[i] = d.AB[rD + i];
      for (let k = 1; k < nk; k++) {
        const o = 2 * rD * k;
        for (let i = 0; i < rD; i++) A[i] += d.AB[o + i];
        if (accB) for (let i = 0; i < rD; i++) B[i] += d.AB[o + rD + i];
      }
    }
  }

  /** Resolves when the worker threads (threads > 1) are started and loaded (optional). */
  ready(): Promise<void> {
    return this.team ? this.team.ready() : Promise.resolve();
  }

  /**
   * Stop the worker threads, if any, and drop the SIMD backend's copy of C (idempotent; no
   * evaluation afterwards; `C` itself stays readable).
   */
  close(): void {
    this.team?.close();
    if (this.C) unpin(this.C);
  }

  /** Chunks of sample passes run so far by worker threads (threads > 1). */
  chunksByWorkers(): number {
    return this.team ? this.team.chunks.byWorkers : 0;
  }

  projections(U: Float64Array, out: Float64Array): Float64Array {
    this.samplePass(U, 0, false);
    const inv = 1 / this.P;
    for (let a = 0; a < this.r; a++) {
      const p = this.s2[a] * inv;
      out[a] = this.s4[a] * inv - 3 * p * p;
    }
    return out;
  }

  dataTerms(U: Float64Array, uOff: number, b: Float64Array, H: Float64Array): void {
    const { P, D, r, A, B, s2, s4, C } = this;
    this.evaluations++;
    this.samplePass(U, uOff, true);
    const inv = 1 / P;
    if (C) {
      // B_a = C u_a  (B = U Cᵀ; each entry Σ_j C_ij u_aj summed over j in order)
      gemm(false, true, r, D, D, 1, U.subarray(uOff, uOff + r * D), C, 0, B);
    } else {
      for (let k = 0; k < r * D; k++) B[k] *= inv;
    }
    for (let a = 0; a < r; a++) {
      const p = s2[a] * inv;
      b[a] = s4[a] * inv - 3 * p * p;
      const c2 = -3 * p, oa = a * D;
      for (let i = 0; i < D; i++) H[oa + i] = inv * A[oa + i] + c2 * B[oa + i];
    }
  }

  fg(theta: Float64Array, g: Float64Array): number {
    this.dataTerms(theta, this.r, this.bBuf, this.hBuf);
    return assembleLoss(theta, g, this.r, this.D, this.bBuf, this.hBuf, this.gram);
  }
}

// ---------------------------------------------------------------------------------------------
// Explicit tensors (small D)
// ---------------------------------------------------------------------------------------------

/** Largest D for which explicit D⁴ tensors are formed (D⁴ doubles = 20 MB at D = 40). */
export const EXPLICIT_MAX_D = 40;

function checkExplicitD(D: number, what: string): void {
  if (!(Number.isInteger(D) && D >= 1 && D <= EXPLICIT_MAX_D)) {
    throw new RangeError(`${what}: explicit tensors need 1 ≤ D ≤ ${EXPLICIT_MAX_D} (got ${D})`);
  }
}

/**
 * Explicit sample cumulant ΔT = M4 − Wick(C) (D⁴ entries, row-major T[((i·D+j)·D+k)·D+l]) from the
 * rows of X.  M4 is accumulated over the unique index sets i ≤ j ≤ k ≤ l only (cost ≈ P·D⁴/24) and
 * then symmetrised.  C is the uncentred second moment of the same samples.
 */
export function sampleCumulantTensor(X: Float64Array, P: number, D: number): Float64Array {
  checkExplicitD(D, "sampleCumulantTensor");
  const D2 = D * D, D3 = D2 * D;
  const T = new Float64Array(D3 * D);
  // Unique entries accumulated into the sorted position.
  for (let n = 0; n < P; n++) {
    const o = n * D;
    for (let i = 0; i < D; i++) {
      const xi = X[o + i];
      if (xi === 0) continue;
      for (let j = i; j < D; j++) {
        const xij = xi * X[o + j];
        const base = (i * D + j) * D2;
        for (let k = j; k < D; k++) {
          const xijk = xij * X[o + k];
          const b2 = base + k * D;
          for (let l = k; l < D; l++) T[b2 + l] += xijk * X[o + l];
        }
      }
    }
  }
  const inv = 1 / P;
  const C = secondMoment(X, P, D);
  // Every entry reads its sorted-index slot (i ≤ j ≤ k ≤ l) and subtracts Wick(C).
  const out = new Float64Array(D3 * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      for (let k = 0; k < D; k++) {
        for (let l = 0; l < D; l++) {
          // Sorting network for 4 elements.
          let a = i, b = j, c = k, d = l, t: number;
          if (a > b) { t = a; a = b; b = t; }
          if (c > d) { t = c; c = d; d = t; }
          if (a > c) { t = a; a = c; c = t; }
          if (b > d) { t = b; b = d; d = t; }
          if (b > c) { t = b; b = c; c = t; }
          const m4 = T[((a * D + b) * D + c) * D + d] * inv;
          const wick = C[i * D + j] * C[k * D + l] + C[i * D + k] * C[j * D + l] + C[i * D + l] * C[j * D + k];
          out[((i * D + j) * D + k) * D + l] = m4 - wick;
        }
      }
    }
  }
  return out;
}

/** The explicit D⁴ tensor Σ_a γ_a u_a⊗4 of a CP tensor (layout as `sampleCumulantTensor`; D ≤ 40). */
export function cpToTensor(cp: CPTensor): Float64Array {
  const { weights: gamma, factors: U, r, D } = cp;
  checkExplicitD(D, "cpToTensor");
  const D2 = D * D, D3 = D2 * D;
  const T = new Float64Array(D3 * D);
  for (let a = 0; a < r; a++) {
    const ga = gamma[a], o = a * D;
    for (let i = 0; i < D; i++) {
      const vi = ga * U[o + i];
      for (let j = 0; j < D; j++) {
        const vij = vi * U[o + j];
        for (let k = 0; k < D; k++) {
          const vijk = vij * U[o + k];
          const b = ((i * D + j) * D + k) * D;
          for (let l = 0; l < D; l++) T[b + l] += vijk * U[o + l];
        }
      }
    }
  }
  return T;
}

/** Frobenius norm squared of a tensor. */
export function normSq(T: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < T.length; i++) s += T[i] * T[i];
  return s;
}

/**
 * CP loss against an explicit symmetric D⁴ tensor T (layout as `sampleCumulantTensor`):
 *   L = ‖T̂‖² − 2⟨T, T̂⟩ (+ ‖T‖² if includeConstant).
 * Uses the symmetry of T: ∂⟨T, u⊗4⟩/∂u = 4 T·u⊗3.  Cost O(r D⁴) per evaluation.
 */
export class ExplicitCumulantLoss implements CpObjective {
  readonly n: number;
  readonly constant: number;
  private readonly t3: Float64Array; // D³: T·u
  private readonly t2: Float64Array; // D²: T·u·u
  private readonly t1: Float64Array; // D: T·u·u·u
  private readonly gram: Float64Array;
  private readonly bBuf: Float64Array;
  private readonly hBuf: Float64Array;

  constructor(readonly T: Float64Array, readonly D: number, readonly r: number, readonly includeConstant = false) {
    checkExplicitD(D, "ExplicitCumulantLoss");
    if (T.length !== D ** 4) throw new RangeError(`ExplicitCumulantLoss: T has ${T.length} entries, need D⁴ = ${D ** 4}`);
    if (!(Number.isInteger(r) && r >= 1)) throw new RangeError(`ExplicitCumulantLoss: r must be a positive integer (got ${r})`);
    this.n = r + r * D;
    this.constant = includeConstant ? normSq(T) : 0;
    this.t3 = new Float64Array(D * D * D);
    this.t2 = new Float64Array(D * D);
    this.t1 = new Float64Array(D);
    this.gram = new Float64Array(r * r);
    this.bBuf = new Float64Array(r);
    this.hBuf = new Float64Array(r * D);
  }

  /** ⟨T, u⊗4⟩ for u at U[off…off+D−1]; leaves T·u⊗3 in t1. */
  private contract(U: Float64Array, off: number): number {
    const { T, D, t3, t2, t1 } = this;
    const D3 = D * D * D;
    for (let m = 0; m < D3; m++) {
      let s = 0;
      const b = m * D;
      for (let l = 0; l < D; l++) s += T[b + l] * U[off + l];
      t3[m] = s;
    }
    const D2 = D * D;
    for (let m = 0; m < D2; m++) {
      let s = 0;
      const b = m * D;
      for (let k = 0; k < D; k++) s += t3[b + k] * U[off + k];
      t2[m] = s;
    }
    let tot = 0;
    for (let i = 0; i < D; i++) {
      let s = 0;
      const b = i * D;
      for (let j = 0; j < D; j++) s += t2[b + j] * U[off + j];
      t1[i] = s;
      tot += s * U[off + i];
    }
    return tot;
  }

  projections(U: Float64Array, out: Float64Array): Float64Array {
    for (let a = 0; a < this.r; a++) out[a] = this.contract(U, a * this.D);
    return out;
  }

  dataTerms(U: Float64Array, uOff: number, b: Float64Array, H: Float64Array): void {
    const { D, r, t1 } = this;
    for (let a = 0; a < r; a++) {
      b[a] = this.contract(U, uOff + a * D);
      H.set(t1, a * D);
    }
  }

  fg(theta: Float64Array, g: Float64Array): number {
    this.dataTerms(theta, this.r, this.bBuf, this.hBuf);
    return assembleLoss(theta, g, this.r, this.D, this.bBuf, this.hBuf, this.gram) + this.constant;
  }
}

// ---------------------------------------------------------------------------------------------
// ‖ΔT‖² without forming ΔT
// ---------------------------------------------------------------------------------------------

/**
 * Frobenius norm² of the sample cumulant ΔT = M4 − Wick(C) from the samples, exactly:
 *   ‖M4‖² = (1/P²) Σ_νμ (x_ν·x_μ)⁴,  ⟨M4, Wick(C)⟩ = (3/P) Σ_ν (x_νᵀ C x_ν)²,
 *   ‖Wick(C)‖² = 3 (tr C²)² + 6 tr C⁴.
 * Cost ≈ P²D (the Gram part, symmetric) + P D² + D³.  `C` may be passed if already computed.
 */
export function sampleCumulantNormSq(X: Float64Array, P: number, D: number, C?: Float64Array | null): number {
  const Cm = C ?? secondMoment(X, P, D);
  // ‖M4‖² = (1/P²) Σ_νμ (x_ν·x_μ)⁴ over the upper triangle of the Gram matrix, summed in 64×64
  // blocks; the Gram entries come from the GEMM kernel, 64 rows × up to 1024 columns per call.
  const NB = 64, PANEL = 16 * NB;
  const simd = simdKernels() !== null;
  const Gb = new Float64Array(NB * PANEL);
  let m4 = 0;
  for (let n0 = 0; n0 < P; n0 += NB) {
    const n1 = Math.min(P, n0 + NB);
    const Xr = X.subarray(n0 * D, n1 * D);
    for (let p0 = n0; p0 < P; p0 += PANEL) {
      const p1 = Math.min(P, p0 + PANEL), np = p1 - p0;
      if (simd) gemm(false, true, n1 - n0, np, D, 1, Xr, X.subarray(p0 * D, p1 * D), 0, Gb);
      else projectRows(X, D, n0, n1, X, p0 * D, np, Gb); // same sums, register-blocked TS loop
      for (let c0 = p0; c0 < p1; c0 += NB) {
        const nc = Math.min(p1, c0 + NB) - c0;
        let blk = 0;
        for (let n = n0; n < n1; n++) {
          const o = (n - n0) * np + (c0 - p0);
          const aStart = c0 === n0 ? n - n0 : 0;
          for (let a = aStart; a < nc; a++) {
            const s2 = Gb[o + a] * Gb[o + a];
            blk += (c0 === n0 && a === n - n0 ? 1 : 2) * s2 * s2;
          }
        }
        m4 += blk;
      }
    }
  }
  m4 /= P * P;
  // ⟨M4, Wick⟩ = (3/P) Σ_ν (x_νᵀ C x_ν)², with C x_ν for 256 rows per GEMM call
  let cross = 0;
  const RB = 256;
  const V = new Float64Array(Math.min(P, RB) * D);
  for (let r0 = 0; r0 < P; r0 += RB) {
    const r1 = Math.min(P, r0 + RB);
    gemm(false, true, r1 - r0, D, D, 1, X.subarray(r0 * D, r1 * D), Cm, 0, V);
    for (let n = r0; n < r1; n++) {
      const o = n * D, ov = (n - r0) * D;
      let q = 0;
      for (let i = 0; i < D; i++) q += V[ov + i] * X[o + i];
      cross += q * q;
    }
  }
  cross *= 3 / P;
  // ‖Wick‖²: tr C² = ‖C‖_F², tr C⁴ = ‖C²‖_F² (C symmetric)
  let trC2 = 0;
  for (let k = 0; k < D * D; k++) trC2 += Cm[k] * Cm[k];
  const C2 = new Float64Array(D * D);
  gemm(false, false, D, D, D, 1, Cm, Cm, 0, C2);
  let trC4 = 0;
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) {
      const s = C2[i * D + j];
      trC4 += (j === i ? 1 : 2) * s * s;
    }
  }
  const wick = 3 * trC2 * trC2 + 6 * trC4;
  return m4 - 2 * cross + wick;
}

/** Flop estimate of `sampleCumulantNormSq` (to decide whether it is affordable). */
export function sampleCumulantNormSqCost(P: number, D: number): number {
  return P * P * D + 2 * P * D * D + D * D * D;
}
