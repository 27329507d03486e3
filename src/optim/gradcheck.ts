/**
 * Finite-difference gradient checks for objectives of the form used by `lbfgs`:
 * `fg(x, g)` writes ∇f(x) into g and returns f(x).
 */

import type { ObjectiveWithGradient } from "./lbfgs.js";

/** Default relative step: ε^(1/3), optimal for central differences. */
const DEFAULT_H = Math.cbrt(Number.EPSILON);

/**
 * Central-difference gradient, component i with step h·max(1, |x_i|).
 * `x` is restored before returning.  Costs 2n evaluations of fg.
 */
export function numericalGradient(
  fg: ObjectiveWithGradient,
  x: Float64Array,
  h: number = DEFAULT_H,
): Float64Array {
  const n = x.length;
  const xp = Float64Array.from(x);
  const scratch = new Float64Array(n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const hi = h * Math.max(1, Math.abs(xi));
    xp[i] = xi + hi;
    const step = xp[i] - xi; // exactly representable step
    const fp = fg(xp, scratch);
    xp[i] = xi - step;
    const fm = fg(xp, scratch);
    xp[i] = xi;
    out[i] = (fp - fm) / (2 * step);
  }
  return out;
}

/**
 * Maximum relative error between the analytic gradient of `fg` at `x` and its central-difference
 * approximation:
 *   max_i |g_i − ĝ_i| / max(|g_i|, |ĝ_i|, 1e-6·‖g‖∞, floor).
 * The 1e-6·‖g‖∞ term keeps components that are (nearly) zero from dominating through rounding
 * noise; `floor` (default 1e-10) guards the all-zero gradient.  Values ≲ 1e-6 indicate a correct
 * gradient for smooth functions with O(1) derivatives; a wrong gradient typically gives ≳ 1e-2.
 * Do not check exactly at stationary points (relative errors are meaningless there).
 */
export function checkGradient(
  fg: ObjectiveWithGradient,
  x: Float64Array,
  h: number = DEFAULT_H,
  floor = 1e-10,
): number {
  const n = x.length;
  const g = new Float64Array(n);
  fg(Float64Array.from(x), g);
  const num = numericalGradient(fg, x, h);
  let gInf = 0;
  for (let i = 0; i < n; i++) gInf = Math.max(gInf, Math.abs(g[i]));
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const err = Math.abs(g[i] - num[i]);
    const denom = Math.max(Math.abs(g[i]), Math.abs(num[i]), 1e-6 * gInf, floor);
    const rel = err / denom;
    if (!(rel <= worst)) worst = rel; // NaN propagates
  }
  return worst;
}
