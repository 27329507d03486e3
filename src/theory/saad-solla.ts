/**
 * Saad–Solla order-parameter ODEs for online SGD of a K-unit erf student on an M-unit erf teacher
 * with isotropic Gaussian inputs (Saad & Solla 1995; trained second layer as in Riegler & Biehl 1995
 * and Goldt et al. 2019).
 *
 * Setting (all in `src/sim/teacher-student.ts`): x ~ N(0, I_N), teacher y = Σ_n A_n g(ν_n) + σζ with
 * ν = Bx/√N, student φ = Σ_i v_i g(λ_i) with λ = Wx/√N, g(h) = erf(h/√2).  Per step
 *   w_i ← w_i + (η/√N) v_i e g'(λ_i) x − (ηκ/N) w_i,   v_i ← v_i + (η_v/N) e g(λ_i),   e = y − φ,
 * and t = steps/N.  Order parameters Q = WWᵀ/N (K×K), R = WBᵀ/N (K×M), T = BBᵀ/N (M×M, constant).
 * With C the covariance of (λ, ν) = [[Q, R], [Rᵀ, T]] and the weights w_b = −v_b (students),
 * +A_n (teachers), the N → ∞ limit is
 *   dR_in/dt = η v_i Σ_b w_b I3(i, n, b) − ηκ R_in
 *   dQ_ik/dt = η [v_i Σ_b w_b I3(i, k, b) + v_k Σ_b w_b I3(k, i, b)] − 2ηκ Q_ik
 *              + η² v_i v_k [Σ_ab w_a w_b I4(i, k, a, b) + σ² J2(i, k)]
 *   dv_i/dt  = η_v Σ_b w_b I2(i, b)                                    (trained second layer)
 * and the generalisation error ε = ½E[(Σ A_n g(ν_n) − φ)²] (noise-free test error).
 */
import { runStatusOf, solveRun, type RunSolveSettings, type CheckpointOptions, type OdeProblem, type OdeSolution } from "../integrate/index.js";
import type { RunHooks, RunStatus } from "../run/hooks.js";
import { erfGeneralisationError } from "../stats/gaussian-integrals.js";
import { I4Sums, i4SumTs } from "./i4-sums.js";
import { gemm } from "../kernels/index.js";
import { RowSums } from "../kernels/row-sums.js";
import type { TeacherStudentState } from "../analysis/order-parameters.js";

const TWO_OVER_PI = 2 / Math.PI;
const clamp1 = (x: number) => (x > 1 ? 1 : x < -1 ? -1 : x);
const FOUR_OVER_PI2 = 4 / (Math.PI * Math.PI);

export interface TeacherStudentParams {
  K: number;
  M: number;
  /** Learning rate η of the first layer. */
  lr: number;
  /** Learning rate η_v of the second layer (default η). */
  lrSecondLayer?: number;
  trainSecondLayer: boolean;
  /** Output-noise variance σ² of the teacher's labels. */
  noise: number;
  /** Weight decay κ (first layer). */
  weightDecay: number;
  /** Teacher second layer A (length M). */
  A: ArrayLike<number>;
  /** Teacher overlaps T = BBᵀ/N (M×M row-major). */
  T: ArrayLike<number>;
  /** Include the O(η²) terms (default true); false gives the small-η (gradient-flow) limit. */
  secondOrder?: boolean;
}

/**
 * The ODE system.  State vector layout: R (K·M, row-major), the upper triangle of Q (row by row,
 * K(K+1)/2 entries), then v (K) if the second layer is trained.
 */
export class SaadSollaOde {
  readonly K: number;
  readonly M: number;
  readonly dim: number;
  private readonly n: number;
  private readonly C: Float64Array;
  private readonly w: Float64Array;
  private readonly L3: Float64Array;
  private readonly P: Float64Array;
  private readonly v: Float64Array;
  private readonly sV: Float64Array;
  private readonly xV: Float64Array;
  private readonly yV: Float64Array;
  /** The η² pair sums (WebAssembly SIMD or TS, on `threads` threads); null without the η² terms. */
  private readonly i4: I4Sums | null;
  /** State index of Q_ik (either order), K×K. */
  private readonly qIdx: Int32Array;
  /** Scratch of `errorRate`: the K×K terms (upper triangle) and dQ_ii/(1 + Q_ii). */
  private readonly rateTerms: Float64Array;
  private readonly rateRatios: Float64Array;
  private readonly A: Float64Array;
  private readonly T: Float64Array;
  private readonly eta: number;
  private readonly etaV: number;
  private readonly second: boolean;

