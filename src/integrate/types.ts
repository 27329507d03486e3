/**
 * One solver interface for every ODE in rfdyn (single-neuron flow, Saad–Solla ODEs, LSG24 dynamics),
 * in the style of SciML / diffrax: an `OdeProblem` (rhs, y0, tspan, saveat, jac, events) is handed to
 * `solve(problem, algorithm, options)` (./solve.ts), which returns an `OdeSolution` with a retcode,
 * a message and statistics.  A right-hand side writes dy/dt into `dydt` (no allocation in the hot
 * path).  Failures come back as a retcode unless `throwOnFailure` is set.
 */
import type { RunHooks, RunStatus } from "../run/hooks.js";

/** dy/dt at (t, y) into dydt; y is the solver's own state buffer and must not be written. */
export type Rhs = (t: number, y: Float64Array, dydt: Float64Array) => void;

export type Method = "gbs" | "dop853" | "rkc" | "rodas" | "bdf" | "rk4" | "euler";

/**
 * Solver state carried across consecutive `solve` calls on adjacent intervals (a run split into
 * segments, e.g. to stay responsive to Ctrl-C).  Pass the same object to every call: the adaptive
 * steppers read it at the start and update it at the end, so a segmented run does not restart its
 * step-size control or (rkc) its spectral-radius estimate at every segment boundary.
 */
export interface SolverCarry {
  /** Step size to try next. */
  h?: number;
  /** rkc: last spectral-radius estimate, accepted steps since it was made, and the eigenvector. */
  rho?: number;
  stepsSinceRho?: number;
  eig?: Float64Array;
}

/** Jacobian ∂f/∂y at (t, y), written row-major into J (n × n). */
export type Jac = (t: number, y: Float64Array, J: Float64Array) => void;

/**
 * An initial-value problem (SciML/diffrax style): what to integrate, from where, over which span,
 * and where to save.  The algorithm and its tolerances are chosen separately, in `solve`.
 */
export interface OdeProblem {
  rhs: Rhs;
  y0: Float64Array | readonly number[];
  /** [t0, t1], t1 ≥ t0. */
  tspan: readonly [number, number];
  /** Output times (ascending, within tspan); default [t0, t1]. */
  saveat?: readonly number[];
  /**
   * Analytic Jacobian ∂f/∂y, for the implicit methods rodas and bdf (counted in stats.nJac); without
   * it they use forward differences (n RHS evaluations per Jacobian, counted in nRhs too).
   */
  jac?: Jac;
  /** f does not depend on t: rodas then skips its ∂f/∂t difference (one RHS per step). */
  autonomous?: boolean;
  /**
   * Spectral radius of ∂f/∂y at (t, y) (an upper bound is fine), for rkc; if absent it is estimated
   * by a nonlinear power iteration (a few RHS evaluations every ~25 steps, counted in nRhs).
   */
  spectralRadius?: (t: number, y: Float64Array) => number;
  /** Early stops, checked after each accepted step. */
  events?: {
    /** Stop when |dy/dt|_∞ ≤ steadyTol·max(1, |y|_∞) (retcode "steady"). */
    steadyTol?: number;
    /** Return a reason string to stop there (retcode "event", `reason` set). */
    stop?: (t: number, y: Float64Array) => string | false | null | undefined;
  };
}

/**
 * Integration algorithm: adaptive Gragg–Bulirsch–Stoer (odex), DOP853 (explicit Runge–Kutta of order 8
 * with dense output; smooth non-stiff problems at tight tolerances), RKC (stiff, real spectra), the
 * implicit stiff solvers RODAS (Rosenbrock, order 4, one Jacobian per step) and BDF (variable-order
 * NDF 1–5, Jacobian reused across steps), fixed-step RK4 / Euler.
 */
export type Algorithm = Method;

/**
 * Everything needed to continue an integration exactly from an output time: the time and state,
 * the output so far, the statistics and the stepper's carried step-control state.  Plain data and
 * typed arrays (it survives src/io/run-store.ts's encoding bit for bit).
 */
