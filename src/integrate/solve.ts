/**
 * `solve(problem, algorithm, options)` / `solveAsync`: the single entry point for ODE integration in
 * rfdyn.  One driver validates, dispatches on the algorithm to the GBS stepper (ODEX port, ./gbs.ts),
 * DOP853 (./dop853.ts), the RKC stepper, the implicit RODAS / BDF steppers or a fixed-step scheme,
 * collects the state on the output grid, stops early on steady state, a user event or abort, reports
 * progress, and turns numerical failures into retcodes.
 */
import { FixedStepper } from "./fixed.js";
import { GbsStepper } from "./odex.js";
import { RkcStepper } from "./rkc.js";
import { RodasStepper } from "./rodas.js";
import { BdfStepper } from "./bdf.js";
import { Dop853Stepper } from "./dop853.js";
import { IntegrationError, type Algorithm, type Method, type OdeProblem, type OdeSolution, type Retcode, type SolveOptions, type SolveStats } from "./types.js";
import { runCooperatively, runToEnd, YieldClock } from "../run/hooks.js";

/** Defaults for options that are not given. */
export const SOLVE_DEFAULTS = {
  method: "gbs" as Method,
  rtol: 1e-8,
  atol: 1e-10,
  /** Adaptive (gbs, rkc) step budget; fixed-step methods are unlimited unless maxSteps is given. */
  maxSteps: 100_000,
  h0: 1e-4,
  hMax: 0,
};

const METHODS: readonly Method[] = ["gbs", "dop853", "rkc", "rodas", "bdf", "rk4", "euler"];

/** What the method-specific steppers provide to the driver below. */
interface Stepper {
  t: number;
  readonly y: Float64Array;
  nRhs: number;
  /** Jacobian evaluations (implicit steppers; absent = 0). */
  readonly nJac?: number;
  nSteps: number;
  readonly nRejected: number;
  dydt(): Float64Array;
  advance(tTarget: number, accepted: (t: number, y: Float64Array) => boolean): boolean;
  /** Carried state (with t, y and the counters) for checkpoints, and its restoration. */
  saveState(): Record<string, unknown>;
  restoreState(s: Record<string, unknown>): void;
  /** Free work memory held outside the JS heap once the integration is over (optional). */
  release?(): void;
  /** A diagnostic for the solution's message (e.g. dop853's stiffness detection), if any. */
  note?(): string | undefined;
}

/**
 * Integrate `problem` with `algorithm` (default "gbs").  Returns an OdeSolution whose retcode says
 * how it ended; invalid options throw RangeError/TypeError, and a numerical failure throws an
 * IntegrationError only with `throwOnFailure`.  Synchronous: the signal is polled at every step,
 * which sees a worker's shared abort flag but not a Ctrl-C on the main thread (use solveAsync).
 */
export function solve(problem: OdeProblem, algorithm: Algorithm = SOLVE_DEFAULTS.method, opts: SolveOptions = {}): OdeSolution {
  return runToEnd(drive(problem, algorithm, opts, false));
}

/**
 * `solve`, returning to the event loop every ~40 ms of work so that signal handlers run: a Ctrl-C
 * on the main thread aborts `opts.signal` and the integration stops at its next step with retcode
 * "interrupted".  The arithmetic is exactly `solve`'s: dop853, rkc, rodas, bdf and fixed-step
 * integrations pause at any step and resume where they were; gbs pauses only at output times (odex restarts there anyway),
 * so its responsiveness is the time between two output times.
 *
 * Checkpoints (`opts.checkpoint`, `opts.resumeFrom`, see CheckpointOptions): the full state is
 * saved at output times only — gbs restarts its extrapolation there anyway, and rkc / fixed-step
 * save their complete step control — so a run resumed from a checkpoint ends bit-identical to an
 * uninterrupted one (times, states, statistics, retcode).
 */
export async function solveAsync(problem: OdeProblem, algorithm: Algorithm = SOLVE_DEFAULTS.method, opts: SolveOptions = {}): Promise<OdeSolution> {
  return runCooperatively(drive(problem, algorithm, opts, true));
}