  /**
   * `opts.threads`: threads for the η² pair sums (the caller's plus threads − 1 workers; results are
   * bit-identical for every count).  Call `close()` when done if threads > 1.
   */
  constructor(readonly params: TeacherStudentParams, v0: ArrayLike<number>, opts: { threads?: number } = {}) {
    const { K, M } = params;
    if (!(Number.isInteger(K) && K >= 1)) throw new RangeError(`K must be a positive integer (got ${K})`);
    if (!(Number.isInteger(M) && M >= 1)) throw new RangeError(`M must be a positive integer (got ${M})`);
    if (params.A.length !== M) throw new RangeError(`A must have length M = ${M}`);
    if (params.T.length !== M * M) throw new RangeError(`T must be M×M = ${M * M}`);
    if (v0.length !== K) throw new RangeError(`v must have length K = ${K}`);
    this.K = K;
    this.M = M;
    this.n = K + M;
    this.dim = K * M + (K * (K + 1)) / 2 + (params.trainSecondLayer ? K : 0);
    this.second = params.secondOrder ?? true;
    this.i4 = this.second ? new I4Sums(this.n, K, opts.threads ?? 1) : null;
    // C and w live where the pair sums read them (padded; only the first n², n entries are used here).
    this.C = this.i4 ? this.i4.C : new Float64Array(this.n * this.n);
    this.w = this.i4 ? this.i4.w : new Float64Array(this.n);
    this.L3 = new Float64Array(K * this.n);
    this.P = new Float64Array(K * this.n);
    this.v = Float64Array.from(v0);
    this.sV = new Float64Array(this.n);
    this.xV = new Float64Array(this.n);
    this.yV = new Float64Array(this.n);
    this.A = Float64Array.from(params.A);
    this.qIdx = new Int32Array(K * K);
    this.rateTerms = new Float64Array(K * K);
    this.rateRatios = new Float64Array(K);
    for (let i = 0; i < K; i++) for (let k = i; k < K; k++) this.qIdx[i * K + k] = this.qIdx[k * K + i] = K * M + i * K - (i * (i - 1)) / 2 + (k - i);
    this.T = Float64Array.from(params.T);
    this.eta = params.lr;
    this.etaV = params.lrSecondLayer ?? params.lr;
  }

  /** Index of Q_ik (either order) in the packed state. */
  qIndex(i: number, k: number): number {
    return this.qIdx[i * this.K + k];
  }

  /** Which implementation computes the η² pair sums. */
  get i4Backend(): "wasm-simd" | "ts" {
    return this.i4 ? this.i4.backend : "ts";
  }

  /** Threads the η² pair sums run on (1 when the work is too small to share). */
  get threads(): number {
    return this.i4 ? this.i4.threads : 1;
  }

  /** Resolves once the worker threads (if any) are started (optional before `rhs`). */
  ready(): Promise<void> {
    return this.i4 ? this.i4.ready() : Promise.resolve();
  }

  /** Stop the worker threads, if any (idempotent; `rhs` must not be called afterwards). */
  close(): void {
    this.i4?.close();
  }

  /** Pack a state into a vector. */
  pack(s: TeacherStudentState): Float64Array {
    const { K, M } = this;
    const y = new Float64Array(this.dim);
    y.set(s.R.subarray(0, K * M), 0);
    let o = K * M;
    for (let i = 0; i < K; i++) for (let k = i; k < K; k++) y[o++] = s.Q[i * K + k];
    if (this.params.trainSecondLayer) y.set(s.v.subarray(0, K), o);
    return y;
  }

  /** Unpack a state vector (v is the fixed v0 when not trained). */
  unpack(y: ArrayLike<number>): TeacherStudentState {
    const { K, M } = this;
    const R = new Float64Array(K * M), Q = new Float64Array(K * K);
    for (let j = 0; j < K * M; j++) R[j] = y[j];
    let o = K * M;
    for (let i = 0; i < K; i++) for (let k = i; k < K; k++) Q[i * K + k] = Q[k * K + i] = y[o++];
    const v = this.params.trainSecondLayer ? Float64Array.from({ length: K }, (_, i) => y[o + i]) : this.v.slice();
    return { Q, R, v };
  }

