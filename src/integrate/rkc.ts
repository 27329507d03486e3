/**
 * Second-order Runge–Kutta–Chebyshev (RKC) for mildly stiff problems whose Jacobian has eigenvalues
 * near the negative real axis (diffusion, gradient flows): Sommeijer, Shampine & Verwer, "RKC: an
 * explicit solver for parabolic PDEs", J. Comput. Appl. Math. 88 (1997) 315–326, after Verwer,
 * Hundsdorfer & Sommeijer (1990).  A port of the algorithm of their Fortran code rkc.f:
 *
 *  - damped Chebyshev stages, w0 = 1 + ε/s² with ε = 2/13; the stability region covers
 *    [−β(s), 0] with β(s) ≈ 0.65 s², so s = 1 + ⌊√(1 + 1.54 hρ)⌋ stages suffice for h ρ(J) ≤ β(s);
 *    s ≤ 250 (h is reduced if that is not enough);
 *  - the spectral radius ρ(∂f/∂y) comes from the user (`spectralRadius`) or from a nonlinear power
 *    iteration (rkc.f's `rkcrho`) that reuses the previous eigenvector; it is recomputed every 25
 *    accepted steps and after a rejected step (unless it was just computed);
 *  - local error estimate Est = (1/15)[12(y_n − y_{n+1}) + 6h(F_n + F_{n+1})] in the weighted RMS norm
 *    with weights atol + rtol·max(|y_n|, |y_{n+1}|); F_{n+1} is reused as the next step's F_n, so a
 *    step costs s RHS evaluations;
 *  - step control as in the paper: after a rejection h ← 0.8 h / err^{1/3}; after an acceptance
 *    h ← min(10, max(0.1, fac)) h with fac = 0.8 (h_n/h_{n−1}) err_{n−1}^{1/3} / err_n^{2/3}
 *    (fac = 0.8 / err^{1/3} on the first step), and rkc.f's initial-step estimate.
 *
 * Steps are shortened (or stretched by ≤ 10 %, as in rkc.f) to land exactly on each target time; the
 * step size predicted before such a shortened step is carried forward.  A step whose result is
 * NaN/Inf is rejected with h ← h/10; NaN/Inf persisting down to step-size underflow fails with
 * "state became NaN/Inf".  No allocation per RHS call (all buffers are allocated once).
 *
 * Caveats.  RKC suits eigenvalues near the negative real axis (strongly oscillatory modes need tiny
 * steps).  Its global error is a few tens × rtol (second order, local error control per step).  A
 * finite-time blow-up is followed for many small steps (relative error control with h ∝ distance to
 * the singularity) before the state overflows or maxSteps is exhausted: expect 10⁴–10⁵ RHS calls
 * where gbs gives up after a few thousand.
 */
import { IntegrationError, type FailureCode, type Rhs, type SolverCarry } from "./types.js";

/** Settings of the RKC stepper (already validated by `solve`). */
export interface RkcSettings {
  rtol: number;
  atol: number;
  /** Budget of step attempts (accepted + rejected) over the whole integration. */
  maxSteps: number;
  /** Initial step (undefined: rkc.f's estimate). */
  h0?: number;
  /** Maximum step size; 0 = unlimited. */
  hMax: number;
  /** Length of the whole integration interval (scale for the power iteration's convergence test). */
  span: number;
  /** Spectral radius of ∂f/∂y at (t, y); undefined: nonlinear power iteration. */
  spectralRadius?: (t: number, y: Float64Array) => number;
  /** Maximum number of stages (default 250). */
  maxStages?: number;
  /** State from a previous segment (step size, spectral radius, eigenvector). */
  carry?: SolverCarry;
}

/** Callback after each accepted step; return false to stop the integration there. */
type AcceptedStep = (t: number, y: Float64Array) => boolean;

const EPS = Number.EPSILON;
const SQRT_EPS = Math.sqrt(EPS);
/** Recompute the spectral radius every this many accepted steps (rkc.f). */
const RHO_EVERY = 25;
/** Power-iteration limit (rkc.f's itmax). */
const POWER_MAX_ITER = 50;
/** Give up after this many consecutive steps with a NaN/Inf result. */
const MAX_NAN_RETRIES = 40;

