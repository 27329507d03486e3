/**
 * Adaptive Gragg–Bulirsch–Stoer integration: Hairer & Wanner's ODEX as ported by the npm package
 * odex 2.0.4 — the package itself for states up to ODEX_PACKAGE_MAX_DIM components, its
 * Float64Array port (./gbs.ts, bit-identical to odex) for larger ones.
 *
 * The solver is driven segment by segment between consecutive output times (never through a dense
 * output), carrying the last full step size forward.  Accepted steps are observed through the
 * solver's observer callback, which is also how we stop early.
 *
 * Quirks of ODEX (kept for bit-identity with odex) handled here:
 *  - it clamps the initial step to ≥ 1e-4 and ≤ half the segment, and has no step-underflow test
 *    (it spins until maxSteps): we flag accepted steps that no longer advance t;
 *  - it may stop within rounding distance of the requested end: we track t ourselves;
 *  - a NaN error estimate is *accepted* by its step control: we check every accepted state and,
 *    before giving up, retry from the last finite state with a much shorter step.
 */
import { createRequire } from "node:module";
import { GbsOutcome, GbsSolver, type GbsObserver, type GbsRhs } from "./gbs.js";
import { allFinite } from "../kernels/gbs-loops.js";
import { IntegrationError, type FailureCode, type Rhs } from "./types.js";

/** The parts of the odex package's `Solver` we use (it ships no type declarations). */
export interface OdexSolver {
  maxSteps: number;
  initialStepSize: number;
  maxStepSize: number;
  relativeTolerance: number;
  absoluteTolerance: number;
  solve(
    f: (x: number, y: number[]) => number[],
    x: number,
    y0: number[],
    xEnd: number,
    solOut?: (nr: number, xOld: number, x: number, y: number[]) => boolean | void,
  ): { y: number[]; outcome: number; nStep: number; nAccept: number; nReject: number; nEval: number };
}
const odex = createRequire(import.meta.url)("odex") as { Solver: new (n: number) => OdexSolver };

/**
 * States up to this size are integrated by the odex package itself; larger ones by its Float64Array
 * port (./gbs.ts), which performs the same operations in the same order (bit-identical, tested in
 * test/gbs-port.test.ts) without odex's per-RHS state copies — those cost ~30 % of the run at the
 * 40,000-component guarded Saad–Solla state of K = 32, and nothing measurable at small sizes.
 */
export const ODEX_PACKAGE_MAX_DIM = 4096;

/**
 * The call in progress of an `OdexPackageSolver` (what the two module-level functions below, handed
 * to every odex `solve`, dispatch to).  odex creates its inner functions (F, midex, odxcor) afresh
 * on each `solve` and calls the user's f from F: with a new wrapper closure per call (one call per
 * output interval, 40 per lsg unit), V8 saw a new call target each time, deoptimised midex and
 * recompiled it (≈ 40 ms of TurboFan each time, on a background thread: ≈ 0.75 s of an lsg sweep's
 * 10 s, which a second busy core no longer hides).  The same two function objects every time keep
 * those call sites monomorphic.  Saved and restored around each call, so nested solves are safe.
 */
let active: OdexPackageSolver | undefined;
function odexRhs(t: number, y: number[]): number[] {
  return active!.rhs(t, y);
}
function odexObserver(nr: number, xOld: number, xNew: number, y: number[]): boolean | void {
  return active!.observe(nr, xOld, xNew, y);
}

/** The odex package behind the port's interface (Float64Array in and out; same outcome codes). */
class OdexPackageSolver {
  maxSteps = 10000;
  initialStepSize = 1e-4;
  maxStepSize = 0;
  relativeTolerance = 1e-5;
  absoluteTolerance = 1e-5;
  private readonly solver: OdexSolver;
  private readonly yIn: Float64Array;
  private readonly dy: Float64Array;
  private readonly ret: number[];
  private readonly yObs: Float64Array;
  private f: GbsRhs | undefined;
  private observer: GbsObserver | undefined;

  constructor(readonly n: number) {
    this.solver = new odex.Solver(n);
    this.yIn = new Float64Array(n);
    this.dy = new Float64Array(n);
    this.ret = new Array<number>(n).fill(0);
    this.yObs = new Float64Array(n);
  }

  rhs(t: number, y: number[]): number[] {
    const { n, yIn, dy, ret } = this;
    for (let i = 0; i < n; i++) yIn[i] = y[i];
    this.f!(t, yIn, dy);
    for (let i = 0; i < n; i++) ret[i] = dy[i];
    return ret;
  }