  /** Noise-free generalisation error ε = ½E[(y* − φ)²] of a packed state. */
  error(y: ArrayLike<number>): number {
    const s = this.unpack(y);
    return erfGeneralisationError(s.Q, s.R, this.T, s.v, this.A, this.K, this.M);
  }

  /**
   * dε/dt at packed state y given dy = dy/dt (chain rule through the arcsines of
   * erfGeneralisationError; the teacher terms are constant).
   */
  errorRate(y: ArrayLike<number>, dy: ArrayLike<number>): number {
    const { K, M } = this;
    const T = this.T, A = this.A;
    const tr = this.params.trainSecondLayer;
    const vo = K * M + (K * (K + 1)) / 2;
    const qIdx = this.qIdx, v0 = this.v;
    // The (i, k) and (k, i) terms are equal bit for bit (every operation in them is commutative in its
    // operands' swap), so each is computed once (k ≥ i) and reused, still added in the order i, k.
    // z·asin(c) with z = ±0 (fixed second layer) is z·c bit for bit: asin maps [−1, 1] to finite values
    // of c's sign (±0 to ±0), so the product is the zero of sign sgn z·sgn c either way (NaN if c is).
    // That skips every arcsine when the second layer is not trained.
    const term = this.rateTerms, ratio = this.rateRatios;
    for (let i = 0; i < K; i++) {
      const ii = qIdx[i * K + i];
      ratio[i] = dy[ii] / (1 + y[ii]);
    }
    let s = 0;
    for (let i = 0; i < K; i++) {
      const ii = qIdx[i * K + i];
      const qii = y[ii], ri = ratio[i];
      const vi = tr ? y[vo + i] : v0[i], dvi = tr ? dy[vo + i] : 0;
      for (let k = 0; k < i; k++) s += term[k * K + i];
      for (let k = i; k < K; k++) {
        const kk = qIdx[k * K + k], ik = qIdx[i * K + k];
        const qkk = y[kk], q = y[ik], dq = dy[ik];
        const vk = tr ? y[vo + k] : v0[k], dvk = tr ? dy[vo + k] : 0;
        const sq = Math.sqrt((1 + qii) * (1 + qkk));
        const a = q / sq;
        const da = dq / sq - (a / 2) * (ri + ratio[k]);
        const root = Math.sqrt(Math.max(1e-300, 1 - a * a));
        const z = dvi * vk + vi * dvk, c = clamp1(a);
        const x = vi * vk * (da / root) + z * (z === 0 ? c : Math.asin(c));
        term[i * K + k] = x;
        s += x;
      }
      for (let n = 0; n < M; n++) {
        const tnn = T[n * M + n], r = y[i * M + n], dr = dy[i * M + n];
        const sq = Math.sqrt((1 + qii) * (1 + tnn));
        const a = r / sq;
        const da = dr / sq - (a / 2) * ri;
        const root = Math.sqrt(Math.max(1e-300, 1 - a * a));
        const c = clamp1(a);
        s -= 2 * A[n] * (vi * (da / root) + dvi * (dvi === 0 ? c : Math.asin(c)));
      }
    }
    return s / Math.PI;
  }

  /** Fill the combined covariance C and the weights w from the state vector. */
  private load(y: ArrayLike<number>): void {
    const { K, M, n, C, w, T, A } = this;
    let o = 0;
    for (let i = 0; i < K; i++) for (let m = 0; m < M; m++) {
      C[i * n + K + m] = C[(K + m) * n + i] = y[o++];
    }
    for (let i = 0; i < K; i++) for (let k = i; k < K; k++) C[i * n + k] = C[k * n + i] = y[o++];
    for (let a = 0; a < M; a++) for (let b = 0; b < M; b++) C[(K + a) * n + K + b] = T[a * M + b];
    const v = this.params.trainSecondLayer ? null : this.v;
    for (let i = 0; i < K; i++) w[i] = -(v ? v[i] : y[o + i]);
    for (let m = 0; m < M; m++) w[K + m] = A[m];
  }

  /** S(i, a) = Σ_b w_b I3(i, a, b) = (2/π)[P(i,a) − C_ia P(i,i)/(1 + C_ii)]. */
  private S(i: number, a: number): number {
    const { n, C, P } = this;
    return TWO_OVER_PI * (P[i * n + a] - (C[i * n + a] * P[i * n + i]) / (1 + C[i * n + i]));
  }