/** A run's integration settings as the ODE theories take them (each with its own default tolerances). */
export interface RunSolveSettings {
  /**
   * Integrator: adaptive GBS (the default unless the theory names its own), DOP853 (explicit order 8,
   * dense output), RKC or the implicit rodas / bdf (stiff problems; FD Jacobians).
   */
  method?: "gbs" | "dop853" | "rkc" | "rodas" | "bdf";
  rtol?: number;
  atol?: number;
  /** Maximum adaptive step (0 = unlimited). */
  hMax?: number;
  maxSteps?: number;
}

/**
 * `solveAsync` for an ODE theory's run: its settings (no step limit and 10⁶ steps unless given;
 * `tol` the theory's default tolerances and method, gbs unless it names one), the run's signal and progress, and its checkpoints.
 * `progressMetrics` adds observables to the progress events.
 */
export function solveRun(
  problem: OdeProblem,
  settings: RunSolveSettings,
  tol: { rtol: number; atol: number; method?: RunSolveSettings["method"] },
  hooks: { signal?: SolveOptions["signal"]; onProgress?: SolveOptions["onProgress"] },
  durable: { checkpoint?: SolveOptions["checkpoint"]; resumeFrom?: SolveOptions["resumeFrom"] },
  progressMetrics?: SolveOptions["progressMetrics"],
): Promise<OdeSolution> {
  return solveAsync(problem, settings.method ?? tol.method ?? "gbs", {
    rtol: settings.rtol ?? tol.rtol,
    atol: settings.atol ?? tol.atol,
    hMax: settings.hMax ?? 0,
    maxSteps: settings.maxSteps ?? 1_000_000,
    signal: hooks.signal,
    onProgress: hooks.onProgress,
    progressMetrics: hooks.onProgress ? progressMetrics : undefined,
    checkpoint: durable.checkpoint,
    resumeFrom: durable.resumeFrom,
  });
}

