/**
 * Symmetric CP decomposition ΔT ≈ Σ_a γ_a u_a⊗4 by L-BFGS on a `CpObjective` (implicit from samples
 * or explicit tensor; see ./loss.ts), with seeded restarts.
 *
 * Each restart draws factors u_a i.i.d. Gaussian (normalised) from Rng.stream(seed, k), then
 *   - method "reduced" (default): L-BFGS over the factors only, with u_a = v_a/|v_a| and γ
 *     eliminated by its optimum γ*(U) = G⁻¹b (G_ab = (u_a·u_b)⁴, b_a = ⟨ΔT, u_a⊗4⟩) — variable
 *     projection; the loss is scaled by its starting value so gtol/ftol are relative.  On NLGP data
 *     (D = 100, P = 10⁴, r = 20) this needs ~8× fewer iterations than the joint form and reaches
 *     the same minimum;
 *   - method "joint": L-BFGS on (γ, U) jointly with γ initialised at γ*(U) (IG22 SI A.4 as written).
 * The restart with the smallest loss wins.  The result is a `CPTensor` (src/stats/cp-tensor.ts), normalised:
 * |u_a| = 1, the weight γ_a absorbs the scale (γ_a |u_a|⁴), the sign of u_a is fixed so that its
 * largest-magnitude entry is positive (u and −u give the same u⊗4), and factors are sorted by |γ_a|
 * (descending).
 *
 * Hooks: `signal` is polled after every L-BFGS iteration (the run stops with status
 * "interrupted", keeping the best restart so far, the stopped one included); progress is reported
 * per iteration in units of restarts, with the iteration and loss as metrics.
 *
 * `decompose` is synchronous (a worker's shared abort flag is seen, a Ctrl-C on the main thread is
 * not); `decomposeAsync` runs the same generator (`decomposeSteps`) cooperatively, returning to
 * the event loop every ~40 ms (between restarts, L-BFGS iterations and line-search evaluations),
 * so that signal handlers run; its results are bit-identical to `decompose`'s.
 */
import { lbfgsSteps, type LbfgsStatus, type Pacer } from "../optim/lbfgs.js";
import { Rng } from "../stats/rng.js";
import { choleskyFactor, choleskySolve } from "../stats/linalg.js";
import { runCooperatively, runToEnd, YieldClock, type RunHooks } from "../run/hooks.js";
import type { CpObjective } from "./loss.js";
import type { CPTensor } from "../stats/cp-tensor.js";

export interface DecomposeOptions {
  /** Number of restarts (≥ 1). Default 5. */
  restarts?: number;
  /** Seed; restart k uses Rng.stream(seed, k). Default 1. */
  seed?: number;
  /** L-BFGS iterations per restart. Default 2000. */
  maxIter?: number;
  /** L-BFGS gradient tolerance (‖g‖∞ ≤ gtol·max(1, ‖θ‖∞)). Default 1e-7. */
  gtol?: number;
  /** L-BFGS relative-decrease tolerance (0 = run to gtol). Default 1e-12. */
  ftol?: number;
  /** L-BFGS memory. Default 10. */
  m?: number;
  /**
   * "reduced" (default): L-BFGS over normalised factors with γ eliminated (`ReducedCpObjective`;
   * loss scaled by its value at the start, so gtol/ftol are relative); "joint": L-BFGS over (γ, U)
   * jointly on the raw loss (the formulation of IG22 SI A.4).
   */
  method?: CpMethod;
  /** Warm start for restart 0: factors (r×D, any scale); the weights are set optimally for them. */
  initFactors?: Float64Array;
}

export interface CpRestart {
  restart: number;
  loss: number;
  iterations: number;
  evaluations: number;
  status: LbfgsStatus;
}

/**
 * A decomposition: the CP tensor (unit-norm factors, weights sorted by |γ| descending) and how it
 * was found.
 */
