/**
 * Common driver logic of the steppers with dense output (./rodas.ts, ./bdf.ts): they step freely
 * (only the end of the integration interval, tEnd, clamps a step) and produce the state at output
 * times by interpolation, so output times cost no extra steps.
 *
 * Two states are kept: the internal one (tn, yn: the end of the last accepted step) and the visible
 * one (t, y: what the driver in ./solve.ts reads — an output time after `advance`, or the end of a
 * step while `accepted` is being called).  The `accepted` callback of a step is deferred until every
 * output time before the step's end has been produced: `advance(T)` first interpolates outputs
 * T < tn, and fires the pending callback of the step ending at tn only once a target T ≥ tn is asked
 * for.  So a stop (event, steady state, abort) at the end of a step comes after all outputs before
 * it, exactly as with the steppers that land on output times.
 */
import { IntegrationError, type FailureCode, type Rhs, type SolverCarry } from "./types.js";

/** Settings of the adaptive dense-output steppers (already validated by `solve`). */
export interface AdaptiveSettings {
  rtol: number;
  atol: number;
  maxSteps: number;
  /** Maximum step size; 0 = unlimited. */
  hMax: number;
  /** Initial step (undefined: estimated). */
  h0?: number;
  /** End of the integration interval. */
  tEnd: number;
  /** Step size carried from a previous segment. */
  carry?: SolverCarry;
}

/** Callback after each accepted step; return false to stop the integration there. */
export type AcceptedStep = (t: number, y: Float64Array) => boolean;

/** Rejected attempts in a row with a NaN/Inf error estimate before a step gives up. */
const MAX_NAN_RETRIES = 40;

export abstract class DenseOutputStepper {
  /** Visible time and state (see the module comment). */
  t: number;
  readonly y: Float64Array;
  nRhs = 0;
  nJac = 0;
  nSteps = 0;
  nRejected = 0;

  protected readonly n: number;
  /** End of the last accepted step. */
  protected tn: number;
  protected readonly yn: Float64Array;
  /** f(tn, yn), when fnValid. */
  protected readonly fn: Float64Array;
  protected fnValid = false;
  /** The accepted callback of the step ending at tn is still due. */
  protected pending = false;
  /** Step attempts (accepted + rejected) so far, against maxSteps. */
  protected attempts = 0;
  private readonly fScratch: Float64Array;

  constructor(
    protected readonly rhs: Rhs,
    y0: Float64Array,
    t0: number,
    /** End of the integration interval: steps never go beyond it. */
    protected readonly tEnd: number,
    protected readonly maxSteps: number,
    /** Storage for yn (length n; e.g. a row of a stepper's work block), else a new array. */
    ynStore?: Float64Array,
  ) {
    const n = y0.length;
    this.n = n;
    this.t = t0;
    this.tn = t0;
    this.y = Float64Array.from(y0);
    this.yn = ynStore ?? new Float64Array(n);
    this.yn.set(y0);
    this.fn = new Float64Array(n);
    this.fScratch = new Float64Array(n);
  }

  /** One accepted step from (tn, yn) (looping over rejected attempts); sets pending. */
  protected abstract stepOnce(): void;

  /** The interpolated state at tn_prev ≤ T ≤ tn into `out`. */
  protected abstract interpolate(T: number, out: Float64Array): void;

  /** f(tn, yn), evaluated once per step. */
  protected fAtTn(): Float64Array {
    if (!this.fnValid) {
      this.rhs(this.tn, this.yn, this.fn);
      this.nRhs++;
      this.fnValid = true;
    }
    return this.fn;
  }

  /** dy/dt at the visible state (cached at the end of a step, where the next step needs it too). */
  dydt(): Float64Array {
    if (this.t === this.tn) return this.fAtTn();
    this.rhs(this.t, this.y, this.fScratch);
    this.nRhs++;
    return this.fScratch;
  }

  /**
   * Produce the state at `tTarget` (≥ t), stepping as needed and calling `accepted` after every
   * accepted step (deferred, see the module comment).  Returns false if `accepted` stopped the
   * integration (t, y then hold the end of that step), true once t = tTarget.
   */
  advance(tTarget: number, accepted: AcceptedStep): boolean {
    for (;;) {
      if (this.pending && tTarget >= this.tn) {
        this.pending = false;
        this.t = this.tn;
        this.y.set(this.yn);
        if (!accepted(this.t, this.y)) return false;
      }
      if (tTarget <= this.tn) {
        if (tTarget === this.tn) this.y.set(this.yn);
        else this.interpolate(tTarget, this.y);
        this.t = tTarget;
        return true;
      }
      // Rounding-level gap to the end of the interval: take the target as reached.
      if (this.tEnd - this.tn <= 10 * Number.EPSILON * Math.max(Math.abs(this.tn), Math.abs(this.tEnd))) {
        this.tn = this.tEnd;
        this.fnValid = false;
        continue;
      }
      this.stepOnce();
      this.pending = true;
    }
  }