  observe(nr: number, xOld: number, xNew: number, y: number[]): boolean | void {
    if (nr === 1) return; // odex reports the initial point as step 1
    const { n, yObs } = this;
    for (let i = 0; i < n; i++) yObs[i] = y[i];
    return this.observer!(xOld, xNew, yObs);
  }

  solve(f: GbsRhs, x: number, y0: ArrayLike<number>, xEnd: number, observer?: GbsObserver): { y: Float64Array; outcome: number; nStep: number; nAccept: number; nReject: number; nEval: number } {
    const { solver } = this;
    solver.maxSteps = this.maxSteps;
    solver.initialStepSize = this.initialStepSize;
    solver.maxStepSize = this.maxStepSize;
    solver.relativeTolerance = this.relativeTolerance;
    solver.absoluteTolerance = this.absoluteTolerance;
    const prev = active;
    active = this;
    this.f = f;
    this.observer = observer;
    try {
      // odex concatenates y0 onto a plain array (a Float64Array would give NaN): pass number[].
      const res = solver.solve(odexRhs, x, Array.from(y0), xEnd, observer ? odexObserver : undefined);
      return { y: Float64Array.from(res.y), outcome: res.outcome, nStep: res.nStep, nAccept: res.nAccept, nReject: res.nReject, nEval: res.nEval };
    } finally {
      active = prev;
      this.f = undefined;
      this.observer = undefined;
    }
  }
}

/** Settings of the GBS stepper (already validated by `solve`). */
export interface GbsSettings {
  rtol: number;
  atol: number;
  /** Budget of odex step attempts (accepted + rejected) over the whole integration. */
  maxSteps: number;
  h0: number;
  /** Maximum step size; 0 = unlimited. */
  hMax: number;
}

/** Callback after each accepted step; return false to stop the integration there. */
type AcceptedStep = (t: number, y: Float64Array) => boolean;

/** Thrown out of the RHS wrapper to abort the solver when its own state has gone bad (t = NaN). */
class AbortOdex extends Error {}

const EPS = Number.EPSILON;
/** Give up on a NaN/Inf state after this many consecutive retries with shorter steps. */
const MAX_NAN_RETRIES = 12;

/** Advances y from t to successive target times with GBS; counts RHS calls and accepted steps. */
export class GbsStepper {
  /** Current time and state (the state is updated in place). */
  t: number;
  readonly y: Float64Array;
  nRhs = 0;
  nSteps = 0;
  nRejected = 0;

  private readonly n: number;
  private readonly solver: GbsSolver | OdexPackageSolver;
  private readonly maxSteps: number;
  private attempts = 0;
  private hNext: number;
  // Buffers of `dydt`.
  private readonly yIn: Float64Array;
  private readonly dyOut: Float64Array;
  private readonly f: (x: number, y: Float64Array, dy: Float64Array) => void;

  constructor(
    private readonly rhs: Rhs,
    y0: Float64Array,
    t0: number,
    s: GbsSettings,
  ) {
    const n = y0.length;
    this.n = n;
    this.t = t0;
    this.y = Float64Array.from(y0);
    this.yIn = new Float64Array(n);
    this.dyOut = new Float64Array(n);
    this.maxSteps = s.maxSteps;
    this.hNext = s.h0;
    this.solver = n <= ODEX_PACKAGE_MAX_DIM ? new OdexPackageSolver(n) : new GbsSolver(n);
    this.solver.relativeTolerance = s.rtol;
    this.solver.absoluteTolerance = s.atol;
    this.solver.maxStepSize = s.hMax;
    this.solver.maxSteps = Math.max(1, Math.min(s.maxSteps, 2 ** 31));
    // The RHS reads the solver's stage state in place (an Rhs never writes y, as in every stepper).
    this.f = (x: number, y: Float64Array, dy: Float64Array): void => {
      if (x !== x) throw new AbortOdex();
      rhs(x, y, dy);
      this.nRhs++;
    };
  }

  /** Free the solver's work memory (GBS port: its WebAssembly block); the stepper is done. */
  release(): void {
    if (this.solver instanceof GbsSolver) this.solver.release();
  }

  /** Carried state (with t, y and the counters) for checkpoints; the solver itself keeps none between calls. */
  saveState(): Record<string, unknown> {
    return { t: this.t, y: this.y.slice(), hNext: this.hNext, attempts: this.attempts, nRhs: this.nRhs, nSteps: this.nSteps, nRejected: this.nRejected };
  }