/** Advances y from t to successive target times with RKC; counts RHS calls and accepted steps. */
export class RkcStepper {
  /** Current time and state (the state is updated in place). */
  t: number;
  readonly y: Float64Array;
  nRhs = 0;
  nSteps = 0;
  /** Diagnostics: rejected steps, largest stage count, spectral-radius estimates and the last one. */
  nRejected = 0;
  maxStagesUsed = 0;
  nRho = 0;
  /** RHS evaluations spent in the power iteration (included in nRhs). */
  nRhoRhs = 0;
  rho = NaN;

  private readonly n: number;
  private readonly rtol: number;
  private readonly atol: number;
  private readonly maxSteps: number;
  private readonly hMax: number;
  private readonly span: number;
  private readonly userRho?: (t: number, y: Float64Array) => number;
  private readonly sMax: number;
  private attempts = 0;

  /** F(t, y) for the current state. */
  private readonly fn: Float64Array;
  private fnValid = false;
  // Stage buffers (three rotating Chebyshev stages), F at stages / at y_{n+1}, eigenvector.
  private readonly b0: Float64Array;
  private readonly b1: Float64Array;
  private readonly b2: Float64Array;
  private readonly fs: Float64Array;
  private readonly eig: Float64Array;
  private eigValid = false;

  // Step-size control state.
  private absh = NaN;
  private hOld = NaN;
  private errOld = NaN;
  private nAccepted = 0;
  /** Steps since the last spectral-radius estimate; whether it must be recomputed / was just computed. */
  private sinceRho = 0;
  private needRho = true;
  private rhoFresh = false;
  private nanRetries = 0;

  constructor(
    private readonly rhs: Rhs,
    y0: Float64Array,
    t0: number,
    s: RkcSettings,
  ) {
    const n = y0.length;
    this.n = n;
    this.t = t0;
    this.y = Float64Array.from(y0);
    this.rtol = s.rtol;
    this.atol = s.atol;
    this.maxSteps = s.maxSteps;
    this.hMax = s.hMax;
    this.span = s.span;
    this.userRho = s.spectralRadius;
    this.sMax = s.maxStages ?? 250;
    if (s.h0 !== undefined) this.absh = s.h0;
    this.fn = new Float64Array(n);
    this.b0 = new Float64Array(n);
    this.b1 = new Float64Array(n);
    this.b2 = new Float64Array(n);
    this.fs = new Float64Array(n);
    this.eig = new Float64Array(n);
    const c = s.carry;
    if (c) {
      if (c.h !== undefined && c.h > 0 && Number.isFinite(c.h)) this.absh = c.h;
      if (c.eig && c.eig.length === n) {
        this.eig.set(c.eig);
        this.eigValid = true;
      }
      if (!this.userRho && c.rho !== undefined && c.rho >= 0 && Number.isFinite(c.rho)) {
        this.rho = c.rho;
        this.needRho = false;
        this.sinceRho = c.stepsSinceRho ?? 0;
      }
    }
  }

  /** Save the step size, spectral-radius estimate and eigenvector for the next segment. */
  saveCarry(c: SolverCarry): void {
    if (Number.isFinite(this.absh) && this.absh > 0) c.h = this.absh;
    if (Number.isFinite(this.rho)) {
      c.rho = this.rho;
      c.stepsSinceRho = this.sinceRho;
    }
    if (this.eigValid) {
      if (!c.eig || c.eig.length !== this.n) c.eig = new Float64Array(this.n);
      c.eig.set(this.eig);
    }
  }

  /**
   * Everything the next step depends on (with t, y and the counters), for checkpoints: step-size
   * control (h, previous h and error, accepted count), the spectral-radius estimate and its
   * schedule, the eigenvector and the cached F_n.  The stage buffers are scratch (written first).
   */
  saveState(): Record<string, unknown> {
    return {
      t: this.t, y: this.y.slice(), nRhs: this.nRhs, nSteps: this.nSteps, nRejected: this.nRejected,
      maxStagesUsed: this.maxStagesUsed, nRho: this.nRho, nRhoRhs: this.nRhoRhs, rho: this.rho, attempts: this.attempts,
      fn: this.fn.slice(), fnValid: this.fnValid, eig: this.eig.slice(), eigValid: this.eigValid,
      absh: this.absh, hOld: this.hOld, errOld: this.errOld, nAccepted: this.nAccepted,
      sinceRho: this.sinceRho, needRho: this.needRho, rhoFresh: this.rhoFresh, nanRetries: this.nanRetries,
    };
  }

