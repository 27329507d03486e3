/**
 * One solver interface for every ODE in rfdyn (single-neuron flow, Saad–Solla ODEs, LSG24 dynamics).
 *
 * A right-hand side writes dy/dt into `dydt` (no allocation in the hot path).  `solve` (in
 * ./solve.ts) dispatches on `method` to the odex Gragg–Bulirsch–Stoer adapter, to the
 * Runge–Kutta–Chebyshev stepper (mildly stiff problems with real-ish spectra) or to a fixed-step
 * scheme, reports the state on an output time grid, and stops early on steady state or on a
 * user event (e.g. an IPR threshold).
 */
export type Rhs = (t: number, y: Float64Array, dydt: Float64Array) => void;

export type Method = "gbs" | "rkc" | "rk4" | "euler";

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

export interface SolveOptions {
  /** Start and end time. */
  t0: number;
  t1: number;
  /** Output times (ascending, within [t0, t1]); defaults to [t0, t1]. */
  times?: readonly number[];
  /** Integration method (default "gbs": adaptive Gragg–Bulirsch–Stoer via odex). */
  method?: Method;
  /** Adaptive tolerances (gbs, rkc). */
  rtol?: number;
  atol?: number;
  /** Fixed step for euler / rk4 (the last step is shortened to land on output times). */
  dt?: number;
  /** Maximum number of steps (adaptive) before failing with a clear error. */
  maxSteps?: number;
  /** Initial step size guess (gbs; rkc: if absent, estimated as in rkc.f). */
  h0?: number;
  /** Maximum step size (gbs, rkc); 0 = unlimited. */
  hMax?: number;
  /**
   * rkc only: spectral radius of ∂f/∂y at (t, y) (an upper bound is fine).  If absent it is
   * estimated by a nonlinear power iteration (a few RHS evaluations every ~25 steps, counted in nRhs).
   */
  spectralRadius?: (t: number, y: Float64Array) => number;
  /** Stop when |dy/dt|_∞ ≤ steadyTol·max(1, |y|_∞) (checked at accepted steps). */
  steadyTol?: number;
  /** Event check after each accepted step: return a reason string to stop there. */
  stopWhen?: (t: number, y: Float64Array) => string | false | null | undefined;
  /** State carried between segmented calls (see SolverCarry); read at the start, updated at the end. */
  carry?: SolverCarry;
  /** Called after each accepted step (progress bars); must not modify y. */
  onStep?: (t: number, y: Float64Array) => void;
}

export interface Solution {
  /** Output times actually reached (the grid, truncated at an early stop, plus the stop time). */
  t: number[];
  /** State at each output time (copies). */
  y: Float64Array[];
  /** Why integration ended. */
  status: "done" | "steady" | "event";
  /** Event reason when status === "event". */
  reason?: string;
  /** Time reached. */
  tEnd: number;
  /** Number of RHS evaluations and of accepted steps. */
  nRhs: number;
  nSteps: number;
}

/** Thrown when integration cannot continue (NaN/Inf, step-size underflow, too many steps). */
export class IntegrationError extends Error {
  constructor(message: string, readonly tReached: number) {
    super(message);
    this.name = "IntegrationError";
  }
}