export interface CpDecomposition extends CPTensor {
  /** Loss of the best restart (without the constant ‖ΔT‖²). */
  loss: number;
  /** Index of the best restart. */
  best: number;
  restarts: CpRestart[];
  status: "done" | "interrupted";
}

/**
 * Solve the symmetric positive semi-definite system G x = b (Cholesky; if G is not numerically
 * positive definite, a ridge (tr G/n)·10^(k−14), k = 1…7, is added; zeros if that fails too).
 */
function solveSpd(G: Float64Array, b: Float64Array, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += G[i * n + i];
  const L = new Float64Array(n * n);
  for (let ridge = 0; ridge < 8; ridge++) {
    const eps = ridge === 0 ? 0 : (trace / n) * 10 ** (ridge - 14);
    if (choleskyFactor(G, n, L, eps)) return choleskySolve(L, n, b, new Float64Array(n));
  }
  return new Float64Array(n);
}

/** Optimal weights γ for fixed factors U (r×D): minimise the loss over γ. */
export function optimalWeights(obj: CpObjective, U: Float64Array): Float64Array {
  const { r, D } = obj;
  const b = obj.projections(U, new Float64Array(r));
  const G = new Float64Array(r * r);
  for (let a = 0; a < r; a++) {
    for (let c = a; c < r; c++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += U[a * D + i] * U[c * D + i];
      const v = s ** 4;
      G[a * r + c] = v;
      G[c * r + a] = v;
    }
  }
  return solveSpd(G, b, r);
}

/**
 * Normalise θ = [γ, U]: |u_a| = 1 with γ_a ← γ_a |u_a|⁴, sign so that the largest-|·| entry is
 * positive, sorted by |γ| descending (ties: original order).
 */
export function normaliseFactors(theta: Float64Array, r: number, D: number): CPTensor {
  const g0 = new Float64Array(r), U0 = new Float64Array(r * D);
  for (let a = 0; a < r; a++) {
    const o = r + a * D;
    let s = 0, big = 0, bigAbs = -1;
    for (let i = 0; i < D; i++) {
      const v = theta[o + i];
      s += v * v;
      if (Math.abs(v) > bigAbs) { bigAbs = Math.abs(v); big = v; }
    }
    const nrm = Math.sqrt(s);
    if (nrm === 0) {
      g0[a] = 0;
      continue;
    }
    const sign = big < 0 ? -1 : 1;
    for (let i = 0; i < D; i++) U0[a * D + i] = (sign * theta[o + i]) / nrm + 0; // + 0: no −0
    g0[a] = theta[a] * s * s;
  }
  const order = Array.from({ length: r }, (_, a) => a).sort((a, b) => Math.abs(g0[b]) - Math.abs(g0[a]) || a - b);
  const weights = new Float64Array(r), factors = new Float64Array(r * D);
  order.forEach((a, k) => {
    weights[k] = g0[a];
    factors.set(U0.subarray(a * D, (a + 1) * D), k * D);
  });
  return { weights, factors, r, D };
}

/** Random unit-norm factors (r×D) from `rng`. */
export function randomFactors(r: number, D: number, rng: Rng): Float64Array {
  const U = new Float64Array(r * D);
  for (let a = 0; a < r; a++) {
    let s = 0;
    for (let i = 0; i < D; i++) {
      const v = rng.normal();
      U[a * D + i] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < D; i++) U[a * D + i] *= inv;
  }
  return U;
}

/**
 * Loss with γ eliminated and factors normalised (variable projection): parameters V (r×D),
 * u_a = v_a/|v_a|, γ*(U) = G⁻¹ b (G_ab = (u_a·u_b)⁴, b_a = ⟨ΔT, u_a⊗4⟩), L*(V) = γ*ᵀGγ* − 2γ*ᵀb.
 * By the envelope theorem ∇_U L* = ∇_U L(γ*, U); the normalisation projects it:
 * ∇_{v_a} = (I − u_a u_aᵀ) ∇_{u_a} / |v_a|.  The loss is divided by `scale` (so that gradient
 * tolerances are relative).  Removes the flat scale direction (u, γ) → (c u, γ/c⁴) of the joint
 * parameterisation and the coupling between γ and U, which makes L-BFGS converge much faster.
 * Nothing is allocated per evaluation.
 */
