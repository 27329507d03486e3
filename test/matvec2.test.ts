/**
 * src/kernels/matvec2.ts: the two products u = A w, r = B w of the LSG24 effective ODE.  Both
 * backends must give the bits of the plain row-at-a-time sums (each entry over j in increasing
 * order from +0), with the matrices read in place (resident, exactly symmetric) or copied
 * transposed; and lsgRhs, which uses them, the bits of the formula written out naively.
 */
import { afterEach, describe, expect, it } from "vitest";
import { allocResident, kernelBackend, setKernelBackend, simdAvailable } from "../src/kernels/index.js";
import { Matvec2, exactlySymmetric, tsMatvec2 } from "../src/kernels/matvec2.js";
import { denseCirculant, lsgRhs, makePhi } from "../src/theory/lsg24.js";
import { makeField, makeMarginal } from "../src/data/marginals.js";
import { Rng } from "../src/stats/rng.js";

const initial = kernelBackend();
afterEach(() => { setKernelBackend(initial); });

/** Entries over several decades and both signs, so that a changed summation order changes bits. */
function wide(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n);
  for (let k = 0; k < n; k++) a[k] = (rng.uniform() - 0.5) * Math.pow(10, 6 * rng.uniform() - 3);
  return a;
}

function naive(D: number, M: Float64Array, w: Float64Array): Float64Array {
  const y = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += M[i * D + j] * w[j];
    y[i] = s;
  }
  return y;
}

const bits = (a: Float64Array) => Array.from(a, (x) => (Object.is(x, -0) ? "-0" : x.toString()));
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 40, 41, 64, 100];

describe("tsMatvec2 (the reference)", () => {
  it("gives the bits of one row at a time, for every D (blocks of four and the rest)", () => {
    const rng = new Rng(11);
    for (const D of SIZES) {
      const A = wide(D * D, rng), B = wide(D * D, rng), w = wide(D, rng);
      const u = new Float64Array(D), r = new Float64Array(D);
      tsMatvec2(D, A, B, w, u, r);
      expect(bits(u), `D = ${D}`).toEqual(bits(naive(D, A, w)));
      expect(bits(r), `D = ${D}`).toEqual(bits(naive(D, B, w)));
    }
  });

  it("a changed summation order would show: the wide entries are order-sensitive", () => {
    const rng = new Rng(12);
    const D = 40, A = wide(D * D, rng), w = wide(D, rng);
    const fwd = naive(D, A, w);
    const rev = new Float64Array(D);
    for (let i = 0; i < D; i++) {
      let s = 0;
      for (let j = D - 1; j >= 0; j--) s += A[i * D + j] * w[j];
      rev[i] = s;
    }
    expect(bits(rev)).not.toEqual(bits(fwd));
  });
});

describe("exactlySymmetric", () => {
  it("accepts a symmetric matrix (±0 equal), rejects one changed entry or a NaN", () => {
    const D = 5, rng = new Rng(13), A = new Float64Array(D * D);
    for (let i = 0; i < D; i++) for (let j = i; j < D; j++) A[i * D + j] = A[j * D + i] = rng.normal();
    expect(exactlySymmetric(D, A)).toBe(true);
    A[1] = 0; A[D] = -0;
    expect(exactlySymmetric(D, A)).toBe(true);
    A[2 * D + 3] = A[3 * D + 2] + 1e-16 * Math.abs(A[3 * D + 2]) + Number.MIN_VALUE;
    expect(exactlySymmetric(D, A)).toBe(false);
    A[2 * D + 3] = A[3 * D + 2];
    A[4] = A[4 * D] = NaN;
    expect(exactlySymmetric(D, A)).toBe(false);
  });
});

describe("Matvec2: SIMD = TS, bit for bit", () => {
  it.skipIf(!simdAvailable())("copied transposed (plain, non-symmetric matrices) and read in place (resident, symmetric)", () => {
    const rng = new Rng(14);
    for (const D of SIZES) {
      const A = wide(D * D, rng), B = wide(D * D, rng), w = wide(D, rng);
      // Symmetric resident versions.
      setKernelBackend("wasm-simd");
      const As = allocResident(D * D), Bs = allocResident(D * D);
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) {
        As[i * D + j] = A[Math.min(i, j) * D + Math.max(i, j)];
        Bs[i * D + j] = B[Math.min(i, j) * D + Math.max(i, j)];
      }
      for (const [X, Y, inPlace] of [[A, B, false], [As, Bs, true], [As, B, null]] as const) {
        const ref = { u: naive(D, X, w), r: naive(D, Y, w) };
        for (const b of ["ts", "wasm-simd"] as const) {
          setKernelBackend(b);
          const mv = new Matvec2(D, X, Y);
          expect(mv.backend).toBe(b);
          if (b === "wasm-simd" && inPlace !== null) expect(mv.inPlace).toEqual([inPlace, inPlace]);
          if (b === "wasm-simd" && inPlace === null) expect(mv.inPlace).toEqual([true, false]);
          mv.w.set(w);
          mv.run();
          expect(bits(mv.u), `${b}, D = ${D}`).toEqual(bits(ref.u));
          expect(bits(mv.r), `${b}, D = ${D}`).toEqual(bits(ref.r));
          // A second vector through the same instance.
          const w2 = wide(D, rng);
          mv.w.set(w2);
          mv.run();
          expect(bits(mv.u)).toEqual(bits(naive(D, X, w2)));
          expect(bits(mv.r)).toEqual(bits(naive(D, Y, w2)));
          mv.release();
        }
      }
    }
  });

  it("rejects bad sizes with a clear error", () => {
    expect(() => new Matvec2(0, new Float64Array(1), new Float64Array(1))).toThrow(/D must be an integer ≥ 1/);
    expect(() => new Matvec2(3, new Float64Array(9), new Float64Array(8))).toThrow(/need D² = 9 entries/);
  });
});

