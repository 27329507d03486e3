/**
 * Fixed-step explicit schemes: forward Euler and classical 4th-order Runge–Kutta.
 *
 * Steps have size dt; the last step before each output time is shortened so outputs land exactly
 * on the grid (a step within 1e-9·dt of dt is taken as exactly dt, so Euler with dt = η on a grid
 * of multiples of η is gradient descent w ← w + η f(w), bit for bit).  Times inside a segment are
 * computed as tStart + k·dt, so they do not accumulate rounding.
 */
import { IntegrationError, type FailureCode, type Rhs } from "./types.js";

export type FixedScheme = "euler" | "rk4";

/** Callback after each step; return false to stop the integration there. */
type AcceptedStep = (t: number, y: Float64Array) => boolean;

const SNAP = 1e-9;

/** Advances y from t to successive target times with a fixed-step scheme. */
export class FixedStepper {
  /** Current time and state (the state is updated in place). */
  t: number;
  readonly y: Float64Array;
  nRhs = 0;
  nSteps = 0;
  readonly nRejected = 0;

  private readonly k1: Float64Array;
  private readonly k2: Float64Array;
  private readonly k3: Float64Array;
  private readonly k4: Float64Array;
  private readonly tmp: Float64Array;
  /** Current segment of advance(): its target, start time and steps taken (see advance). */
  private segTarget = NaN;
  private segStart = NaN;
  private segK = 0;
  /** k1 already holds f(t, y) for the current state (set by dydt()). */
  private k1Valid = false;

  constructor(
    private readonly rhs: Rhs,
    y0: Float64Array,
    t0: number,
    private readonly scheme: FixedScheme,
    private readonly dt: number,
    private readonly maxSteps: number,
  ) {
    const n = y0.length;
    this.t = t0;
    this.y = Float64Array.from(y0);
    this.k1 = new Float64Array(n);
    const m = scheme === "rk4" ? n : 0;
    this.k2 = new Float64Array(m);
    this.k3 = new Float64Array(m);
    this.k4 = new Float64Array(m);
    this.tmp = new Float64Array(m);
  }

  /** Current segment, cached first stage and counters (with t, y), for checkpoints. */
  saveState(): Record<string, unknown> {
    return {
      t: this.t, y: this.y.slice(), nRhs: this.nRhs, nSteps: this.nSteps,
      segTarget: this.segTarget, segStart: this.segStart, segK: this.segK, k1: this.k1.slice(), k1Valid: this.k1Valid,
    };
  }

  restoreState(s: Record<string, unknown>): void {
    this.t = s.t as number;
    this.y.set(s.y as Float64Array);
    this.nRhs = s.nRhs as number;
    this.nSteps = s.nSteps as number;
    this.segTarget = s.segTarget as number;
    this.segStart = s.segStart as number;
    this.segK = s.segK as number;
    this.k1.set(s.k1 as Float64Array);
    this.k1Valid = s.k1Valid as boolean;
  }

  /** dy/dt at the current state (cached and reused as the next step's first stage). */
  dydt(): Float64Array {
    if (!this.k1Valid) {
      this.rhs(this.t, this.y, this.k1);
      this.nRhs++;
      this.k1Valid = true;
    }
    return this.k1;
  }

  /**
   * Integrate to `tTarget` (≥ t), calling `accepted` after every step.  Returns false if `accepted`
   * stopped the integration, true once t = tTarget.  Throws IntegrationError on NaN/Inf or when
   * more than maxSteps steps were taken.
   */
  advance(tTarget: number, accepted: AcceptedStep): boolean {
    const { dt, y } = this;
    // A segment (start time, step count) survives a pause: resuming advance(tTarget) after
    // `accepted` returned false continues the same k·dt grid, so a paused run equals an unpaused one.
    if (tTarget !== this.segTarget || this.t < this.segStart) {
      this.segTarget = tTarget;
      this.segStart = this.t;
      this.segK = 0;
    }
    while (this.t < tTarget) {
      if (this.nSteps >= this.maxSteps) this.fail(`maxSteps (${this.maxSteps}) exceeded`, "maxiters");
      const rem = tTarget - this.t;
      const last = rem <= dt * (1 + SNAP);
      const h = last && rem < dt * (1 - SNAP) ? rem : dt;
      if (this.scheme === "euler") this.euler(h);
      else this.rk4(h);
      this.segK++;
      for (let i = 0; i < y.length; i++) {
        if (!Number.isFinite(y[i])) this.fail("state became NaN/Inf");
      }
      this.t = last ? tTarget : this.segStart + this.segK * dt;
      this.nSteps++;
      if (!accepted(this.t, y)) return false;
    }
    return true;
  }

  /** y ← y + h f(t, y). */
  private euler(h: number): void {
    const { y, k1 } = this;
    this.dydt();
    for (let i = 0; i < y.length; i++) y[i] += h * k1[i];
    this.k1Valid = false;
  }

  /** Classical RK4 step of size h. */
  private rk4(h: number): void {
    const { y, k1, k2, k3, k4, tmp, rhs, t } = this;
    const n = y.length;
    const h2 = 0.5 * h;
    this.dydt();
    for (let i = 0; i < n; i++) tmp[i] = y[i] + h2 * k1[i];
    rhs(t + h2, tmp, k2);
    for (let i = 0; i < n; i++) tmp[i] = y[i] + h2 * k2[i];
    rhs(t + h2, tmp, k3);
    for (let i = 0; i < n; i++) tmp[i] = y[i] + h * k3[i];
    rhs(t + h, tmp, k4);
    this.nRhs += 3;
    const h6 = h / 6;
    for (let i = 0; i < n; i++) y[i] += h6 * (k1[i] + 2 * (k2[i] + k3[i]) + k4[i]);
    this.k1Valid = false;
  }

  /** Throws with the last time whose state was finite (t is only advanced after the check). */
  private fail(what: string, code: FailureCode = "unstable"): never {
    throw new IntegrationError(`integration failed at t = ${this.t}: ${what}`, this.t, code);
  }
}
