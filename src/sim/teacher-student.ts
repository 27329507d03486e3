/**
 * Minimal online-SGD simulation of the Saad–Solla teacher–student setting, the ground truth for
 * `src/theory/saad-solla.ts`.
 *
 * x ~ N(0, I_N); teacher B (M×N, i.i.d. N(0, 1)), labels y = Σ_n A_n g(ν_n) + σζ, ν = Bx/√N;
 * student W (K×N, i.i.d. N(0, initScale²)), φ = Σ_i v_i g(λ_i), λ = Wx/√N, g(h) = erf(h/√2).
 * One step with e = y − φ:
 *   w_i ← w_i + (η/√N) v_i e g'(λ_i) x − (ηκ/N) w_i,   v_i ← v_i + (η_v/N) e g(λ_i)  (if trained)
 * and time t = steps/N.  The order parameters Q = WWᵀ/N, R = WBᵀ/N, T = BBᵀ/N are recorded at the
 * requested times (as `states[j]`, the ODE's shape), together with the exact (noise-free)
 * generalisation error ε(Q, R, T, v, A) (exact because the inputs are Gaussian: no test-set noise).
 *
 * Random streams (Rng.stream(seed, k)): 0 teacher, 1 student initialisation, 2 training inputs
 * and label noise.  Same configuration ⇒ bit-identical result.
 */
import { Rng } from "../stats/rng.js";
import { erf } from "../stats/special.js";
import { erfGeneralisationError } from "../stats/gaussian-integrals.js";
import { yieldToEventLoop, type RunHooks } from "../run/hooks.js";
import type { TeacherStudentState } from "../analysis/order-parameters.js";

export interface TeacherStudentSimConfig {
  N: number;
  K: number;
  M: number;
  lr: number;
  lrSecondLayer?: number;
  trainSecondLayer: boolean;
  noise: number;
  weightDecay: number;
  /** Teacher second layer (length M). */
  A: readonly number[];
  /** Initial student second layer (length K). */
  v0: readonly number[];
  /** Student initial weights i.i.d. N(0, initScale²) (so Q_ii(0) ≈ initScale²). */
  initScale: number;
  /** Times t (= steps/N) at which to record; ascending, ≥ 0. */
  times: readonly number[];
  seed: number;
  /**
   * Runaway threshold (default 1e6, as DivergenceConfig in simulate.ts): "diverged" when a student's
   * √Q_ii = |w_i|/√N exceeds maxGrowth·max(1, √Q_ii(0)) or a trained |v_i| exceeds
   * maxGrowth·max(1, |v_i(0)|).  Healthy runs have Q_ii → T_nn = O(1).
   */
  maxGrowth?: number;
}

/** The same shape as the ODE's `TeacherStudentRun` (src/theory/saad-solla.ts): t[j], eps[j], states[j]. */
export interface TeacherStudentSimResult {
  status: "done" | "interrupted" | "diverged";
  /** Why the run diverged (time reached, the runaway quantity and the threshold), if it did. */
  divergence?: string;
  /** Recorded times (steps/N). */
  t: number[];
  /** Generalisation error ε at t[j]. */
  eps: number[];
  /** Order parameters Q, R, v at t[j]. */
  states: TeacherStudentState[];
  /** Teacher overlaps T = BBᵀ/N. */
  T: Float64Array;
  steps: number;
}

const SQRT_2_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT2 = 1 / Math.SQRT2;

/** The initial weights of a run (teacher B, student W) — used to start the ODE from the same state. */
export function teacherStudentInit(cfg: Pick<TeacherStudentSimConfig, "N" | "K" | "M" | "initScale" | "seed">): { B: Float64Array; W: Float64Array } {
  const B = new Float64Array(cfg.M * cfg.N);
  Rng.stream(cfg.seed, 0).fillNormal(B, 1);
  const W = new Float64Array(cfg.K * cfg.N);
  Rng.stream(cfg.seed, 1).fillNormal(W, cfg.initScale);
  return { B, W };
}

/** Overlap matrix XYᵀ/N of row-major matrices X (a×N) and Y (b×N). */
export function overlaps(X: Float64Array, a: number, Y: Float64Array, b: number, N: number): Float64Array {
  const out = new Float64Array(a * b);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      let s = 0;
      for (let k = 0; k < N; k++) s += X[i * N + k] * Y[j * N + k];
      out[i * b + j] = s / N;
    }
  }
  return out;
}

/**
 * Run online SGD and record order parameters at `cfg.times`.  Progress is reported in steps, with
 * the model time and the last recorded ε; an aborted signal stops with status "interrupted" and the
 * state reached recorded as the last row.
 */