  restoreState(s: Record<string, unknown>): void {
    this.t = s.t as number;
    this.y.set(s.y as Float64Array);
    this.hNext = s.hNext as number;
    this.attempts = s.attempts as number;
    this.nRhs = s.nRhs as number;
    this.nSteps = s.nSteps as number;
    this.nRejected = s.nRejected as number;
  }

  /** dy/dt at the current state (one RHS evaluation). */
  dydt(): Float64Array {
    this.yIn.set(this.y);
    this.rhs(this.t, this.yIn, this.dyOut);
    this.nRhs++;
    return this.dyOut;
  }

  /**
   * Integrate to `tTarget` (≥ t), calling `accepted` after every accepted step.  Returns false if
   * `accepted` stopped the integration (t, y then hold the stopping point), true once t = tTarget.
   * Throws IntegrationError on NaN/Inf, step-size underflow or an exhausted step budget.
   */
  advance(tTarget: number, accepted: AcceptedStep): boolean {
    let retryEnd = Infinity; // end of a shortened sub-segment after a NaN/Inf step, if any
    let retries = 0;
    while (this.t < tTarget) {
      const tStart = this.t;
      const end = Math.min(retryEnd, tTarget);
      // The solver will not step when the gap is at rounding level; treat the target as reached.
      if (end - tStart <= 10 * 2.3e-16 * Math.abs(tStart)) {
        this.t = end;
        if (end === retryEnd) retryEnd = Infinity;
        continue;
      }
      const budget = this.maxSteps - this.attempts;
      if (budget <= 0) this.fail(`maxSteps (${this.maxSteps}) exceeded`, "maxiters");
      this.solver.maxSteps = Math.min(budget, 2 ** 31);
      this.solver.initialStepSize = this.hNext;

      let xBad = NaN; // time of an accepted step whose state was not finite
      let hUnder = NaN; // size of an accepted step that no longer advanced t
      let stopped = false;
      const observer = (xOld: number, x: number, y: Float64Array): boolean | void => {
        if (!allFinite(y)) {
          xBad = x;
          return false;
        }
        const h = x - xOld;
        const last = end - x <= 16 * EPS * Math.max(Math.abs(x), Math.abs(end));
        if (!last && !(h > 16 * EPS * Math.abs(x))) {
          hUnder = h;
          return false;
        }
        this.y.set(y);
        this.t = last ? end : x;
        this.nSteps++;
        // Carry the step size forward, except for the final step of the segment and a first step
        // that odex clamped to half the segment (neither reflects the local step size).
        if (!last && !(xOld === tStart && h >= 0.5 * (end - tStart) * (1 - 1e-9))) this.hNext = h;
        if (!accepted(this.t, this.y)) {
          stopped = true;
          return false;
        }
      };

      let outcome: number;
      try {
        const res = this.solver.solve(this.f, tStart, this.y, end, observer);
        this.attempts += res.nStep;
        this.nRejected += res.nReject;
        outcome = res.outcome;
      } catch (e) {
        if (e instanceof AbortOdex) this.failNaN();
        throw e;
      }

      if (stopped) return false;
      if (!Number.isNaN(hUnder)) this.fail(`step size underflowed (h = ${hUnder.toExponential(2)})`, "dtmin");
      if (!Number.isNaN(xBad)) {
        // A NaN/Inf error estimate passes odex's step control; retry from the last finite state
        // with a much shorter first step before concluding that the solution itself blew up.
        const hBad = xBad - this.t;
        if (++retries > MAX_NAN_RETRIES || !(hBad > 64 * EPS * Math.abs(this.t))) this.failNaN();
        retryEnd = this.t + hBad / 4;
        this.hNext = hBad / 8;
        continue;
      }
      if (outcome === GbsOutcome.MaxStepsExceeded) this.fail(`maxSteps (${this.maxSteps}) exceeded`, "maxiters");
      // Converged: the solver may stop within rounding distance of `end`; snap to it.
      this.t = end;
      if (end === retryEnd) retryEnd = Infinity;
      else retries = 0;
    }
    return true;
  }

  private fail(what: string, code: FailureCode = "unstable"): never {
    throw new IntegrationError(`integration failed at t = ${this.t}: ${what}`, this.t, code);
  }

  private failNaN(): never {
    this.fail("state became NaN/Inf");
  }
}