  /**
   * Σ_ab w_a w_b asin(Λ0(a,b)/√(Λ1(a)Λ1(b))) for the pair (i, k) in TS (`i4SumTs`): the η² term of dQ_ik
   * up to the factor (4/π²)Λ4^{-1/2}, at the state of the last `rhs` call (tests).
   */
  i4Sum(i: number, k: number): number {
    return i4SumTs(this.C, this.w, this.n, i, k, this.sV, this.xV, this.yV);
  }

  /** dy/dt (allocation-free). */
  readonly rhs = (_t: number, y: Float64Array, dy: Float64Array): void => {
    const { K, M, n, C, w, L3, P, eta } = this;
    const kappa = this.params.weightDecay;
    this.load(y);
    // Λ3(i, b) and P(i, a) = Σ_b w_b C_ab / √Λ3(i, b): L3 holds w_b Λ3(i, b)^{-1/2}, and P = L3 C
    // (C is symmetric) is one K×n×n GEMM (the dense kernels: WebAssembly SIMD when available).
    for (let i = 0; i < K; i++) {
      const io = i * n, ci = 1 + C[io + i];
      for (let b = 0; b < n; b++) {
        const cib = C[io + b];
        L3[io + b] = w[b] / Math.sqrt(ci * (1 + C[b * n + b]) - cib * cib);
      }
    }
    gemm(false, false, K, n, n, 1, L3, C, 0, P);
    let o = 0;
    for (let i = 0; i < K; i++) {
      const vi = -w[i];
      for (let m = 0; m < M; m++) {
        dy[o] = eta * vi * this.S(i, K + m) - eta * kappa * y[o];
        o++;
      }
    }
    const sigma2 = this.params.noise;
    const sums = this.i4 ? this.i4.sums() : null;
    let pair = 0;
    for (let i = 0; i < K; i++) {
      const vi = -w[i];
      for (let k = i; k < K; k++, pair++) {
        const vk = -w[k];
        let d = eta * (vi * this.S(i, k) + vk * this.S(k, i)) - 2 * eta * kappa * y[o];
        if (this.second && vi !== 0 && vk !== 0) {
          const c12 = C[i * n + k];
          const l4 = (1 + C[i * n + i]) * (1 + C[k * n + k]) - c12 * c12;
          let s4 = sums![pair];
          s4 *= FOUR_OVER_PI2 / Math.sqrt(l4);
          const j2 = sigma2 > 0 ? TWO_OVER_PI / Math.sqrt(l4) : 0;
          d += eta * eta * vi * vk * (s4 + sigma2 * j2);
        }
        dy[o++] = d;
      }
    }
    if (this.params.trainSecondLayer) {
      const etaV = this.etaV;
      for (let i = 0; i < K; i++) {
        const ci = 1 + C[i * n + i];
        let s = 0;
        for (let b = 0; b < n; b++) {
          let r = C[i * n + b] / Math.sqrt(ci * (1 + C[b * n + b]));
          r = r > 1 ? 1 : r < -1 ? -1 : r;
          s += w[b] * Math.asin(r);
        }
        dy[o++] = etaV * TWO_OVER_PI * s;
      }
    }
  };
}

/** Output times and integrator settings (DOP853 by default, rtol 1e-9, atol 1e-11; see src/integrate/dop853.ts). */
export interface TeacherStudentRunOptions extends RunSolveSettings {
  /** Output times (ascending, starting at or after 0). */
  times: readonly number[];
  /**
   * Error control on the quantities that vanish at the plateau and at the perfect student (default
   * true; see `guardFunctionals`).  false integrates the order parameters alone (as before the
   * guard: ε < 0 and a misplaced plateau escape at loose tolerances; kept for comparisons and tests).
   */
  guard?: boolean;
  /**
   * Stop integrating once ε ≤ convergedEps (default 1e-13) and hold the state for the remaining
   * output times.  Near the perfect student (Q = R = T) the order parameters resolve the distance
   * |w − B| only to ~1e-8 (cancellation in Q + T − 2R), so the asin terms of the η² part become
   * rounding noise there and an error-controlled integrator cannot continue; ε ≤ 1e-13 is learnt
   * to double precision anyway.  Set 0 to disable.
   */
  convergedEps?: number;
  /**
   * Threads for the η² pair sums (default 1): the caller's plus threads − 1 worker threads, started
   * once per run; the trajectory is bit-identical for every count.
   */
  threads?: number;
}