export async function simulateTeacherStudent(cfg: TeacherStudentSimConfig, hooks: RunHooks = {}): Promise<TeacherStudentSimResult> {
  const { N, K, M } = cfg;
  if (cfg.A.length !== M) throw new RangeError(`A must have length M = ${M}`);
  if (cfg.v0.length !== K) throw new RangeError(`v0 must have length K = ${K}`);
  const { B, W } = teacherStudentInit(cfg);
  const v = Float64Array.from(cfg.v0);
  const A = Float64Array.from(cfg.A);
  const T = overlaps(B, M, B, M, N);
  const rng = Rng.stream(cfg.seed, 2);
  const x = new Float64Array(N);
  const lam = new Float64Array(K), gl = new Float64Array(K), dgl = new Float64Array(K);
  const sqrtN = Math.sqrt(N);
  const cW = cfg.lr / sqrtN;
  const decay = 1 - (cfg.lr * cfg.weightDecay) / N;
  const cV = cfg.trainSecondLayer ? (cfg.lrSecondLayer ?? cfg.lr) / N : 0;
  const sigma = Math.sqrt(cfg.noise);

  const out: TeacherStudentSimResult = { status: "done", t: [], eps: [], states: [], T, steps: 0 };
  const record = (steps: number) => {
    const Q = overlaps(W, K, W, K, N), R = overlaps(W, K, B, M, N);
    out.t.push(steps / N);
    out.states.push({ Q, R, v: v.slice() });
    out.eps.push(erfGeneralisationError(Q, R, T, v, A, K, M));
  };
  const stepsAt = cfg.times.map((t) => Math.round(t * N));
  const maxGrowth = cfg.maxGrowth ?? 1e6;
  const norm = (i: number) => {
    let s = 0;
    for (let k = 0; k < N; k++) s += W[i * N + k] * W[i * N + k];
    return Math.sqrt(s / N);
  };
  const limW = Array.from({ length: K }, (_, i) => maxGrowth * Math.max(1, norm(i)));
  const limV = Array.from({ length: K }, (_, i) => maxGrowth * Math.max(1, Math.abs(v[i])));
  /** The runaway check (null: healthy). */
  const runaway = (steps: number): string | null => {
    const at = `diverged at t = ${(steps / N).toPrecision(4)} (step ${steps})`;
    for (let i = 0; i < K; i++) {
      const q = norm(i);
      if (!(q <= limW[i])) return `${at}: |w_${i}|/√N = ${q.toExponential(2)} > ${maxGrowth.toExponential(2)}·max(1, |w_${i}(0)|/√N) = ${limW[i].toExponential(2)}; reduce model.teacherStudent.lr`;
      if (!(Math.abs(v[i]) <= limV[i])) return `${at}: |v_${i}| = ${Math.abs(v[i]).toExponential(2)} > ${limV[i].toExponential(2)}; reduce model.teacherStudent.lrSecondLayer`;
    }
    return null;
  };
  const ctx: SgdContext = { N, K, M, B, W, A, v, x, lam, gl, dgl, rng, sqrtN, cW, decay, cV, sigma };
  let steps = 0;
  let lastYield = performance.now();
  for (let r = 0; r < stepsAt.length; r++) {
    const target = stepsAt[r];
    while (steps < target) {
      const chunkEnd = Math.min(target, steps + 4096);
      sgdSteps(ctx, steps, chunkEnd);
      steps = chunkEnd;
      const bad = runaway(steps);
      if (bad !== null) {
        out.status = "diverged";
        out.divergence = bad;
        out.steps = steps;
        record(steps);
        return out;
      }
      if (performance.now() - lastYield > 50) {
        hooks.onProgress?.({ done: steps, total: stepsAt[stepsAt.length - 1], unit: "steps", t: steps / N, metrics: { eps: out.eps[out.eps.length - 1] ?? NaN } });
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      if (hooks.signal?.aborted) {
        out.status = "interrupted";
        out.steps = steps;
        record(steps);
        return out;
      }
    }
    record(steps);
  }
  out.steps = steps;
  hooks.onProgress?.({ done: steps, total: stepsAt[stepsAt.length - 1], unit: "steps", t: steps / N, metrics: { eps: out.eps[out.eps.length - 1] ?? NaN } });
  return out;
}

/** What `sgdSteps` reads and updates (the network, the teacher, the scratch, the step sizes). */
interface SgdContext {
  N: number; K: number; M: number;
  B: Float64Array; W: Float64Array; A: Float64Array; v: Float64Array;
  x: Float64Array; lam: Float64Array; gl: Float64Array; dgl: Float64Array;
  rng: Rng; sqrtN: number; cW: number; decay: number; cV: number; sigma: number;
}

/**
 * Online SGD steps from..to−1 (one fresh sample each).  A plain function, not inlined in the async
 * driver: V8 compiles it once, where the loop inside the async function was compiled anew (on-stack
 * replacement) after every resumption — 15 compilations, ≈ 0.5 s of compile time per process.
 */
function sgdSteps(ctx: SgdContext, from: number, to: number): void {
  const { N, K, M, B, W, A, v, x, lam, gl, dgl, rng, sqrtN, cW, decay, cV, sigma } = ctx;
  for (let steps = from; steps < to; steps++) {
    for (let k = 0; k < N; k++) x[k] = rng.normal();
    let y = 0;
    for (let m = 0; m < M; m++) {
      let s = 0;
      const o = m * N;
      for (let k = 0; k < N; k++) s += B[o + k] * x[k];
      y += A[m] * erf((s / sqrtN) * INV_SQRT2);
    }
    if (sigma > 0) y += sigma * rng.normal();
    let phi = 0;
    for (let i = 0; i < K; i++) {
      let s = 0;
      const o = i * N;
      for (let k = 0; k < N; k++) s += W[o + k] * x[k];
      const h = s / sqrtN;
      lam[i] = h;
      gl[i] = erf(h * INV_SQRT2);
      dgl[i] = SQRT_2_PI * Math.exp(-0.5 * h * h);
      phi += v[i] * gl[i];
    }
    const e = y - phi;
    for (let i = 0; i < K; i++) {
      const a = cW * v[i] * e * dgl[i];
      const o = i * N;
      if (decay !== 1) for (let k = 0; k < N; k++) W[o + k] = decay * W[o + k] + a * x[k];
      else for (let k = 0; k < N; k++) W[o + k] += a * x[k];
    }
    if (cV !== 0) for (let i = 0; i < K; i++) v[i] += cV * e * gl[i];
  }
}
