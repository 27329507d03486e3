/**
 * Dense linear algebra of the implicit steppers (./rodas.ts, ./bdf.ts): LU factorisation with
 * partial pivoting of the n×n iteration matrix (I/(γh) − J or I − cJ), triangular solves, and a
 * finite-difference Jacobian.  Row-major Float64Array storage, no allocation per call.
 *
 * The LU is the right-looking (kij) Doolittle elimination of LAPACK's dgetf2: at step k the pivot is
 * the entry of largest modulus in column k on or below the diagonal, its row is swapped up (whole
 * rows, so the stored L is that of P·A = L·U), and the trailing block is updated by rank-1 updates
 * along contiguous rows.  n = 100 costs n³/3 ≈ 3·10⁵ multiply–adds (well under a millisecond) —
 * cheaper than one RHS of the flow problems, so no blocking or external library is needed.
 */
import type { Jac, Rhs } from "./types.js";

/**
 * Factorise the n×n row-major matrix A in place into P·A = L·U (unit-diagonal L below the diagonal,
 * U on and above it); piv[k] is the row swapped with row k at step k.  Returns false when a pivot is
 * exactly zero or not finite (singular or NaN matrix); A is then partly overwritten.
 */
export function luFactor(A: Float64Array, n: number, piv: Int32Array): boolean {
  for (let k = 0; k < n; k++) {
    // Pivot search in column k.
    let p = k;
    let amax = Math.abs(A[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const a = Math.abs(A[i * n + k]);
      if (a > amax) {
        amax = a;
        p = i;
      }
    }
    piv[k] = p;
    if (!(amax > 0 && amax < Infinity)) return false;
    if (p !== k) {
      const rk = k * n, rp = p * n;
      for (let j = 0; j < n; j++) {
        const t = A[rk + j];
        A[rk + j] = A[rp + j];
        A[rp + j] = t;
      }
    }
    const rk = k * n;
    const inv = 1 / A[rk + k];
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const l = A[ri + k] * inv;
      A[ri + k] = l;
      if (l === 0) continue;
      for (let j = k + 1; j < n; j++) A[ri + j] -= l * A[rk + j];
    }
  }
  return true;
}

/** Solve (P·A) x = b in place (b ← x) with the factors of luFactor. */
export function luSolve(LU: Float64Array, n: number, piv: Int32Array, b: Float64Array): void {
  for (let k = 0; k < n; k++) {
    const p = piv[k];
    if (p !== k) {
      const t = b[k];
      b[k] = b[p];
      b[p] = t;
    }
  }
  // Forward substitution with unit-diagonal L.
  for (let i = 1; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let j = 0; j < i; j++) s -= LU[ri + j] * b[j];
    b[i] = s;
  }
  // Back substitution with U.
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    let s = b[i];
    for (let j = i + 1; j < n; j++) s -= LU[ri + j] * b[j];
    b[i] = s / LU[ri + i];
  }
}

/**
 * Forward-difference Jacobian J[i·n + j] ≈ ∂f_i/∂y_j at (t, y), column by column, with f0 = f(t, y)
 * given.  Increment δ_j = √(u·max(floor, |y_j|)) with u the unit roundoff: Hairer & Wanner's RODAS /
 * RADAU5 choice (truncation error O(δ) and rounding error O(u/δ) balance for |y_j| ~ 1), with their
 * floor 10⁻⁵ lowered to `floor` = min(10⁻⁵, atol) by the solvers: a component far below 10⁻⁵ that
 * matters at the requested atol (Robertson's y₂ ~ 10⁻¹³) would otherwise be perturbed by far more
 * than its size, and a Rosenbrock method loses its order with such a Jacobian (Robertson to 10¹¹,
 * rtol 10⁻⁶: 10,303 RODAS steps with floor 10⁻⁵, 564 with floor = atol, 324 with the exact J).
 * δ_j is rounded so that y_j + δ_j − y_j = δ_j exactly.  y is restored bit for bit; `tmp` (length n)
 * is scratch.  Costs n RHS evaluations.
 */
export function fdJacobian(rhs: Rhs, t: number, y: Float64Array, f0: Float64Array, J: Float64Array, tmp: Float64Array, floor = 1e-5): void {
  const n = y.length;
  for (let j = 0; j < n; j++) {
    const yj = y[j];
    const delta = Math.sqrt(Number.EPSILON * Math.max(floor, Math.abs(yj)));
    y[j] = yj + delta;
    const d = y[j] - yj;
    rhs(t, y, tmp);
    y[j] = yj;
    const inv = 1 / d;
    for (let i = 0; i < n; i++) J[i * n + j] = (tmp[i] - f0[i]) * inv;
  }
}

/**
 * Jacobian evaluation shared by the implicit steppers: the problem's analytic `jac` if given, else
 * forward differences (n RHS calls, added to `counts.nRhs`; increment floor min(10⁻⁵, atol)).
 * Counts every Jacobian in `counts.nJac`.
 */
export function evalJacobian(
  jac: Jac | undefined, rhs: Rhs, t: number, y: Float64Array, f0: Float64Array, J: Float64Array, tmp: Float64Array,
  counts: { nRhs: number; nJac: number }, atol: number,
): void {
  if (jac) jac(t, y, J);
  else {
    fdJacobian(rhs, t, y, f0, J, tmp, Math.min(1e-5, atol));
    counts.nRhs += y.length;
  }
  counts.nJac++;
}

/** Weighted RMS norm √((1/n) Σ (v_i / w_i)²). */
export function wrmsNorm(v: Float64Array, w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    const e = v[i] / w[i];
    s += e * e;
  }
  return Math.sqrt(s / v.length);
}