export interface SolverState {
  format: "rfdyn-solver/1";
  method: Method;
  /** Dimension of y. */
  n: number;
  /** Output times done (the next saveat index); t = saveat[next − 1]. */
  next: number;
  t: number;
  y: Float64Array;
  /** Saved output times and states so far (the solution's t and y up to t). */
  ts: number[];
  ys: Float64Array[];
  stats: SolveStats;
  /** Last accepted step (reported if the resumed run fails before its next step). */
  tGood: number;
  yGood: Float64Array;
  /**
   * The stepper's own state (gbs: hNext, attempts; rkc: step control, ρ, eigenvector, F_n, …;
   * rodas: step control, dense-output coefficients; bdf: differences, order, J and its LU; fixed:
   * segment, cached stage).
   */
  stepper: Record<string, unknown>;
}

/** Checkpoints of a long integration and resuming from one (see SolverState). */
export interface CheckpointOptions {
  /**
   * Save the state at output times, at most every `every` seconds (the first after `every` seconds),
   * and once more when the run is interrupted (the state at the last output time reached).
   */
  checkpoint?: { every: number; save(state: SolverState): void };
  /**
   * Continue from a saved state (same problem, algorithm and options): the result equals the
   * uninterrupted run's bit for bit (t, y, stats, retcode).
   */
  resumeFrom?: SolverState;
}

/** Algorithm settings (defaults in SOLVE_DEFAULTS) plus the run hooks (abort, progress). */
export interface SolveOptions extends RunHooks, CheckpointOptions {
  /** Adaptive tolerances (gbs, rkc, rodas, bdf). */
  rtol?: number;
  atol?: number;
  /** Fixed step for euler / rk4 (the last step is shortened to land on output times). */
  dt?: number;
  /** Maximum number of steps (adaptive) before failing with retcode "maxiters". */
  maxSteps?: number;
  /** Initial step size guess (gbs; rkc, rodas, bdf: if absent, estimated). */
  h0?: number;
  /** Maximum step size (gbs, rkc, rodas, bdf); 0 = unlimited. */
  hMax?: number;
  /** State carried between segmented calls (see SolverCarry); read at the start, updated at the end. */
  carry?: SolverCarry;
  /** Throw an IntegrationError instead of returning a failure retcode. */
  throwOnFailure?: boolean;
  /** Called after each accepted step; must not modify y. */
  onStep?: (t: number, y: Float64Array) => void;
  /** solveAsync: milliseconds of work between returns to the event loop (default 40; 0 = at every opportunity). */
  pauseEveryMs?: number;
  /** Milliseconds between progress events (default 100; 0 = after every accepted step); a final event is always sent. */
  progressEveryMs?: number;
  /** Figures to show with progress events (called with each event). */
  progressMetrics?: (t: number, y: Float64Array) => Record<string, number>;
}

/**
 * Why integration ended.
 *   success       reached t1
 *   steady        steady state (events.steadyTol)
 *   event         events.stop returned a reason
 *   interrupted   the signal was aborted
 *   unstable      the state became NaN/Inf
 *   dtmin         the step size underflowed
 *   maxiters      the step budget was exhausted
 */
export type Retcode = "success" | "steady" | "event" | "interrupted" | "unstable" | "dtmin" | "maxiters";

export interface SolveStats {
  nRhs: number;
  nJac: number;
  /** Accepted steps. */
  nSteps: number;
  nRejected: number;
}

export interface OdeSolution {
  /** Output times reached (the grid, truncated at an early stop or failure, plus the stop time). */
  t: number[];
  /** State at each output time (copies). */
  y: Float64Array[];
  retcode: Retcode;
  /** One line on how it ended (the failure, with the time reached). */
  message: string;
  /** Event reason when retcode === "event". */
  reason?: string;
  /** Time reached. */
  tEnd: number;
  stats: SolveStats;
}

/** Retcodes after which the solution covers what was asked for. */
export function successful(r: Retcode): boolean {
  return r === "success" || r === "steady" || r === "event";
}

export type FailureCode = "unstable" | "dtmin" | "maxiters";

/** Thrown when integration cannot continue (NaN/Inf, step-size underflow, too many steps). */
export class IntegrationError extends Error {
  constructor(message: string, readonly tReached: number, readonly code: FailureCode = "unstable") {
    super(message);
    this.name = "IntegrationError";
  }
}

/** The run status a retcode maps to (unstable → diverged; dtmin, maxiters → failed). */
export function runStatusOf(r: Retcode): RunStatus {
  return r === "success" ? "done" : r === "unstable" ? "diverged" : r === "dtmin" || r === "maxiters" ? "failed" : r;
}
