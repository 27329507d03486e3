/**
 * Small dense linear-algebra kernels on row-major Float64Arrays that allocate nothing (for hot
 * loops; elsewhere ml-matrix is fine): Cholesky factorisation of a symmetric positive-definite
 * matrix, its semi-definite variant, and the triangular solves.
 */

/**
 * Cholesky factor of A + shift·I = L Lᵀ (A symmetric, n×n row-major; only its lower triangle is
 * read).  Writes the lower triangle of L (the strict upper triangle is not touched) and returns
 * false as soon as a pivot is not > 1e-300 (A + shift·I not numerically positive definite).
 * Row-oriented: L_ij = (A_ij − Σ_{k<j} L_ik L_jk) / L_jj, sums in increasing k.
 */
export function choleskyFactor(A: ArrayLike<number>, n: number, L: Float64Array, shift = 0): boolean {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j] + (i === j ? shift : 0);
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 1e-300)) return false;
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  return true;
}

/** Solve L Lᵀ x = b with the factor of `choleskyFactor` (forward, then back substitution); x may be b. */
export function choleskySolve(L: Float64Array, n: number, b: ArrayLike<number>, x: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * x[k];
    x[i] = s / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

/**
 * Cholesky factor of a positive semi-definite matrix: a pivot below 1e-14·max(1, A_jj) is taken
 * as 0 and its column of L is zeroed (so L Lᵀ = A on the range of A).  Fills all of L (n×n).
 * Column-oriented; e.g. to draw correlated Gaussians z ↦ L z from a covariance.
 */
export function choleskySemidefinite(A: ArrayLike<number>, n: number, L: Float64Array): void {
  L.fill(0);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] ** 2;
    const tol = 1e-14 * Math.max(1, A[j * n + j]);
    const ljj = d > tol ? Math.sqrt(d) : 0;
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = ljj > 0 ? s / ljj : 0;
    }
  }
}
