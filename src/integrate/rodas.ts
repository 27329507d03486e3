/**
 * RODAS: the stiffly accurate, L-stable Rosenbrock method of order 4 (embedded order 3, six stages,
 * one LU and one Jacobian per step) of Hairer & Wanner, "Solving Ordinary Differential Equations II",
 * 2nd ed., Springer 1996, Sect. IV.7 (Table 7.3 for the method; Sect. IV.7 "dense output" for the
 * continuous extension of order 3).  The coefficients are those of their Fortran code rodas.f
 * (subroutine ROCOE, METH = 1), in the W-transformed form that avoids matrix–vector products:
 *
 *   (I/(γh) − J) u_i = f(t + c_i h, y + Σ_{j<i} a_ij u_j) + Σ_{j<i} (c_ij / h) u_j + h d_i ∂f/∂t,
 *   y_{n+1} = y + Σ_{j≤4} a_5j u_j + u_5 + u_6,   error estimate = u_6 (embedded: without u_6),
 *
 * with c_5 = c_6 = 1 (stages 5, 6 evaluate f at the end of the step: the method is stiffly accurate).
 * Dense output: y(t_n + θh) = (1 − θ) y_n + θ [y_{n+1} + (1 − θ)(q2 + θ q3)], q2, q3 linear in u_1..u_5.
 *
 * Step control (rodas.f): fac = clamp(err^{1/4}/0.9, 1/6, 5), h_new = h / fac, with the predictive
 * (Gustafsson) controller after the second accepted step; after a rejection the next step is not
 * increased.  The error is the weighted RMS of u_6 with weights atol + rtol·max(|y_n|, |y_{n+1}|).
 *
 * Jacobians: a fresh J = ∂f/∂y at (t_n, y_n) for every step (Rosenbrock order conditions assume the
 * exact Jacobian; a stale J would silently lower the order), kept across rejected attempts of the
 * same step (y_n has not moved); the problem's analytic `jac` or forward differences (n RHS).  Non-
 * autonomous problems get ∂f/∂t by a forward difference (one RHS per step) unless `autonomous`.
 * A step costs 6 RHS + 1 Jacobian + 1 LU of n×n; it pays off over explicit methods when the problem
 * is stiff and J is cheap (small n or an analytic J).
 */
import { allFinite, DenseOutputStepper, type AdaptiveSettings } from "./dense.js";
import { evalJacobian, luFactor, luSolve } from "./linalg.js";
import type { Jac, Rhs, SolverCarry } from "./types.js";

/** Settings shared by the implicit steppers (already validated by `solve`). */
export interface ImplicitSettings extends AdaptiveSettings {
  jac?: Jac;
  /** f does not depend on t (skips the ∂f/∂t difference of Rosenbrock methods). */
  autonomous: boolean;
}

// rodas.f, ROCOE, METH = 1 (Hairer & Wanner 1996).
const GAMMA = 0.25;
const C2 = 0.386, C3 = 0.21, C4 = 0.63;
const D1 = 0.25, D2 = -0.1043, D3 = 0.1035, D4 = -0.03620000000000023;
const A21 = 1.544;
const A31 = 0.9466785280815826, A32 = 0.2557011698983284;
const A41 = 3.314825187068521, A42 = 2.896124015972201, A43 = 0.9986419139977817;
const A51 = 1.221224509226641, A52 = 6.019134481288629, A53 = 12.53708332932087, A54 = -0.687886036105895;
const C21 = -5.6688;
const C31 = -2.430093356833875, C32 = -0.2063599157091915;
const C41 = -0.1073529058151375, C42 = -9.594562251023355, C43 = -20.47028614809616;
const C51 = 7.496443313967647, C52 = -10.24680431464352, C53 = -33.99990352819905, C54 = 11.7089089320616;
const C61 = 8.083246795921522, C62 = -7.981132988064893, C63 = -31.52159432874371, C64 = 16.31930543123136, C65 = -6.058818238834054;
const DD21 = 10.12623508344586, DD22 = -7.487995877610167, DD23 = -34.80091861555747, DD24 = -7.992771707568823, DD25 = 1.025137723295662;
const DD31 = -0.6762803392801253, DD32 = 6.087714651680015, DD33 = 16.43084320892478, DD34 = 24.76722511418386, DD35 = -6.594389125716872;

/** Step-size control constants of rodas.f: 1/6 ≤ h_new/h ≤ 5... expressed as fac bounds, safety 0.9. */
const FAC_MIN = 1 / 6, FAC_MAX = 5, SAFE = 0.9;
const MAX_SINGULAR = 5;

export class RodasStepper extends DenseOutputStepper {
  private readonly rtol: number;
  private readonly atol: number;
  private readonly hMax: number;
  private readonly jac?: Jac;
  private readonly autonomous: boolean;