  restoreState(s: Record<string, unknown>): void {
    const num = (k: string) => s[k] as number;
    this.t = num("t");
    this.y.set(s.y as Float64Array);
    this.nRhs = num("nRhs");
    this.nSteps = num("nSteps");
    this.nRejected = num("nRejected");
    this.maxStagesUsed = num("maxStagesUsed");
    this.nRho = num("nRho");
    this.nRhoRhs = num("nRhoRhs");
    this.rho = num("rho");
    this.attempts = num("attempts");
    this.fn.set(s.fn as Float64Array);
    this.fnValid = s.fnValid as boolean;
    this.eig.set(s.eig as Float64Array);
    this.eigValid = s.eigValid as boolean;
    this.absh = num("absh");
    this.hOld = num("hOld");
    this.errOld = num("errOld");
    this.nAccepted = num("nAccepted");
    this.sinceRho = num("sinceRho");
    this.needRho = s.needRho as boolean;
    this.rhoFresh = s.rhoFresh as boolean;
    this.nanRetries = num("nanRetries");
  }

  /** dy/dt at the current state (cached: it is the next step's F_n). */
  dydt(): Float64Array {
    if (!this.fnValid) {
      this.rhs(this.t, this.y, this.fn);
      this.nRhs++;
      this.fnValid = true;
    }
    return this.fn;
  }

  /**
   * Integrate to `tTarget` (≥ t), calling `accepted` after every accepted step.  Returns false if
   * `accepted` stopped the integration (t, y then hold the stopping point), true once t = tTarget.
   * Throws IntegrationError on NaN/Inf, step-size underflow or an exhausted step budget.
   */
  advance(tTarget: number, accepted: AcceptedStep): boolean {
    const { y } = this;
    while (this.t < tTarget) {
      const rem = tTarget - this.t;
      const hMin = 10 * EPS * Math.max(Math.abs(this.t), Math.abs(tTarget));
      if (rem <= hMin) {
        // Rounding-level gap: treat the target as reached.
        this.t = tTarget;
        break;
      }
      const fn = this.dydt();
      if (!allFinite(y) || !allFinite(fn)) this.fail("state became NaN/Inf");

      if (this.needRho) this.estimateRho(rem);
      const rho = this.rho;
      if (!Number.isFinite(this.absh)) this.absh = this.initialStep(rem, rho, hMin);

      // Step size for this attempt: limits, landing on the target, stage limit.
      let h = this.absh;
      if (this.hMax > 0 && h > this.hMax) h = this.hMax;
      let last = false;
      if (1.1 * h >= rem) {
        h = rem;
        last = true;
      }
      let s = 1 + Math.floor(Math.sqrt(1 + 1.54 * h * rho));
      if (s > this.sMax) {
        s = this.sMax;
        h = (s * s - 1) / (1.54 * rho);
        last = false;
      }
      if (s > this.maxStagesUsed) this.maxStagesUsed = s;
      const shortened = h < this.absh;

      if (this.attempts >= this.maxSteps) this.fail(`maxSteps (${this.maxSteps}) exceeded`, "maxiters");
      this.attempts++;
      const yNew = this.step(h, s);
      // F_{n+1} into fs, error estimate.
      const tNew = last ? tTarget : this.t + h;
      this.rhs(tNew, yNew, this.fs);
      this.nRhs++;
      const err = this.errorNorm(yNew, h);

      if (!(err <= 1)) {
        // Rejected (err > 1 or NaN/Inf).
        this.nRejected++;
        if (Number.isFinite(err)) {
          this.nanRetries = 0;
          this.absh = (0.8 * h) / Math.cbrt(err);
        } else {
          if (++this.nanRetries > MAX_NAN_RETRIES) this.fail("state became NaN/Inf");
          this.absh = 0.1 * h;
        }
        if (this.absh < hMin) {
          Number.isFinite(err) ? this.fail(`step size underflowed (h = ${this.absh.toExponential(2)})`, "dtmin") : this.fail("state became NaN/Inf");
        }
        if (!this.rhoFresh) this.needRho = true;
        continue;
      }

      // Accepted.
      this.nanRetries = 0;
      y.set(yNew);
      this.fn.set(this.fs);
      this.fnValid = true;
      this.t = tNew;
      this.nSteps++;
      this.nAccepted++;
      this.rhoFresh = false;
      if (++this.sinceRho >= RHO_EVERY) this.needRho = true;

      // Step-size prediction (rkc.f).
      let fac = 10;
      if (this.nAccepted === 1 || !(this.errOld > 0)) {
        const e3 = Math.cbrt(err);
        if (0.8 < fac * e3) fac = 0.8 / e3;
      } else {
        const num = 0.8 * h * Math.cbrt(this.errOld);
        const den = this.hOld * Math.cbrt(err * err);
        if (num < fac * den) fac = num / den;
      }
      let hNext = Math.max(0.1, fac) * h;
      // A step cut short to land on the target says little about the local step size.
      if (shortened && hNext < this.absh) hNext = this.absh;
      this.absh = hNext;
      this.errOld = err;
      this.hOld = h;

      if (!accepted(this.t, y)) return false;
    }
    return true;
  }