  /** The base state for checkpoints (subclasses add theirs). */
  protected baseState(): Record<string, unknown> {
    return {
      t: this.t, y: this.y.slice(), tn: this.tn, yn: this.yn.slice(), fn: this.fn.slice(), fnValid: this.fnValid,
      pending: this.pending, attempts: this.attempts,
      nRhs: this.nRhs, nJac: this.nJac, nSteps: this.nSteps, nRejected: this.nRejected,
    };
  }

  protected restoreBase(s: Record<string, unknown>): void {
    this.t = s.t as number;
    this.y.set(s.y as Float64Array);
    this.tn = s.tn as number;
    this.yn.set(s.yn as Float64Array);
    this.fn.set(s.fn as Float64Array);
    this.fnValid = s.fnValid as boolean;
    this.pending = s.pending as boolean;
    this.attempts = s.attempts as number;
    this.nRhs = s.nRhs as number;
    this.nJac = s.nJac as number;
    this.nSteps = s.nSteps as number;
    this.nRejected = s.nRejected as number;
  }

  /** Count a step attempt against the budget. */
  protected attempt(): void {
    if (this.attempts >= this.maxSteps) this.fail(`maxSteps (${this.maxSteps}) exceeded`, "maxiters");
    this.attempts++;
  }

  /**
   * An attempt from tn with step h: capped by hMax (0 = none) and, within 0.01 % of the end of the
   * interval, cut to land on tEnd (`last`); counted against the budget.
   */
  protected attemptStep(h: number, hMax: number): { h: number; last: boolean } {
    if (hMax > 0 && h > hMax) h = hMax;
    const rem = this.tEnd - this.tn;
    let last = false;
    if (h * 1.0001 >= rem) {
      h = rem;
      last = true;
    }
    this.attempt();
    return { h, last };
  }

  /**
   * After a rejected attempt of size h with error estimate err: counts it and returns the next step
   * and the count of consecutive non-finite estimates — `shrunk` (the controller's choice) when err
   * is finite (count reset), h/10 when it is NaN/Inf (failing after MAX_NAN_RETRIES in a row).
   * Fails with "dtmin" when the next step is below the rounding level of tn.
   */
  protected retryStep(h: number, err: number, shrunk: number, nanRetries: number): [number, number] {
    this.nRejected++;
    let next: number;
    if (Number.isFinite(err)) {
      nanRetries = 0;
      next = shrunk;
    } else {
      if (++nanRetries > MAX_NAN_RETRIES) this.fail("state became NaN/Inf");
      next = 0.1 * h;
    }
    if (next < Math.max(10 * Number.EPSILON * Math.abs(this.tn), 1e-300)) {
      if (Number.isFinite(err)) this.fail(`step size underflowed (h = ${next.toExponential(2)})`, "dtmin");
      this.fail("state became NaN/Inf");
    }
    return [next, nanRetries];
  }

  protected fail(what: string, code: FailureCode = "unstable"): never {
    throw new IntegrationError(`integration failed at t = ${this.tn}: ${what}`, this.tn, code);
  }

  /**
   * Initial step (Hairer, Nørsett & Wanner I, II.4; as in scipy's select_initial_step) for a method
   * of order p from (tn, yn) with f0 = f(tn, yn); one extra RHS evaluation.
   */
  protected initialStep(p: number, rtol: number, atol: number, hMax: number, f0: Float64Array): number {
    const { n, yn, tn } = this;
    const y1 = new Float64Array(n), f1 = new Float64Array(n);
    let d0 = 0, d1 = 0;
    for (let i = 0; i < n; i++) {
      const sc = atol + rtol * Math.abs(yn[i]);
      d0 += (yn[i] / sc) ** 2;
      d1 += (f0[i] / sc) ** 2;
    }
    d0 = Math.sqrt(d0 / n);
    d1 = Math.sqrt(d1 / n);
    const span = this.tEnd - tn;
    let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1);
    h0 = Math.min(h0, span);
    for (let i = 0; i < n; i++) y1[i] = yn[i] + h0 * f0[i];
    this.rhs(tn + h0, y1, f1);
    this.nRhs++;
    let d2 = 0;
    for (let i = 0; i < n; i++) {
      const sc = atol + rtol * Math.abs(yn[i]);
      d2 += ((f1[i] - f0[i]) / sc) ** 2;
    }
    d2 = Math.sqrt(d2 / n) / h0;
    const h1 = d1 <= 1e-15 && d2 <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / Math.max(d1, d2)) ** (1 / (p + 1));
    let h = Math.min(100 * h0, h1, span);
    if (hMax > 0) h = Math.min(h, hMax);
    return Number.isFinite(h) && h > 0 ? h : Math.min(1e-6, span);
  }
}

export function allFinite(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}