export interface TeacherStudentRun {
  /** "event": ε fell below convergedEps at `tConverged`; later outputs repeat that state. */
  status: RunStatus;
  message: string;
  t: number[];
  eps: number[];
  states: TeacherStudentState[];
  tConverged?: number;
  nRhs: number;
  nSteps: number;
}

/**
 * Linear functionals g_j(y) = c_j·y + d_j of the packed state whose integration error the adaptive
 * step must control *relative to their own size*, as sparse rows (state index, coefficient) and
 * constants d_j.  Why: ε and the dynamics that matter are small differences of O(1) order
 * parameters, but the solver's error control is per component, rtol·|y_k| + atol with |y_k| = O(1).
 * At rtol 1e-3 it lets errors of ~1e-3 into Q and R, which is the whole plateau ε (~3e-2 = a
 * difference of O(1) arcsines) and swamps the ~1e-4 asymmetry whose growth ends the plateau: the
 * escape came 4× early at rtol 1e-3 (t ≈ 79 instead of 297, K = M = 3) and ε went negative
 * (−4e-2) because the integrated (Q, R, T) was no longer a covariance.  The functionals are the
 * squared distances that vanish where it matters, |w_a − w_b|²/N for
 *   student–teacher  D_in = Q_ii − 2R_in + T_nn   (→ 0 at the perfect student; ε ≈ linear in them),
 *   student–student  S_ik = Q_ii − 2Q_ik + Q_kk   (≈ 0 on the symmetric plateau: the escape mode),
 *   the cross terms  X_ik,nm = Q_ik − R_im − R_kn + T_nm = (w_i − B_n)·(w_k − B_m)/N (i < k) when
 *                    K²M² ≤ 400 (they fix the sign of ε near the perfect student),
 *   and, with a trained second layer, v_i − A_n.
 *   the asymmetries R_in − R_kn, Q_ii − Q_kk (i < k) and R_in − R_im (n < m), ≈ 0 on the plateau,
 * They are appended to the state as redundant components (dg_j/dt = c_j·dy/dt): every integrator
 * here is linear in the RHS values, so their error estimates are exactly the estimates of c_j·y's
 * error, now weighed against rtol·|g_j| + atol.  They are never read back (the order parameters
 * stay the primary state), so a tight-tolerance trajectory changes only by the extra accuracy.
 */
export function guardFunctionals(ode: SaadSollaOde): { rows: [number, number][][]; d: number[] } {
  const { K, M } = ode;
  const T = ode.params.T, A = ode.params.A;
  const rIdx = (i: number, n: number) => i * M + n;
  const qIdx = (i: number, k: number) => ode.qIndex(i, k);
  const rows: [number, number][][] = [], d: number[] = [];
  for (let i = 0; i < K; i++) for (let n = 0; n < M; n++) {
    rows.push([[qIdx(i, i), 1], [rIdx(i, n), -2]]);
    d.push(T[n * M + n]);
  }
  for (let i = 0; i < K; i++) for (let k = i + 1; k < K; k++) {
    rows.push([[qIdx(i, i), 1], [qIdx(i, k), -2], [qIdx(k, k), 1]]);
    d.push(0);
  }
  {
    for (let i = 0; i < K; i++) for (let k = i + 1; k < K; k++) {
      for (let n = 0; n < M; n++) { rows.push([[rIdx(i, n), 1], [rIdx(k, n), -1]]); d.push(0); }
      rows.push([[qIdx(i, i), 1], [qIdx(k, k), -1]]); d.push(0);
    }
    for (let i = 0; i < K; i++) for (let n = 0; n < M; n++) for (let m = n + 1; m < M; m++) { rows.push([[rIdx(i, n), 1], [rIdx(i, m), -1]]); d.push(0); }
  }
  if (K * K * M * M <= 400) {
    for (let i = 0; i < K; i++) for (let k = i + 1; k < K; k++) for (let n = 0; n < M; n++) for (let m = 0; m < M; m++) {
      rows.push([[qIdx(i, k), 1], [rIdx(i, m), -1], [rIdx(k, n), -1]]);
      d.push(T[n * M + m]);
    }
  }
  if (ode.params.trainSecondLayer) {
    const o = K * M + (K * (K + 1)) / 2;
    for (let i = 0; i < K; i++) for (let n = 0; n < M; n++) {
      rows.push([[o + i, 1]]);
      d.push(-A[n]);
    }
  }
  return { rows, d };
}

