/**
 * Variable-order (1–5) quasi-constant-step numerical differentiation formulas (NDF, the BDFs with
 * Klopfenstein–Shampine κ corrections) for stiff problems: Shampine & Reichelt, "The MATLAB ODE
 * Suite", SIAM J. Sci. Comput. 18 (1997) 1–22 (ode15s), in the formulation of scipy's
 * `solve_ivp(method="BDF")` (modified divided differences D^j y_n of the solution on an equally
 * spaced grid; Shampine & Reichelt eqs. 2–4):
 *
 *   κ = (0, −0.1850, −1/9, −0.0823, −0.0415),  γ_k = Σ_{j≤k} 1/j,  α_k = (1 − κ_k) γ_k,
 *   predictor  y⁽⁰⁾ = Σ_{j=0..k} D^j y_n,
 *   corrector  (I − c J) Δ = c f(t_{n+1}, y) − ψ − d,  c = h/α_k,  ψ = (1/α_k) Σ_{j=1..k} γ_j D^j y_n,
 *   simplified Newton on d = y_{n+1} − y⁽⁰⁾ (≤ 4 iterations, convergence-rate test),
 *   local error ≈ (κ_k γ_k + 1/(k+1)) d,
 *
 * step-size changes by re-interpolating the differences (D ← (R U)ᵀ D), order changes by comparing
 * the error estimates of orders k − 1, k, k + 1 after k + 1 steps of equal size, step-size factors
 * clamped to [0.2, 10] (safety 0.9·(2·4 + 1)/(2·4 + Newton iterations)).
 *
 * Jacobian and LU reuse (as in LSODA / CVODE / ode15s): J = ∂f/∂y is evaluated once and reused for
 * as long as the Newton iteration converges; it is re-evaluated only when an iteration with an old J
 * fails (then at the predicted state), or after `JAC_MAX_AGE` accepted steps.  The LU of I − cJ is
 * refactored only when c changes (a new step size or order) or J changes.  The problem's analytic
 * `jac` or forward differences (n RHS each).
 *
 * Dense output: the interpolating polynomial of the differences,
 *   y(t) = D⁰ + Σ_{j=1..k} D^j Π_{m=0..j−1} (t − (t_n − m h)) / ((m + 1) h).
 */
import { allFinite, DenseOutputStepper } from "./dense.js";
import { evalJacobian, luFactor, luSolve } from "./linalg.js";
import type { ImplicitSettings } from "./rodas.js";
import type { Jac, Rhs, SolverCarry } from "./types.js";

const MAX_ORDER = 5;
const NEWTON_MAXITER = 4;
/** Newton convergence test constants (CVODE: NLSCOEF, CRDOWN, RDIV). */
const NEWTON_COEF = 0.1;
const NEWTON_CRDOWN = 0.3;
const NEWTON_RDIV = 2;
const MIN_FACTOR = 0.2;
const MAX_FACTOR = 10;
/** Re-evaluate J after this many accepted steps even if Newton still converges (CVODE: 50, MSBJ). */
const JAC_MAX_AGE = 50;

const KAPPA = [0, -0.185, -1 / 9, -0.0823, -0.0415, 0];
const GAMMA_K: number[] = [0];
for (let k = 1; k <= MAX_ORDER; k++) GAMMA_K.push(GAMMA_K[k - 1] + 1 / k);
const ALPHA_K = KAPPA.map((kp, k) => (1 - kp) * GAMMA_K[k]);
const ERROR_CONST = KAPPA.map((kp, k) => kp * GAMMA_K[k] + 1 / (k + 1));

export class BdfStepper extends DenseOutputStepper {
  private readonly rtol: number;
  private readonly atol: number;
  private readonly hMax: number;
  private readonly jac?: Jac;

