/**
 * rfdyn WebAssembly-SIMD kernels (AssemblyScript; compiled by scripts/build-wasm.mjs with
 * `--enable simd -O3 --runtime stub --noAssert`).  This file is NOT part of the tsc program: it is
 * AssemblyScript (usize, f64x2, load/store builtins), compiled to wasm at install.
 *
 * Memory: the module exports its linear memory; all arrays are passed as byte offsets into it.  The JS
 * side (src/kernels/wasm.ts) owns every byte above `heapBase()` (its own allocator); nothing here
 * allocates.  Static data (the erf tables) lies below `heapBase()`.
 *
 * Summation order: every kernel reproduces the order of the pure-TS reference it replaces exactly
 * (vector lanes hold *different* output entries, or — in the flow row pass — the fixed interleaved
 * partial sums S_{j mod 4} of a dot product that the TS reference forms the same way), so results are
 * bit-identical to the TS backend — except the Erf row function, whose erf/exp differ from V8's by at
 * most a few ulp.  The comments at each kernel name the TS function it mirrors.
 */

// ---------------------------------------------------------------------------------------------
// erf: port of src/stats/special.ts (piecewise Taylor tables, cells of width 1/16, degree 14, the
// constant term the reference value itself; a few ulp against high-precision references).  The
// tables are built at instantiation from the same convergent expansions.

const SQRT_PI: f64 = Math.sqrt(Math.PI);
const TWO_OVER_SQRT_PI: f64 = 2.0 / SQRT_PI;
const ERF_HI: f64 = 6.0;
const ERF_MID: f64 = 1.0;
const TCELL: f64 = 1.0 / 16.0;
const TDEG: i32 = 14;
const ERF_CELLS: i32 = 16; // [0, 1)
const ERFC_LO: f64 = 0.5;
const ERFC_CELLS: i32 = 88; // [1/2, 6)

const erfTab: usize = memory.data(ERF_CELLS * (TDEG + 1) * 8, 16);
const erfcTab: usize = memory.data(ERFC_CELLS * (TDEG + 1) * 8, 16);
const hermite: usize = memory.data((TDEG + 1) * 8, 16);