/** The one driver behind solve and solveAsync: validates, steps, saves, stops, reports. */
function* drive(problem: OdeProblem, algorithm: Algorithm, opts: SolveOptions, cooperative: boolean): Generator<void, OdeSolution, void> {
  if (problem === null || typeof problem !== "object") throw new TypeError("solve: problem must be an object");
  if (opts === null || typeof opts !== "object") throw new TypeError("solve: options must be an object");
  const { rhs, y0 } = problem;
  if (typeof rhs !== "function") throw new TypeError("solve: problem.rhs must be a function");
  if (!Array.isArray(problem.tspan) || problem.tspan.length !== 2) throw new TypeError("solve: problem.tspan must be [t0, t1]");
  const [t0, t1] = problem.tspan;
  finite("t0", t0);
  finite("t1", t1);
  if (!(t1 >= t0)) throw new RangeError(`solve: t1 must be ≥ t0 (got t0 = ${t0}, t1 = ${t1})`);

  if (y0 == null || typeof y0.length !== "number" || y0.length < 1) {
    throw new RangeError("solve: y0 must be a non-empty array");
  }
  for (let i = 0; i < y0.length; i++) {
    if (!Number.isFinite(y0[i])) throw new RangeError(`solve: y0[${i}] must be finite (got ${y0[i]})`);
  }

  const times = problem.saveat ?? (t1 > t0 ? [t0, t1] : [t0]);
  if (!Array.isArray(times) || times.length < 1) {
    throw new RangeError("solve: saveat must be a non-empty array");
  }
  for (let i = 0; i < times.length; i++) {
    const ti = times[i];
    if (!(ti >= t0 && ti <= t1)) {
      throw new RangeError(`solve: saveat[${i}] must be in [t0, t1] = [${t0}, ${t1}] (got ${ti})`);
    }
    if (i > 0 && !(ti > times[i - 1])) {
      throw new RangeError(`solve: saveat must be strictly increasing (saveat[${i}] = ${ti} ≤ ${times[i - 1]})`);
    }
  }

  const method = algorithm;
  if (!METHODS.includes(method)) {
    throw new RangeError(`solve: method must be one of ${METHODS.map((m) => `"${m}"`).join(", ")} (got ${String(method)})`);
  }
  const rtol = opts.rtol ?? SOLVE_DEFAULTS.rtol;
  if (!(rtol > 0 && rtol < 1)) throw new RangeError(`solve: rtol must be in (0, 1) (got ${rtol})`);
  const atol = positive("atol", opts.atol ?? SOLVE_DEFAULTS.atol);
  const h0 = positive("h0", opts.h0 ?? SOLVE_DEFAULTS.h0);
  const hMax = opts.hMax ?? SOLVE_DEFAULTS.hMax;
  if (!(hMax >= 0 && hMax < Infinity)) throw new RangeError(`solve: hMax must be ≥ 0 and finite, 0 = unlimited (got ${hMax})`);
  const adaptive = method === "gbs" || method === "dop853" || method === "rkc" || method === "rodas" || method === "bdf";
  const maxSteps = opts.maxSteps ?? (adaptive ? SOLVE_DEFAULTS.maxSteps : Infinity);
  if (!(maxSteps >= 1 && (Number.isInteger(maxSteps) || maxSteps === Infinity))) {
    throw new RangeError(`solve: maxSteps must be a positive integer (got ${maxSteps})`);
  }
  const steadyTol = problem.events?.steadyTol === undefined ? undefined : positive("steadyTol", problem.events.steadyTol);
  const stopWhen = problem.events?.stop;
  const { onStep, onProgress, progressMetrics, signal } = opts;
  const { spectralRadius, jac } = problem;
  if (spectralRadius !== undefined && typeof spectralRadius !== "function") throw new TypeError("solve: spectralRadius must be a function");
  if (jac !== undefined && typeof jac !== "function") throw new TypeError("solve: jac must be a function");
  if (problem.autonomous !== undefined && typeof problem.autonomous !== "boolean") throw new TypeError("solve: autonomous must be a boolean");
  if (stopWhen !== undefined && typeof stopWhen !== "function") throw new TypeError("solve: events.stop must be a function");
  if (onStep !== undefined && typeof onStep !== "function") throw new TypeError("solve: onStep must be a function");

  const ckpt = opts.checkpoint;
  if (ckpt !== undefined) {
    if (ckpt === null || typeof ckpt !== "object" || typeof ckpt.save !== "function") throw new TypeError("solve: checkpoint must be { every, save(state) }");
    if (!(ckpt.every >= 0 && ckpt.every < Infinity)) throw new RangeError(`solve: checkpoint.every must be ≥ 0 seconds and finite (got ${ckpt.every})`);
  }
  const resume = opts.resumeFrom;
  if (resume !== undefined) {
    const bad = (what: string) => new RangeError(`solve: resumeFrom does not belong to this problem (${what})`);
    if (resume === null || typeof resume !== "object" || resume.format !== "rfdyn-solver/1") throw bad("not a solver state");
    if (resume.method !== algorithm) throw bad(`method "${resume.method}", not "${algorithm}"`);
    if (resume.n !== y0.length || resume.y.length !== y0.length) throw bad(`dimension ${resume.n}, not ${y0.length}`);
    if (!(Number.isInteger(resume.next) && resume.next >= 1 && resume.next <= times.length) || resume.ts.length !== resume.next || resume.ys.length !== resume.next) throw bad("output count");
    if (!Object.is(times[resume.next - 1], resume.t)) throw bad(`t = ${resume.t} is not output time ${resume.next - 1}`);
  }

  const y = Float64Array.from(y0);
  let stepper: Stepper;
  if (method === "gbs") {
    stepper = new GbsStepper(rhs, y, t0, { rtol, atol, maxSteps, h0, hMax });
  } else if (method === "dop853") {
    stepper = new Dop853Stepper(rhs, y, t0, { rtol, atol, maxSteps, hMax, tEnd: t1, carry: opts.carry, h0: opts.h0 === undefined ? undefined : h0 });
  } else if (method === "rkc") {
    stepper = new RkcStepper(rhs, y, t0, {
      rtol, atol, maxSteps, hMax, span: t1 - t0, spectralRadius, carry: opts.carry,
      h0: opts.h0 === undefined ? undefined : h0,
    });
  } else if (method === "rodas" || method === "bdf") {
    const settings = {
      rtol, atol, maxSteps, hMax, tEnd: t1, jac, autonomous: problem.autonomous ?? false, carry: opts.carry,
      h0: opts.h0 === undefined ? undefined : h0,
    };
    stepper = method === "rodas" ? new RodasStepper(rhs, y, t0, settings) : new BdfStepper(rhs, y, t0, settings);
  } else {
    if (opts.dt === undefined) throw new RangeError(`solve: dt is required for method "${method}"`);
    const dt = positive("dt", opts.dt);
    stepper = new FixedStepper(rhs, y, t0, method, dt, maxSteps);
  }

  if (resume) stepper.restoreState(resume.stepper);

  let retcode: Retcode = "success";
  let reason: string | undefined;
  let pause = false;
  const restartsOnResume = method === "gbs";
  const clock = new YieldClock(opts.pauseEveryMs ?? 40);
  const progressClock = new YieldClock(opts.progressEveryMs ?? 100);
  const report = (t: number, yt: Float64Array) =>
    onProgress?.({ done: t - t0, total: t1 - t0, unit: "time", t, metrics: progressMetrics?.(t, yt) });
  // Last accepted state, kept so that a failure still returns the point it reached.
  let tGood = resume ? resume.tGood : t0;
  const yGood = Float64Array.from(resume ? resume.yGood : y);
  const accepted = (t: number, yt: Float64Array): boolean => {
    tGood = t;
    yGood.set(yt);
    onStep?.(t, yt);
    if (signal?.aborted) {
      retcode = "interrupted";
      return false;
    }
    if (stopWhen) {
      const r = stopWhen(t, yt);
      if (r) {
        retcode = "event";
        reason = r;
        return false;
      }
    }
    if (steadyTol !== undefined) {
      const dy = stepper.dydt();
      if (normInf(dy) <= steadyTol * Math.max(1, normInf(yt))) {
        retcode = "steady";
        return false;
      }
    }
    if (onProgress && progressClock.due()) report(t, yt);
    // dop853, rkc, rodas, bdf and fixed-step steppers resume exactly where they paused; odex restarts its extrapolation
    // tableau on every call, so gbs only pauses at output times (where it restarts anyway).
    if (cooperative && !restartsOnResume && clock.due()) {
      pause = true;
      return false;
    }
    return true;
  };

  const ts: number[] = [];
  const ys: Float64Array[] = [];
  if (resume) {
    for (let i = 0; i < resume.next; i++) {
      ts.push(resume.ts[i]);
      ys.push(Float64Array.from(resume.ys[i]));
    }
  }
  // Checkpoints: the state at the latest output time (kept while checkpointing), saved every
  // `every` seconds and once more on interruption.
  interface Pending { next: number; t: number; y: Float64Array; stats: SolveStats; tGood: number; yGood: Float64Array; stepper: Record<string, unknown> }
  let pending: Pending | null = null;
  let savedNext = resume ? resume.next : 0;
  let lastSave = performance.now();
  const snapshot = (next: number): void => {
    pending = {
      next, t: stepper.t, y: stepper.y.slice(),
      stats: { nRhs: stepper.nRhs, nJac: stepper.nJac ?? 0, nSteps: stepper.nSteps, nRejected: stepper.nRejected },
      tGood, yGood: yGood.slice(), stepper: stepper.saveState(),
    };
  };
  const savePending = (): void => {
    const p = pending as Pending | null;
    if (!ckpt || !p || p.next === savedNext) return;
    ckpt.save({
      format: "rfdyn-solver/1", method, n: y.length, next: p.next, t: p.t, y: p.y,
      ts: ts.slice(0, p.next), ys: ys.slice(0, p.next),
      stats: { ...p.stats }, tGood: p.tGood, yGood: p.yGood, stepper: p.stepper,
    });
    savedNext = p.next;
    lastSave = performance.now();
  };
  let message = "";
  /** Advance to T, pausing (yield) when the clock says so; false when stopped early. */
  function* advanceTo(T: number): Generator<void, boolean, void> {
    for (;;) {
      if (stepper.advance(T, accepted)) {
        if (cooperative && restartsOnResume && clock.due()) {
          yield;
          if (signal?.aborted) {
            retcode = "interrupted";
            return false;
          }
        }
        return true;
      }
      if (!pause) return false;
      pause = false;
      yield;
      if (signal?.aborted) {
        retcode = "interrupted";
        return false;
      }
    }
  }
  try {
    if (signal?.aborted) retcode = "interrupted";
    let running = retcode === "success";
    if (running) {
      for (let i = resume ? resume.next : 0; i < times.length; i++) {
        const T = times[i];
        if (!(yield* advanceTo(T))) {
          running = false;
          break;
        }
        ts.push(T);
        ys.push(stepper.y.slice());
        if (ckpt) {
          snapshot(i + 1);
          if (performance.now() - lastSave >= 1000 * ckpt.every) savePending();
        }
      }
      // Integrate over all of [t0, t1] even if the grid ends earlier (events and steady state).
      if (running && stepper.t < t1) running = yield* advanceTo(t1);
    }
    if (!running && ts[ts.length - 1] !== stepper.t) {
      ts.push(stepper.t);
      ys.push(stepper.y.slice());
    }
  } catch (e) {
    if (!(e instanceof IntegrationError)) throw e;
    if (opts.throwOnFailure) throw e;
    retcode = e.code;
    message = e.message;
    if (ts.length === 0 || ts[ts.length - 1] < tGood) {
      ts.push(tGood);
      ys.push(yGood.slice());
    }
  }
  if (opts.carry && (stepper instanceof RkcStepper || stepper instanceof RodasStepper || stepper instanceof BdfStepper || stepper instanceof Dop853Stepper)) stepper.saveCarry(opts.carry);
  retcode = retcode as Retcode; // assigned in callbacks: undo the control-flow narrowing
  // Interrupted: save the last output time reached, so a resumed run loses only what came after it.
  if (retcode === "interrupted") savePending();
  const failed = retcode === "unstable" || retcode === "dtmin" || retcode === "maxiters";
  const tEnd = failed ? tGood : stepper.t;
  // Final progress event at the time reached (not the last saved time: the grid may end before t1).
  if (onProgress) report(tEnd, failed ? yGood : stepper.y);
  if (!message) {
    message = retcode === "success" ? `reached t = ${tEnd}`
      : retcode === "steady" ? `steady state at t = ${tEnd}`
      : retcode === "event" ? `stopped at t = ${tEnd}: ${reason}`
      : `interrupted at t = ${tEnd}`;
  }
  const note = (stepper as Stepper).note?.();
  if (note) message += `; ${note}`;
  (stepper as Stepper).release?.();
  const sol: OdeSolution = {
    t: ts, y: ys, retcode, message, tEnd,
    stats: { nRhs: stepper.nRhs, nJac: (stepper as Stepper).nJac ?? 0, nSteps: stepper.nSteps, nRejected: stepper.nRejected },
  };
  if (reason !== undefined) sol.reason = reason;
  return sol;
}

function finite(name: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new RangeError(`solve: ${name} must be a finite number (got ${v})`);
}

function positive(name: string, v: number): number {
  if (!(v > 0 && v < Infinity)) throw new RangeError(`solve: ${name} must be > 0 and finite (got ${v})`);
  return v;
}

function normInf(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (a > m) m = a;
  }
  return m;
}
