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
      const f0 = rowFn(kind, l0, a, c, d, y, v, b), f1 = rowFn(kind, l1, a, c, d, y, v, b);
      const f2 = rowFn(kind, l2, a, c, d, y, v, b), f3 = rowFn(kind, l3, a, c, d, y, v, b);
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