function erfMaclaurin(x: f64): f64 {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / <f64>n;
    const t = term / <f64>(2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-18 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

function erfcxContinuedFraction(x: f64): f64 {
  const n = <i32>Math.min(20000.0, Math.ceil(60.0 + 4000.0 / (x * x)));
  let f = x;
  for (let k = n; k >= 1; k--) f = x + <f64>k / 2.0 / f;
  return 1.0 / (SQRT_PI * f);
}

function buildTaylor(tab: usize, isErf: bool, sign: f64, lo: f64, cells: i32): void {
  for (let c = 0; c < cells; c++) {
    const m = lo + (<f64>c + 0.5) * TCELL;
    store<f64>(hermite, 1.0);
    store<f64>(hermite + 8, 2.0 * m);
    for (let n = 1; n < TDEG; n++) {
      store<f64>(hermite + ((<usize>n + 1) << 3), 2.0 * m * load<f64>(hermite + (<usize>n << 3)) - 2.0 * <f64>n * load<f64>(hermite + ((<usize>n - 1) << 3)));
    }
    const g = TWO_OVER_SQRT_PI * Math.exp(-m * m);
    const base = tab + ((<usize>c * (TDEG + 1)) << 3);
    store<f64>(base, isErf ? erfMaclaurin(m) : Math.exp(-m * m) * erfcxContinuedFraction(m));
    let fact: f64 = 1.0;
    for (let k = 1; k <= TDEG; k++) {
      fact *= <f64>k;
      store<f64>(base + (<usize>k << 3), (sign * g * (k % 2 == 1 ? 1.0 : -1.0) * load<f64>(hermite + ((<usize>k - 1) << 3))) / fact);
    }
  }
}

buildTaylor(erfTab, true, 1.0, 0.0, ERF_CELLS);
buildTaylor(erfcTab, false, -1.0, ERFC_LO, ERFC_CELLS);

function evalTaylor(tab: usize, lo: f64, cells: i32, x: f64): f64 {
  let c = <i32>Math.floor((x - lo) / TCELL);
  if (c >= cells) c = cells - 1;
  const d = x - (lo + (<f64>c + 0.5) * TCELL);
  const base = tab + ((<usize>c * (TDEG + 1)) << 3);
  let s = load<f64>(base + (<usize>TDEG << 3));
  for (let k = TDEG - 1; k >= 1; k--) s = s * d + load<f64>(base + (<usize>k << 3));
  return load<f64>(base) + s * d;
}

const E0: f64 = 1.0 * TWO_OVER_SQRT_PI;
const E1: f64 = (-1.0 / 3.0) * TWO_OVER_SQRT_PI;
const E2: f64 = (1.0 / 10.0) * TWO_OVER_SQRT_PI;
const E3: f64 = (-1.0 / 42.0) * TWO_OVER_SQRT_PI;
const E4: f64 = (1.0 / 216.0) * TWO_OVER_SQRT_PI;
const E5: f64 = (-1.0 / 1320.0) * TWO_OVER_SQRT_PI;
const E6: f64 = (1.0 / 9360.0) * TWO_OVER_SQRT_PI;
const E7: f64 = (-1.0 / 75600.0) * TWO_OVER_SQRT_PI;

export function erf(x: f64): f64 {
  const ax = x < 0 ? -x : x;
  if (ax >= ERF_HI) return x < 0 ? -1.0 : x > 0 ? 1.0 : x;
  if (ax < TCELL) {
    const t = x * x;
    return x * (E0 + t * (E1 + t * (E2 + t * (E3 + t * (E4 + t * (E5 + t * (E6 + t * E7)))))));
  }
  const v = ax < ERF_MID ? evalTaylor(erfTab, 0.0, ERF_CELLS, ax) : 1.0 - evalTaylor(erfcTab, ERFC_LO, ERFC_CELLS, ax);
  return x < 0 ? -v : v;
}

// erf of four arguments at once, with their four Taylor (Horner) chains interleaved: each argument
// goes through exactly the operations of erf() above (same cell, same d, same Horner order, same
// final steps), so the results are the same bits; the chains are independent, so the core overlaps
// them instead of waiting on one 14-step latency chain per row (the erf row function's cost).
// Arguments outside the Taylor cells (|x| < 1/16, |x| ≥ 6, NaN) are handed to erf() itself.
let er0: f64 = 0, er1: f64 = 0, er2: f64 = 0, er3: f64 = 0;

// @ts-ignore: decorator
@inline
function taylorCell(ax: f64): usize {
  const lo: f64 = ax < ERF_MID ? 0.0 : ERFC_LO;
  const cells: i32 = ax < ERF_MID ? ERF_CELLS : ERFC_CELLS;
  let c = <i32>Math.floor((ax - lo) / TCELL);
  if (c >= cells) c = cells - 1;
  return (ax < ERF_MID ? erfTab : erfcTab) + ((<usize>c * (TDEG + 1)) << 3);
}

// @ts-ignore: decorator
@inline
function taylorD(ax: f64): f64 {
  const lo: f64 = ax < ERF_MID ? 0.0 : ERFC_LO;
  const cells: i32 = ax < ERF_MID ? ERF_CELLS : ERFC_CELLS;
  let c = <i32>Math.floor((ax - lo) / TCELL);
  if (c >= cells) c = cells - 1;
  return ax - (lo + (<f64>c + 0.5) * TCELL);
}

function erf4(x0: f64, x1: f64, x2: f64, x3: f64): void {
  const a0 = Math.abs(x0), a1 = Math.abs(x1), a2 = Math.abs(x2), a3 = Math.abs(x3);
  const g0 = a0 >= TCELL && a0 < ERF_HI, g1 = a1 >= TCELL && a1 < ERF_HI;
  const g2 = a2 >= TCELL && a2 < ERF_HI, g3 = a3 >= TCELL && a3 < ERF_HI;
  // Lanes outside the cells run the chain on a harmless dummy (cell 0, d = 0) and are replaced below.
  const c0 = g0 ? taylorCell(a0) : erfTab, c1 = g1 ? taylorCell(a1) : erfTab;
  const c2 = g2 ? taylorCell(a2) : erfTab, c3 = g3 ? taylorCell(a3) : erfTab;
  const d0 = g0 ? taylorD(a0) : 0.0, d1 = g1 ? taylorD(a1) : 0.0;
  const d2 = g2 ? taylorD(a2) : 0.0, d3 = g3 ? taylorD(a3) : 0.0;
  const top: usize = <usize>TDEG << 3;
  let s0 = load<f64>(c0 + top), s1 = load<f64>(c1 + top), s2 = load<f64>(c2 + top), s3 = load<f64>(c3 + top);
  for (let k = TDEG - 1; k >= 1; k--) {
    const o: usize = <usize>k << 3;
    s0 = s0 * d0 + load<f64>(c0 + o);
    s1 = s1 * d1 + load<f64>(c1 + o);
    s2 = s2 * d2 + load<f64>(c2 + o);
    s3 = s3 * d3 + load<f64>(c3 + o);
  }
  let v0 = load<f64>(c0) + s0 * d0, v1 = load<f64>(c1) + s1 * d1;
  let v2 = load<f64>(c2) + s2 * d2, v3 = load<f64>(c3) + s3 * d3;
  if (a0 >= ERF_MID) v0 = 1.0 - v0;
  if (a1 >= ERF_MID) v1 = 1.0 - v1;
  if (a2 >= ERF_MID) v2 = 1.0 - v2;
  if (a3 >= ERF_MID) v3 = 1.0 - v3;
  er0 = g0 ? (x0 < 0 ? -v0 : v0) : erf(x0);
  er1 = g1 ? (x1 < 0 ? -v1 : v1) : erf(x1);
  er2 = g2 ? (x2 < 0 ? -v2 : v2) : erf(x2);
  er3 = g3 ? (x3 < 0 ? -v3 : v3) : erf(x3);
}

/** erf4 on one argument (tests: must equal erf bit for bit). */
export function erf4Probe(x: f64, lane: i32): f64 {
  if (lane == 0) { erf4(x, 0.3, -2.0, 7.0); return er0; }
  if (lane == 1) { erf4(0.3, x, -2.0, 7.0); return er1; }
  if (lane == 2) { erf4(0.3, -2.0, x, 7.0); return er2; }
  erf4(0.3, -2.0, 7.0, x);
  return er3;
}

// ---------------------------------------------------------------------------------------------
// Memory

/** First byte the JS allocator may use. */
export function heapBase(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

// ---------------------------------------------------------------------------------------------
// Row pass of the single-neuron flow (mirrors tsFusedRowPass in src/theory/single-neuron.ts):
// out += Σ_ν f(λ_ν) x_ν, λ_ν = x_ν·w, rows n0 … n1−1 in blocks of four from n0.
//
// Fixed summation order (the TS reference follows it exactly; the kernel only interleaves the
// update of one block with the dot products of the next):
//  - each row's λ = x·w is summed in four interleaved partial sums S_k = Σ_{j ≡ k mod 4} x_j w_j
//    (each in increasing j), combined as λ = (S0 + S2) + (S1 + S3).  Here one row's partial sums
//    live in two vectors, A = (S0, S1) and B = (S2, S3): four rows give eight independent add chains
//    (the old one-chain-per-row order was bound by the add latency), and every load is a full
//    contiguous f64x2.  The tail j ≥ D − D mod 4 is added last (a lane that gets no product adds
//    +0·+0 = +0, which leaves a partial sum unchanged: started at +0 it is never −0);
//  - per block, ss += λ0² + λ1² + λ2² + λ3² (left to right);
//  - per block, out_i += (f0 x0_i + f1 x1_i) + (f2 x2_i + f3 x3_i), vectorised over i;
//  - rows left over (fewer than four) one at a time: same λ, ss += λ², out_i += f x_i.

const SQRT_2_PI: f64 = Math.sqrt(2.0 / Math.PI);

// @ts-ignore: decorator
@inline
function rowFn(kind: i32, lam: f64, a: f64, c: f64, d: f64, y: f64, v: f64, b: f64): f64 {
  if (kind == 0) return a * lam;
  if (kind == 1) return lam * (a + c * lam * lam);
  if (kind == 2) {
    const h = lam + b;
    return a * (y - v * erf(h / Math.SQRT2)) * SQRT_2_PI * Math.exp(-0.5 * h * h);
  }
  const h = lam + b, h2 = h * h;
  return a * (y - v * (c * h - (d / 3.0) * h2 * h)) * (c - d * h2);
}

// @ts-ignore: decorator
@inline
function lam2(A: v128, B: v128): f64 {
  const t = f64x2.add(A, B);
  return f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
}

export function rowPass(
  X: usize, n0: i32, n1: i32, D: i32, w: usize, out: usize,
  kind: i32, a: f64, c: f64, d: f64, y: f64, v: f64, b: f64,
): f64 {
  if (D == 20) return rowPass20(X, n0, n1, w, out, kind, a, c, d, y, v, b);
  if (D == 40) return rowPass40(X, n0, n1, w, out, kind, a, c, d, y, v, b);
  if (D == 100) return rowPass100(X, n0, n1, w, out, kind, a, c, d, y, v, b);
  if (D == 400) return rowPass400(X, n0, n1, w, out, kind, a, c, d, y, v, b);
  if (D == 1600) return rowPass1600(X, n0, n1, w, out, kind, a, c, d, y, v, b);
  return rowPassD(X, n0, n1, D, w, out, kind, a, c, d, y, v, b);
}

/** Whether rowPass has a compiled-in variant for this D (tests enumerate them). */
export function rowPassSpecialised(D: i32): i32 {
  return <i32>(D == 20 || D == 40 || D == 100 || D == 400 || D == 1600);
}

// Variants with D a compile-time constant (the flow's common sizes: L = 20, 40, 100, 400 and 40 × 40):
// the row offsets x + k·8D become constant load offsets instead of one address register per row,
// which cuts the loops' integer work by a third (≈ 7–10 % of the pass at D = 100).  Same operations.
function rowPass20(X: usize, n0: i32, n1: i32, w: usize, out: usize, kind: i32, a: f64, c: f64, d: f64, y: f64, v: f64, b: f64): f64 {
  return rowPassD(X, n0, n1, 20, w, out, kind, a, c, d, y, v, b);
}
function rowPass40(X: usize, n0: i32, n1: i32, w: usize, out: usize, kind: i32, a: f64, c: f64, d: f64, y: f64, v: f64, b: f64): f64 {
  return rowPassD(X, n0, n1, 40, w, out, kind, a, c, d, y, v, b);
}
function rowPass100(X: usize, n0: i32, n1: i32, w: usize, out: usize, kind: i32, a: f64, c: f64, d: f64, y: f64, v: f64, b: f64): f64 {
  return rowPassD(X, n0, n1, 100, w, out, kind, a, c, d, y, v, b);
}
function rowPass400(X: usize, n0: i32, n1: i32, w: usize, out: usize, kind: i32, a: f64, c: f64, d: f64, y: f64, v: f64, b: f64): f64 {
  return rowPassD(X, n0, n1, 400, w, out, kind, a, c, d, y, v, b);
}
function rowPass1600(X: usize, n0: i32, n1: i32, w: usize, out: usize, kind: i32, a: f64, c: f64, d: f64, y: f64, v: f64, b: f64): f64 {
  return rowPassD(X, n0, n1, 1600, w, out, kind, a, c, d, y, v, b);
}

// @ts-ignore: decorator
@inline
function rowPassD(
  X: usize, n0: i32, n1: i32, D: i32, w: usize, out: usize,
  kind: i32, a: f64, c: f64, d: f64, y: f64, v: f64, b: f64,
): f64 {
  let ss: f64 = 0;
  const rs: usize = <usize>D << 3;
  const rs2: usize = rs << 1, rs3: usize = rs2 + rs, rs4: usize = rs << 2;
  const D4 = D & ~3, rem = D & 3, D2 = D & ~1;
  const t2: usize = <usize>D4 << 3;            // byte offset of the tail pair j = D4, D4 + 1
  const t1: usize = <usize>(D - 1) << 3;       // byte offset of the odd tail entry j = D − 1
  let nu = n0;
  // Software-pipelined blocks of four rows: one loop over column quads does the update of block k
  // (rows p0 …) and the dot products of two rows of block k + 1 (rows q0 …), so the (latency-bound)
  // dot chains and the (throughput-bound) update overlap and the loop overhead is shared.  Every entry's arithmetic
  // is exactly that of the TS reference (the operations are only interleaved differently).
  if (nu + 3 < n1) {
    let p0 = X + <usize>nu * rs;
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    let b0 = f64x2.splat(0), b1 = f64x2.splat(0), b2 = f64x2.splat(0), b3 = f64x2.splat(0);
    for (let i = 0; i < D4; i += 4) {
      const o: usize = <usize>i << 3;
      const x0 = p0 + o, x1 = x0 + rs, x2 = x0 + rs2, x3 = x0 + rs3;
      const wa = v128.load(w + o), wb = v128.load(w + o, 16);
      a0 = f64x2.add(a0, f64x2.mul(v128.load(x0), wa));
      b0 = f64x2.add(b0, f64x2.mul(v128.load(x0, 16), wb));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(x1), wa));
      b1 = f64x2.add(b1, f64x2.mul(v128.load(x1, 16), wb));
      a2 = f64x2.add(a2, f64x2.mul(v128.load(x2), wa));
      b2 = f64x2.add(b2, f64x2.mul(v128.load(x2, 16), wb));
      a3 = f64x2.add(a3, f64x2.mul(v128.load(x3), wa));
      b3 = f64x2.add(b3, f64x2.mul(v128.load(x3, 16), wb));
    }
    for (;;) {
      // Dot tails of the block at p0 (j ≥ D4, added last to S_{j mod 4}).
      if (rem >= 2) {
        const wa = v128.load(w + t2), x0 = p0 + t2;
        a0 = f64x2.add(a0, f64x2.mul(v128.load(x0), wa));
        a1 = f64x2.add(a1, f64x2.mul(v128.load(x0 + rs), wa));
        a2 = f64x2.add(a2, f64x2.mul(v128.load(x0 + rs2), wa));
        a3 = f64x2.add(a3, f64x2.mul(v128.load(x0 + rs3), wa));
      }
      if (rem == 1) {
        const wz = v128.load64_zero(w + t1), x0 = p0 + t1;
        a0 = f64x2.add(a0, f64x2.mul(v128.load64_zero(x0), wz));
        a1 = f64x2.add(a1, f64x2.mul(v128.load64_zero(x0 + rs), wz));
        a2 = f64x2.add(a2, f64x2.mul(v128.load64_zero(x0 + rs2), wz));
        a3 = f64x2.add(a3, f64x2.mul(v128.load64_zero(x0 + rs3), wz));
      } else if (rem == 3) {
        const wz = v128.load64_zero(w + t1), x0 = p0 + t1;
        b0 = f64x2.add(b0, f64x2.mul(v128.load64_zero(x0), wz));
        b1 = f64x2.add(b1, f64x2.mul(v128.load64_zero(x0 + rs), wz));
        b2 = f64x2.add(b2, f64x2.mul(v128.load64_zero(x0 + rs2), wz));
        b3 = f64x2.add(b3, f64x2.mul(v128.load64_zero(x0 + rs3), wz));
      }
      const l0 = lam2(a0, b0), l1 = lam2(a1, b1), l2 = lam2(a2, b2), l3 = lam2(a3, b3);
      ss += l0 * l0 + l1 * l1 + l2 * l2 + l3 * l3;
      let f0: f64, f1: f64, f2: f64, f3: f64;
      if (kind == 2) {
        // The erf neuron: the four erf chains interleaved (same bits as rowFn's erf).
        const h0 = l0 + b, h1 = l1 + b, h2 = l2 + b, h3 = l3 + b;
        erf4(h0 / Math.SQRT2, h1 / Math.SQRT2, h2 / Math.SQRT2, h3 / Math.SQRT2);
        f0 = a * (y - v * er0) * SQRT_2_PI * Math.exp(-0.5 * h0 * h0);
        f1 = a * (y - v * er1) * SQRT_2_PI * Math.exp(-0.5 * h1 * h1);
        f2 = a * (y - v * er2) * SQRT_2_PI * Math.exp(-0.5 * h2 * h2);
        f3 = a * (y - v * er3) * SQRT_2_PI * Math.exp(-0.5 * h3 * h3);
      } else {
        f0 = rowFn(kind, l0, a, c, d, y, v, b); f1 = rowFn(kind, l1, a, c, d, y, v, b);
        f2 = rowFn(kind, l2, a, c, d, y, v, b); f3 = rowFn(kind, l3, a, c, d, y, v, b);
      }
      const F0 = f64x2.splat(f0), F1 = f64x2.splat(f1), F2 = f64x2.splat(f2), F3 = f64x2.splat(f3);
      nu += 4;
      const more = nu + 3 < n1;
      const q0 = p0 + rs4;
      let i = 0;
      if (more) {
        // Update of block p0 + dot products of rows 0, 1 of block q0 (few enough live vectors that
        // nothing spills), then the dot products of rows 2, 3 of block q0 on their own.
        a0 = f64x2.splat(0); a1 = f64x2.splat(0); b0 = f64x2.splat(0); b1 = f64x2.splat(0);
        for (; i < D4; i += 4) {
          const o: usize = <usize>i << 3;
          const x0 = p0 + o, x1 = x0 + rs, x2 = x0 + rs2, x3 = x0 + rs3;
          const u = f64x2.add(f64x2.mul(F0, v128.load(x0)), f64x2.mul(F1, v128.load(x1)));
          const t = f64x2.add(f64x2.mul(F2, v128.load(x2)), f64x2.mul(F3, v128.load(x3)));
          v128.store(out + o, f64x2.add(v128.load(out + o), f64x2.add(u, t)));
          const uu = f64x2.add(f64x2.mul(F0, v128.load(x0, 16)), f64x2.mul(F1, v128.load(x1, 16)));
          const tt = f64x2.add(f64x2.mul(F2, v128.load(x2, 16)), f64x2.mul(F3, v128.load(x3, 16)));
          v128.store(out + o, f64x2.add(v128.load(out + o, 16), f64x2.add(uu, tt)), 16);
          const z0 = q0 + o, z1 = z0 + rs;
          const wa = v128.load(w + o), wb = v128.load(w + o, 16);
          a0 = f64x2.add(a0, f64x2.mul(v128.load(z0), wa));
          b0 = f64x2.add(b0, f64x2.mul(v128.load(z0, 16), wb));
          a1 = f64x2.add(a1, f64x2.mul(v128.load(z1), wa));
          b1 = f64x2.add(b1, f64x2.mul(v128.load(z1, 16), wb));
        }
        a2 = f64x2.splat(0); a3 = f64x2.splat(0); b2 = f64x2.splat(0); b3 = f64x2.splat(0);
        const q2 = q0 + rs2;
        for (let k = 0; k < D4; k += 4) {
          const o: usize = <usize>k << 3;
          const z2 = q2 + o, z3 = z2 + rs;
          const wa = v128.load(w + o), wb = v128.load(w + o, 16);
          a2 = f64x2.add(a2, f64x2.mul(v128.load(z2), wa));
          b2 = f64x2.add(b2, f64x2.mul(v128.load(z2, 16), wb));
          a3 = f64x2.add(a3, f64x2.mul(v128.load(z3), wa));
          b3 = f64x2.add(b3, f64x2.mul(v128.load(z3, 16), wb));
        }
      }
      // The rest of the update of the block at p0: out_i += (f0 x0_i + f1 x1_i) + (f2 x2_i + f3 x3_i).
      for (; i + 1 < D; i += 2) {
        const o: usize = <usize>i << 3;
        const x0 = p0 + o;
        const u = f64x2.add(f64x2.mul(F0, v128.load(x0)), f64x2.mul(F1, v128.load(x0 + rs)));
        const t = f64x2.add(f64x2.mul(F2, v128.load(x0 + rs2)), f64x2.mul(F3, v128.load(x0 + rs3)));
        v128.store(out + o, f64x2.add(v128.load(out + o), f64x2.add(u, t)));
      }
      if (i < D) {
        const o: usize = <usize>i << 3;
        const x0 = p0 + o;
        store<f64>(out + o, load<f64>(out + o) + ((f0 * load<f64>(x0) + f1 * load<f64>(x0 + rs)) + (f2 * load<f64>(x0 + rs2) + f3 * load<f64>(x0 + rs3))));
      }
      if (!more) break;
      p0 = q0;
    }
  }
  for (; nu < n1; nu++) {
    const p = X + <usize>nu * rs;
    let A = f64x2.splat(0), B = f64x2.splat(0);
    for (let i = 0; i < D4; i += 4) {
      const o: usize = <usize>i << 3;
      A = f64x2.add(A, f64x2.mul(v128.load(p + o), v128.load(w + o)));
      B = f64x2.add(B, f64x2.mul(v128.load(p + o, 16), v128.load(w + o, 16)));
    }
    if (rem >= 2) A = f64x2.add(A, f64x2.mul(v128.load(p + t2), v128.load(w + t2)));
    if (rem == 1) A = f64x2.add(A, f64x2.mul(v128.load64_zero(p + t1), v128.load64_zero(w + t1)));
    else if (rem == 3) B = f64x2.add(B, f64x2.mul(v128.load64_zero(p + t1), v128.load64_zero(w + t1)));
    const l = lam2(A, B);
    ss += l * l;
    const f = rowFn(kind, l, a, c, d, y, v, b);
    const F = f64x2.splat(f);
    let i = 0;
    for (; i < D2; i += 2) {
      const o: usize = <usize>i << 3;
      v128.store(out + o, f64x2.add(v128.load(out + o), f64x2.mul(F, v128.load(p + o))));
    }
    if (i < D) {
      const o: usize = <usize>i << 3;
      store<f64>(out + o, load<f64>(out + o) + f * load<f64>(p + o));
    }
  }
  return ss;
}

/**
 * The chunks of one flow pass in one call: chunk j covers rows bounds[2j] … bounds[2j+1]−1 of X and
 * writes its own partial, partial[j·D …] = Σ f(λ) x over its rows (from +0, as rowPass into a zeroed
 * out), and ss[j] = its Σ λ².  Exactly the per-chunk rowPass calls, without a JS round trip per chunk.
 */
export function rowPassChunks(
  X: usize, D: i32, w: usize, nChunks: i32, bounds: usize, partial: usize, ss: usize,
  kind: i32, a: f64, c: f64, d: f64, y: f64, v: f64, b: f64,
): void {
  const ps: usize = <usize>D << 3;
  for (let j = 0; j < nChunks; j++) {
    const out = partial + <usize>j * ps;
    memory.fill(out, 0, ps);
    const lo = load<i32>(bounds + (<usize>j << 3)), hi = load<i32>(bounds + (<usize>j << 3), 4);
    store<f64>(ss + (<usize>j << 3), rowPass(X, lo, hi, D, w, out, kind, a, c, d, y, v, b));
  }
}

// ---------------------------------------------------------------------------------------------
// CP implicit-loss sample pass (mirrors samplePass/projectRows/accumulateRows in src/cp/loss.ts):
// rows n0 … n1−1 in blocks of 64 from n0.  Per block: Y = X_blk Uᵀ (lanes = factors, from the
// transposed factors UT, D × rP with rP = r rounded up to 4, zero-padded), s2 += y², s4 += y⁴,
// Z = y³, then A += Zᵀ X_blk (and B += Yᵀ X_blk when B ≠ 0), rows in pairs as the TS code.

const CP_BLOCK: i32 = 64;

function project(X: usize, D: i32, nb: i32, m: i32, UT: usize, rP: i32, Y: usize): void {
  const rs: usize = <usize>D << 3;
  const us: usize = <usize>rP << 3;
  let k = 0;
  for (; k + 3 < m; k += 4) {
    const x0 = X + <usize>(nb + k) * rs, x1 = x0 + rs, x2 = x1 + rs, x3 = x2 + rs;
    const y0 = Y + <usize>k * us, y1 = y0 + us, y2 = y1 + us, y3 = y2 + us;
    for (let a = 0; a < rP; a += 4) {
      const ua = UT + (<usize>a << 3);
      let s00 = f64x2.splat(0), s01 = f64x2.splat(0), s10 = f64x2.splat(0), s11 = f64x2.splat(0);
      let s20 = f64x2.splat(0), s21 = f64x2.splat(0), s30 = f64x2.splat(0), s31 = f64x2.splat(0);
      let u: usize = ua;
      for (let i = 0; i < D; i++) {
        const o: usize = <usize>i << 3;
        const v0 = v128.load(u), v1 = v128.load(u + 16);
        const q0 = v128.load64_splat(x0 + o), q1 = v128.load64_splat(x1 + o);
        const q2 = v128.load64_splat(x2 + o), q3 = v128.load64_splat(x3 + o);
        s00 = f64x2.add(s00, f64x2.mul(q0, v0)); s01 = f64x2.add(s01, f64x2.mul(q0, v1));
        s10 = f64x2.add(s10, f64x2.mul(q1, v0)); s11 = f64x2.add(s11, f64x2.mul(q1, v1));
        s20 = f64x2.add(s20, f64x2.mul(q2, v0)); s21 = f64x2.add(s21, f64x2.mul(q2, v1));
        s30 = f64x2.add(s30, f64x2.mul(q3, v0)); s31 = f64x2.add(s31, f64x2.mul(q3, v1));
        u += us;
      }
      const ao: usize = <usize>a << 3;
      v128.store(y0 + ao, s00); v128.store(y0 + ao + 16, s01);
      v128.store(y1 + ao, s10); v128.store(y1 + ao + 16, s11);
      v128.store(y2 + ao, s20); v128.store(y2 + ao + 16, s21);
      v128.store(y3 + ao, s30); v128.store(y3 + ao + 16, s31);
    }
  }
  for (; k < m; k++) {
    const x0 = X + <usize>(nb + k) * rs;
    const y0 = Y + <usize>k * us;
    for (let a = 0; a < rP; a += 4) {
      let s00 = f64x2.splat(0), s01 = f64x2.splat(0);
      let u: usize = UT + (<usize>a << 3);
      for (let i = 0; i < D; i++) {
        const q0 = v128.load64_splat(x0 + (<usize>i << 3));
        s00 = f64x2.add(s00, f64x2.mul(q0, v128.load(u)));
        s01 = f64x2.add(s01, f64x2.mul(q0, v128.load(u + 16)));
        u += us;
      }
      const ao: usize = <usize>a << 3;
      v128.store(y0 + ao, s00); v128.store(y0 + ao + 16, s01);
    }
  }
}

/** A[a·D + i] += Σ_k Z[k·rP + a] X[(nb + k)·D + i], rows in pairs (then a single tail row) as the TS code. */
function accumulate(X: usize, D: i32, nb: i32, m: i32, Z: usize, r: i32, rP: i32, A: usize): void {
  const rs: usize = <usize>D << 3;
  const zs: usize = <usize>rP << 3;
  const D2 = D & ~1;
  let k = 0;
  for (; k + 1 < m; k += 2) {
    const x0 = X + <usize>(nb + k) * rs, x1 = x0 + rs;
    const z0 = Z + <usize>k * zs, z1 = z0 + zs;
    let a = 0;
    for (; a + 3 < r; a += 4) {
      const za: usize = <usize>a << 3;
      const P0 = v128.load64_splat(z0 + za), P1 = v128.load64_splat(z0 + za + 8);
      const P2 = v128.load64_splat(z0 + za + 16), P3 = v128.load64_splat(z0 + za + 24);
      const Q0 = v128.load64_splat(z1 + za), Q1 = v128.load64_splat(z1 + za + 8);
      const Q2 = v128.load64_splat(z1 + za + 16), Q3 = v128.load64_splat(z1 + za + 24);
      const a0 = A + <usize>a * rs, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs;
      let i = 0;
      for (; i < D2; i += 2) {
        const o: usize = <usize>i << 3;
        const xp = v128.load(x0 + o), xq = v128.load(x1 + o);
        v128.store(a0 + o, f64x2.add(v128.load(a0 + o), f64x2.add(f64x2.mul(P0, xp), f64x2.mul(Q0, xq))));
        v128.store(a1 + o, f64x2.add(v128.load(a1 + o), f64x2.add(f64x2.mul(P1, xp), f64x2.mul(Q1, xq))));
        v128.store(a2 + o, f64x2.add(v128.load(a2 + o), f64x2.add(f64x2.mul(P2, xp), f64x2.mul(Q2, xq))));
        v128.store(a3 + o, f64x2.add(v128.load(a3 + o), f64x2.add(f64x2.mul(P3, xp), f64x2.mul(Q3, xq))));
      }
      if (i < D) {
        const o: usize = <usize>i << 3;
        const xp = load<f64>(x0 + o), xq = load<f64>(x1 + o);
        store<f64>(a0 + o, load<f64>(a0 + o) + (load<f64>(z0 + za) * xp + load<f64>(z1 + za) * xq));
        store<f64>(a1 + o, load<f64>(a1 + o) + (load<f64>(z0 + za + 8) * xp + load<f64>(z1 + za + 8) * xq));
        store<f64>(a2 + o, load<f64>(a2 + o) + (load<f64>(z0 + za + 16) * xp + load<f64>(z1 + za + 16) * xq));
        store<f64>(a3 + o, load<f64>(a3 + o) + (load<f64>(z0 + za + 24) * xp + load<f64>(z1 + za + 24) * xq));
      }
    }
    for (; a < r; a++) {
      const za: usize = <usize>a << 3;
      const p0 = load<f64>(z0 + za), q0 = load<f64>(z1 + za);
      const P0 = f64x2.splat(p0), Q0 = f64x2.splat(q0);
      const a0 = A + <usize>a * rs;
      let i = 0;
      for (; i < D2; i += 2) {
        const o: usize = <usize>i << 3;
        v128.store(a0 + o, f64x2.add(v128.load(a0 + o), f64x2.add(f64x2.mul(P0, v128.load(x0 + o)), f64x2.mul(Q0, v128.load(x1 + o)))));
      }
      if (i < D) {
        const o: usize = <usize>i << 3;
        store<f64>(a0 + o, load<f64>(a0 + o) + (p0 * load<f64>(x0 + o) + q0 * load<f64>(x1 + o)));
      }
    }
  }
  for (; k < m; k++) {
    const x0 = X + <usize>(nb + k) * rs;
    const z0 = Z + <usize>k * zs;
    for (let a = 0; a < r; a++) {
      const p0 = load<f64>(z0 + (<usize>a << 3));
      const P0 = f64x2.splat(p0);
      const a0 = A + <usize>a * rs;
      let i = 0;
      for (; i < D2; i += 2) {
        const o: usize = <usize>i << 3;
        v128.store(a0 + o, f64x2.add(v128.load(a0 + o), f64x2.mul(P0, v128.load(x0 + o))));
      }
      if (i < D) {
        const o: usize = <usize>i << 3;
        store<f64>(a0 + o, load<f64>(a0 + o) + p0 * load<f64>(x0 + o));
      }
    }
  }
}

/**
 * One pass over rows n0 … n1−1: s2[a] += Σ y², s4[a] += Σ y⁴, and when withA: A += Σ y³ x (r×D),
 * B += Σ y x when B ≠ 0.  Y and Z are CP_BLOCK × rP scratch; UT is D × rP (zero-padded).
 */
export function cpPass(
  X: usize, n0: i32, n1: i32, D: i32, UT: usize, r: i32, rP: i32,
  Y: usize, Z: usize, s2: usize, s4: usize, A: usize, B: usize, withA: i32,
): void {
  const ys: usize = <usize>rP << 3;
  for (let nb = n0; nb < n1; nb += CP_BLOCK) {
    const m = min(n1, nb + CP_BLOCK) - nb;
    project(X, D, nb, m, UT, rP, Y);
    for (let k = 0; k < m; k++) {
      const yk = Y + <usize>k * ys, zk = Z + <usize>k * ys;
      for (let a = 0; a < r; a++) {
        const o: usize = <usize>a << 3;
        const yv = load<f64>(yk + o);
        const y2 = yv * yv;
        store<f64>(s2 + o, load<f64>(s2 + o) + y2);
        store<f64>(s4 + o, load<f64>(s4 + o) + y2 * y2);
        store<f64>(zk + o, y2 * yv);
      }
    }
    if (withA) {
      accumulate(X, D, nb, m, Z, r, rP, A);
      if (B != 0) accumulate(X, D, nb, m, Y, r, rP, B);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GEMM / SYRK on packed 4×4 tiles (mirror tsGemm / tsSyrkWeighted in src/kernels/index.ts:
// C_ij ← C_ij + (α·s_p·op(A)_ip)·op(B)_pj for p = 0, 1, … in order, C pre-scaled by β).  Lanes are
// columns j of C; each entry's sum runs over p in order, carried in C between k-chunks.

const KC: i32 = 256;
const NC: i32 = 256;

/** Ap[p·4 + ii] = α·s_p·op(A)_{i0+ii, p0+p} (zero outside m); op(A)_ip = A[i·lda + p] or A[p·lda + i] (trans). */
function packA(A: usize, lda: i32, trans: i32, m: i32, i0: i32, p0: i32, kc: i32, alpha: f64, s: usize, Ap: usize): void {
  for (let p = 0; p < kc; p++) {
    const sc = s == 0 ? alpha * 1.0 : alpha * load<f64>(s + (<usize>(p0 + p) << 3));
    const dst = Ap + (<usize>p << 5);
    for (let ii = 0; ii < 4; ii++) {
      const i = i0 + ii;
      let v: f64 = 0;
      if (i < m) v = sc * load<f64>(A + ((trans ? <usize>(p0 + p) * lda + i : <usize>i * lda + p0 + p) << 3));
      store<f64>(dst + (<usize>ii << 3), v);
    }
  }
}

/** Bp[(jp/4)·kc·4 + p·4 + jj] = op(B)_{p0+p, j0+jp+jj}; op(B)_pj = B[p·ldb + j] or B[j·ldb + p] (trans). */
function packB(B: usize, ldb: i32, trans: i32, n: i32, j0: i32, nc: i32, p0: i32, kc: i32, Bp: usize): void {
  for (let jp = 0; jp < nc; jp += 4) {
    const panel = Bp + ((<usize>(jp >> 2) * kc) << 5);
    for (let p = 0; p < kc; p++) {
      const dst = panel + (<usize>p << 5);
      for (let jj = 0; jj < 4; jj++) {
        const j = j0 + jp + jj;
        let v: f64 = 0;
        if (j < n) v = load<f64>(B + ((trans ? <usize>j * ldb + p0 + p : <usize>(p0 + p) * ldb + j) << 3));
        store<f64>(dst + (<usize>jj << 3), v);
      }
    }
  }
}

/** C tile (4×4 at Ct, row stride ldc bytes) += Σ_p Ap[p]ᵀ Bp[p], p in order. */
function micro(Ap: usize, Bp: usize, kc: i32, Ct: usize, ldc: usize): void {
  const c1 = Ct + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  let a00 = v128.load(Ct), a01 = v128.load(Ct + 16);
  let a10 = v128.load(c1), a11 = v128.load(c1 + 16);
  let a20 = v128.load(c2), a21 = v128.load(c2 + 16);
  let a30 = v128.load(c3), a31 = v128.load(c3 + 16);
  let pa = Ap, pb = Bp;
  const end = Ap + (<usize>kc << 5);
  while (pa < end) {
    const b0 = v128.load(pb), b1 = v128.load(pb + 16);
    const x0 = v128.load64_splat(pa), x1 = v128.load64_splat(pa + 8);
    const x2 = v128.load64_splat(pa + 16), x3 = v128.load64_splat(pa + 24);
    a00 = f64x2.add(a00, f64x2.mul(x0, b0)); a01 = f64x2.add(a01, f64x2.mul(x0, b1));
    a10 = f64x2.add(a10, f64x2.mul(x1, b0)); a11 = f64x2.add(a11, f64x2.mul(x1, b1));
    a20 = f64x2.add(a20, f64x2.mul(x2, b0)); a21 = f64x2.add(a21, f64x2.mul(x2, b1));
    a30 = f64x2.add(a30, f64x2.mul(x3, b0)); a31 = f64x2.add(a31, f64x2.mul(x3, b1));
    pa += 32;
    pb += 32;
  }
  v128.store(Ct, a00); v128.store(Ct + 16, a01);
  v128.store(c1, a10); v128.store(c1 + 16, a11);
  v128.store(c2, a20); v128.store(c2 + 16, a21);
  v128.store(c3, a30); v128.store(c3 + 16, a31);
}

/** Edge tile through a 4×4 buffer T (128 bytes): only rows < mr and columns < nr of C are touched. */
function microEdge(Ap: usize, Bp: usize, kc: i32, C: usize, ldc: usize, mr: i32, nr: i32, T: usize): void {
  for (let ii = 0; ii < 4; ii++) {
    for (let jj = 0; jj < 4; jj++) {
      const t = T + (<usize>(ii * 4 + jj) << 3);
      store<f64>(t, ii < mr && jj < nr ? load<f64>(C + <usize>ii * ldc + (<usize>jj << 3)) : 0.0);
    }
  }
  micro(Ap, Bp, kc, T, 32);
  for (let ii = 0; ii < mr; ii++) {
    for (let jj = 0; jj < nr; jj++) {
      store<f64>(C + <usize>ii * ldc + (<usize>jj << 3), load<f64>(T + (<usize>(ii * 4 + jj) << 3)));
    }
  }
}

/**
 * C (m×n, row-major, already scaled by β) += α·op(A)·op(B) (weights s_p on the p index when s ≠ 0),
 * only tiles that meet the upper triangle when upper ≠ 0.  Workspace W: KC·4 + KC·NC + 16 doubles.
 */
function gemmCore(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f64,
  A: usize, lda: i32, B: usize, ldb: i32, s: usize, C: usize, upper: i32, W: usize,
): void {
  const Ap = W;
  const Bp = Ap + (<usize>KC << 5);
  const T = Bp + ((<usize>KC * NC) << 3);
  const ldc: usize = <usize>n << 3;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = min(KC, k - p0);
    for (let j0 = 0; j0 < n; j0 += NC) {
      const nc = min(NC, n - j0);
      const ncP = (nc + 3) & ~3;
      packB(B, ldb, transB, n, j0, ncP, p0, kc, Bp);
      const iEnd = upper ? min(m, j0 + nc) : m;
      for (let i0 = 0; i0 < iEnd; i0 += 4) {
        packA(A, lda, transA, m, i0, p0, kc, alpha, s, Ap);
        const mr = min(4, m - i0);
        let jp = 0;
        if (upper && i0 > j0) jp = (i0 - j0) & ~3;
        for (; jp < nc; jp += 4) {
          const nr = min(4, nc - jp);
          const Ct = C + <usize>i0 * ldc + (<usize>(j0 + jp) << 3);
          const panel = Bp + ((<usize>(jp >> 2) * kc) << 5);
          if (mr == 4 && nr == 4) micro(Ap, panel, kc, Ct, ldc);
          else microEdge(Ap, panel, kc, Ct, ldc, mr, nr, T);
        }
      }
    }
  }
}

/** Workspace bytes for gemm/syrk. */
export function gemmWorkspaceBytes(): usize {
  return ((<usize>KC * 4 + <usize>KC * NC + 16) << 3);
}

/** C (m×n, pre-scaled by β) += α op(A) op(B); A is m×k (k×m when transA), B k×n (n×k when transB). */
export function gemm(transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f64, A: usize, B: usize, C: usize, W: usize): void {
  gemmCore(transA, transB, m, n, k, alpha, A, transA ? m : k, B, transB ? k : n, 0, C, 0, W);
}

/**
 * Upper triangle (and the diagonal tiles) of C (D×D, pre-scaled by β) += α Xᵀ diag(s) X for the
 * rows of X (n×D) — call repeatedly on consecutive row chunks (s advanced alongside), then `mirror`.
 */
export function syrkUpper(X: usize, n: i32, D: i32, s: usize, alpha: f64, C: usize, W: usize): void {
  gemmCore(1, 0, D, D, n, alpha, X, D, X, D, s, C, 1, W);
}

/** C[j·D + i] = C[i·D + j] for j > i. */
export function mirror(C: usize, D: i32): void {
  for (let i = 0; i < D; i++) {
    for (let j = i + 1; j < D; j++) {
      store<f64>(C + ((<usize>j * D + i) << 3), load<f64>(C + ((<usize>i * D + j) << 3)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GEMV (mirror tsGemv): y_i = β y_i + α Σ_j A_ij x_j (j in order; two rows per vector), and the
// transposed form y ← β y, y_j += (α x_i) A_ij (i in order, vectorised over j).

export function gemvN(m: i32, n: i32, alpha: f64, A: usize, x: usize, beta: f64, y: usize): void {
  const rs: usize = <usize>n << 3;
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const r0 = A + <usize>i * rs, r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
    let s01 = f64x2.splat(0), s23 = f64x2.splat(0);
    for (let j = 0; j < n; j++) {
      const o: usize = <usize>j << 3;
      const xj = v128.load64_splat(x + o);
      s01 = f64x2.add(s01, f64x2.mul(v128.load64_lane(r1 + o, v128.load64_zero(r0 + o), 1), xj));
      s23 = f64x2.add(s23, f64x2.mul(v128.load64_lane(r3 + o, v128.load64_zero(r2 + o), 1), xj));
    }
    const yo = y + (<usize>i << 3);
    store<f64>(yo, (beta == 0 ? 0.0 : beta * load<f64>(yo)) + alpha * f64x2.extract_lane(s01, 0));
    store<f64>(yo + 8, (beta == 0 ? 0.0 : beta * load<f64>(yo + 8)) + alpha * f64x2.extract_lane(s01, 1));
    store<f64>(yo + 16, (beta == 0 ? 0.0 : beta * load<f64>(yo + 16)) + alpha * f64x2.extract_lane(s23, 0));
    store<f64>(yo + 24, (beta == 0 ? 0.0 : beta * load<f64>(yo + 24)) + alpha * f64x2.extract_lane(s23, 1));
  }
  for (; i < m; i++) {
    const r0 = A + <usize>i * rs;
    let s: f64 = 0;
    for (let j = 0; j < n; j++) s += load<f64>(r0 + (<usize>j << 3)) * load<f64>(x + (<usize>j << 3));
    const yo = y + (<usize>i << 3);
    store<f64>(yo, (beta == 0 ? 0.0 : beta * load<f64>(yo)) + alpha * s);
  }
}

/** y (n, pre-scaled by β) += α Aᵀ x, A m×n. */
export function gemvT(m: i32, n: i32, alpha: f64, A: usize, x: usize, y: usize): void {
  const rs: usize = <usize>n << 3;
  const n2 = n & ~1;
  for (let i = 0; i < m; i++) {
    const a = alpha * load<f64>(x + (<usize>i << 3));
    const av = f64x2.splat(a);
    const r0 = A + <usize>i * rs;
    let j = 0;
    for (; j < n2; j += 2) {
      const o: usize = <usize>j << 3;
      v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(av, v128.load(r0 + o))));
    }
    if (j < n) {
      const o: usize = <usize>j << 3;
      store<f64>(y + o, load<f64>(y + o) + a * load<f64>(r0 + o));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Peak estimate: `iters` rounds of 12 independent f64x2 multiply–add chains (48 flops per round; the
// mul and the add are separate instructions — wasm SIMD has no fused multiply–add — and 12 chains
// cover the latency of both).

export function peakSimd(iters: i32, x: f64): f64 {
  const m = f64x2.splat(0.9999999), c = f64x2.splat(1e-9);
  let a0 = f64x2.splat(x), a1 = f64x2.splat(x + 1), a2 = f64x2.splat(x + 2), a3 = f64x2.splat(x + 3);
  let a4 = f64x2.splat(x + 4), a5 = f64x2.splat(x + 5), a6 = f64x2.splat(x + 6), a7 = f64x2.splat(x + 7);
  let a8 = f64x2.splat(x + 8), a9 = f64x2.splat(x + 9), a10 = f64x2.splat(x + 10), a11 = f64x2.splat(x + 11);
  for (let k = 0; k < iters; k++) {
    a0 = f64x2.add(f64x2.mul(a0, m), c); a1 = f64x2.add(f64x2.mul(a1, m), c);
    a2 = f64x2.add(f64x2.mul(a2, m), c); a3 = f64x2.add(f64x2.mul(a3, m), c);
    a4 = f64x2.add(f64x2.mul(a4, m), c); a5 = f64x2.add(f64x2.mul(a5, m), c);
    a6 = f64x2.add(f64x2.mul(a6, m), c); a7 = f64x2.add(f64x2.mul(a7, m), c);
    a8 = f64x2.add(f64x2.mul(a8, m), c); a9 = f64x2.add(f64x2.mul(a9, m), c);
    a10 = f64x2.add(f64x2.mul(a10, m), c); a11 = f64x2.add(f64x2.mul(a11, m), c);
  }
  const s = f64x2.add(
    f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)), f64x2.add(f64x2.add(a4, a5), f64x2.add(a6, a7))),
    f64x2.add(f64x2.add(a8, a9), f64x2.add(a10, a11)),
  );
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

// Load-throughput estimate: `iters` rounds of eight v128 loads from a 2 KB block at the start of
// memory (L1-resident; read only), each folded into its own accumulator by a bitwise xor (the vector
// ALUs do four of those per cycle, so the loads are what limits the loop).  Returns a value that
// depends on every load, so nothing is optimised away.

export function peakLoads(iters: i32): f64 {
  let a0 = v128.splat<i64>(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (let k = 0; k < iters; k++) {
    const q: usize = <usize>(k & 15) << 7;
    a0 = v128.xor(a0, v128.load(q)); a1 = v128.xor(a1, v128.load(q, 16));
    a2 = v128.xor(a2, v128.load(q, 32)); a3 = v128.xor(a3, v128.load(q, 48));
    a4 = v128.xor(a4, v128.load(q, 64)); a5 = v128.xor(a5, v128.load(q, 80));
    a6 = v128.xor(a6, v128.load(q, 96)); a7 = v128.xor(a7, v128.load(q, 112));
  }
  const s = v128.xor(v128.xor(v128.xor(a0, a1), v128.xor(a2, a3)), v128.xor(v128.xor(a4, a5), v128.xor(a6, a7)));
  return <f64>(i64x2.extract_lane(s, 0) & 1);
}

// =============================================================================================
// Tetrachoric (Mehler) series sums of the mixture ODE's η² term (branch mix32; a separate,
// append-only block).  Mirrors tsTetraSum in src/kernels/tetra.ts operation for operation, so the
// results are bit-identical to the TS reference: lanes hold different pairs (j, m) or different
// indices j, never partial sums of one quantity, and the pairs' series are added to the total in
// the reference order (scalar, after the vector part).  All arrays are f64 (Neff and `need` are small
// integers stored as f64); `np` is the padded row stride (even, ≥ n + 1; pad columns are zero).
//
//   phase 1  r_jm = ((B_jm − fc_j col_m) isq_j) isq_m clamped to [−1, 1]; |r| ≤ rMax: Neff_jm =
//            tab[⌊|r| bins⌋] (even) and need_j, need_m ≥ Neff_jm; otherwise Neff_jm = −1 ("big").
//   phase 2  Ut[i np + j] = (vv_j p_i) invs[i+1], p_{i+1} = (h_j p_i − sqi[i] p_{i−1}) invs[i+1],
//            p_0 = phi_j, for i < need_j (eight, four or two indices j per step).
//   phase 3  per pair: e ← e r² + U_j,i U_m,i (i = Neff−2, Neff−4, …, 0), o likewise over the odd i,
//            t = r (e + r o); total += t (j = m) or 2t, pairs in row-major order (j ≤ m); the big
//            pairs add nothing here (the caller adds them).  The diagonal pairs (the longest series)
//            four at a time into Td first, then per row t_jj and the off-diagonal pairs four per step;
//            lanes past a pair's Neff contribute exact zeros (masked products), which leaves its
//            Horner chains bit-identical to starting at its own Neff.
// Returns the total; stores the number of big pairs at outBig.

// @ts-ignore: decorator
@inline
function tetraNeff(a: f64, tab: usize, bins: f64, rMax: f64): f64 {
  return a <= rMax ? load<f64>(tab + (<usize>(<i32>(a * bins)) << 3)) : -1.0;
}

// Neff of two pairs from their r (vector form of tetraNeff: the same index ⌊|r| bins⌋, −1 when
// !(|r| ≤ rMax)); idxMax = ⌊rMax bins⌋ keeps the look-up of big lanes inside the table.
// @ts-ignore: decorator
@inline
function neffVec(r: v128, tab: usize, binsV: v128, rMaxV: v128, idxMax: v128, mOne: v128): v128 {
  const a = f64x2.abs(r);
  const ok = f64x2.le(a, rMaxV);
  const idx = i32x4.min_s(i32x4.trunc_sat_f64x2_s_zero(f64x2.mul(a, binsV)), idxMax);
  const i0 = i32x4.extract_lane(idx, 0), i1 = i32x4.extract_lane(idx, 1);
  const t = v128.load64_lane(tab + (<usize>i1 << 3), v128.load64_zero(tab + (<usize>i0 << 3)), 1);
  return v128.bitselect(t, mOne, ok);
}

// r of the pairs (j, m), (j, m+1): ((B_jm − fc_j col_m) isq_j) isq_m clamped to [−1, 1] (NaN kept), also
// stored in R (row base rj, byte offset om).
// @ts-ignore: decorator
@inline
function pairR(bj: usize, col: usize, isq: usize, rj: usize, om: usize, fj: v128, ij: v128, mOne: v128, one: v128): v128 {
  const r = f64x2.min(f64x2.max(f64x2.mul(f64x2.mul(f64x2.sub(v128.load(bj + om), f64x2.mul(fj, v128.load(col + om))), ij), v128.load(isq + om)), mOne), one);
  v128.store(rj + om, r);
  return r;
}

// @ts-ignore: decorator
@inline
function hermiteStep(x: v128, c: v128, p0: v128, p1: v128, iv: v128, sq: v128, dst: usize): v128 {
  v128.store(dst, f64x2.mul(f64x2.mul(c, p1), iv));
  return f64x2.mul(f64x2.sub(f64x2.mul(x, p1), f64x2.mul(sq, p0)), iv);
}

export function tetraSum(
  B: usize, ldb: i32, col: usize, fc: usize, isq: usize, h: usize, phi: usize, vv: usize,
  n: i32, np: i32, R: usize, Nt: usize, need: usize, Ut: usize,
  tab: usize, bins: f64, rMax: f64, sqi: usize, invs: usize, outBig: usize, Td: usize,
): f64 {
  const Tn: usize = Nt; // Neff of the diagonal pairs (scratch)
  const nps: usize = <usize>np << 3;
  const zero = f64x2.splat(0), one = f64x2.splat(1.0), mone = f64x2.splat(-1.0);
  for (let j = 0; j < np; j++) store<f64>(need + (<usize>j << 3), 0);
  for (let j = n; j < np; j++) {
    const o: usize = <usize>j << 3;
    store<f64>(h + o, 0); store<f64>(phi + o, 0); store<f64>(vv + o, 0);
  }
  // Phase 1: the diagonal r_jj (stored in R), and need_j from the Cauchy–Schwarz bound for a
  // covariance, |r_jm| ≤ √(|r_jj| |r_mm|) ≤ √(|r_jj| max_m |r_mm|) (with a relative margin of 1e-12 and
  // an absolute one of 1e-14 for rounding): the table is non-decreasing in |r|, so need_j ≥ Neff_jm
  // for every pair of j.  The off-diagonal r_jm are formed in phase 3b; should one of them exceed
  // its bound (a state outside the covariance cone), the kernel reports it and the caller runs the
  // reference instead (the same numbers: need only decides how many factors exist).
  const rMaxV = f64x2.splat(rMax);
  let big = 0;
  let rhoMax: f64 = 0;
  for (let j = 0; j < n; j++) {
    const o: usize = <usize>j << 3;
    const ijs = load<f64>(isq + o);
    let r = (load<f64>(B + ((<usize>j * <usize>ldb + <usize>j) << 3)) - load<f64>(fc + o) * load<f64>(col + o)) * ijs * ijs;
    r = r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
    store<f64>(R + <usize>j * nps + o, r);
    const a = r < 0 ? -r : r;
    store<f64>(need + o, a);
    if (a > rhoMax) rhoMax = a;
  }
  for (let j = 0; j < n; j++) {
    const o: usize = <usize>j << 3;
    const bound = Math.sqrt(load<f64>(need + o) * rhoMax) * (1.0 + 1e-12) + 1e-14;
    store<f64>(need + o, tetraNeff(bound < rMax ? bound : rMax, tab, bins, rMax));
  }
  // Phase 2: Hermite factors (pad indices have h = phi = vv = 0: zero factors).
  let j = 0;
  for (; j + 8 <= np; j += 8) {
    const o: usize = <usize>j << 3;
    const xa = v128.load(h + o), xb = v128.load(h + o + 16), xc = v128.load(h + o + 32), xd = v128.load(h + o + 48);
    const ca = v128.load(vv + o), cb = v128.load(vv + o + 16), cc = v128.load(vv + o + 32), cd = v128.load(vv + o + 48);
    let pa = v128.load(phi + o), pb = v128.load(phi + o + 16), pc = v128.load(phi + o + 32), pd = v128.load(phi + o + 48);
    let qa = zero, qb = zero, qc = zero, qd = zero;
    const t4 = f64x2.max(f64x2.max(v128.load(need + o), v128.load(need + o + 16)), f64x2.max(v128.load(need + o + 32), v128.load(need + o + 48)));
    const tl0 = f64x2.extract_lane(t4, 0), tl1 = f64x2.extract_lane(t4, 1);
    const top = <i32>(tl0 > tl1 ? tl0 : tl1);
    for (let i = 0; i < top; i++) {
      const iv = v128.load64_splat(invs + ((<usize>i + 1) << 3)), sq = v128.load64_splat(sqi + (<usize>i << 3));
      const d: usize = Ut + <usize>i * nps + o;
      const na = hermiteStep(xa, ca, qa, pa, iv, sq, d), nb = hermiteStep(xb, cb, qb, pb, iv, sq, d + 16);
      const nc = hermiteStep(xc, cc, qc, pc, iv, sq, d + 32), nd = hermiteStep(xd, cd, qd, pd, iv, sq, d + 48);
      qa = pa; qb = pb; qc = pc; qd = pd;
      pa = na; pb = nb; pc = nc; pd = nd;
    }
  }
  for (; j < np; j += 2) {
    const o: usize = <usize>j << 3;
    const x = v128.load(h + o), c = v128.load(vv + o);
    let p1 = v128.load(phi + o), p0 = zero;
    const t2 = v128.load(need + o);
    const tl0 = f64x2.extract_lane(t2, 0), tl1 = f64x2.extract_lane(t2, 1);
    const top = <i32>(tl0 > tl1 ? tl0 : tl1);
    for (let i = 0; i < top; i++) {
      const iv = v128.load64_splat(invs + ((<usize>i + 1) << 3)), sq = v128.load64_splat(sqi + (<usize>i << 3));
      const p2 = hermiteStep(x, c, p0, p1, iv, sq, Ut + <usize>i * nps + o);
      p0 = p1;
      p1 = p2;
    }
  }
  // Phase 3a: diagonal pairs, four indices per step (r and Neff gathered from the diagonals).
  const dstep: usize = nps + 8;
  for (j = 0; j < n; j += 4) {
    const o: usize = <usize>j << 3;
    const dr: usize = R + <usize>j * dstep;
    // Lanes past n: r = 0, Neff = 0 (no terms).
    const r0 = load<f64>(dr);
    const r1 = j + 1 < n ? load<f64>(dr + dstep) : 0.0;
    const r2 = j + 2 < n ? load<f64>(dr + 2 * dstep) : 0.0;
    const r3 = j + 3 < n ? load<f64>(dr + 3 * dstep) : 0.0;
    const k0 = tetraNeff(Math.abs(r0), tab, bins, rMax);
    const k1 = j + 1 < n ? tetraNeff(Math.abs(r1), tab, bins, rMax) : 0.0;
    const k2 = j + 2 < n ? tetraNeff(Math.abs(r2), tab, bins, rMax) : 0.0;
    const k3 = j + 3 < n ? tetraNeff(Math.abs(r3), tab, bins, rMax) : 0.0;
    store<f64>(Tn + o, k0); store<f64>(Tn + o + 8, k1); store<f64>(Tn + o + 16, k2); store<f64>(Tn + o + 24, k3);
    big += (k0 < 0 ? 1 : 0) + (k1 < 0 ? 1 : 0) + (k2 < 0 ? 1 : 0) + (k3 < 0 ? 1 : 0);
    const rA = f64x2.replace_lane(f64x2.splat(r0), 1, r1), rB = f64x2.replace_lane(f64x2.splat(r2), 1, r3);
    const nA = f64x2.replace_lane(f64x2.splat(k0), 1, k1), nB = f64x2.replace_lane(f64x2.splat(k2), 1, k3);
    const r2A = f64x2.mul(rA, rA), r2B = f64x2.mul(rB, rB);
    const mx = f64x2.max(f64x2.max(nA, nB), zero), mn = f64x2.max(f64x2.min(nA, nB), zero);
    const hi = f64x2.extract_lane(mx, 0) > f64x2.extract_lane(mx, 1) ? f64x2.extract_lane(mx, 0) : f64x2.extract_lane(mx, 1);
    const lo = f64x2.extract_lane(mn, 0) < f64x2.extract_lane(mn, 1) ? f64x2.extract_lane(mn, 0) : f64x2.extract_lane(mn, 1);
    const nhi = <i32>hi, nlo = <i32>lo;
    const wide = j + 2 < np;
    let eA = zero, oA = zero, eB = zero, oB = zero;
    let i = nhi;
    for (; i > nlo; i -= 2) {
      const fi = f64x2.splat(<f64>i);
      const kA = f64x2.le(fi, nA), kB = f64x2.le(fi, nB);
      const pe: usize = Ut + <usize>(i - 2) * nps + o, po: usize = pe + nps;
      const uA = v128.load(pe), vA = v128.load(po);
      eA = f64x2.add(f64x2.mul(eA, r2A), v128.and(f64x2.mul(uA, uA), kA));
      oA = f64x2.add(f64x2.mul(oA, r2A), v128.and(f64x2.mul(vA, vA), kA));
      if (wide) {
        const uB = v128.load(pe + 16), vB = v128.load(po + 16);
        eB = f64x2.add(f64x2.mul(eB, r2B), v128.and(f64x2.mul(uB, uB), kB));
        oB = f64x2.add(f64x2.mul(oB, r2B), v128.and(f64x2.mul(vB, vB), kB));
      }
    }
    for (; i > 0; i -= 2) {
      const pe: usize = Ut + <usize>(i - 2) * nps + o, po: usize = pe + nps;
      const uA = v128.load(pe), vA = v128.load(po), uB = v128.load(pe + 16), vB = v128.load(po + 16);
      eA = f64x2.add(f64x2.mul(eA, r2A), f64x2.mul(uA, uA));
      oA = f64x2.add(f64x2.mul(oA, r2A), f64x2.mul(vA, vA));
      eB = f64x2.add(f64x2.mul(eB, r2B), f64x2.mul(uB, uB));
      oB = f64x2.add(f64x2.mul(oB, r2B), f64x2.mul(vB, vB));
    }
    v128.store(Td + o, f64x2.mul(rA, f64x2.add(eA, f64x2.mul(rA, oA))));
    if (wide) v128.store(Td + o + 16, f64x2.mul(rB, f64x2.add(eB, f64x2.mul(rB, oB))));
  }
  // Phase 3b: per row, t_jj then the off-diagonal pairs, eight (then four, two) per step.
  let total: f64 = 0;
  const binsV = f64x2.splat(bins), idxMax = i32x4.splat(<i32>(rMax * bins));
  let viol = zero;
  for (j = 0; j < n; j++) {
    const rj = R + <usize>j * nps;
    const uj = Ut + (<usize>j << 3);
    const bj = B + ((<usize>j * <usize>ldb) << 3);
    const fj = v128.load64_splat(fc + (<usize>j << 3)), ij = v128.load64_splat(isq + (<usize>j << 3));
    const needJ = v128.load64_splat(need + (<usize>j << 3));
    if (load<f64>(Tn + (<usize>j << 3)) >= 0) total += load<f64>(Td + (<usize>j << 3));
    let m = j + 1;
    // Eight pairs per step while they fit (eight independent Horner chains: covers the latency).
    for (; m + 7 < n; m += 8) {
      const om: usize = <usize>m << 3;
      const rA = pairR(bj, col, isq, rj, om, fj, ij, mone, one), rB = pairR(bj, col, isq, rj, om + 16, fj, ij, mone, one);
      const rC = pairR(bj, col, isq, rj, om + 32, fj, ij, mone, one), rD = pairR(bj, col, isq, rj, om + 48, fj, ij, mone, one);
      const nA = neffVec(rA, tab, binsV, rMaxV, idxMax, mone), nB = neffVec(rB, tab, binsV, rMaxV, idxMax, mone);
      const nC = neffVec(rC, tab, binsV, rMaxV, idxMax, mone), nD = neffVec(rD, tab, binsV, rMaxV, idxMax, mone);
      big += <i32>popcnt(i64x2.bitmask(f64x2.lt(nA, zero)) | (i64x2.bitmask(f64x2.lt(nB, zero)) << 2) | (i64x2.bitmask(f64x2.lt(nC, zero)) << 4) | (i64x2.bitmask(f64x2.lt(nD, zero)) << 6));
      viol = v128.or(viol, v128.or(v128.or(f64x2.gt(nA, needJ), f64x2.gt(nA, v128.load(need + om))), v128.or(f64x2.gt(nB, needJ), f64x2.gt(nB, v128.load(need + om + 16)))));
      viol = v128.or(viol, v128.or(v128.or(f64x2.gt(nC, needJ), f64x2.gt(nC, v128.load(need + om + 32))), v128.or(f64x2.gt(nD, needJ), f64x2.gt(nD, v128.load(need + om + 48)))));
      const mx = f64x2.max(f64x2.max(nA, nB), f64x2.max(nC, nD)), mn = f64x2.min(f64x2.min(nA, nB), f64x2.min(nC, nD));
      const hx0 = f64x2.extract_lane(mx, 0), hx1 = f64x2.extract_lane(mx, 1), lx0 = f64x2.extract_lane(mn, 0), lx1 = f64x2.extract_lane(mn, 1);
      const hi = hx0 > hx1 ? hx0 : hx1, lo = lx0 < lx1 ? lx0 : lx1;
      const nhi = <i32>hi, nlo = lo < 0 ? 0 : <i32>lo;
      const r2A = f64x2.mul(rA, rA), r2B = f64x2.mul(rB, rB), r2C = f64x2.mul(rC, rC), r2D = f64x2.mul(rD, rD);
      let eA = zero, oA = zero, eB = zero, oB = zero, eC = zero, oC = zero, eD = zero, oD = zero;
      let i = nhi;
      for (; i > nlo; i -= 2) {
        const fi = f64x2.splat(<f64>i);
        const kA = f64x2.le(fi, nA), kB = f64x2.le(fi, nB), kC = f64x2.le(fi, nC), kD = f64x2.le(fi, nD);
        const pe: usize = <usize>(i - 2) * nps, po: usize = pe + nps;
        const ue = v128.load64_splat(uj + pe), uo = v128.load64_splat(uj + po);
        const me: usize = Ut + pe + om, mo: usize = Ut + po + om;
        eA = f64x2.add(f64x2.mul(eA, r2A), v128.and(f64x2.mul(ue, v128.load(me)), kA));
        oA = f64x2.add(f64x2.mul(oA, r2A), v128.and(f64x2.mul(uo, v128.load(mo)), kA));
        eB = f64x2.add(f64x2.mul(eB, r2B), v128.and(f64x2.mul(ue, v128.load(me + 16)), kB));
        oB = f64x2.add(f64x2.mul(oB, r2B), v128.and(f64x2.mul(uo, v128.load(mo + 16)), kB));
        eC = f64x2.add(f64x2.mul(eC, r2C), v128.and(f64x2.mul(ue, v128.load(me + 32)), kC));
        oC = f64x2.add(f64x2.mul(oC, r2C), v128.and(f64x2.mul(uo, v128.load(mo + 32)), kC));
        eD = f64x2.add(f64x2.mul(eD, r2D), v128.and(f64x2.mul(ue, v128.load(me + 48)), kD));
        oD = f64x2.add(f64x2.mul(oD, r2D), v128.and(f64x2.mul(uo, v128.load(mo + 48)), kD));
      }
      for (; i > 0; i -= 2) {
        const pe: usize = <usize>(i - 2) * nps, po: usize = pe + nps;
        const ue = v128.load64_splat(uj + pe), uo = v128.load64_splat(uj + po);
        const me: usize = Ut + pe + om, mo: usize = Ut + po + om;
        eA = f64x2.add(f64x2.mul(eA, r2A), f64x2.mul(ue, v128.load(me)));
        oA = f64x2.add(f64x2.mul(oA, r2A), f64x2.mul(uo, v128.load(mo)));
        eB = f64x2.add(f64x2.mul(eB, r2B), f64x2.mul(ue, v128.load(me + 16)));
        oB = f64x2.add(f64x2.mul(oB, r2B), f64x2.mul(uo, v128.load(mo + 16)));
        eC = f64x2.add(f64x2.mul(eC, r2C), f64x2.mul(ue, v128.load(me + 32)));
        oC = f64x2.add(f64x2.mul(oC, r2C), f64x2.mul(uo, v128.load(mo + 32)));
        eD = f64x2.add(f64x2.mul(eD, r2D), f64x2.mul(ue, v128.load(me + 48)));
        oD = f64x2.add(f64x2.mul(oD, r2D), f64x2.mul(uo, v128.load(mo + 48)));
      }
      const tA = f64x2.mul(rA, f64x2.add(eA, f64x2.mul(rA, oA))), tB = f64x2.mul(rB, f64x2.add(eB, f64x2.mul(rB, oB)));
      const tC = f64x2.mul(rC, f64x2.add(eC, f64x2.mul(rC, oC))), tD = f64x2.mul(rD, f64x2.add(eD, f64x2.mul(rD, oD)));
      total += 2.0 * f64x2.extract_lane(tA, 0);
      total += 2.0 * f64x2.extract_lane(tA, 1);
      total += 2.0 * f64x2.extract_lane(tB, 0);
      total += 2.0 * f64x2.extract_lane(tB, 1);
      total += 2.0 * f64x2.extract_lane(tC, 0);
      total += 2.0 * f64x2.extract_lane(tC, 1);
      total += 2.0 * f64x2.extract_lane(tD, 0);
      total += 2.0 * f64x2.extract_lane(tD, 1);
    }
    while (m < n) {
      const two = m + 2 < n;
      const om: usize = <usize>m << 3;
      // Neff per lane (lanes past n: 0; big pairs: −1, no terms).
      // (Lanes past n compute r from stale entries: never used.)
      const rA = pairR(bj, col, isq, rj, om, fj, ij, mone, one), rB = two ? pairR(bj, col, isq, rj, om + 16, fj, ij, mone, one) : zero;
      const k0 = tetraNeff(Math.abs(f64x2.extract_lane(rA, 0)), tab, bins, rMax);
      const k1 = m + 1 < n ? tetraNeff(Math.abs(f64x2.extract_lane(rA, 1)), tab, bins, rMax) : 0.0;
      const k2 = two ? tetraNeff(Math.abs(f64x2.extract_lane(rB, 0)), tab, bins, rMax) : 0.0;
      const k3 = m + 3 < n ? tetraNeff(Math.abs(f64x2.extract_lane(rB, 1)), tab, bins, rMax) : 0.0;
      big += (k0 < 0 ? 1 : 0) + (k1 < 0 ? 1 : 0) + (k2 < 0 ? 1 : 0) + (k3 < 0 ? 1 : 0);
      const nj0 = f64x2.extract_lane(needJ, 0);
      const lim0 = load<f64>(need + om), lim1 = m + 1 < n ? load<f64>(need + om + 8) : 0.0;
      const lim2 = two ? load<f64>(need + om + 16) : 0.0, lim3 = m + 3 < n ? load<f64>(need + om + 24) : 0.0;
      if (k0 > nj0 || k1 > nj0 || k2 > nj0 || k3 > nj0 || k0 > lim0 || k1 > lim1 || k2 > lim2 || k3 > lim3) viol = mone;
      const nA = f64x2.replace_lane(f64x2.splat(k0), 1, k1), nB = f64x2.replace_lane(f64x2.splat(k2), 1, k3);
      const r2A = f64x2.mul(rA, rA), r2B = f64x2.mul(rB, rB);
      const h01 = k0 > k1 ? k0 : k1, h23 = k2 > k3 ? k2 : k3;
      const l01 = k0 < k1 ? k0 : k1, l23 = k2 < k3 ? k2 : k3;
      const hi = h01 > h23 ? h01 : h23, lo = l01 < l23 ? l01 : l23;
      const nhi = <i32>hi, nlo = lo < 0 ? 0 : <i32>lo;
      let eA = zero, oA = zero, eB = zero, oB = zero;
      let i = nhi;
      for (; i > nlo; i -= 2) {
        const fi = f64x2.splat(<f64>i);
        const kA = f64x2.le(fi, nA), kB = f64x2.le(fi, nB);
        const pe: usize = <usize>(i - 2) * nps, po: usize = pe + nps;
        const ue = v128.load64_splat(uj + pe), uo = v128.load64_splat(uj + po);
        const me: usize = Ut + pe + om, mo: usize = Ut + po + om;
        eA = f64x2.add(f64x2.mul(eA, r2A), v128.and(f64x2.mul(ue, v128.load(me)), kA));
        oA = f64x2.add(f64x2.mul(oA, r2A), v128.and(f64x2.mul(uo, v128.load(mo)), kA));
        eB = f64x2.add(f64x2.mul(eB, r2B), v128.and(f64x2.mul(ue, v128.load(me + 16)), kB));
        oB = f64x2.add(f64x2.mul(oB, r2B), v128.and(f64x2.mul(uo, v128.load(mo + 16)), kB));
      }
      for (; i > 0; i -= 2) {
        const pe: usize = <usize>(i - 2) * nps, po: usize = pe + nps;
        const ue = v128.load64_splat(uj + pe), uo = v128.load64_splat(uj + po);
        const me: usize = Ut + pe + om, mo: usize = Ut + po + om;
        eA = f64x2.add(f64x2.mul(eA, r2A), f64x2.mul(ue, v128.load(me)));
        oA = f64x2.add(f64x2.mul(oA, r2A), f64x2.mul(uo, v128.load(mo)));
        eB = f64x2.add(f64x2.mul(eB, r2B), f64x2.mul(ue, v128.load(me + 16)));
        oB = f64x2.add(f64x2.mul(oB, r2B), f64x2.mul(uo, v128.load(mo + 16)));
      }
      const tA = f64x2.mul(rA, f64x2.add(eA, f64x2.mul(rA, oA)));
      const tB = f64x2.mul(rB, f64x2.add(eB, f64x2.mul(rB, oB)));
      // Add in pair order; a lane past n (pad: Neff = 0, r = 0) or a big pair adds ±0 (no change).
      total += 2.0 * f64x2.extract_lane(tA, 0);
      if (m + 1 < n) total += 2.0 * f64x2.extract_lane(tA, 1);
      if (two) {
        total += 2.0 * f64x2.extract_lane(tB, 0);
        if (m + 3 < n) total += 2.0 * f64x2.extract_lane(tB, 1);
      }
      m += two ? 4 : 2;
    }
  }
  store<f64>(outBig, <f64>big);
  store<f64>(outBig + 8, v128.any_true(viol) ? 1.0 : 0.0);
  return total;
}

// ---------------------------------------------------------------------------------------------
// First-order (drift) part of the mixture ODE per mode group (branch mix32; append-only).  Mirrors the
// TS loop of MixtureOde.rhs (src/theory/mixture-ode.ts) operation for operation:
//   Mt = Σ_μ cDrift[g,μ] G^μ (classes in order, skipped when the coefficient is 0), Mt_kk −= ηℓ2,
//   MQ = Mt Q_g (this module's gemm, C zeroed first: the same sums as the kernels' gemm),
//   out[g, (k,l), k ≤ l] = MQ_kl + MQ_lk, then += cNoise[g,μ] N^μ_kl per class in order (if second).
// Gm and noise hold nc K×K blocks; out holds G packed upper triangles (K(K+1)/2 each).

export function mixtureDrift(
  G: i32, K: i32, nc: i32, Gm: usize, cDrift: usize, etaL2: f64, Qg: usize, Mt: usize, MQ: usize, W: usize,
  noise: usize, cNoise: usize, second: i32, out: usize,
): void {
  const KK = K * K;
  const kkb: usize = <usize>KK << 3;
  let jj: usize = out;
  for (let g = 0; g < G; g++) {
    memory.fill(Mt, 0, kkb);
    for (let mu = 0; mu < nc; mu++) {
      const c = load<f64>(cDrift + ((<usize>(g * nc + mu)) << 3));
      if (c == 0) continue;
      const gm: usize = Gm + <usize>mu * kkb;
      const cv = f64x2.splat(c);
      let i = 0;
      for (; i + 1 < KK; i += 2) {
        const o: usize = <usize>i << 3;
        v128.store(Mt + o, f64x2.add(v128.load(Mt + o), f64x2.mul(cv, v128.load(gm + o))));
      }
      for (; i < KK; i++) {
        const o: usize = <usize>i << 3;
        store<f64>(Mt + o, load<f64>(Mt + o) + c * load<f64>(gm + o));
      }
    }
    for (let k = 0; k < K; k++) {
      const o: usize = (<usize>(k * K + k)) << 3;
      store<f64>(Mt + o, load<f64>(Mt + o) - etaL2);
    }
    memory.fill(MQ, 0, kkb);
    gemm(0, 0, K, K, K, 1.0, Mt, Qg + <usize>g * kkb, MQ, W);
    const start = jj;
    for (let k = 0; k < K; k++) {
      for (let l = k; l < K; l++) {
        store<f64>(jj, load<f64>(MQ + ((<usize>(k * K + l)) << 3)) + load<f64>(MQ + ((<usize>(l * K + k)) << 3)));
        jj += 8;
      }
    }
    if (second != 0) {
      for (let mu = 0; mu < nc; mu++) {
        const c = load<f64>(cNoise + ((<usize>(g * nc + mu)) << 3));
        if (c == 0) continue;
        const nm: usize = noise + <usize>mu * kkb;
        let p = start;
        for (let k = 0; k < K; k++) {
          const row: usize = nm + ((<usize>(k * K)) << 3);
          for (let l = k; l < K; l++) {
            store<f64>(p, load<f64>(p) + c * load<f64>(row + (<usize>l << 3)));
            p += 8;
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Saad–Solla η² pair sums (mirrors i4SumTs in src/theory/i4-sums.ts, NOT bit-identical: a polynomial
// arcsine and a different summation order; the TS and SIMD sums agree to ~1e-15 relative, tested at
// 1e-13 in test/i4-sums.test.ts).  For the pairs p0 ≤ p < p1 of (i ≤ k, row by row over i):
//   out[p − p0] = Σ_ab w_a w_b asin(r_ab),  r_ab = s_a (Λ4 C_ab s_b − α_a X̂_b − β_a Ŷ_b),
// with the one-index quantities s, X̂, Ŷ of the pair hoisted (see i4SumTs; computed two b at a time
// from a contiguous copy of the diagonal of C), the sum over b ≥ a (r is symmetric).  The diagonal
// terms w_b asin(r_bb) and the first off-diagonal terms w_{a+1} asin(r_{a,a+1}) (a even) are
// vectorised up front; then rows a, a+1 go together (sharing the loads of s, X̂, Ŷ, w) over
// b ≥ a + 2, four lanes per row per iteration (four vectors, one accumulator per row).
//
// Arcsine, chosen per iteration for all four vectors by their largest |x|: below 1/32, 1/16, 1/8
// and ½, x + x·t·P(t) with t = x² and P of degree 3, 4, 5 (Horner) and 12 (Estrin) — Chebyshev fits
// of (asin √t − √t)/t^{3/2} on [0, 1/1024], [0, 1/256], [0, 1/64] and [0, ¼], all ≤ ~1 ulp, no
// division, no square root; otherwise the general branch-free form `asinAny` (fdlibm's reduction with the degree-12 P),
// x clamped to [−1, 1].  Off the diagonal |r| is usually small (in the K = M = 32 benchmark all
// |r| < 0.1, ~93 % of the iterations below 1/32), so the first forms do almost all the work.
//
// Memory (byte offsets): C the n×n covariance (row-major) with ≥ 2 readable finite entries past n²;
// w the n weights followed by ≥ 4 zeros; S scratch of 7(n + 4) doubles; out p1 − p0 doubles.

const aP0: f64 = 0.16666666666666669;
const aP1: f64 = 0.07499999999998433;
const aP2: f64 = 0.04464285714635543;
const aP3: f64 = 0.030381944138531247;
const aP4: f64 = 0.02237217294214989;
const aP5: f64 = 0.017352392720869973;
const aP6: f64 = 0.013971212973552933;
const aP7: f64 = 0.011479177415184906;
const aP8: f64 = 0.01032281435018578;
const aP9: f64 = 0.005457506718640358;
const aP10: f64 = 0.01740087944269402;
const aP11: f64 = -0.014851887071247204;
const aP12: f64 = 0.028757851367421566;
const PIO2_HI: f64 = 1.57079632679489655800e+00;
const PIO2_LO: f64 = 6.12323399573676603587e-17;
const PIO4_HI: f64 = 7.85398163397448278999e-01;

/** t·P(t) (Estrin). */
// @ts-ignore: decorator
@inline
function asinTP(t: v128): v128 {
  const t2 = f64x2.mul(t, t);
  const t4 = f64x2.mul(t2, t2);
  const t8 = f64x2.mul(t4, t4);
  const e0 = f64x2.add(f64x2.splat(aP0), f64x2.mul(t, f64x2.splat(aP1)));
  const e1 = f64x2.add(f64x2.splat(aP2), f64x2.mul(t, f64x2.splat(aP3)));
  const e2 = f64x2.add(f64x2.splat(aP4), f64x2.mul(t, f64x2.splat(aP5)));
  const e3 = f64x2.add(f64x2.splat(aP6), f64x2.mul(t, f64x2.splat(aP7)));
  const e4 = f64x2.add(f64x2.splat(aP8), f64x2.mul(t, f64x2.splat(aP9)));
  const e5 = f64x2.add(f64x2.splat(aP10), f64x2.mul(t, f64x2.splat(aP11)));
  const g0 = f64x2.add(e0, f64x2.mul(t2, e1));
  const g1 = f64x2.add(e2, f64x2.mul(t2, e3));
  const g2 = f64x2.add(e4, f64x2.mul(t2, e5));
  const h0 = f64x2.add(g0, f64x2.mul(t4, g1));
  const h1 = f64x2.add(g2, f64x2.mul(t4, f64x2.splat(aP12)));
  return f64x2.mul(t, f64x2.add(h0, f64x2.mul(t8, h1)));
}

// Q8: degree 5, |x| < 1/8; Q16: degree 4, |x| < 1/16 (fits on [0, 1/64] and [0, 1/256]).
const bP0: f64 = 0.16666666666666657;
const bP1: f64 = 0.07500000000047533;
const bP2: f64 = 0.04464285678827665;
const bP3: f64 = 0.03038204108246504;
const bP4: f64 = 0.02236027496708682;
const bP5: f64 = 0.01802355275371771;
const cP0: f64 = 0.16666666666666669;
const cP1: f64 = 0.07499999999960236;
const cP2: f64 = 0.04464285795697209;
const cP3: f64 = 0.03038136131271912;
const cP4: f64 = 0.022542489125920648;

/** asin x for |x| < 1/8 in both lanes: x + x·t·Q8(t) (Horner). */
// @ts-ignore: decorator
@inline
function asinTiny(x: v128): v128 {
  const t = f64x2.mul(x, x);
  let q = f64x2.add(f64x2.splat(bP4), f64x2.mul(t, f64x2.splat(bP5)));
  q = f64x2.add(f64x2.splat(bP3), f64x2.mul(t, q));
  q = f64x2.add(f64x2.splat(bP2), f64x2.mul(t, q));
  q = f64x2.add(f64x2.splat(bP1), f64x2.mul(t, q));
  q = f64x2.add(f64x2.splat(bP0), f64x2.mul(t, q));
  return f64x2.add(x, f64x2.mul(f64x2.mul(x, t), q));
}

const dP0: f64 = 0.16666666666666652;
const dP1: f64 = 0.0750000000052167;
const dP2: f64 = 0.04464283043676549;
const dP3: f64 = 0.030425685619410833;

/** asin x for |x| < 1/32 in both lanes: x + x·t·Q32(t), Q32 of degree 3 (fit on [0, 1/1024]); t = x·x given, the coefficients loaded from kc (i4Sums). */
// @ts-ignore: decorator
@inline
function asinTiniest32T(x: v128, t: v128, kc: usize): v128 {
  let q = f64x2.add(v128.load(kc, 32), f64x2.mul(t, v128.load(kc, 48)));
  q = f64x2.add(v128.load(kc, 16), f64x2.mul(t, q));
  q = f64x2.add(v128.load(kc), f64x2.mul(t, q));
  return f64x2.add(x, f64x2.mul(f64x2.mul(x, t), q));
}

/** asin x for |x| < 1/16 in both lanes: x + x·t·Q16(t) (Horner); t = x·x given, the coefficients loaded from kd (i4Sums). */
// @ts-ignore: decorator
@inline
function asinTiniestT(x: v128, t: v128, kd: usize): v128 {
  let q = f64x2.add(v128.load(kd, 48), f64x2.mul(t, v128.load(kd, 64)));
  q = f64x2.add(v128.load(kd, 32), f64x2.mul(t, q));
  q = f64x2.add(v128.load(kd, 16), f64x2.mul(t, q));
  q = f64x2.add(v128.load(kd), f64x2.mul(t, q));
  return f64x2.add(x, f64x2.mul(f64x2.mul(x, t), q));
}

/** asin x for |x| < ½ in both lanes. */
// @ts-ignore: decorator
@inline
function asinSmall(x: v128): v128 {
  return f64x2.add(x, f64x2.mul(x, asinTP(f64x2.mul(x, x))));
}

/**
 * asin x for x in [−1, 1], branch-free, with fdlibm's evaluation for |x| ≥ ½ (t = (1 − |x|)/2,
 * s = √t, R = t·P(t)): above 0.975, π/2 − 2(s + sR) with π/2 split in two parts; in [½, 0.975],
 * π/4 − ((2sR − (pio2_lo − 2c)) − (π/4 − 2w)) with w = s rounded to 32 bits and c = (t − w²)/(s + w),
 * which keeps the result to ~1 ulp (the plain π/2 − 2(s + sR) loses a few ulp there).
 */
// @ts-ignore: decorator
@inline
function asinAny(x: v128): v128 {
  const ax = f64x2.abs(x);
  const big = f64x2.ge(ax, f64x2.splat(0.5));
  const t = v128.bitselect(f64x2.mul(f64x2.sub(f64x2.splat(1.0), ax), f64x2.splat(0.5)), f64x2.mul(ax, ax), big);
  const rt = asinTP(t);
  const s = f64x2.sqrt(t);
  // |x| < ½: ax + ax·R
  const small = f64x2.add(ax, f64x2.mul(ax, rt));
  // |x| > 0.975
  const top = f64x2.sub(f64x2.splat(PIO2_HI), f64x2.sub(f64x2.mul(f64x2.splat(2.0), f64x2.add(s, f64x2.mul(s, rt))), f64x2.splat(PIO2_LO)));
  // ½ ≤ |x| ≤ 0.975
  const w = v128.and(s, i64x2.splat(0xFFFFFFFF00000000));
  const c = f64x2.div(f64x2.sub(t, f64x2.mul(w, w)), f64x2.add(s, w));
  const p = f64x2.sub(f64x2.mul(f64x2.mul(f64x2.splat(2.0), s), rt), f64x2.sub(f64x2.splat(PIO2_LO), f64x2.mul(f64x2.splat(2.0), c)));
  const q = f64x2.sub(f64x2.splat(PIO4_HI), f64x2.mul(f64x2.splat(2.0), w));
  const mid = f64x2.sub(f64x2.splat(PIO4_HI), f64x2.sub(p, q));
  const r = v128.bitselect(v128.bitselect(top, mid, f64x2.gt(ax, f64x2.splat(0.975))), small, big);
  const sign = i64x2.splat(0x8000000000000000);
  return v128.or(v128.andnot(r, sign), v128.and(x, sign));
}

/** asin of one vector x ∈ [−1, 1]: Q32 when x² < 2⁻¹⁰ in both lanes, else asinAny. */
// @ts-ignore: decorator
@inline
function asinTiered(x: v128, kc: usize): v128 {
  const t = f64x2.mul(x, x);
  if (v128.any_true(f64x2.ge(t, v128.load(kc, 64)))) return asinAny(x);
  return asinTiniest32T(x, t, kc);
}

/**
 * The arcsines of the four vectors at rx (in place) when the largest x² is ≥ 2⁻⁸: the tiers of
 * i4Sums above Q16, chosen from the same largest x² (out of line: rare, and it keeps the hot loop's
 * registers free).
 */
function i4RareTiers(rx: usize): void {
  const x00 = v128.load(rx), x01 = v128.load(rx, 16), x10 = v128.load(rx, 32), x11 = v128.load(rx, 48);
  const one = f64x2.splat(1.0), mone = f64x2.splat(-1.0);
  const m2 = f64x2.pmax(f64x2.pmax(f64x2.mul(x00, x00), f64x2.mul(x01, x01)), f64x2.pmax(f64x2.mul(x10, x10), f64x2.mul(x11, x11)));
  let a00: v128, a01: v128, a10: v128, a11: v128;
  if (!v128.any_true(f64x2.ge(m2, f64x2.splat(0.015625)))) {
    a00 = asinTiny(x00);
    a01 = asinTiny(x01);
    a10 = asinTiny(x10);
    a11 = asinTiny(x11);
  } else if (v128.any_true(f64x2.ge(m2, f64x2.splat(0.25)))) {
    a00 = asinAny(f64x2.pmin(f64x2.pmax(x00, mone), one));
    a01 = asinAny(f64x2.pmin(f64x2.pmax(x01, mone), one));
    a10 = asinAny(f64x2.pmin(f64x2.pmax(x10, mone), one));
    a11 = asinAny(f64x2.pmin(f64x2.pmax(x11, mone), one));
  } else {
    a00 = asinSmall(x00);
    a01 = asinSmall(x01);
    a10 = asinSmall(x10);
    a11 = asinSmall(x11);
  }
  v128.store(rx, a00);
  v128.store(rx, a01, 16);
  v128.store(rx, a10, 32);
  v128.store(rx, a11, 48);
}

export function i4Sums(n: i32, K: i32, p0: i32, p1: i32, C: usize, w: usize, S: usize, out: usize): void {
  const ld = <usize>(n + 4) << 3;
  const sOff = S, xOff = S + ld, yOff = S + 2 * ld, dOff = S + 3 * ld, uOff = S + 4 * ld, cdOff = S + 5 * ld, cbOff = S + 6 * ld;
  // 22 vectors after the seven arrays: the row constants f0, g0, h0, f1, g1, h1 of the current row pair
  // (rc …), Q32's coefficients and the squared tier bound 2⁻¹⁰ (kc …), four for i4RareTiers (kc + 80),
  // Q16's coefficients and its bound 2⁻⁸ (kd = kc + 144).  The inner loop loads
  // them where they are used (one load each) instead of keeping them in registers: with V8's
  // register allocation that loop otherwise spilled ~25 vectors per iteration.
  const rc = S + 7 * ld, kc = rc + 96;
  v128.store(kc, f64x2.splat(dP0));
  v128.store(kc, f64x2.splat(dP1), 16);
  v128.store(kc, f64x2.splat(dP2), 32);
  v128.store(kc, f64x2.splat(dP3), 48);
  v128.store(kc, f64x2.splat(0.0009765625), 64);
  // Q16's coefficients and the bound 2⁻⁸ of its tier (kd …, after i4RareTiers' four vectors).
  const kd = kc + 144;
  v128.store(kd, f64x2.splat(cP0));
  v128.store(kd, f64x2.splat(cP1), 16);
  v128.store(kd, f64x2.splat(cP2), 32);
  v128.store(kd, f64x2.splat(cP3), 48);
  v128.store(kd, f64x2.splat(cP4), 64);
  v128.store(kd, f64x2.splat(0.00390625), 80);
  for (let b = n; b < n + 4; b++) {
    const bo = <usize>b << 3;
    store<f64>(sOff + bo, 0.0);
    store<f64>(xOff + bo, 0.0);
    store<f64>(yOff + bo, 0.0);
    store<f64>(dOff + bo, 0.0);
    store<f64>(uOff + bo, 0.0);
  }
  // 1 + C_bb and C_bb (contiguous, for the vectorised per-pair set-up); padding 1 and 0.
  for (let b = 0; b < n + 4; b++) {
    const cbb = b < n ? load<f64>(C + ((<usize>(b * n + b)) << 3)) : 0.0;
    store<f64>(cdOff + (<usize>b << 3), 1.0 + cbb);
    store<f64>(cbOff + (<usize>b << 3), cbb);
  }
  const one = f64x2.splat(1.0), mone = f64x2.splat(-1.0);
  // (i, k) of pair p0.
  let i = 0, k = 0, p = 0;
  while (p + (K - i) <= p0) { p += K - i; i++; }
  k = i + (p0 - p);
  for (p = p0; p < p1; p++) {
    const io = <usize>(i * n), ko = <usize>(k * n);
    const c11 = 1.0 + load<f64>(C + ((io + <usize>i) << 3));
    const c22 = 1.0 + load<f64>(C + ((ko + <usize>k) << 3));
    const c12 = load<f64>(C + ((io + <usize>k) << 3));
    const l4 = c11 * c22 - c12 * c12;
    // s, X̂, Ŷ and the diagonal argument r_bb, two b at a time (lane n of an odd n: reset below).
    const c11v = f64x2.splat(c11), c22v = f64x2.splat(c22), c12v = f64x2.splat(c12), l4v = f64x2.splat(l4);
    const rowI = C + (io << 3), rowK = C + (ko << 3);
    for (let b = 0; b < n; b += 2) {
      const bo = <usize>b << 3;
      const al = v128.load(rowI + bo), be = v128.load(rowK + bo);
      const X = f64x2.sub(f64x2.mul(c22v, al), f64x2.mul(c12v, be)), Y = f64x2.sub(f64x2.mul(c11v, be), f64x2.mul(c12v, al));
      const l1 = f64x2.sub(f64x2.sub(f64x2.mul(l4v, v128.load(cdOff + bo)), f64x2.mul(al, X)), f64x2.mul(be, Y));
      const sv = f64x2.div(one, f64x2.sqrt(l1));
      const xs = f64x2.mul(X, sv), ys = f64x2.mul(Y, sv);
      v128.store(sOff + bo, sv);
      v128.store(xOff + bo, xs);
      v128.store(yOff + bo, ys);
      v128.store(dOff + bo, f64x2.mul(sv, f64x2.sub(f64x2.sub(f64x2.mul(f64x2.mul(l4v, v128.load(cbOff + bo)), sv), f64x2.mul(al, xs)), f64x2.mul(be, ys))));
    }
    if (n & 1) {
      const bo = <usize>n << 3;
      store<f64>(sOff + bo, 0.0);
      store<f64>(xOff + bo, 0.0);
      store<f64>(yOff + bo, 0.0);
      store<f64>(dOff + bo, 0.0);
    }
    // d_b = w_b asin(r_bb) (the padded lanes: r = 0, w = 0)
    for (let b = 0; b < n; b += 2) {
      const bo = <usize>b << 3;
      const x = f64x2.pmin(f64x2.pmax(v128.load(dOff + bo), mone), one);
      v128.store(dOff + bo, f64x2.mul(v128.load(w + bo), asinTiered(x, kc)));
    }
    // u_a = w_{a+1} asin(r_{a,a+1}) for even a (the first off-diagonal element of row a, which the
    // two-row loop below does not reach); 0 for odd a.
    for (let a = 0; a < n; a++) {
      const ao = <usize>a << 3;
      let x: f64 = 0;
      if ((a & 1) == 0 && a + 1 < n) {
        const sa = load<f64>(sOff + ao);
        x = sa * (l4 * load<f64>(C + ((<usize>(a * n + a + 1)) << 3)) * load<f64>(sOff + ao, 8)
          - load<f64>(C + ((io + <usize>a) << 3)) * load<f64>(xOff + ao, 8) - load<f64>(C + ((ko + <usize>a) << 3)) * load<f64>(yOff + ao, 8));
      }
      store<f64>(uOff + ao, x);
    }
    for (let a = 0; a < n; a += 2) {
      const ao = <usize>a << 3;
      const x = f64x2.pmin(f64x2.pmax(v128.load(uOff + ao), mone), one);
      // lane 0 (even a): w_{a+1} asin(r_{a,a+1}); lane 1 (odd): asin 0 = 0
      v128.store(uOff + ao, f64x2.mul(v128.load(w + ao, 8), asinTiered(x, kc)));
    }
    let s4: f64 = 0;
    let a = 0;
    for (; a + 1 < n; a += 2) {
      const ao = <usize>a << 3;
      const wa0 = load<f64>(w + ao), wa1 = load<f64>(w + ao, 8);
      const sa0 = load<f64>(sOff + ao), sa1 = load<f64>(sOff + ao, 8);
      const al0 = load<f64>(C + ((io + <usize>a) << 3)), al1 = load<f64>(C + ((io + <usize>a) << 3), 8);
      const be0 = load<f64>(C + ((ko + <usize>a) << 3)), be1 = load<f64>(C + ((ko + <usize>a) << 3), 8);
      v128.store(rc, f64x2.splat(l4 * sa0));
      v128.store(rc, f64x2.splat(al0 * sa0), 16);
      v128.store(rc, f64x2.splat(be0 * sa0), 32);
      v128.store(rc, f64x2.splat(l4 * sa1), 48);
      v128.store(rc, f64x2.splat(al1 * sa1), 64);
      v128.store(rc, f64x2.splat(be1 * sa1), 80);
      const row0 = C + ((<usize>(a * n)) << 3), row1 = row0 + (<usize>n << 3);
      let acc0 = f64x2.splat(0.0), acc2 = f64x2.splat(0.0);
      let b = a + 2;
      for (; b + 2 < n; b += 4) {
        const bo = <usize>b << 3;
        const sv0 = v128.load(sOff + bo), sv1 = v128.load(sOff + bo, 16);
        const xv0 = v128.load(xOff + bo), xv1 = v128.load(xOff + bo, 16);
        const yv0 = v128.load(yOff + bo), yv1 = v128.load(yOff + bo, 16);
        const x00 = f64x2.sub(f64x2.sub(f64x2.mul(f64x2.mul(v128.load(rc), v128.load(row0 + bo)), sv0), f64x2.mul(v128.load(rc, 16), xv0)), f64x2.mul(v128.load(rc, 32), yv0));
        const x01 = f64x2.sub(f64x2.sub(f64x2.mul(f64x2.mul(v128.load(rc), v128.load(row0 + bo, 16)), sv1), f64x2.mul(v128.load(rc, 16), xv1)), f64x2.mul(v128.load(rc, 32), yv1));
        const x10 = f64x2.sub(f64x2.sub(f64x2.mul(f64x2.mul(v128.load(rc, 48), v128.load(row1 + bo)), sv0), f64x2.mul(v128.load(rc, 64), xv0)), f64x2.mul(v128.load(rc, 80), yv0));
        const x11 = f64x2.sub(f64x2.sub(f64x2.mul(f64x2.mul(v128.load(rc, 48), v128.load(row1 + bo, 16)), sv1), f64x2.mul(v128.load(rc, 64), xv1)), f64x2.mul(v128.load(rc, 80), yv1));
        let a00: v128, a01: v128, a10: v128, a11: v128;
        // The tier from the largest x² (x² < 2^-2k ⇔ |x| < 2^-k in floating point, so the same tier
        // as from max |x|, with the same NaN handling of pmax); the squares are Q32's t.
        const t00 = f64x2.mul(x00, x00), t01 = f64x2.mul(x01, x01), t10 = f64x2.mul(x10, x10), t11 = f64x2.mul(x11, x11);
        const m2 = f64x2.pmax(f64x2.pmax(t00, t01), f64x2.pmax(t10, t11));
        if (!v128.any_true(f64x2.ge(m2, v128.load(kc, 64)))) {
          a00 = asinTiniest32T(x00, t00, kc);
          a01 = asinTiniest32T(x01, t01, kc);
          a10 = asinTiniest32T(x10, t10, kc);
          a11 = asinTiniest32T(x11, t11, kc);
        } else if (!v128.any_true(f64x2.ge(m2, v128.load(kd, 80)))) {
          // 1/32 ≤ max |x| < 1/16 (in this run's teacher–teacher block, ~5 % of the groups): Q16.
          a00 = asinTiniestT(x00, t00, kd);
          a01 = asinTiniestT(x01, t01, kd);
          a10 = asinTiniestT(x10, t10, kd);
          a11 = asinTiniestT(x11, t11, kd);
        } else {
          // Rare (some |x| ≥ 1/16): the other tiers out of line, through memory, so that this loop
          // keeps its values in registers.
          const rx = kc + 80;
          v128.store(rx, x00);
          v128.store(rx, x01, 16);
          v128.store(rx, x10, 32);
          v128.store(rx, x11, 48);
          i4RareTiers(rx);
          a00 = v128.load(rx);
          a01 = v128.load(rx, 16);
          a10 = v128.load(rx, 32);
          a11 = v128.load(rx, 48);
        }
        const wv0 = v128.load(w + bo), wv1 = v128.load(w + bo, 16);
        acc0 = f64x2.add(acc0, f64x2.add(f64x2.mul(wv0, a00), f64x2.mul(wv1, a01)));
        acc2 = f64x2.add(acc2, f64x2.add(f64x2.mul(wv0, a10), f64x2.mul(wv1, a11)));
      }
      if (b < n) {
        const bo = <usize>b << 3;
        const sv = v128.load(sOff + bo), xv = v128.load(xOff + bo), yv = v128.load(yOff + bo), wv = v128.load(w + bo);
        const x0 = f64x2.sub(f64x2.sub(f64x2.mul(f64x2.mul(v128.load(rc), v128.load(row0 + bo)), sv), f64x2.mul(v128.load(rc, 16), xv)), f64x2.mul(v128.load(rc, 32), yv));
        const x1 = f64x2.sub(f64x2.sub(f64x2.mul(f64x2.mul(v128.load(rc, 48), v128.load(row1 + bo)), sv), f64x2.mul(v128.load(rc, 64), xv)), f64x2.mul(v128.load(rc, 80), yv));
        const t0 = f64x2.mul(x0, x0), t1 = f64x2.mul(x1, x1);
        let e0: v128, e1: v128;
        if (!v128.any_true(f64x2.ge(f64x2.pmax(t0, t1), v128.load(kc, 64)))) {
          e0 = asinTiniest32T(x0, t0, kc);
          e1 = asinTiniest32T(x1, t1, kc);
        } else {
          e0 = asinAny(f64x2.pmin(f64x2.pmax(x0, mone), one));
          e1 = asinAny(f64x2.pmin(f64x2.pmax(x1, mone), one));
        }
        acc0 = f64x2.add(acc0, f64x2.mul(wv, e0));
        acc2 = f64x2.add(acc2, f64x2.mul(wv, e1));
      }
      const r0 = acc0, r1 = acc2;
      const off0 = load<f64>(uOff + ao) + (f64x2.extract_lane(r0, 0) + f64x2.extract_lane(r0, 1));
      const off1 = f64x2.extract_lane(r1, 0) + f64x2.extract_lane(r1, 1);
      if (wa0 != 0) s4 += wa0 * (load<f64>(dOff + ao) + 2.0 * off0);
      if (wa1 != 0) s4 += wa1 * (load<f64>(dOff + ao, 8) + 2.0 * off1);
    }
    if (a < n) {
      // the last row of an odd n: its diagonal term only
      const wa = load<f64>(w + (<usize>a << 3));
      if (wa != 0) s4 += wa * load<f64>(dOff + (<usize>a << 3));
    }
    store<f64>(out + (<usize>(p - p0) << 3), s4);
    if (++k == K) { i++; k = i; }
  }
}

// ---------------------------------------------------------------------------------------------
// GBS integrator loops (branch ssserial; append-only block): mirror tsGbsAxpy, tsGbsAxpyStab and
// tsGbsExtrapolate of src/kernels/gbs-loops.ts operation for operation.  Lanes hold different
// components; the norms are summed lane 0 then lane 1, in component order, as the reference does.

/** out[i] = x[i] + a·d[i], i < n (out may be x). */
export function gbsAxpy(n: i32, a: f64, x: usize, d: usize, out: usize): void {
  const av = f64x2.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 3;
    const r0 = f64x2.add(v128.load(x + o), f64x2.mul(av, v128.load(d + o)));
    const r1 = f64x2.add(v128.load(x + o, 16), f64x2.mul(av, v128.load(d + o, 16)));
    v128.store(out + o, r0);
    v128.store(out + o, r1, 16);
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(out + o, load<f64>(x + o) + a * load<f64>(d + o));
  }
}

/** gbsAxpy and del[0] = Σ (dz/scal)², del[1] = Σ ((d − dz)/scal)² in component order. */
export function gbsAxpyStab(n: i32, a: f64, x: usize, d: usize, out: usize, dz: usize, scal: usize, del: usize): void {
  const av = f64x2.splat(a);
  let del1: f64 = 0, del2: f64 = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const dv = v128.load(d + o), zv = v128.load(dz + o), sv = v128.load(scal + o);
    v128.store(out + o, f64x2.add(v128.load(x + o), f64x2.mul(av, dv)));
    let q1 = f64x2.div(zv, sv);
    q1 = f64x2.mul(q1, q1);
    let q2 = f64x2.div(f64x2.sub(dv, zv), sv);
    q2 = f64x2.mul(q2, q2);
    del1 += f64x2.extract_lane(q1, 0);
    del2 += f64x2.extract_lane(q2, 0);
    del1 += f64x2.extract_lane(q1, 1);
    del2 += f64x2.extract_lane(q2, 1);
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const di = load<f64>(d + o), dzi = load<f64>(dz + o), si = load<f64>(scal + o);
    store<f64>(out + o, load<f64>(x + o) + a * di);
    const q1 = dzi / si;
    del1 += q1 * q1;
    const q2 = (di - dzi) / si;
    del2 += q2 * q2;
  }
  store<f64>(del, del1);
  store<f64>(del, del2, 8);
}

/**
 * Smoothing step of extrapolation line j into row T_j, then (j ≥ 2) the extrapolation down to T_1 and
 * the error sum (see tsGbsExtrapolate).  Row T_l is at tab1 + (l − 1)·stride bytes; fac[l] at fac + 8l.
 */
export function gbsExtrapolate(
  n: i32, j: i32, hj: f64, yh1: usize, yh2: usize, dy: usize, tab1: usize, stride: usize,
  fac: usize, y: usize, scal: usize, aTol: f64, rTol: f64,
): f64 {
  const hv = f64x2.splat(hj), two = f64x2.splat(2.0);
  const tj = tab1 + <usize>(j - 1) * stride;
  let i = 0;
  if (j == 1) {
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      v128.store(tj + o, f64x2.div(f64x2.add(f64x2.add(v128.load(yh1 + o), v128.load(yh2 + o)), f64x2.mul(hv, v128.load(dy + o))), two));
    }
    for (; i < n; i++) {
      const o = <usize>i << 3;
      store<f64>(tj + o, (load<f64>(yh1 + o) + load<f64>(yh2 + o) + hj * load<f64>(dy + o)) / 2.0);
    }
    return 0;
  }
  const av = f64x2.splat(aTol), rv = f64x2.splat(rTol);
  let err: f64 = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    let cur = f64x2.div(f64x2.add(f64x2.add(v128.load(yh1 + o), v128.load(yh2 + o)), f64x2.mul(hv, v128.load(dy + o))), two);
    v128.store(tj + o, cur);
    let prev = cur;
    let row = tj;
    for (let l = j; l > 1; --l) {
      row -= stride;
      prev = cur;
      cur = f64x2.add(cur, f64x2.div(f64x2.sub(cur, v128.load(row + o)), f64x2.splat(load<f64>(fac + (<usize>l << 3)))));
      v128.store(row + o, cur);
    }
    const s = f64x2.add(av, f64x2.mul(rv, f64x2.max(f64x2.abs(v128.load(y + o)), f64x2.abs(cur))));
    v128.store(scal + o, s);
    let q = f64x2.div(f64x2.sub(cur, prev), s);
    q = f64x2.mul(q, q);
    err += f64x2.extract_lane(q, 0);
    err += f64x2.extract_lane(q, 1);
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    let cur = (load<f64>(yh1 + o) + load<f64>(yh2 + o) + hj * load<f64>(dy + o)) / 2.0;
    store<f64>(tj + o, cur);
    let prev = cur;
    let row = tj;
    for (let l = j; l > 1; --l) {
      row -= stride;
      prev = cur;
      cur = cur + (cur - load<f64>(row + o)) / load<f64>(fac + (<usize>l << 3));
      store<f64>(row + o, cur);
    }
    const s = aTol + rTol * Math.max(Math.abs(load<f64>(y + o)), Math.abs(cur));
    store<f64>(scal + o, s);
    const q = (cur - prev) / s;
    err += q * q;
  }
  return err;
}

// ---------------------------------------------------------------------------------------------
// Sparse row sums by affine runs (branch ssserial; append-only block): mirrors tsRowSums of
// src/kernels/row-sums.ts — per run, i32s [j0, count, len, (col0, step) × len] and one f64 coefficient
// per term; row r of a run is s = 0, s += c_t·x[col0_t + step_t·r] for t = 0 … len − 1.  Two rows per
// vector (different rows in the lanes).  out points at row 0 of the output.

// @ts-ignore: decorator
@inline function rowLanes(xb: usize, st: i32, r: i32): v128 {
  if (st == 1) return v128.load(xb + (<usize>r << 3));
  if (st == 0) return v128.load64_splat(xb);
  const v = v128.load64_zero(xb + (<usize>(st * r) << 3));
  return v128.load64_lane(xb + (<usize>(st * (r + 1)) << 3), v, 1);
}

export function rowSums(ints: usize, coefs: usize, runs: i32, x: usize, out: usize): void {
  const zero = f64x2.splat(0.0);
  let p = ints, pc = coefs;
  for (let q = 0; q < runs; q++) {
    const ob = out + (<usize>load<i32>(p) << 3);
    const cnt = load<i32>(p, 4), len = load<i32>(p, 8);
    p += 12;
    let r = 0;
    if (len == 2) {
      const xb0 = x + (<usize>load<i32>(p) << 3), st0 = load<i32>(p, 4);
      const xb1 = x + (<usize>load<i32>(p, 8) << 3), st1 = load<i32>(p, 12);
      const c0 = f64x2.splat(load<f64>(pc)), c1 = f64x2.splat(load<f64>(pc, 8));
      for (; r + 2 <= cnt; r += 2) {
        let s = f64x2.add(zero, f64x2.mul(c0, rowLanes(xb0, st0, r)));
        s = f64x2.add(s, f64x2.mul(c1, rowLanes(xb1, st1, r)));
        v128.store(ob + (<usize>r << 3), s);
      }
    } else {
      for (; r + 2 <= cnt; r += 2) {
        let s = zero;
        for (let t = 0; t < len; t++) {
          const pt = p + (<usize>t << 3);
          s = f64x2.add(s, f64x2.mul(f64x2.splat(load<f64>(pc + (<usize>t << 3))), rowLanes(x + (<usize>load<i32>(pt) << 3), load<i32>(pt, 4), r)));
        }
        v128.store(ob + (<usize>r << 3), s);
      }
    }
    for (; r < cnt; r++) {
      let s: f64 = 0;
      for (let t = 0; t < len; t++) {
        const pt = p + (<usize>t << 3);
        s += load<f64>(pc + (<usize>t << 3)) * load<f64>(x + (<usize>(load<i32>(pt) + load<i32>(pt, 4) * r) << 3));
      }
      store<f64>(ob + (<usize>r << 3), s);
    }
    p += <usize>len << 3;
    pc += <usize>len << 3;
  }
}

/** 1 if x[0 … n) are all finite, else 0 (mirrors tsAllFinite of src/kernels/gbs-loops.ts): v − v is 0 or NaN. */
export function allFinite(x: usize, n: i32): i32 {
  let acc = f64x2.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 3;
    const a = v128.load(x + o), b = v128.load(x + o, 16);
    acc = f64x2.add(acc, f64x2.add(f64x2.sub(a, a), f64x2.sub(b, b)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) {
    const v = load<f64>(x + (<usize>i << 3));
    s += v - v;
  }
  return s == 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Explicit Runge–Kutta stage combinations (DOP853, src/integrate/dop853.ts): mirrors tsRkCombine of
// src/kernels/rk-combine.ts operation for operation (lanes hold different components).

/**
 * out[i] = base[i] + h·s_i (base = 0: out[i] = h·s_i) with s_i = c_0 k_0[i] + c_1 k_1[i] + … summed
 * left to right, for i < n; the m terms' arrays are at the byte offsets offs[0 … m) (i32) and their
 * coefficients at coefs[0 … m) (f64).  out may be base but no k_j.
 */
export function rkCombine(n: i32, m: i32, offs: usize, coefs: usize, base: usize, h: f64, out: usize): void {
  const hv = f64x2.splat(h);
  const p0: usize = <usize>load<i32>(offs);
  const c0s = load<f64>(coefs);
  const c0 = f64x2.splat(c0s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o: usize = <usize>i << 3;
    let s0 = f64x2.mul(c0, v128.load(p0 + o)), s1 = f64x2.mul(c0, v128.load(p0 + o, 16));
    for (let j = 1; j < m; j++) {
      const pj: usize = <usize>load<i32>(offs + (<usize>j << 2)) + o;
      const cj = f64x2.splat(load<f64>(coefs + (<usize>j << 3)));
      s0 = f64x2.add(s0, f64x2.mul(cj, v128.load(pj)));
      s1 = f64x2.add(s1, f64x2.mul(cj, v128.load(pj, 16)));
    }
    if (base) {
      v128.store(out + o, f64x2.add(v128.load(base + o), f64x2.mul(hv, s0)));
      v128.store(out + o, f64x2.add(v128.load(base + o, 16), f64x2.mul(hv, s1)), 16);
    } else {
      v128.store(out + o, f64x2.mul(hv, s0));
      v128.store(out + o, f64x2.mul(hv, s1), 16);
    }
  }
  for (; i < n; i++) {
    const o: usize = <usize>i << 3;
    let s = c0s * load<f64>(p0 + o);
    for (let j = 1; j < m; j++) s += load<f64>(coefs + (<usize>j << 3)) * load<f64>(<usize>load<i32>(offs + (<usize>j << 2)) + o);
    store<f64>(out + o, base ? load<f64>(base + o) + h * s : h * s);
  }
}

// ---------------------------------------------------------------------------------------------
// Two matrix–vector products with one vector (the LSG24 effective ODE, src/kernels/matvec2.ts):
// u = A w, r = B w for D×D matrices given TRANSPOSED (AT[j·D + i] = A_ij), so that one v128 load
// holds rows i and i + 1 of column j.  Lanes hold different rows; each entry is summed over
// j = 0, 1, … D − 1 in order from +0 (product, then add), exactly as tsMatvec2.

export function matvec2T(D: i32, AT: usize, BT: usize, w: usize, u: usize, r: usize): void {
  const rs: usize = <usize>D << 3;
  let i = 0;
  // Six rows at a time: three v128 sums per matrix, six independent add chains (with four the add
  // latency bounds the loop; with eight V8 hoists the eight loads of an iteration above the adds
  // and spills a sum to the stack).
  for (; i + 6 <= D; i += 6) {
    const o: usize = <usize>i << 3;
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0);
    let b0 = f64x2.splat(0), b1 = f64x2.splat(0), b2 = f64x2.splat(0);
    let pa = AT + o, pb = BT + o;
    for (let j = 0; j < D; j++) {
      const wj = v128.load64_splat(w + (<usize>j << 3));
      a0 = f64x2.add(a0, f64x2.mul(v128.load(pa), wj));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(pa, 16), wj));
      a2 = f64x2.add(a2, f64x2.mul(v128.load(pa, 32), wj));
      b0 = f64x2.add(b0, f64x2.mul(v128.load(pb), wj));
      b1 = f64x2.add(b1, f64x2.mul(v128.load(pb, 16), wj));
      b2 = f64x2.add(b2, f64x2.mul(v128.load(pb, 32), wj));
      pa += rs;
      pb += rs;
    }
    v128.store(u + o, a0); v128.store(u + o, a1, 16); v128.store(u + o, a2, 32);
    v128.store(r + o, b0); v128.store(r + o, b1, 16); v128.store(r + o, b2, 32);
  }
  // Then pairs of rows.
  for (; i + 2 <= D; i += 2) {
    const o: usize = <usize>i << 3;
    let a = f64x2.splat(0), b = f64x2.splat(0);
    let pa = AT + o, pb = BT + o;
    for (let j = 0; j < D; j++) {
      const wj = v128.load64_splat(w + (<usize>j << 3));
      a = f64x2.add(a, f64x2.mul(v128.load(pa), wj));
      b = f64x2.add(b, f64x2.mul(v128.load(pb), wj));
      pa += rs;
      pb += rs;
    }
    v128.store(u + o, a);
    v128.store(r + o, b);
  }
  // The last row of an odd D.
  if (i < D) {
    const o: usize = <usize>i << 3;
    let a: f64 = 0, b: f64 = 0;
    for (let j = 0; j < D; j++) {
      const wj = load<f64>(w + (<usize>j << 3)), q: usize = <usize>j * rs + o;
      a += load<f64>(AT + q) * wj;
      b += load<f64>(BT + q) * wj;
    }
    store<f64>(u + o, a);
    store<f64>(r + o, b);
  }
}

// ---------------------------------------------------------------------------------------------
// Piecewise Chebyshev evaluation of the LSG24 φ tables (mirrors tsChebPanels of
// src/kernels/cheb-panels.ts operation for operation; lanes hold different points).  For each i:
// panel l = the last p with edges[p] ≤ θ_i (binary search over p = 0 … last), t = (2θ − e_l − e_{l+1})
// / (e_{l+1} − e_l), Clenshaw b_k = 2t b_{k+1} − b_{k+2} + c_{l,k} for k = deg … 1 (two steps per
// round, b_k into b_{k+2}'s slot), v = t b_1 − b_2 + c_{l,0}, out_i = a_i < 0 ? −v : v.

// @ts-ignore: decorator
@inline
function chebPanel(edges: usize, last: i32, th: f64): i32 {
  let lo = 0, hi = last;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (load<f64>(edges + (<usize>mid << 3)) <= th) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// @ts-ignore: decorator
@inline
function chebT(edges: usize, l: i32, th: f64): f64 {
  const e0 = load<f64>(edges + (<usize>l << 3)), e1 = load<f64>(edges + (<usize>l << 3), 8);
  return (2 * th - e0 - e1) / (e1 - e0);
}

export function chebPanels(n: i32, th: usize, a: usize, edges: usize, last: i32, coefs: usize, deg: i32, out: usize): void {
  const cs: usize = <usize>(deg + 1) << 3; // bytes per panel
  const zero = f64x2.splat(0);
  let i = 0;
  // Eight points at a time: four v128 recurrences of two lanes each.
  for (; i + 8 <= n; i += 8) {
    const o: usize = <usize>i << 3;
    const th0 = load<f64>(th + o), th1 = load<f64>(th + o, 8), th2 = load<f64>(th + o, 16), th3 = load<f64>(th + o, 24);
    const th4 = load<f64>(th + o, 32), th5 = load<f64>(th + o, 40), th6 = load<f64>(th + o, 48), th7 = load<f64>(th + o, 56);
    const l0 = chebPanel(edges, last, th0), l1 = chebPanel(edges, last, th1), l2 = chebPanel(edges, last, th2), l3 = chebPanel(edges, last, th3);
    const l4 = chebPanel(edges, last, th4), l5 = chebPanel(edges, last, th5), l6 = chebPanel(edges, last, th6), l7 = chebPanel(edges, last, th7);
    const tA = f64x2.replace_lane(f64x2.splat(chebT(edges, l0, th0)), 1, chebT(edges, l1, th1));
    const tB = f64x2.replace_lane(f64x2.splat(chebT(edges, l2, th2)), 1, chebT(edges, l3, th3));
    const tC = f64x2.replace_lane(f64x2.splat(chebT(edges, l4, th4)), 1, chebT(edges, l5, th5));
    const tD = f64x2.replace_lane(f64x2.splat(chebT(edges, l6, th6)), 1, chebT(edges, l7, th7));
    const c0 = coefs + <usize>l0 * cs, c1 = coefs + <usize>l1 * cs, c2 = coefs + <usize>l2 * cs, c3 = coefs + <usize>l3 * cs;
    const c4 = coefs + <usize>l4 * cs, c5 = coefs + <usize>l5 * cs, c6 = coefs + <usize>l6 * cs, c7 = coefs + <usize>l7 * cs;
    const uA = f64x2.add(tA, tA), uB = f64x2.add(tB, tB), uC = f64x2.add(tC, tC), uD = f64x2.add(tD, tD);
    let pA = zero, qA = zero, pB = zero, qB = zero, pC = zero, qC = zero, pD = zero, qD = zero;
    let k = deg;
    for (; k >= 2; k -= 2) {
      const ko: usize = <usize>k << 3, k1: usize = ko - 8;
      qA = f64x2.add(f64x2.sub(f64x2.mul(uA, pA), qA), v128.load64_lane(c1 + ko, v128.load64_zero(c0 + ko), 1));
      qB = f64x2.add(f64x2.sub(f64x2.mul(uB, pB), qB), v128.load64_lane(c3 + ko, v128.load64_zero(c2 + ko), 1));
      qC = f64x2.add(f64x2.sub(f64x2.mul(uC, pC), qC), v128.load64_lane(c5 + ko, v128.load64_zero(c4 + ko), 1));
      qD = f64x2.add(f64x2.sub(f64x2.mul(uD, pD), qD), v128.load64_lane(c7 + ko, v128.load64_zero(c6 + ko), 1));
      pA = f64x2.add(f64x2.sub(f64x2.mul(uA, qA), pA), v128.load64_lane(c1 + k1, v128.load64_zero(c0 + k1), 1));
      pB = f64x2.add(f64x2.sub(f64x2.mul(uB, qB), pB), v128.load64_lane(c3 + k1, v128.load64_zero(c2 + k1), 1));
      pC = f64x2.add(f64x2.sub(f64x2.mul(uC, qC), pC), v128.load64_lane(c5 + k1, v128.load64_zero(c4 + k1), 1));
      pD = f64x2.add(f64x2.sub(f64x2.mul(uD, qD), pD), v128.load64_lane(c7 + k1, v128.load64_zero(c6 + k1), 1));
    }
    if (k == 1) { // odd degree: one more step
      let b = f64x2.add(f64x2.sub(f64x2.mul(uA, pA), qA), v128.load64_lane(c1 + 8, v128.load64_zero(c0 + 8), 1)); qA = pA; pA = b;
      b = f64x2.add(f64x2.sub(f64x2.mul(uB, pB), qB), v128.load64_lane(c3 + 8, v128.load64_zero(c2 + 8), 1)); qB = pB; pB = b;
      b = f64x2.add(f64x2.sub(f64x2.mul(uC, pC), qC), v128.load64_lane(c5 + 8, v128.load64_zero(c4 + 8), 1)); qC = pC; pC = b;
      b = f64x2.add(f64x2.sub(f64x2.mul(uD, pD), qD), v128.load64_lane(c7 + 8, v128.load64_zero(c6 + 8), 1)); qD = pD; pD = b;
    }
    const vA = f64x2.add(f64x2.sub(f64x2.mul(tA, pA), qA), v128.load64_lane(c1, v128.load64_zero(c0), 1));
    const vB = f64x2.add(f64x2.sub(f64x2.mul(tB, pB), qB), v128.load64_lane(c3, v128.load64_zero(c2), 1));
    const vC = f64x2.add(f64x2.sub(f64x2.mul(tC, pC), qC), v128.load64_lane(c5, v128.load64_zero(c4), 1));
    const vD = f64x2.add(f64x2.sub(f64x2.mul(tD, pD), qD), v128.load64_lane(c7, v128.load64_zero(c6), 1));
    v128.store(out + o, v128.bitselect(f64x2.neg(vA), vA, f64x2.lt(v128.load(a + o), zero)));
    v128.store(out + o, v128.bitselect(f64x2.neg(vB), vB, f64x2.lt(v128.load(a + o, 16), zero)), 16);
    v128.store(out + o, v128.bitselect(f64x2.neg(vC), vC, f64x2.lt(v128.load(a + o, 32), zero)), 32);
    v128.store(out + o, v128.bitselect(f64x2.neg(vD), vD, f64x2.lt(v128.load(a + o, 48), zero)), 48);
  }
  // The rest one at a time (scalar, the same operations).
  for (; i < n; i++) {
    const o: usize = <usize>i << 3;
    const t0 = load<f64>(th + o);
    const l = chebPanel(edges, last, t0);
    const t = chebT(edges, l, t0), u = t + t, c = coefs + <usize>l * cs;
    let p: f64 = 0, q: f64 = 0;
    let k = deg;
    for (; k >= 2; k -= 2) {
      q = u * p - q + load<f64>(c + (<usize>k << 3));
      p = u * q - p + load<f64>(c + (<usize>(k - 1) << 3));
    }
    if (k == 1) { const b = u * p - q + load<f64>(c + 8); q = p; p = b; }
    const v = t * p - q + load<f64>(c);
    store<f64>(out + o, load<f64>(a + o) < 0 ? -v : v);
  }
}