export class ReducedCpObjective {
  readonly n: number;
  scale = 1;
  private readonly U: Float64Array;
  private readonly nrm: Float64Array;
  private readonly b: Float64Array;
  private readonly H: Float64Array;
  private readonly c: Float64Array; // r×r cosines u_a·u_b
  private readonly G: Float64Array; // r×r (u_a·u_b)⁴
  private readonly L: Float64Array; // Cholesky factor
  /** γ*(U) of the last evaluation. */
  readonly weights: Float64Array;

  constructor(readonly obj: CpObjective) {
    const { r, D } = obj;
    this.n = r * D;
    this.U = new Float64Array(r * D);
    this.nrm = new Float64Array(r);
    this.b = new Float64Array(r);
    this.H = new Float64Array(r * D);
    this.c = new Float64Array(r * r);
    this.G = new Float64Array(r * r);
    this.L = new Float64Array(r * r);
    this.weights = new Float64Array(r);
  }

  /** γ = G⁻¹b by Cholesky (preallocated); a tiny ridge 10^(k−15) is added if G is not numerically SPD. */
  private solveGamma(): void {
    const { r } = this.obj;
    const { G, L, b, weights } = this;
    for (let attempt = 0; attempt < 10; attempt++) {
      const eps = attempt === 0 ? 0 : 10 ** (attempt - 15);
      if (!choleskyFactor(G, r, L, eps)) continue;
      choleskySolve(L, r, b, weights);
      return;
    }
    weights.fill(NaN);
  }

  fg(V: Float64Array, g: Float64Array): number {
    const { r, D } = this.obj;
    const { U, nrm, b, H, c, G, weights: gamma } = this;
    for (let a = 0; a < r; a++) {
      const o = a * D;
      let s = 0;
      for (let i = 0; i < D; i++) s += V[o + i] * V[o + i];
      const n = Math.sqrt(s);
      nrm[a] = n;
      const inv = 1 / n;
      for (let i = 0; i < D; i++) U[o + i] = V[o + i] * inv;
    }
    this.obj.dataTerms(U, 0, b, H);
    for (let a = 0; a < r; a++) {
      for (let e = a; e < r; e++) {
        let s = 0;
        if (a === e) s = 1;
        else for (let i = 0; i < D; i++) s += U[a * D + i] * U[e * D + i];
        c[a * r + e] = s;
        c[e * r + a] = s;
        const s2 = s * s;
        G[a * r + e] = s2 * s2;
        G[e * r + a] = s2 * s2;
      }
    }
    this.solveGamma();
    let loss = 0;
    for (let a = 0; a < r; a++) {
      let sg = 0;
      for (let e = 0; e < r; e++) sg += G[a * r + e] * gamma[e];
      loss += gamma[a] * (sg - 2 * b[a]);
    }
    const sc = 1 / this.scale;
    for (let a = 0; a < r; a++) {
      const o = a * D;
      const ga = 8 * gamma[a] * sc;
      // gU_a = 8γ_a[Σ_e γ_e c_ae³ u_e − h_a], stored temporarily in g
      for (let i = 0; i < D; i++) g[o + i] = -ga * H[o + i];
      for (let e = 0; e < r; e++) {
        const ce = c[a * r + e];
        const coef = ga * gamma[e] * ce * ce * ce;
        if (coef === 0) continue;
        const oe = e * D;
        for (let i = 0; i < D; i++) g[o + i] += coef * U[oe + i];
      }
      let proj = 0;
      for (let i = 0; i < D; i++) proj += U[o + i] * g[o + i];
      const inv = 1 / nrm[a];
      for (let i = 0; i < D; i++) g[o + i] = (g[o + i] - proj * U[o + i]) * inv;
    }
    return loss * sc;
  }
}

