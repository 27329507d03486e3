/**
 * `solve`: the single entry point for ODE integration in rfdyn.  Validates options, dispatches on
 * `method` to the odex GBS adapter, the RKC stepper or a fixed-step scheme, collects the state on the output grid
 * and stops early on steady state or a user event.
 */
import { FixedStepper } from "./fixed.js";
import { GbsStepper } from "./odex.js";
import { RkcStepper } from "./rkc.js";
import type { Method, Rhs, Solution, SolveOptions } from "./types.js";

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

const METHODS: readonly Method[] = ["gbs", "rkc", "rk4", "euler"];

/** What the method-specific steppers provide to the driver below. */
interface Stepper {
  t: number;
  readonly y: Float64Array;
  nRhs: number;
  nSteps: number;
  dydt(): Float64Array;
  advance(tTarget: number, accepted: (t: number, y: Float64Array) => boolean): boolean;
}

/**
 * Integrate dy/dt = rhs(t, y) from opts.t0 to opts.t1 starting at y0, reporting the state at
 * opts.times (default [t0, t1]).  Throws RangeError/TypeError on invalid options and
 * IntegrationError when the integration cannot continue.
 */
export function solve(rhs: Rhs, y0: Float64Array | readonly number[], opts: SolveOptions): Solution {
  if (typeof rhs !== "function") throw new TypeError("solve: rhs must be a function");
  if (opts === null || typeof opts !== "object") throw new TypeError("solve: opts must be an object");
  const { t0, t1 } = opts;
  finite("t0", t0);
  finite("t1", t1);
  if (!(t1 >= t0)) throw new RangeError(`solve: t1 must be ≥ t0 (got t0 = ${t0}, t1 = ${t1})`);

  if (y0 == null || typeof y0.length !== "number" || y0.length < 1) {
    throw new RangeError("solve: y0 must be a non-empty array");
  }
  for (let i = 0; i < y0.length; i++) {
    if (!Number.isFinite(y0[i])) throw new RangeError(`solve: y0[${i}] must be finite (got ${y0[i]})`);
  }

  const times = opts.times ?? (t1 > t0 ? [t0, t1] : [t0]);
  if (!Array.isArray(times) || times.length < 1) {
    throw new RangeError("solve: times must be a non-empty array");
  }
  for (let i = 0; i < times.length; i++) {
    const ti = times[i];
    if (!(ti >= t0 && ti <= t1)) {
      throw new RangeError(`solve: times[${i}] must be in [t0, t1] = [${t0}, ${t1}] (got ${ti})`);
    }
    if (i > 0 && !(ti > times[i - 1])) {
      throw new RangeError(`solve: times must be strictly increasing (times[${i}] = ${ti} ≤ ${times[i - 1]})`);
    }
  }

  const method = opts.method ?? SOLVE_DEFAULTS.method;
  if (!METHODS.includes(method)) {
    throw new RangeError(`solve: method must be one of ${METHODS.map((m) => `"${m}"`).join(", ")} (got ${String(method)})`);
  }
  const rtol = opts.rtol ?? SOLVE_DEFAULTS.rtol;
  if (!(rtol > 0 && rtol < 1)) throw new RangeError(`solve: rtol must be in (0, 1) (got ${rtol})`);
  const atol = positive("atol", opts.atol ?? SOLVE_DEFAULTS.atol);
  const h0 = positive("h0", opts.h0 ?? SOLVE_DEFAULTS.h0);
  const hMax = opts.hMax ?? SOLVE_DEFAULTS.hMax;
  if (!(hMax >= 0 && hMax < Infinity)) throw new RangeError(`solve: hMax must be ≥ 0 and finite, 0 = unlimited (got ${hMax})`);
  const adaptive = method === "gbs" || method === "rkc";
  const maxSteps = opts.maxSteps ?? (adaptive ? SOLVE_DEFAULTS.maxSteps : Infinity);
  if (!(maxSteps >= 1 && (Number.isInteger(maxSteps) || maxSteps === Infinity))) {
    throw new RangeError(`solve: maxSteps must be a positive integer (got ${maxSteps})`);
  }
  const steadyTol = opts.steadyTol === undefined ? undefined : positive("steadyTol", opts.steadyTol);
  const { stopWhen, onStep, spectralRadius } = opts;
  if (spectralRadius !== undefined && typeof spectralRadius !== "function") throw new TypeError("solve: spectralRadius must be a function");
  if (stopWhen !== undefined && typeof stopWhen !== "function") throw new TypeError("solve: stopWhen must be a function");
  if (onStep !== undefined && typeof onStep !== "function") throw new TypeError("solve: onStep must be a function");

  const y = Float64Array.from(y0);
  let stepper: Stepper;
  if (method === "gbs") {
    stepper = new GbsStepper(rhs, y, t0, { rtol, atol, maxSteps, h0, hMax });
  } else if (method === "rkc") {
    stepper = new RkcStepper(rhs, y, t0, {
      rtol, atol, maxSteps, hMax, span: t1 - t0, spectralRadius, carry: opts.carry,
      h0: opts.h0 === undefined ? undefined : h0,
    });
  } else {
    if (opts.dt === undefined) throw new RangeError(`solve: dt is required for method "${method}"`);
    const dt = positive("dt", opts.dt);
    stepper = new FixedStepper(rhs, y, t0, method, dt, maxSteps);
  }

  let status: Solution["status"] = "done";
  let reason: string | undefined;
  const accepted = (t: number, yt: Float64Array): boolean => {
    onStep?.(t, yt);
    if (stopWhen) {
      const r = stopWhen(t, yt);
      if (r) {
        status = "event";
        reason = r;
        return false;
      }
    }
    if (steadyTol !== undefined) {
      const dy = stepper.dydt();
      if (normInf(dy) <= steadyTol * Math.max(1, normInf(yt))) {
        status = "steady";
        return false;
      }
    }
    return true;
  };

  const ts: number[] = [];
  const ys: Float64Array[] = [];
  let running = true;
  for (const T of times) {
    if (!stepper.advance(T, accepted)) {
      running = false;
      break;
    }
    ts.push(T);
    ys.push(stepper.y.slice());
  }
  // Integrate over all of [t0, t1] even if the grid ends earlier (events and steady state).
  if (running && stepper.t < t1) running = stepper.advance(t1, accepted);
  if (!running && ts[ts.length - 1] !== stepper.t) {
    ts.push(stepper.t);
    ys.push(stepper.y.slice());
  }

  if (opts.carry && stepper instanceof RkcStepper) stepper.saveCarry(opts.carry);
  const sol: Solution = { t: ts, y: ys, status, tEnd: stepper.t, nRhs: stepper.nRhs, nSteps: stepper.nSteps };
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