/** The Saad–Solla ODEs from `init` as an OdeProblem, and how to read its solution. */
export function teacherStudentProblem(params: TeacherStudentParams, init: TeacherStudentState, opts: TeacherStudentRunOptions): { ode: SaadSollaOde; problem: OdeProblem; finish: (sol: OdeSolution) => TeacherStudentRun } {
  const ode = new SaadSollaOde(params, init.v, { threads: opts.threads });
  const times = opts.times;
  const epsStop = opts.convergedEps ?? 1e-13;
  const y0 = ode.pack(init);
  let rhs = ode.rhs, yInit = y0;
  if (opts.guard ?? true) {
    const { rows, d } = guardFunctionals(ode);
    // ε itself, integrated alongside (dε/dt = ∇ε·f): its error is held to rtol·ε + atol, i.e. relative
    // accuracy on the observable.  odex's error norm is the RMS over components, so ε enters as
    // ⌈n/8⌉ identical copies, weight ≈ 1/8 of the whole (one copy among ~75 components was diluted
    // too much: the rtol-1e-3 escape time came out 24 % early with one copy, 0.02 % late with ten).
    const nEps = Math.max(1, Math.ceil((ode.dim + rows.length) / 8));
    const n = ode.dim;
    yInit = new Float64Array(n + rows.length + nEps);
    yInit.set(y0);
    yInit.fill(ode.error(y0), n + rows.length);
    rows.forEach((row, j) => {
      let s = d[j];
      for (const [k, c] of row) s += c * y0[k];
      yInit[n + j] = s;
    });
    // The rows' derivatives c_j·dy: sparse row sums, each in its row's order (a WebAssembly-SIMD kernel
    // when dy lives in the kernels' memory — the GBS integrator's work arrays do — else a TS loop;
    // the same sums either way).
    const nRows = rows.length;
    const start = new Int32Array(nRows + 1);
    for (let j = 0; j < nRows; j++) start[j + 1] = start[j] + rows[j].length;
    const col = new Int32Array(start[nRows]), coef = new Float64Array(start[nRows]);
    rows.forEach((row, j) => row.forEach(([k, c], e) => { col[start[j] + e] = k; coef[start[j] + e] = c; }));
    const rowSums = new RowSums(start, col, coef);
    rhs = (t, y, dy) => {
      ode.rhs(t, y, dy);
      rowSums.apply(dy, dy, n);
      dy.fill(ode.errorRate(y, dy), n + nRows, n + nRows + nEps);
    };
  }
  const problem: OdeProblem = {
    rhs,
    y0: yInit,
    tspan: [times[0], times[times.length - 1]],
    saveat: times,
    events: { stop: epsStop > 0 ? (_t, y) => (ode.error(y) <= epsStop ? "converged" : false) : undefined },
  };
  const finish = (sol: OdeSolution): TeacherStudentRun => {
    let t = sol.t, ys = sol.y;
    let tConverged: number | undefined;
    let message = sol.message;
    if (sol.retcode === "event" && sol.reason === "converged") {
      tConverged = sol.tEnd;
      const last = sol.y[sol.y.length - 1];
      const n = times.filter((x) => x < sol.tEnd).length;
      t = [...times];
      ys = [...sol.y.slice(0, n), ...times.slice(n).map(() => last)];
      message = `converged: ε ≤ ${epsStop} at t = ${sol.tEnd}; later rows repeat that state`;
    }
    return {
      status: runStatusOf(sol.retcode),
      message,
      t,
      eps: ys.map((y) => ode.error(y)),
      states: ys.map((y) => ode.unpack(y)),
      tConverged,
      nRhs: sol.stats.nRhs,
      nSteps: sol.stats.nSteps,
    };
  };
  return { ode, problem, finish };
}

/** Integrate the Saad–Solla ODEs from `init` (adaptive GBS by default, error-controlled). */
export async function integrateTeacherStudent(params: TeacherStudentParams, init: TeacherStudentState, opts: TeacherStudentRunOptions, hooks: RunHooks = {}, durable: CheckpointOptions = {}): Promise<TeacherStudentRun> {
  const { ode, problem, finish } = teacherStudentProblem(params, init, opts);
  try {
    await ode.ready();
    return finish(await solveRun(problem, opts, { rtol: 1e-9, atol: 1e-11, method: "dop853" }, hooks, durable, (_t, y) => ({ eps: ode.error(y) })));
  } finally {
    ode.close();
  }
}