export type CpMethod = "reduced" | "joint";

/** Decompose with restarts, synchronously; see the module comment. */
export function decompose(obj: CpObjective, opts: DecomposeOptions = {}, hooks: RunHooks = {}): CpDecomposition {
  return runToEnd(decomposeSteps(obj, opts, hooks, null));
}

/**
 * `decompose`, cooperatively: returns to the event loop whenever ~40 ms of work have passed, so a
 * Ctrl-C handler on the main thread can abort `hooks.signal` (seen within one line-search
 * evaluation).  Same numbers as `decompose`.
 */
export async function decomposeAsync(obj: CpObjective, opts: DecomposeOptions = {}, hooks: RunHooks = {}): Promise<CpDecomposition> {
  const clock = new YieldClock();
  return runCooperatively(decomposeSteps(obj, opts, hooks, { due: () => clock.due(), signal: hooks.signal }));
}

/** The driver behind decompose/decomposeAsync: yields when `pacer.due()` (never with null). */
export function* decomposeSteps(obj: CpObjective, opts: DecomposeOptions, hooks: RunHooks, pacer: Pacer | null): Generator<void, CpDecomposition, void> {
  const { r, D, n } = obj;
  const restarts = opts.restarts ?? 5;
  if (!(Number.isInteger(restarts) && restarts >= 1)) throw new RangeError(`decompose: restarts must be an integer ≥ 1 (got ${restarts})`);
  const seed = opts.seed ?? 1;
  const maxIter = opts.maxIter ?? 2000;
  const gtol = opts.gtol ?? 1e-7;
  const ftol = opts.ftol ?? 1e-12;
  const m = opts.m ?? 10;
  const method = opts.method ?? "reduced";
  if (opts.initFactors && opts.initFactors.length !== r * D) throw new RangeError(`decompose: initFactors must have r·D = ${r * D} entries (got ${opts.initFactors.length})`);

  const runs: CpRestart[] = [];
  let bestTheta: Float64Array | null = null;
  let bestLoss = Infinity;
  let best = -1;
  let interrupted = false;
  for (let k = 0; k < restarts; k++) {
    if (pacer !== null && pacer.due()) yield;
    if (hooks.signal?.aborted) { interrupted = true; break; }
    const U = k === 0 && opts.initFactors ? Float64Array.from(opts.initFactors) : randomFactors(r, D, Rng.stream(seed, k));
    let stopped = false;
    let fg: (x: Float64Array, g: Float64Array) => number;
    let theta0: Float64Array;
    let red: ReducedCpObjective | null = null;
    if (method === "reduced") {
      red = new ReducedCpObjective(obj);
      theta0 = U;
      const L0 = red.fg(U, new Float64Array(r * D));
      red.scale = Math.abs(L0) > 0 && Number.isFinite(L0) ? Math.abs(L0) : 1;
      const rr = red;
      fg = (x, g) => rr.fg(x, g);
    } else {
      const gamma = optimalWeights(obj, U);
      theta0 = new Float64Array(n);
      theta0.set(gamma, 0);
      theta0.set(U, r);
      fg = (x, g) => obj.fg(x, g);
    }
    const res0 = yield* lbfgsSteps(fg, theta0, {
      m,
      maxIter,
      gtol,
      ftol,
      onIter: (it, f) => {
        hooks.onProgress?.({
          done: k + Math.min(1, it / maxIter), total: restarts, unit: "restarts", phase: `restart ${k + 1}/${restarts}`,
          metrics: { iteration: it, loss: red ? f * red.scale : f },
        });
        if (hooks.signal?.aborted) {
          stopped = true;
          return false;
        }
        return true;
      },
    }, pacer);
    if (res0.status === "stopped") stopped = true; // by onIter (above) or by the pacer's signal
    // Back to θ = [γ, U] and the unscaled loss.
    let theta: Float64Array, f: number;
    if (red) {
      f = red.fg(res0.x, new Float64Array(r * D)) * red.scale;
      theta = new Float64Array(n);
      theta.set(red.weights, 0);
      for (let a = 0; a < r; a++) {
        let s = 0;
        for (let i = 0; i < D; i++) s += res0.x[a * D + i] ** 2;
        const inv = 1 / Math.sqrt(s);
        for (let i = 0; i < D; i++) theta[r + a * D + i] = res0.x[a * D + i] * inv;
      }
    } else {
      f = res0.f;
      theta = res0.x;
    }
    runs.push({ restart: k, loss: f, iterations: res0.iterations, evaluations: res0.evaluations, status: res0.status });
    if (f < bestLoss || bestTheta === null) {
      bestLoss = f;
      bestTheta = theta;
      best = k;
    }
    if (stopped) { interrupted = true; break; }
  }
  if (bestTheta === null) {
    return { weights: new Float64Array(r), factors: new Float64Array(r * D), r, D, loss: NaN, best: -1, restarts: runs, status: "interrupted" };
  }
  const cp = normaliseFactors(bestTheta, r, D);
  hooks.onProgress?.({ done: restarts, total: restarts, unit: "restarts", phase: `best restart ${best + 1}`, metrics: { loss: bestLoss } });
  return { ...cp, loss: bestLoss, best, restarts: runs, status: interrupted ? "interrupted" : "done" };
}