  /**
   * One damped RKC step of size h with s ≥ 2 stages from (t, y) with F_n = fn; returns the buffer
   * holding y_{n+1} (y itself is not modified).
   */
  private step(h: number, s: number): Float64Array {
    const { y, fn, fs, rhs, n, t } = this;
    const w0 = 1 + 2 / (13 * s * s);
    const temp1 = w0 * w0 - 1;
    const temp2 = Math.sqrt(temp1);
    const arg = s * Math.log(w0 + temp2);
    const w1 = (Math.sinh(arg) * temp1) / (Math.cosh(arg) * s * temp2 - w0 * Math.sinh(arg));
    let bjm1 = 1 / (4 * w0 * w0);
    let bjm2 = bjm1;
    // Stage 1: y_1 = y_n + h μ̃_1 F_n.
    const mu1 = w1 * bjm1;
    let yjm2: Float64Array = y;
    let yjm1: Float64Array = this.b0;
    let free: Float64Array = this.b1;
    const hm1 = h * mu1;
    for (let i = 0; i < n; i++) yjm1[i] = y[i] + hm1 * fn[i];
    let thjm2 = 0;
    let thjm1 = mu1;
    let zjm1 = w0, zjm2 = 1;
    let dzjm1 = 1, dzjm2 = 0;
    let d2zjm1 = 0, d2zjm2 = 0;
    for (let j = 2; j <= s; j++) {
      const zj = 2 * w0 * zjm1 - zjm2;
      const dzj = 2 * w0 * dzjm1 - dzjm2 + 2 * zjm1;
      const d2zj = 2 * w0 * d2zjm1 - d2zjm2 + 4 * dzjm1;
      const bj = d2zj / (dzj * dzj);
      const ajm1 = 1 - zjm1 * bjm1;
      const mu = (2 * w0 * bj) / bjm1;
      const nu = -bj / bjm2;
      const mus = (mu * w1) / w0;
      rhs(t + h * thjm1, yjm1, fs);
      this.nRhs++;
      const c0 = 1 - mu - nu;
      const hmus = h * mus;
      const hmusa = hmus * ajm1;
      const yj = free;
      for (let i = 0; i < n; i++) {
        yj[i] = mu * yjm1[i] + nu * yjm2[i] + c0 * y[i] + hmus * fs[i] - hmusa * fn[i];
      }
      const thj = mu * thjm1 + nu * thjm2 + mus * (1 - ajm1);
      // Shift (three rotating buffers; y_n itself is only read).
      const old = yjm2;
      yjm2 = yjm1;
      yjm1 = yj;
      free = old === y ? this.b2 : old;
      thjm2 = thjm1;
      thjm1 = thj;
      bjm2 = bjm1;
      bjm1 = bj;
      zjm2 = zjm1;
      zjm1 = zj;
      dzjm2 = dzjm1;
      dzjm1 = dzj;
      d2zjm2 = d2zjm1;
      d2zjm1 = d2zj;
    }
    return yjm1;
  }