  /** Step size to try next. */
  private h = NaN;
  private nAccepted = 0;
  /** Gustafsson controller memory (step and error of the last accepted step). */
  private hAcc = NaN;
  private errAcc = NaN;
  /** Dense output of the last step: y_{n} before it, its size, and q2, q3. */
  private tOld = NaN;
  private hLast = NaN;
  private readonly yOld: Float64Array;
  private readonly q2: Float64Array;
  private readonly q3: Float64Array;

  // Scratch (overwritten at every step).
  private readonly J: Float64Array;
  private readonly E: Float64Array;
  private readonly piv: Int32Array;
  private readonly fx: Float64Array;
  private readonly k: Float64Array[];
  private readonly ynew: Float64Array;
  private readonly dy: Float64Array;
  private readonly tmp: Float64Array;

  constructor(rhs: Rhs, y0: Float64Array, t0: number, s: ImplicitSettings) {
    super(rhs, y0, t0, s.tEnd, s.maxSteps);
    const n = this.n;
    this.rtol = s.rtol;
    this.atol = s.atol;
    this.hMax = s.hMax;
    this.jac = s.jac;
    this.autonomous = s.autonomous;
    if (s.h0 !== undefined) this.h = s.h0;
    if (s.carry?.h !== undefined && s.carry.h > 0 && Number.isFinite(s.carry.h)) this.h = s.carry.h;
    this.yOld = new Float64Array(n);
    this.q2 = new Float64Array(n);
    this.q3 = new Float64Array(n);
    this.J = new Float64Array(n * n);
    this.E = new Float64Array(n * n);
    this.piv = new Int32Array(n);
    this.fx = new Float64Array(n);
    this.k = Array.from({ length: 6 }, () => new Float64Array(n));
    this.ynew = new Float64Array(n);
    this.dy = new Float64Array(n);
    this.tmp = new Float64Array(n);
  }

  saveCarry(c: SolverCarry): void {
    if (Number.isFinite(this.h) && this.h > 0) c.h = this.h;
  }

  saveState(): Record<string, unknown> {
    return {
      ...this.baseState(), h: this.h, nAccepted: this.nAccepted, hAcc: this.hAcc, errAcc: this.errAcc,
      tOld: this.tOld, hLast: this.hLast, yOld: this.yOld.slice(), q2: this.q2.slice(), q3: this.q3.slice(),
    };
  }

  restoreState(s: Record<string, unknown>): void {
    this.restoreBase(s);
    this.h = s.h as number;
    this.nAccepted = s.nAccepted as number;
    this.hAcc = s.hAcc as number;
    this.errAcc = s.errAcc as number;
    this.tOld = s.tOld as number;
    this.hLast = s.hLast as number;
    this.yOld.set(s.yOld as Float64Array);
    this.q2.set(s.q2 as Float64Array);
    this.q3.set(s.q3 as Float64Array);
  }

  protected interpolate(T: number, out: Float64Array): void {
    const { yOld, yn, q2, q3, n } = this;
    const s = (T - this.tOld) / this.hLast;
    const s1 = 1 - s;
    for (let i = 0; i < n; i++) out[i] = s1 * yOld[i] + s * (yn[i] + s1 * (q2[i] + s * q3[i]));
  }