  /** Differences D^j y_n, rows j = 0..MAX_ORDER+2 (n each). */
  private readonly D: Float64Array;
  private order = 1;
  private hAbs = NaN;
  private nEqualSteps = 0;
  private started = false;
  /** J (valid once computed), its age in accepted steps; the LU of I − cJ (valid for c = luC). */
  private readonly J: Float64Array;
  private jValid = false;
  private jAge = 0;
  private readonly LU: Float64Array;
  private readonly piv: Int32Array;
  private luValid = false;
  /** Newton convergence-rate estimate (reset to 1 with every new Jacobian). */
  private crate = 1;

  // Scratch.
  private readonly yPred: Float64Array;
  private readonly yNew: Float64Array;
  private readonly d: Float64Array;
  private readonly psi: Float64Array;
  private readonly scale: Float64Array;
  private readonly f: Float64Array;
  private readonly dy: Float64Array;
  private readonly tmp: Float64Array;
  private readonly RU: Float64Array;
  private readonly Dtmp: Float64Array;

  constructor(rhs: Rhs, y0: Float64Array, t0: number, s: ImplicitSettings) {
    super(rhs, y0, t0, s.tEnd, s.maxSteps);
    const n = this.n;
    this.rtol = s.rtol;
    this.atol = s.atol;
    this.hMax = s.hMax;
    this.jac = s.jac;
    if (s.h0 !== undefined) this.hAbs = s.h0;
    if (s.carry?.h !== undefined && s.carry.h > 0 && Number.isFinite(s.carry.h)) this.hAbs = s.carry.h;
    this.D = new Float64Array((MAX_ORDER + 3) * n);
    this.J = new Float64Array(n * n);
    this.LU = new Float64Array(n * n);
    this.piv = new Int32Array(n);
    this.yPred = new Float64Array(n);
    this.yNew = new Float64Array(n);
    this.d = new Float64Array(n);
    this.psi = new Float64Array(n);
    this.scale = new Float64Array(n);
    this.f = new Float64Array(n);
    this.dy = new Float64Array(n);
    this.tmp = new Float64Array(n);
    this.RU = new Float64Array((MAX_ORDER + 1) * (MAX_ORDER + 1));
    this.Dtmp = new Float64Array((MAX_ORDER + 1) * n);
  }

  saveCarry(c: SolverCarry): void {
    if (Number.isFinite(this.hAbs) && this.hAbs > 0) c.h = this.hAbs;
  }

  saveState(): Record<string, unknown> {
    return {
      ...this.baseState(), D: this.D.slice(), order: this.order, hAbs: this.hAbs, nEqualSteps: this.nEqualSteps,
      started: this.started, J: this.J.slice(), jValid: this.jValid, jAge: this.jAge,
      LU: this.LU.slice(), piv: this.piv.slice(), luValid: this.luValid, crate: this.crate,
    };
  }

  restoreState(s: Record<string, unknown>): void {
    this.restoreBase(s);
    this.D.set(s.D as Float64Array);
    this.order = s.order as number;
    this.hAbs = s.hAbs as number;
    this.nEqualSteps = s.nEqualSteps as number;
    this.started = s.started as boolean;
    this.J.set(s.J as Float64Array);
    this.jValid = s.jValid as boolean;
    this.jAge = s.jAge as number;
    this.LU.set(s.LU as Float64Array);
    this.piv.set(s.piv as Int32Array);
    this.luValid = s.luValid as boolean;
    this.crate = s.crate as number;
  }

  protected interpolate(T: number, out: Float64Array): void {
    const { D, n, order, hAbs } = this;
    out.set(D.subarray(0, n));
    let p = 1;
    for (let j = 1; j <= order; j++) {
      // x_j = (T − (t_n − (j−1) h)) / (j h)
      p *= (T - (this.tn - (j - 1) * hAbs)) / (j * hAbs);
      const o = j * n;
      for (let i = 0; i < n; i++) out[i] += p * D[o + i];
    }
  }