  /** Weighted RMS norm of Est = 0.8 (y_n − y_{n+1}) + 0.4 h (F_n + F_{n+1}) (F_{n+1} in fs). */
  private errorNorm(yNew: Float64Array, h: number): number {
    const { y, fn, fs, n, rtol, atol } = this;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const est = 0.8 * (y[i] - yNew[i]) + 0.4 * h * (fn[i] + fs[i]);
      const wt = atol + rtol * Math.max(Math.abs(y[i]), Math.abs(yNew[i]));
      const e = est / wt;
      sum += e * e;
    }
    return Math.sqrt(sum / n);
  }

  /** Spectral radius at (t, y): the user's function or rkc.f's nonlinear power iteration. */
  private estimateRho(rem: number): void {
    let rho: number;
    if (this.userRho) {
      rho = this.userRho(this.t, this.y);
      if (!(rho >= 0 && rho < Infinity)) this.fail(`spectralRadius returned ${rho} (must be finite and ≥ 0)`);
    } else {
      rho = this.powerIteration(rem);
    }
    this.rho = rho;
    this.nRho++;
    this.needRho = false;
    this.rhoFresh = true;
    this.sinceRho = 0;
  }

  /**
   * rkc.f's `rkcrho`: power iteration on v ↦ F(t, y + v) − F(t, y), started from the previous
   * eigenvector (first time: F_n), with perturbations of relative size √u.  Returns 1.2 σ; stops when
   * σ changes by ≤ 1 % (σ ≥ 1/span counts as the scale), or after 50 iterations (the last estimate is
   * then used: an underestimate shows up as rejected steps, which trigger a new estimate).
   */
  private powerIteration(rem: number): number {
    const { y, fn, n, t, rhs } = this;
    const v = this.b0; // perturbed state y + v
    const fv = this.b1;
    const eig = this.eig;
    if (!this.eigValid) eig.set(fn);
    const ynrm = norm2(y);
    const vnrm = norm2(eig);
    let dynrm: number;
    if (ynrm !== 0 && vnrm !== 0) {
      dynrm = ynrm * SQRT_EPS;
      const c = dynrm / vnrm;
      for (let i = 0; i < n; i++) v[i] = y[i] + c * eig[i];
    } else if (ynrm !== 0) {
      dynrm = ynrm * SQRT_EPS;
      for (let i = 0; i < n; i++) v[i] = y[i] * (1 + SQRT_EPS);
    } else if (vnrm !== 0) {
      dynrm = EPS;
      const c = dynrm / vnrm;
      for (let i = 0; i < n; i++) v[i] = c * eig[i];
    } else {
      dynrm = EPS;
      v.fill(dynrm);
    }
    // v holds y + δ with |δ| = dynrm (only approximately in the ynrm-only branch; use the true norm).
    dynrm = diffNorm(v, y);
    const small = 1 / Math.max(this.span, rem, EPS);
    let sigma = 0;
    for (let iter = 1; iter <= POWER_MAX_ITER; iter++) {
      rhs(t, v, fv);
      this.nRhs++;
      this.nRhoRhs++;
      const dfnrm = diffNorm(fv, fn);
      const sigmaL = sigma;
      sigma = dfnrm / dynrm;
      if (!Number.isFinite(sigma)) this.fail("spectral radius estimate became NaN/Inf");
      const converged = iter >= 2 && Math.abs(sigma - sigmaL) <= Math.max(sigma, small) * 0.01;
      if (converged || iter === POWER_MAX_ITER) {
        for (let i = 0; i < n; i++) eig[i] = v[i] - y[i];
        this.eigValid = true;
        break;
      }
      if (dfnrm !== 0) {
        const c = dynrm / dfnrm;
        for (let i = 0; i < n; i++) v[i] = y[i] + c * (fv[i] - fn[i]);
      } else {
        const k = iter % n;
        v[k] = y[k] - (v[k] - y[k]);
      }
    }
    return 1.2 * sigma;
  }

  /** rkc.f's initial step: h = min(rem, 1/ρ), refined by one explicit Euler trial step. */
  private initialStep(rem: number, rho: number, hMin: number): number {
    const { y, fn, n, rtol, atol } = this;
    let hmax = rem;
    if (this.hMax > 0 && this.hMax < hmax) hmax = this.hMax;
    let absh = hmax;
    if (rho * absh > 1) absh = 1 / rho;
    absh = Math.max(absh, hMin);
    const v = this.b0;
    const fv = this.b1;
    for (let i = 0; i < n; i++) v[i] = y[i] + absh * fn[i];
    this.rhs(this.t + absh, v, fv);
    this.nRhs++;
    let est = 0;
    for (let i = 0; i < n; i++) {
      const wt = atol + rtol * Math.abs(y[i]);
      const e = (fv[i] - fn[i]) / wt;
      est += e * e;
    }
    est = absh * Math.sqrt(est / n);
    if (!Number.isFinite(est)) return Math.max(0.01 * absh, hMin);
    if (0.1 * absh < hmax * Math.sqrt(est)) return Math.max((0.1 * absh) / Math.sqrt(est), hMin);
    return hmax;
  }

  private fail(what: string, code: FailureCode = "unstable"): never {
    throw new IntegrationError(`integration failed at t = ${this.t}: ${what}`, this.t, code);
  }
}

function allFinite(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

function norm2(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function diffNorm(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}