describe("lsgRhs on Matvec2", () => {
  /** dw = ½[φ(a) − S w], a = u/√(wᵀu), u = Σ1 w, written out one row at a time. */
  function naiveRhs(D: number, S1: Float64Array, S: Float64Array, phi: (a: number) => number, w: Float64Array): Float64Array {
    const u = naive(D, S1, w), r = naive(D, S, w);
    let q = 0;
    for (let i = 0; i < D; i++) q += w[i] * u[i];
    const inv = q > 0 ? 1 / Math.sqrt(q) : 0;
    return Float64Array.from(u, (ui, i) => 0.5 * (phi(Math.min(1, Math.max(-1, ui * inv))) - r[i]));
  }

  it("the ring covariances of an lsg run are exactly symmetric, so the SIMD products read them in place", () => {
    const geom = { dim: 1 as const, L: 40 };
    for (const spec of [{ xi: 0.3, marginal: { kind: "nlgp", gain: 3 } }, { xi: 0.7, marginal: { kind: "gaussian" } }]) {
      const row = makeField(geom, spec as never).sampler.covarianceRow();
      expect(exactlySymmetric(40, denseCirculant(40, 1, row))).toBe(true);
    }
    const row2 = makeField({ dim: 2, L: 8 }, { xi: 1.5, marginal: { kind: "gaussian" } } as never).sampler.covarianceRow();
    expect(exactlySymmetric(64, denseCirculant(8, 2, row2))).toBe(true);
  });

  it("gives the naive formula's bits on both backends (resident symmetric matrices, as lsg runs use)", () => {
    const D = 40, rng = new Rng(15);
    const row1 = makeField({ dim: 1, L: D }, { xi: 0.7, marginal: { kind: "gaussian" } } as never).sampler.covarianceRow();
    const row0 = makeField({ dim: 1, L: D }, { xi: 0.3, marginal: { kind: "gaussian" } } as never).sampler.covarianceRow();
    const S1p = denseCirculant(D, 1, row1), S0 = denseCirculant(D, 1, row0);
    const phi = (a: number) => Math.tanh(2 * a);
    const w = wide(D, rng);
    for (const b of simdAvailable() ? (["ts", "wasm-simd"] as const) : (["ts"] as const)) {
      setKernelBackend(b);
      const S1 = allocResident(D * D), S = allocResident(D * D);
      S1.set(S1p);
      for (let k = 0; k < D * D; k++) S[k] = S0[k] + S1[k];
      const f = lsgRhs({ D, sigma1: S1, sum: S, phi });
      const dw = new Float64Array(D);
      f(0, w, dw);
      expect(bits(dw), b).toEqual(bits(naiveRhs(D, S1, S, phi, w)));
    }
  });

  it("a vector φ (phiMany, the tabulated φ of an NLGP marginal) gives the bits of φ one at a time", () => {
    const D = 41, rng = new Rng(16);
    const row = makeField({ dim: 1, L: D }, { xi: 0.7, marginal: { kind: "gaussian" } } as never).sampler.covarianceRow();
    const S1 = denseCirculant(D, 1, row), S = Float64Array.from(S1, (x) => 2 * x);
    const { phi, phiMany } = makePhi(makeMarginal({ kind: "nlgp", gain: 3, convention: "lsg24" }));
    expect(phiMany).toBeDefined();
    const w = wide(D, rng), one = new Float64Array(D), many = new Float64Array(D);
    lsgRhs({ D, sigma1: S1, sum: S, phi })(0, w, one);
    lsgRhs({ D, sigma1: S1, sum: S, phi, phiMany })(0, w, many);
    expect(bits(many)).toEqual(bits(one));
    expect(bits(one)).toEqual(bits(naiveRhs(D, S1, S, phi, w)));
  });
});