  /** D[0..order] ← (R(factor) U)ᵀ D[0..order]: the same interpolant on a grid of spacing factor·h. */
  private changeD(order: number, factor: number): void {
    const { D, n, RU, Dtmp } = this;
    const m = order + 1;
    // R(f)[i][j] = Π_{l=1..i} (l − 1 − f j)/l (R[0][j] = 1, R[i][0] = 0 for i ≥ 1); U = R(1).
    const R = (f: number, i: number, j: number): number => {
      if (i === 0) return 1;
      if (j === 0) return 0;
      let p = 1;
      for (let l = 1; l <= i; l++) p *= (l - 1 - f * j) / l;
      return p;
    };
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let l = 0; l < m; l++) s += R(factor, i, l) * R(1, l, j);
        RU[i * m + j] = s;
      }
    }
    // new D[j] = Σ_k RU[k][j] D[k]
    Dtmp.fill(0, 0, m * n);
    for (let j = 0; j < m; j++) {
      const oj = j * n;
      for (let k = 0; k < m; k++) {
        const c = RU[k * m + j];
        if (c === 0) continue;
        const ok = k * n;
        for (let i = 0; i < n; i++) Dtmp[oj + i] += c * D[ok + i];
      }
    }
    D.set(Dtmp.subarray(0, m * n));
  }

  private rmsScaled(v: Float64Array): number {
    const { scale, n } = this;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const e = v[i] / scale[i];
      s += e * e;
    }
    return Math.sqrt(s / n);
  }

  /**
   * Simplified Newton iteration for d = y_{n+1} − y⁽⁰⁾ with the current LU; returns the iteration
   * count (negative: not converged).  Convergence test of CVODE / LSODA (Hindmarsh et al., "SUNDIALS",
   * ACM TOMS 31 (2005); Byrne & Hindmarsh 1975): the remaining iteration error, estimated as
   * ‖Δ‖·min(1, crate) with the convergence rate crate carried over from previous iterations and
   * steps, must be ≤ NEWTON_COEF of the error-test tolerance in the units of the local error,
   * i.e. (κ_kγ_k + 1/(k+1))·‖Δ‖·min(1, crate) ≤ 0.1.  So a well-predicted step converges after one
   * RHS evaluation.  crate ← max(0.3 crate, ‖Δ_m‖/‖Δ_{m−1}‖); the iteration fails when it diverges
   * (ratio > 2), after NEWTON_MAXITER iterations or on a NaN/Inf.
   */
  private newton(tNew: number, c: number, errConst: number): number {
    const { n, yNew, yPred, d, psi, f, dy, rhs, LU, piv } = this;
    yNew.set(yPred);
    d.fill(0);
    let normOld = NaN;
    for (let k = 0; k < NEWTON_MAXITER; k++) {
      rhs(tNew, yNew, f);
      this.nRhs++;
      if (!allFinite(f)) return -(k + 1);
      for (let i = 0; i < n; i++) dy[i] = c * f[i] - psi[i] - d[i];
      luSolve(LU, n, piv, dy);
      const dyNorm = this.rmsScaled(dy);
      if (!Number.isFinite(dyNorm)) return -(k + 1);
      if (k > 0) {
        const rate = dyNorm / normOld;
        if (rate > NEWTON_RDIV) return -(k + 1);
        this.crate = Math.max(NEWTON_CRDOWN * this.crate, rate);
      }
      for (let i = 0; i < n; i++) {
        yNew[i] += dy[i];
        d[i] += dy[i];
      }
      if (errConst * dyNorm * Math.min(1, this.crate) <= NEWTON_COEF) return k + 1;
      normOld = dyNorm;
    }
    return -NEWTON_MAXITER;
  }

  private factor(c: number): boolean {
    const { n, J, LU, piv } = this;
    identityMinus(LU, J, c, n);
    this.luValid = luFactor(LU, n, piv);
    return this.luValid;
  }

  protected stepOnce(): void {
    const { n, D, yPred, yNew, d, psi, scale, rtol, atol } = this;
    const t = this.tn;
    if (!this.started) {
      const f0 = this.fAtTn();
      if (!allFinite(this.yn) || !allFinite(f0)) this.fail("state became NaN/Inf");
      if (!Number.isFinite(this.hAbs)) this.hAbs = this.initialStep(1, rtol, atol, this.hMax, f0);
      D.set(this.yn, 0);
      for (let i = 0; i < n; i++) D[n + i] = f0[i] * this.hAbs;
      this.order = 1;
      this.nEqualSteps = 0;
      this.started = true;
    }
    const minStep = 10 * Math.abs(nextUp(t) - t);
    if (this.hMax > 0 && this.hAbs > this.hMax) {
      this.changeD(this.order, this.hMax / this.hAbs);
      this.hAbs = this.hMax;
      this.nEqualSteps = 0;
      this.luValid = false;
    } else if (this.hAbs < minStep) {
      this.changeD(this.order, minStep / this.hAbs);
      this.hAbs = minStep;
      this.nEqualSteps = 0;
      this.luValid = false;
    }
    let hAbs = this.hAbs;
    const order = this.order;
    let currentJac = false;
    let nanFailure = false;
    let nIter = 0;
    let tNew = t;
    let errorNorm = 0;
    for (;;) {
      if (hAbs < minStep) {
        if (nanFailure) this.fail("state became NaN/Inf");
        this.fail(`step size underflowed (h = ${hAbs.toExponential(2)})`, "dtmin");
      }
      this.attempt();
      tNew = t + hAbs;
      if (tNew > this.tEnd) {
        tNew = this.tEnd;
        this.changeD(order, (tNew - t) / hAbs);
        this.nEqualSteps = 0;
        this.luValid = false;
      }
      hAbs = tNew - t;
      // Predictor, weights, ψ.
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j <= order; j++) s += D[j * n + i];
        yPred[i] = s;
        scale[i] = atol + rtol * Math.abs(s);
      }
      const alpha = ALPHA_K[order];
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 1; j <= order; j++) s += GAMMA_K[j] * D[j * n + i];
        psi[i] = s / alpha;
      }
      const c = hAbs / alpha;
      let converged = false;
      for (;;) {
        if (!this.jValid) {
          this.refreshJacobian(tNew, yPred);
          currentJac = true;
        }
        if (!this.luValid && !this.factor(c)) {
          // Singular I − cJ: a fresh J, then a smaller step.
          if (currentJac) break;
          this.jValid = false;
          continue;
        }
        nIter = this.newton(tNew, c, ERROR_CONST[order]);
        if (nIter > 0) {
          converged = true;
          break;
        }
        nIter = -nIter;
        if (!allFinite(this.f)) nanFailure = true;
        if (currentJac) break;
        this.jValid = false;
        this.luValid = false;
      }
      if (!converged) {
        this.nRejected++;
        hAbs *= 0.5;
        this.changeD(order, 0.5);
        this.nEqualSteps = 0;
        this.luValid = false;
        continue;
      }
      nanFailure = false;
      const safety = (0.9 * (2 * NEWTON_MAXITER + 1)) / (2 * NEWTON_MAXITER + nIter);
      for (let i = 0; i < n; i++) scale[i] = atol + rtol * Math.abs(yNew[i]);
      let s = 0;
      const ec = ERROR_CONST[order];
      for (let i = 0; i < n; i++) {
        const e = (ec * d[i]) / scale[i];
        s += e * e;
      }
      errorNorm = Math.sqrt(s / n);
      if (errorNorm > 1 || !Number.isFinite(errorNorm)) {
        this.nRejected++;
        const fac = Number.isFinite(errorNorm) ? Math.max(MIN_FACTOR, safety * Math.pow(errorNorm, -1 / (order + 1))) : MIN_FACTOR;
        hAbs *= fac;
        this.changeD(order, fac);
        this.nEqualSteps = 0;
        // Newton converged: the LU is refactored for the new c, J is kept.
        this.luValid = false;
        continue;
      }
      // Accepted.
      this.nSteps++;
      this.nEqualSteps++;
      this.jAge++;
      if (this.jAge >= JAC_MAX_AGE) this.jValid = false;
      this.tn = tNew;
      this.yn.set(yNew);
      this.fnValid = false;
      this.hAbs = hAbs;
      // Differences: D^{k+2} = d − D^{k+1}, D^{k+1} = d, D^j += D^{j+1} (j = k..0).
      const o1 = (order + 1) * n, o2 = (order + 2) * n;
      for (let i = 0; i < n; i++) {
        D[o2 + i] = d[i] - D[o1 + i];
        D[o1 + i] = d[i];
      }
      for (let j = order; j >= 0; j--) {
        const oj = j * n, oj1 = (j + 1) * n;
        for (let i = 0; i < n; i++) D[oj + i] += D[oj1 + i];
      }
      if (this.nEqualSteps < order + 1) return;
      // Order and step-size selection.
      let errM = Infinity, errP = Infinity;
      if (order > 1) {
        const em = ERROR_CONST[order - 1], o = order * n;
        let a = 0;
        for (let i = 0; i < n; i++) {
          const e = (em * D[o + i]) / scale[i];
          a += e * e;
        }
        errM = Math.sqrt(a / n);
      }
      if (order < MAX_ORDER) {
        const ep = ERROR_CONST[order + 1], o = (order + 2) * n;
        let a = 0;
        for (let i = 0; i < n; i++) {
          const e = (ep * D[o + i]) / scale[i];
          a += e * e;
        }
        errP = Math.sqrt(a / n);
      }
      const norms = [errM, errorNorm, errP];
      let best = 0, bestF = -Infinity;
      for (let q = 0; q < 3; q++) {
        const fq = norms[q] === 0 ? Infinity : Math.pow(norms[q], -1 / (order + q));
        if (fq > bestF) {
          bestF = fq;
          best = q;
        }
      }
      const newOrder = order + best - 1;
      this.order = newOrder;
      const factor = Math.min(MAX_FACTOR, safety * bestF);
      this.hAbs *= factor;
      this.changeD(newOrder, factor);
      this.nEqualSteps = 0;
      this.luValid = false;
      return;
    }
  }

  private refreshJacobian(t: number, y: Float64Array): void {
    const f0 = this.tmp;
    if (!this.jac) {
      this.rhs(t, y, f0);
      this.nRhs++;
    }
    evalJacobian(this.jac, this.rhs, t, y, f0, this.J, this.dy, this, this.atol);
    this.jValid = true;
    this.jAge = 0;
    this.crate = 1;
    this.luValid = false;
  }
}

/** The next double above t (t ≥ 0 or negative), for scipy's minimum step 10·ulp(t). */
const NEXT_BUF = new Float64Array(1);
const NEXT_BITS = new BigInt64Array(NEXT_BUF.buffer);
function nextUp(t: number): number {
  if (t === 0) return Number.MIN_VALUE;
  NEXT_BUF[0] = t;
  NEXT_BITS[0] += t > 0 ? 1n : -1n;
  return NEXT_BUF[0];
}

/**
 * LU = I − c·J (n×n, row-major).  A function of its own: as two loops inside \`factor\`, V8's
 * on-stack-replacement code of one loop deoptimised on reaching the other at every call (≈ 700
 * deoptimisations in a 36-run flow grid).
 */
function identityMinus(LU: Float64Array, J: Float64Array, c: number, n: number): void {
  for (let i = 0; i < n * n; i++) LU[i] = -c * J[i];
  for (let i = 0; i < n; i++) LU[i * n + i] += 1;
}
