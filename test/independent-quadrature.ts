/**
 * Test-only numerical references that share no code with src/: Gauss–Hermite nodes by Newton's
 * method on the orthonormal Hermite recurrence (Numerical Recipes `gauher`), tensor-product
 * Gaussian expectations with a Cholesky factor, dense Cholesky and a naive DFT.
 * Used by the *-independent / *-quadrature / *-bruteforce / *-fixedpoint tests.
 */

/** Gauss–Hermite rule for the standard normal: E[f(z)] ≈ Σ w_i f(x_i), z ~ N(0, 1). */
export function hermiteRule(n: number): { x: Float64Array; w: Float64Array } {
  // The unscaled recurrence overflows for the outermost nodes beyond ~180 nodes; 160 is verified
  // (Σw = 1, E z² = 1, E z⁴ = 3, E z⁸ = 105 to ~1e-15).
  if (!(Number.isInteger(n) && n >= 1 && n <= 160)) throw new RangeError(`hermiteRule: 1 ≤ n ≤ 160 (got ${n})`);
  const x = new Float64Array(n), w = new Float64Array(n);
  const PIM4 = Math.pow(Math.PI, -0.25);
  const m = Math.floor((n + 1) / 2);
  let z = 0;
  for (let i = 0; i < m; i++) {
    if (i === 0) z = Math.sqrt(2 * n + 1) - 1.85575 * Math.pow(2 * n + 1, -0.16667);
    else if (i === 1) z -= (1.14 * Math.pow(n, 0.426)) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * x[0];
    else if (i === 3) z = 1.91 * z - 0.91 * x[1];
    else z = 2 * z - x[i - 2];
    let pp = 0;
    for (let it = 0; it < 100; it++) {
      let p1 = PIM4, p2 = 0;
      for (let j = 0; j < n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / (j + 1)) * p2 - Math.sqrt(j / (j + 1)) * p3;
      }
      pp = Math.sqrt(2 * n) * p2;
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-15 * Math.max(1, Math.abs(z))) break;
    }
    x[i] = z;
    x[n - 1 - i] = -z;
    w[i] = w[n - 1 - i] = 2 / (pp * pp);
  }
  // Physicists' rule (weight e^{−t²}) → standard normal: z = √2 t, weights / √π.
  for (let i = 0; i < n; i++) { x[i] *= Math.SQRT2; w[i] /= Math.sqrt(Math.PI); }
  return { x, w };
}

/**
 * Trapezoidal rule for the standard normal on [−zmax, zmax] with step h: nodes k·h, weights h·φ(kh).
 * For integrands analytic in a strip around the real axis (erf, Gaussians, polynomials) the error
 * decays like exp(−2πd/h), and it is not troubled by steep erf(a z) for large a the way a
 * Gauss–Hermite rule is; the truncation error is ≤ φ(zmax)·sup|f|.
 */
export function trapezoidRule(h: number, zmax: number): { x: Float64Array; w: Float64Array } {
  const m = Math.floor(zmax / h);
  const n = 2 * m + 1;
  const x = new Float64Array(n), w = new Float64Array(n);
  const c = h / Math.sqrt(2 * Math.PI);
  for (let k = -m; k <= m; k++) { x[k + m] = k * h; w[k + m] = c * Math.exp(-0.5 * (k * h) ** 2); }
  return { x, w };
}

/** Lower Cholesky factor of a symmetric positive-definite n×n matrix (row-major). */
export function cholesky(A: ArrayLike<number>, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error("cholesky: matrix not positive definite");
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  return L;
}

/**
 * Tensor-product Gauss–Hermite expectation over u ~ N(0, S) (S n×n, positive definite):
 * calls `visit(u, weight)` at each of nodes^n points (`rule`: a node count for Gauss–Hermite, or a 1-D rule)
 * with |z| ≤ radius (whitened coordinates; the dropped mass is P(χ²_n > radius²)), u = L z with S = L Lᵀ.
 */
export function gaussianGrid(
  S: ArrayLike<number>, n: number, rule: number | { x: Float64Array; w: Float64Array }, visit: (u: Float64Array, weight: number) => void,
  radius = Infinity,
): void {
  const L = cholesky(S, n);
  const { x, w } = typeof rule === "number" ? hermiteRule(rule) : rule;
  const nodes = x.length;
  const idx = new Int32Array(n);
  const u = new Float64Array(n);
  const total = Math.pow(nodes, n);
  for (let c = 0; c < total; c++) {
    let r = c, wt = 1;
    let z2 = 0;
    for (let d = 0; d < n; d++) { idx[d] = r % nodes; r = Math.floor(r / nodes); wt *= w[idx[d]]; z2 += x[idx[d]] * x[idx[d]]; }
    if (z2 > radius * radius) continue;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j <= i; j++) s += L[i * n + j] * x[idx[j]];
      u[i] = s;
    }
    visit(u, wt);
  }
}

/** Naive O(n²) DFT X_k = Σ_j x_j e^{−2πi jk/n} (real input). */
export function naiveDft(x: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const re = new Float64Array(n), im = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sr = 0, si = 0;
    for (let j = 0; j < n; j++) {
      const th = (-2 * Math.PI * ((j * k) % n)) / n;
      sr += x[j] * Math.cos(th);
      si += x[j] * Math.sin(th);
    }
    re[k] = sr;
    im[k] = si;
  }
  return { re, im };
}
