/**
 * Piecewise Chebyshev evaluation in θ = asin|a| for many points at once: the LSG24 φ tables
 * (`PhiTable.evalMany`, src/theory/lsg24.ts), 40 evaluations per right-hand side of the effective ODE
 * (most of an lsg ODE sweep's time once the matrix products ran in SIMD).
 *
 * For each point: θ = asin|a| (π/2 for |a| ≥ 1, Math.asin, in JS on both backends), the panel l =
 * the last p ≤ last with edges[p] ≤ θ (binary search), t = (2θ − e_l − e_{l+1})/(e_{l+1} − e_l), the
 * Clenshaw recurrence b_k = 2t·b_{k+1} − b_{k+2} + c_{l,k} for k = deg … 1 (2t computed as t + t, the
 * same number), v = t·b_1 − b_2 + c_{l,0}, and the value a < 0 ? −v : v — exactly `PhiTable.eval`'s
 * operations.  `tsChebPanels` is the reference (four recurrences interleaved, unrolled by two so that
 * b_k takes b_{k+2}'s slot); the SIMD kernel `chebPanels` of wasm/kernels.ts does the same with two
 * points per vector, so both backends give the bits of `eval` (test/lsg24.test.ts).
 */
import { simdKernels, type WasmKernels } from "./index.js";

/** θ = asin|a| (π/2 for |a| ≥ 1). */
export function chebTheta(a: number): number {
  const aa = a < 0 ? -a : a;
  return aa >= 1 ? Math.PI / 2 : Math.asin(aa);
}

/** The panel of θ: the last p ≤ last with e[p] ≤ θ (0 if none, or θ NaN). */
export function chebPanelOf(e: Float64Array, last: number, th: number): number {
  let lo = 0, hi = last;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (e[mid] <= th) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/**
 * out[i] = the panel sum at θ = th[i], negated when a[i] < 0, for i < n (see the file comment);
 * coefs holds deg + 1 coefficients per panel, edges last + 2 entries.
 */
export function tsChebPanels(
  n: number, th: Float64Array, a: Float64Array, edges: Float64Array, last: number, coefs: Float64Array, deg: number, out: Float64Array,
): void {
  const e = edges, c = coefs, w = deg + 1;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const th0 = th[i], th1 = th[i + 1], th2 = th[i + 2], th3 = th[i + 3];
    const l0 = chebPanelOf(e, last, th0), l1 = chebPanelOf(e, last, th1), l2 = chebPanelOf(e, last, th2), l3 = chebPanelOf(e, last, th3);
    const t0 = (2 * th0 - e[l0] - e[l0 + 1]) / (e[l0 + 1] - e[l0]);
    const t1 = (2 * th1 - e[l1] - e[l1 + 1]) / (e[l1 + 1] - e[l1]);
    const t2 = (2 * th2 - e[l2] - e[l2 + 1]) / (e[l2 + 1] - e[l2]);
    const t3 = (2 * th3 - e[l3] - e[l3 + 1]) / (e[l3 + 1] - e[l3]);
    const o0 = l0 * w, o1 = l1 * w, o2 = l2 * w, o3 = l3 * w;
    const u0 = 2 * t0, u1 = 2 * t1, u2 = 2 * t2, u3 = 2 * t3;
    // (p, q) = (b_{k+1}, b_{k+2}).
    let p0 = 0, q0 = 0, p1 = 0, q1 = 0, p2 = 0, q2 = 0, p3 = 0, q3 = 0;
    let k = deg;
    for (; k >= 2; k -= 2) {
      q0 = u0 * p0 - q0 + c[o0 + k]; q1 = u1 * p1 - q1 + c[o1 + k];
      q2 = u2 * p2 - q2 + c[o2 + k]; q3 = u3 * p3 - q3 + c[o3 + k];
      p0 = u0 * q0 - p0 + c[o0 + k - 1]; p1 = u1 * q1 - p1 + c[o1 + k - 1];
      p2 = u2 * q2 - p2 + c[o2 + k - 1]; p3 = u3 * q3 - p3 + c[o3 + k - 1];
    }
    if (k === 1) { // odd degree: one more step
      let b: number;
      b = u0 * p0 - q0 + c[o0 + 1]; q0 = p0; p0 = b;
      b = u1 * p1 - q1 + c[o1 + 1]; q1 = p1; p1 = b;
      b = u2 * p2 - q2 + c[o2 + 1]; q2 = p2; p2 = b;
      b = u3 * p3 - q3 + c[o3 + 1]; q3 = p3; p3 = b;
    }
    const v0 = t0 * p0 - q0 + c[o0], v1 = t1 * p1 - q1 + c[o1], v2 = t2 * p2 - q2 + c[o2], v3 = t3 * p3 - q3 + c[o3];
    out[i] = a[i] < 0 ? -v0 : v0;
    out[i + 1] = a[i + 1] < 0 ? -v1 : v1;
    out[i + 2] = a[i + 2] < 0 ? -v2 : v2;
    out[i + 3] = a[i + 3] < 0 ? -v3 : v3;
  }
  for (; i < n; i++) out[i] = chebValue(th[i], a[i], edges, last, coefs, deg);
}