  protected stepOnce(): void {
    const { n, yn, rhs, J, E, piv, fx, k, ynew, dy, rtol, atol } = this;
    const [k1, k2, k3, k4, k5, k6] = k;
    const t = this.tn;
    const f0 = this.fAtTn();
    if (!allFinite(yn) || !allFinite(f0)) this.fail("state became NaN/Inf");
    if (!Number.isFinite(this.h)) this.h = this.initialStep(4, rtol, atol, this.hMax, f0);
    // Jacobian (and ∂f/∂t) at (t_n, y_n), kept over rejected attempts.
    evalJacobian(this.jac, rhs, t, yn, f0, J, this.tmp, this, atol);
    if (!this.autonomous) {
      const delt = Math.sqrt(Number.EPSILON * Math.max(1e-5, Math.abs(t)));
      rhs(t + delt, yn, fx);
      this.nRhs++;
      for (let i = 0; i < n; i++) fx[i] = (fx[i] - f0[i]) / delt;
    }
    let rejected = false;
    let nanRetries = 0;
    let singular = 0;
    for (;;) {
      const { h, last } = this.attemptStep(this.h, this.hMax);
      // E = I/(γh) − J, factorised.
      const fac = 1 / (h * GAMMA);
      for (let i = 0; i < n * n; i++) E[i] = -J[i];
      for (let i = 0; i < n; i++) E[i * n + i] += fac;
      if (!luFactor(E, n, piv)) {
        if (++singular > MAX_SINGULAR) this.fail("singular iteration matrix I/(γh) − J");
        this.nRejected++;
        this.h = 0.5 * h;
        rejected = true;
        continue;
      }
      const na = !this.autonomous;
      const hc21 = C21 / h, hc31 = C31 / h, hc32 = C32 / h, hc41 = C41 / h, hc42 = C42 / h, hc43 = C43 / h;
      const hc51 = C51 / h, hc52 = C52 / h, hc53 = C53 / h, hc54 = C54 / h;
      const hc61 = C61 / h, hc62 = C62 / h, hc63 = C63 / h, hc64 = C64 / h, hc65 = C65 / h;
      const hd1 = h * D1, hd2 = h * D2, hd3 = h * D3, hd4 = h * D4;
      // Stage 1.
      for (let i = 0; i < n; i++) k1[i] = f0[i] + (na ? hd1 * fx[i] : 0);
      luSolve(E, n, piv, k1);
      // Stage 2.
      for (let i = 0; i < n; i++) ynew[i] = yn[i] + A21 * k1[i];
      rhs(t + C2 * h, ynew, dy);
      for (let i = 0; i < n; i++) k2[i] = dy[i] + (na ? hd2 * fx[i] : 0) + hc21 * k1[i];
      luSolve(E, n, piv, k2);
      // Stage 3.
      for (let i = 0; i < n; i++) ynew[i] = yn[i] + A31 * k1[i] + A32 * k2[i];
      rhs(t + C3 * h, ynew, dy);
      for (let i = 0; i < n; i++) k3[i] = dy[i] + (na ? hd3 * fx[i] : 0) + (hc31 * k1[i] + hc32 * k2[i]);
      luSolve(E, n, piv, k3);
      // Stage 4.
      for (let i = 0; i < n; i++) ynew[i] = yn[i] + A41 * k1[i] + A42 * k2[i] + A43 * k3[i];
      rhs(t + C4 * h, ynew, dy);
      for (let i = 0; i < n; i++) k4[i] = dy[i] + (na ? hd4 * fx[i] : 0) + (hc41 * k1[i] + hc42 * k2[i] + hc43 * k3[i]);
      luSolve(E, n, piv, k4);
      // Stage 5 (at t + h).
      for (let i = 0; i < n; i++) ynew[i] = yn[i] + A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i];
      rhs(t + h, ynew, dy);
      for (let i = 0; i < n; i++) k5[i] = dy[i] + (hc51 * k1[i] + hc52 * k2[i] + hc53 * k3[i] + hc54 * k4[i]);
      luSolve(E, n, piv, k5);
      // Embedded solution y + … + u_5, stage 6 and the new solution.
      for (let i = 0; i < n; i++) ynew[i] += k5[i];
      rhs(t + h, ynew, dy);
      for (let i = 0; i < n; i++) k6[i] = dy[i] + (hc61 * k1[i] + hc62 * k2[i] + hc63 * k3[i] + hc64 * k4[i] + hc65 * k5[i]);
      luSolve(E, n, piv, k6);
      for (let i = 0; i < n; i++) ynew[i] += k6[i];
      this.nRhs += 5;

      // Error estimate u_6.
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const sk = atol + rtol * Math.max(Math.abs(yn[i]), Math.abs(ynew[i]));
        const e = k6[i] / sk;
        sum += e * e;
      }
      const err = Math.sqrt(sum / n);

      if (!(err <= 1)) {
        rejected = true;
        // rodas.f: a rejected very first step is retried ten times smaller.
        const shrunk = this.nAccepted === 0 ? 0.1 * h : h / Math.max(FAC_MIN, Math.min(FAC_MAX, Math.pow(err, 0.25) / SAFE));
        [this.h, nanRetries] = this.retryStep(h, err, shrunk, nanRetries);
        continue;
      }

      // Accepted: step-size prediction (with the predictive controller of rodas.f).
      let f = Math.max(FAC_MIN, Math.min(FAC_MAX, Math.pow(err, 0.25) / SAFE));
      if (this.nAccepted >= 1) {
        let fg = (this.hAcc / h) * Math.pow((err * err) / this.errAcc, 0.25) / SAFE;
        fg = Math.max(FAC_MIN, Math.min(FAC_MAX, fg));
        f = Math.max(f, fg);
      }
      this.hAcc = h;
      this.errAcc = Math.max(1e-2, err);
      let hNew = h / f;
      if (rejected) hNew = Math.min(hNew, h);
      // A last step cut short to land on tEnd says little about the local step size.
      if (last && hNew < this.h) hNew = this.h;
      // Dense output coefficients.
      const { q2, q3 } = this;
      for (let i = 0; i < n; i++) {
        q2[i] = DD21 * k1[i] + DD22 * k2[i] + DD23 * k3[i] + DD24 * k4[i] + DD25 * k5[i];
        q3[i] = DD31 * k1[i] + DD32 * k2[i] + DD33 * k3[i] + DD34 * k4[i] + DD35 * k5[i];
      }
      this.yOld.set(yn);
      this.tOld = t;
      this.hLast = h;
      yn.set(ynew);
      this.tn = last ? this.tEnd : t + h;
      this.hLast = this.tn - t;
      this.fnValid = false;
      this.h = hNew;
      this.nAccepted++;
      this.nSteps++;
      return;
    }
  }
}
