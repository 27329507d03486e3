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
import { runStatusOf, solveAsync, type OdeProblem, type OdeSolution } from "../integrate/index.js";
import type { RunHooks, RunStatus } from "../run/hooks.js";
import { erfGeneralisationError } from "../stats/gaussian-integrals.js";
import type { TeacherStudentState } from "../analysis/order-parameters.js";

const TWO_OVER_PI = 2 / Math.PI;
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
  private readonly A: Float64Array;
  private readonly T: Float64Array;
  private readonly eta: number;
  private readonly etaV: number;
  private readonly second: boolean;

  constructor(readonly params: TeacherStudentParams, v0: ArrayLike<number>) {
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
    this.C = new Float64Array(this.n * this.n);
    this.w = new Float64Array(this.n);
    this.L3 = new Float64Array(K * this.n);
    this.P = new Float64Array(K * this.n);
    this.v = Float64Array.from(v0);
    this.A = Float64Array.from(params.A);
    this.T = Float64Array.from(params.T);
    this.eta = params.lr;
    this.etaV = params.lrSecondLayer ?? params.lr;
    this.second = params.secondOrder ?? true;
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

  /** dy/dt (allocation-free). */
  readonly rhs = (_t: number, y: Float64Array, dy: Float64Array): void => {
    const { K, M, n, C, w, L3, P, eta } = this;
    const kappa = this.params.weightDecay;
    this.load(y);
    // Λ3(i, b) and P(i, a) = Σ_b w_b C_ab / √Λ3(i, b).
    for (let i = 0; i < K; i++) {
      const ci = 1 + C[i * n + i];
      for (let b = 0; b < n; b++) {
        const cib = C[i * n + b];
        L3[i * n + b] = 1 / Math.sqrt(ci * (1 + C[b * n + b]) - cib * cib);
      }
      for (let a = 0; a < n; a++) {
        let s = 0;
        for (let b = 0; b < n; b++) s += w[b] * C[a * n + b] * L3[i * n + b];
        P[i * n + a] = s;
      }
    }
    let o = 0;
    for (let i = 0; i < K; i++) {
      const vi = -w[i];
      for (let m = 0; m < M; m++) {
        dy[o] = eta * vi * this.S(i, K + m) - eta * kappa * y[o];
        o++;
      }
    }
    const sigma2 = this.params.noise;
    for (let i = 0; i < K; i++) {
      const vi = -w[i];
      for (let k = i; k < K; k++) {
        const vk = -w[k];
        let d = eta * (vi * this.S(i, k) + vk * this.S(k, i)) - 2 * eta * kappa * y[o];
        if (this.second && vi !== 0 && vk !== 0) {
          const c11 = C[i * n + i], c12 = C[i * n + k], c22 = C[k * n + k];
          const l4 = (1 + c11) * (1 + c22) - c12 * c12;
          let s4 = 0;
          for (let a = 0; a < n; a++) {
            const c13 = C[i * n + a], c23 = C[k * n + a], c33 = C[a * n + a];
            const l1 = l4 * (1 + c33) - c23 * c23 * (1 + c11) - c13 * c13 * (1 + c22) + 2 * c12 * c13 * c23;
            for (let b = a; b < n; b++) {
              const c14 = C[i * n + b], c24 = C[k * n + b], c34 = C[a * n + b], c44 = C[b * n + b];
              const l0 = l4 * c34 - c23 * c24 * (1 + c11) - c13 * c14 * (1 + c22) + c12 * c13 * c24 + c12 * c14 * c23;
              const l2 = l4 * (1 + c44) - c24 * c24 * (1 + c11) - c14 * c14 * (1 + c22) + 2 * c12 * c14 * c24;
              let r = l0 / Math.sqrt(l1 * l2);
              r = r > 1 ? 1 : r < -1 ? -1 : r;
              s4 += (a === b ? 1 : 2) * w[a] * w[b] * Math.asin(r);
            }
          }
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

export interface TeacherStudentRunOptions {
  /** Output times (ascending, starting at or after 0). */
  times: readonly number[];
  /** Integrator: adaptive GBS (default) or RKC (stiff problems). */
  method?: "gbs" | "rkc";
  rtol?: number;
  atol?: number;
  /** Maximum adaptive step (0 = unlimited). */
  hMax?: number;
  maxSteps?: number;
  /**
   * Stop integrating once ε ≤ convergedEps (default 1e-13) and hold the state for the remaining
   * output times.  Near the perfect student (Q = R = T) the order parameters resolve the distance
   * |w − B| only to ~1e-8 (cancellation in Q + T − 2R), so the asin terms of the η² part become
   * rounding noise there and an error-controlled integrator cannot continue; ε ≤ 1e-13 is learnt
   * to double precision anyway.  Set 0 to disable.
   */
  convergedEps?: number;
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

/** The Saad–Solla ODEs from `init` as an OdeProblem, and how to read its solution. */
export function teacherStudentProblem(params: TeacherStudentParams, init: TeacherStudentState, opts: TeacherStudentRunOptions): { ode: SaadSollaOde; problem: OdeProblem; finish: (sol: OdeSolution) => TeacherStudentRun } {
  const ode = new SaadSollaOde(params, init.v);
  const times = opts.times;
  const epsStop = opts.convergedEps ?? 1e-13;
  const problem: OdeProblem = {
    rhs: ode.rhs,
    y0: ode.pack(init),
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
export async function integrateTeacherStudent(params: TeacherStudentParams, init: TeacherStudentState, opts: TeacherStudentRunOptions, hooks: RunHooks = {}): Promise<TeacherStudentRun> {
  const { ode, problem, finish } = teacherStudentProblem(params, init, opts);
  const sol = await solveAsync(problem, opts.method ?? "gbs", {
    rtol: opts.rtol ?? 1e-9,
    atol: opts.atol ?? 1e-11,
    hMax: opts.hMax ?? 0,
    maxSteps: opts.maxSteps ?? 1_000_000,
    signal: hooks.signal,
    onProgress: hooks.onProgress,
    progressMetrics: hooks.onProgress ? (_t, y) => ({ eps: ode.error(y) }) : undefined,
  });
  return finish(sol);
}