/** One point: the panel sum at θ = th, negated when a < 0 (`PhiTable.eval` and the tails above). */
export function chebValue(th: number, a: number, edges: Float64Array, last: number, coefs: Float64Array, deg: number): number {
  const e = edges, c = coefs;
  const l = chebPanelOf(e, last, th);
  const t = (2 * th - e[l] - e[l + 1]) / (e[l + 1] - e[l]), u = 2 * t, o = l * (deg + 1);
  let p = 0, q = 0;
  let k = deg;
  for (; k >= 2; k -= 2) {
    q = u * p - q + c[o + k];
    p = u * q - p + c[o + k - 1];
  }
  if (k === 1) { const b = u * p - q + c[o + 1]; q = p; p = b; }
  const v = t * p - q + c[o];
  return a < 0 ? -v : v;
}

interface ChebExports {
  chebPanels(n: number, th: number, a: number, edges: number, last: number, coefs: number, deg: number, out: number): void;
}

/**
 * One table (edges, coefficients) evaluated at many points on the selected kernel backend.  On the
 * SIMD backend the table and the scratch vectors (θ, a, values; grown on demand) are resident in the
 * kernels' memory.
 */
export class ChebPanels {
  readonly backend: "wasm-simd" | "ts";
  private readonly last: number;
  private readonly ex: ChebExports | null;
  private readonly kernels: WasmKernels | null = null;
  private readonly table: Float64Array | null = null;
  private scratch: Float64Array | null = null;
  private cap = 0;
  private th: Float64Array = new Float64Array(0);
  private av: Float64Array = new Float64Array(0);
  private vals: Float64Array = new Float64Array(0);

  constructor(private readonly edges: Float64Array, private readonly coefs: Float64Array, readonly deg: number) {
    const panels = edges.length - 1;
    if (!(Number.isInteger(deg) && deg >= 0) || !(panels >= 1) || coefs.length < panels * (deg + 1)) {
      throw new RangeError(`ChebPanels: need ≥ 2 edges and (deg + 1) coefficients per panel (got ${edges.length} edges, ${coefs.length} coefficients, deg ${deg})`);
    }
    this.last = panels - 1;
    const k = simdKernels();
    const table = k?.allocResident(edges.length + coefs.length) ?? null;
    if (k && table) {
      table.set(edges, 0);
      table.set(coefs, edges.length);
      this.table = table;
      this.kernels = k;
      this.ex = k.ex as unknown as ChebExports;
      this.backend = "wasm-simd";
    } else {
      this.ex = null;
      this.backend = "ts";
    }
  }

  /** out[i] = the table's value at a[i] (see the file comment), for i < n. */
  evaluate(a: Float64Array, n: number, out: Float64Array): void {
    if (n > this.cap) this.grow(n);
    const th = this.th;
    for (let i = 0; i < n; i++) th[i] = chebTheta(a[i]);
    if (this.ex && this.table) {
      const av = this.av, vals = this.vals, t = this.table;
      for (let i = 0; i < n; i++) av[i] = a[i];
      this.ex.chebPanels(n, th.byteOffset, av.byteOffset, t.byteOffset, this.last, t.byteOffset + 8 * this.edges.length, this.deg, vals.byteOffset);
      for (let i = 0; i < n; i++) out[i] = vals[i];
    } else {
      tsChebPanels(n, th, a, this.edges, this.last, this.coefs, this.deg, out);
    }
  }

  private grow(n: number): void {
    const cap = Math.max(n, 2 * this.cap, 16);
    if (this.kernels) {
      const s = this.kernels.allocResident(3 * cap);
      if (!s) throw new Error("ChebPanels: the kernels' memory is full");
      this.scratch = s; // keeps the block (and so its views) alive
      this.th = s.subarray(0, cap);
      this.av = s.subarray(cap, 2 * cap);
      this.vals = s.subarray(2 * cap, 3 * cap);
    } else {
      this.th = new Float64Array(cap);
    }
    this.cap = cap;
  }
}