/**
 * Match estimated factors to reference factors up to sign and permutation: greedy on |cos| (largest
 * first).  Returns, for each reference factor, the matched estimate index, the sign and the error
 * min(|u − û|, |u + û|) of the unit-normalised vectors.
 */
export function matchFactors(
  Uref: ArrayLike<number>, rRef: number, Uest: ArrayLike<number>, rEst: number, D: number,
): { index: number[]; sign: number[]; error: number[]; cos: number[] } {
  const cos = new Float64Array(rRef * rEst);
  const nr = new Float64Array(rRef), ne = new Float64Array(rEst);
  for (let a = 0; a < rRef; a++) { let s = 0; for (let i = 0; i < D; i++) s += Uref[a * D + i] ** 2; nr[a] = Math.sqrt(s); }
  for (let b = 0; b < rEst; b++) { let s = 0; for (let i = 0; i < D; i++) s += Uest[b * D + i] ** 2; ne[b] = Math.sqrt(s); }
  for (let a = 0; a < rRef; a++) {
    for (let b = 0; b < rEst; b++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += Uref[a * D + i] * Uest[b * D + i];
      cos[a * rEst + b] = s / (nr[a] * ne[b]);
    }
  }
  const index = new Array<number>(rRef).fill(-1), sign = new Array<number>(rRef).fill(1);
  const error = new Array<number>(rRef).fill(NaN), cs = new Array<number>(rRef).fill(0);
  const usedR = new Uint8Array(rRef), usedE = new Uint8Array(rEst);
  for (let step = 0; step < Math.min(rRef, rEst); step++) {
    let ba = -1, bb = -1, bv = -1;
    for (let a = 0; a < rRef; a++) {
      if (usedR[a]) continue;
      for (let b = 0; b < rEst; b++) {
        if (usedE[b]) continue;
        const v = Math.abs(cos[a * rEst + b]);
        if (v > bv) { bv = v; ba = a; bb = b; }
      }
    }
    usedR[ba] = 1;
    usedE[bb] = 1;
    const sg = cos[ba * rEst + bb] < 0 ? -1 : 1;
    let e = 0;
    for (let i = 0; i < D; i++) e += (Uref[ba * D + i] / nr[ba] - (sg * Uest[bb * D + i]) / ne[bb]) ** 2;
    index[ba] = bb;
    sign[ba] = sg;
    error[ba] = Math.sqrt(e);
    cs[ba] = Math.abs(cos[ba * rEst + bb]);
  }
  return { index, sign, error, cos: cs };
}
