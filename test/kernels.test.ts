/**
 * Kernels (src/kernels): the pure-TS reference against naive triple loops written out here, and the
 * WebAssembly-SIMD backend against the TS reference.  The SIMD kernels are built to repeat the exact
 * floating-point operation sequence of the reference (lanes hold different output entries), so they
 * are compared for bit equality (stronger than the 1e-12 agreement asked for); the only exception is
 * the Erf row function (erf and exp computed inside wasm), compared to 1e-13 relative to the size of
 * the terms.  Sizes include n = 0 and 1, odd D, D not a multiple of 2 or 4, r not a multiple of 4, and
 * sizes across the 256-wide packing blocks of the GEMM.
 */
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import {
  gemm, gemv, kernelBackend, pin, setKernelBackend, simdAvailable, syrkWeighted, tsGemm, tsGemv,
  tsSyrkWeighted, unpin, type KernelBackend, allocResident, isResident, releaseResident, residentSubarray,
} from "../src/kernels/index.js";
import { wasmKernels } from "../src/kernels/wasm.js";
import { erf } from "../src/stats/special.js";
import { Rng } from "../src/stats/rng.js";
import { RowFn, buildSingleNeuronFlow, denseCovariance, fusedRowPass, fusedRowPassRange, rowDot, tsFusedRowPass } from "../src/theory/single-neuron.js";
import { deriveFlowCoefficients } from "../src/theory/coefficients.js";
import { ImplicitCumulantLoss, cpSamplePass, sampleCumulantNormSq, secondMoment } from "../src/cp/loss.js";
import { checkGradient } from "../src/optim/gradcheck.js";

const initial = kernelBackend();
afterAll(() => {
  setKernelBackend(initial);
});

function rand(n: number, rng: Rng, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/** Runs body under `b` and restores the previous backend. */
function withBackend<T>(b: KernelBackend, body: () => T): T {
  const prev = setKernelBackend(b);
  try {
    return body();
  } finally {
    setKernelBackend(prev);
  }
}

/** Index of the first entry where a and b differ bitwise (NaN equal to NaN), or −1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

/** max_i |a_i − b_i| / scale_i. */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>, scale: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(scale[i], 1e-300));
  return m;
}

const hasSimd = simdAvailable();

describe("kernel backend selection", () => {
  it("defaults to wasm-simd when the SIMD module is available, and the module validates here (Node ≥ 20)", () => {
    // Node 20 ships WebAssembly SIMD; the global setup builds the binary.  If this fails, the
    // kernels silently fell back to TS: the build or the loader is broken.
    expect(hasSimd).toBe(true);
    if (process.env.RFDYN_KERNELS === undefined) expect(initial).toBe("wasm-simd");
  });

  it("RFDYN_KERNELS=ts forces the TS kernels, an unknown value is a clear error", () => {
    const tsx = "node_modules/.bin/tsx";
    const code = 'import { kernelBackend } from "./src/kernels/index.ts"; console.log(kernelBackend());';
    const out = execFileSync(tsx, ["-e", code], { env: { ...process.env, RFDYN_KERNELS: "ts" }, encoding: "utf8" });
    expect(out.trim()).toBe("ts");
    let msg = "";
    try {
      execFileSync(tsx, ["-e", code], { env: { ...process.env, RFDYN_KERNELS: "gpu" }, encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      msg = String((e as { stderr?: string }).stderr);
    }
    expect(msg).toContain('RFDYN_KERNELS must be ts, wasm or auto (got "gpu")');
  });

  it("setKernelBackend rejects unknown names", () => {
    expect(() => setKernelBackend("gpu" as KernelBackend)).toThrow(/wasm-simd.*ts/);
  });
});

describe("TS reference kernels against naive triple loops", () => {
  const rng = new Rng(11);
  it("gemm (all transposes, α, β incl. 0 with NaN in C) to 1e-13 of Σ|terms|", () => {
    for (const [m, n, k] of [[1, 1, 1], [3, 5, 7], [8, 4, 1], [13, 9, 31], [0, 3, 2], [2, 3, 0]]) {
      for (const tA of [false, true]) for (const tB of [false, true]) for (const [alpha, beta] of [[1, 0], [0.7, 1], [-1.3, 0.25]]) {
        const A = rand(m * k, rng), B = rand(k * n, rng), C0 = rand(m * n, rng);
        if (beta === 0 && m * n > 0) C0[0] = NaN;
        const C = C0.slice();
        tsGemm(tA, tB, m, n, k, alpha, A, B, beta, C);
        const ref = new Float64Array(m * n), scale = new Float64Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let s = 0, sa = 0;
          for (let p = 0; p < k; p++) {
            const a = tA ? A[p * m + i] : A[i * k + p], b = tB ? B[j * k + p] : B[p * n + j];
            s += a * b;
            sa += Math.abs(a * b);
          }
          const c = beta === 0 ? 0 : beta * C0[i * n + j];
          ref[i * n + j] = alpha * s + c;
          scale[i * n + j] = Math.abs(alpha) * sa + Math.abs(c);
        }
        expect(maxRel(C, ref, scale)).toBeLessThan(1e-13);
      }
    }
  });

  it("gemv (both forms) and weighted syrk (both triangles) to 1e-13 of Σ|terms|", () => {
    for (const [m, n] of [[1, 1], [4, 7], [9, 2], [0, 3]]) for (const trans of [false, true]) for (const beta of [0, 0.5]) {
      const A = rand(m * n, rng), x = rand(trans ? m : n, rng), y0 = rand(trans ? n : m, rng);
      const y = y0.slice();
      tsGemv(trans, m, n, 1.5, A, x, beta, y);
      const ref = new Float64Array(y.length), scale = new Float64Array(y.length);
      for (let o = 0; o < y.length; o++) {
        let s = 0, sa = 0;
        for (let q = 0; q < (trans ? m : n); q++) {
          const t = (trans ? A[q * n + o] : A[o * n + q]) * x[q];
          s += t;
          sa += Math.abs(t);
        }
        ref[o] = 1.5 * s + beta * y0[o];
        scale[o] = 1.5 * sa + Math.abs(beta * y0[o]);
      }
      expect(maxRel(y, ref, scale)).toBeLessThan(1e-13);
    }
    for (const [n, D] of [[1, 1], [5, 3], [17, 6], [0, 4]]) for (const weighted of [false, true]) {
      const X = rand(n * D, rng), s = weighted ? rand(n, rng) : null, C0 = rand(D * D, rng);
      const C = C0.slice();
      tsSyrkWeighted(X, n, D, s, 0.8, 0.5, C);
      const ref = new Float64Array(D * D), scale = new Float64Array(D * D);
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) {
        let acc = 0, sa = 0;
        for (let nu = 0; nu < n; nu++) {
          const t = (s ? s[nu] : 1) * X[nu * D + i] * X[nu * D + j];
          acc += t;
          sa += Math.abs(t);
        }
        // The kernel keeps the upper triangle's β·C and mirrors it.
        const c = 0.5 * C0[Math.min(i, j) * D + Math.max(i, j)];
        ref[i * D + j] = 0.8 * acc + c;
        scale[i * D + j] = 0.8 * sa + Math.abs(c);
      }
      expect(maxRel(C, ref, scale)).toBeLessThan(1e-13);
    }
  });

  it("the row pass over a row range equals the naive Σ f(x·w) x (every kind), and chunks at multiples of 8 add up bitwise", () => {
    const D = 13, n = 37;
    const X = rand(n * D, rng), w = rand(D, rng, 0.3);
    const pars = { a: 0.7, c: 0.4, d: 0.2, y: 1, v: 0.9, b: -0.5 };
    const f = (kind: RowFn, lam: number): number => {
      const { a, c, d, y, v, b } = pars;
      const h = lam + b;
      if (kind === RowFn.Linear) return a * lam;
      if (kind === RowFn.Cubic) return a * lam + c * lam ** 3;
      if (kind === RowFn.Erf) return a * (y - v * erf(h / Math.SQRT2)) * Math.sqrt(2 / Math.PI) * Math.exp(-h * h / 2);
      return a * (y - v * (c * h - (d / 3) * h ** 3)) * (c - d * h * h);
    };
    for (const kind of [RowFn.Linear, RowFn.Cubic, RowFn.Erf, RowFn.CubicNeuron]) for (const [n0, n1] of [[0, n], [3, 30], [5, 6], [7, 7]]) {
      const out = new Float64Array(D);
      const ss = tsFusedRowPass(X, n0, n1, D, w, out, kind, pars.a, pars.c, pars.d, pars.y, pars.v, pars.b);
      const ref = new Float64Array(D), scale = new Float64Array(D);
      let ssRef = 0;
      for (let nu = n0; nu < n1; nu++) {
        let lam = 0;
        for (let i = 0; i < D; i++) lam += X[nu * D + i] * w[i];
        ssRef += lam * lam;
        const fl = f(kind, lam);
        for (let i = 0; i < D; i++) { ref[i] += fl * X[nu * D + i]; scale[i] += Math.abs(fl * X[nu * D + i]); }
      }
      expect(maxRel(out, ref, scale)).toBeLessThan(1e-13);
      expect(Math.abs(ss - ssRef)).toBeLessThanOrEqual(1e-13 * Math.max(ssRef, 1e-300));
    }
    const whole = new Float64Array(D), parts = new Float64Array(D);
    tsFusedRowPass(X, 0, 32, D, w, whole, RowFn.Cubic, 0.5, 0.3);
    tsFusedRowPass(X, 0, 16, D, w, parts, RowFn.Cubic, 0.5, 0.3);
    tsFusedRowPass(X, 16, 32, D, w, parts, RowFn.Cubic, 0.5, 0.3);
    expect(firstDiff(whole, parts)).toBe(-1);
  });

  it("the CP sample pass equals naive sums, and row chunks at multiples of 64 accumulate bitwise to the full pass", () => {
    const D = 7, P = 150, r = 5;
    const X = rand(P * D, rng), U = rand(3 + r * D, rng, 0.4);
    const s2 = new Float64Array(r), s4 = new Float64Array(r), A = new Float64Array(r * D), B = new Float64Array(r * D);
    withBackend("ts", () => cpSamplePass(X, D, 0, P, U, 3, r, s2, s4, A, B));
    const e2 = new Float64Array(r), e4 = new Float64Array(r), eA = new Float64Array(r * D), eB = new Float64Array(r * D);
    const sA = new Float64Array(r * D);
    for (let nu = 0; nu < P; nu++) for (let a = 0; a < r; a++) {
      let y = 0;
      for (let i = 0; i < D; i++) y += X[nu * D + i] * U[3 + a * D + i];
      e2[a] += y * y;
      e4[a] += y ** 4;
      for (let i = 0; i < D; i++) {
        eA[a * D + i] += y ** 3 * X[nu * D + i];
        sA[a * D + i] += Math.abs(y ** 3 * X[nu * D + i]);
        eB[a * D + i] += y * X[nu * D + i];
      }
    }
    expect(maxRel(s2, e2, e2)).toBeLessThan(1e-13);
    expect(maxRel(s4, e4, e4)).toBeLessThan(1e-13);
    expect(maxRel(A, eA, sA)).toBeLessThan(1e-13);
    for (const be of ["ts", ...(hasSimd ? ["wasm-simd"] : [])] as KernelBackend[]) {
      const c2 = new Float64Array(r), c4 = new Float64Array(r), cA = new Float64Array(r * D), cB = new Float64Array(r * D);
      withBackend(be, () => {
        cpSamplePass(X, D, 0, 64, U, 3, r, c2, c4, cA, cB);
        cpSamplePass(X, D, 64, 128, U, 3, r, c2, c4, cA, cB);
        cpSamplePass(X, D, 128, P, U, 3, r, c2, c4, cA, cB);
      });
      expect([firstDiff(c2, s2), firstDiff(c4, s4), firstDiff(cA, A), firstDiff(cB, B)]).toEqual([-1, -1, -1, -1]);
    }
  });
});

describe.runIf(hasSimd)("WebAssembly-SIMD kernels against the TS reference (bit-identical)", () => {
  const rng = new Rng(23);

  it("gemm: every transpose, α, β, sizes 0, 1, odd, and across the 256-wide packing blocks", () => {
    const shapes = [[1, 1, 1], [2, 3, 5], [5, 7, 9], [4, 4, 4], [17, 33, 65], [3, 261, 7], [6, 2, 300], [29, 30, 513], [0, 5, 5], [5, 0, 5], [5, 5, 0], [33, 258, 40]];
    for (const [m, n, k] of shapes) for (const tA of [false, true]) for (const tB of [false, true]) for (const [alpha, beta] of [[1, 0], [1.3, 1], [-0.6, 0.5]]) {
      const A = rand(m * k, rng), B = rand(k * n, rng), C0 = rand(m * n, rng);
      const Ct = C0.slice(), Cw = C0.slice();
      tsGemm(tA, tB, m, n, k, alpha, A, B, beta, Ct);
      withBackend("wasm-simd", () => {
        expect(wasmKernels()!.gemm(tA, tB, m, n, k, alpha, A, B, beta, Cw)).toBe(true);
      });
      expect(firstDiff(Ct, Cw)).toBe(-1);
      // The dispatching entry point gives the same (whichever path it takes for this size).
      const Cd = C0.slice();
      withBackend("wasm-simd", () => gemm(tA, tB, m, n, k, alpha, A, B, beta, Cd));
      expect(firstDiff(Ct, Cd)).toBe(-1);
    }
  });

  it("gemv (both forms) and weighted syrk (D = 1 … 263, n = 0 … 700, with and without weights)", () => {
    const wk = wasmKernels()!;
    for (const [m, n] of [[1, 1], [3, 5], [4, 8], [7, 1], [101, 99], [1, 300], [64, 65]]) for (const trans of [false, true]) for (const beta of [0, 1, -0.4]) {
      const A = rand(m * n, rng), x = rand(trans ? m : n, rng), y0 = rand(trans ? n : m, rng);
      const yt = y0.slice(), yw = y0.slice();
      tsGemv(trans, m, n, 0.9, A, x, beta, yt);
      expect(wk.gemv(trans, m, n, 0.9, A, x, beta, yw)).toBe(true);
      expect(firstDiff(yt, yw)).toBe(-1);
    }
    for (const [n, D] of [[1, 1], [0, 5], [3, 2], [10, 7], [33, 17], [700, 4], [300, 263], [257, 64]]) for (const weighted of [false, true]) for (const beta of [0, 0.5]) {
      const X = rand(n * D, rng), s = weighted ? rand(n, rng) : null, C0 = rand(D * D, rng);
      const Ct = C0.slice(), Cw = C0.slice();
      tsSyrkWeighted(X, n, D, s, 1.1, beta, Ct);
      expect(wk.syrk(X, n, D, s, 1.1, beta, Cw)).toBe(true);
      expect(firstDiff(Ct, Cw)).toBe(-1);
      const Cd = C0.slice();
      withBackend("wasm-simd", () => syrkWeighted(X, n, D, s, 1.1, beta, Cd));
      expect(firstDiff(Ct, Cd)).toBe(-1);
    }
  });

  it("secondMoment is the same on both backends and equals (1/P) XᵀX", () => {
    const P = 301, D = 45;
    const X = rand(P * D, rng);
    const Ct = withBackend("ts", () => secondMoment(X, P, D)), Cw = withBackend("wasm-simd", () => secondMoment(X, P, D));
    expect(firstDiff(Ct, Cw)).toBe(-1);
    for (const [i, j] of [[0, 0], [3, 44], [44, 3], [20, 21]]) {
      let s = 0;
      for (let nu = 0; nu < P; nu++) s += X[nu * D + i] * X[nu * D + j];
      expect(Cw[i * D + j]).toBeCloseTo(s / P, 13);
    }
  });

  it("‖ΔT‖² from samples (Gram blocks, C·x and C² on the GEMM kernel) is the same on both backends", () => {
    for (const [P, D] of [[1, 3], [70, 5], [1100, 9]]) {
      const X = rand(P * D, rng);
      const C = secondMoment(X, P, D);
      const a = withBackend("ts", () => sampleCumulantNormSq(X, P, D, C));
      const b = withBackend("wasm-simd", () => sampleCumulantNormSq(X, P, D, C));
      expect(Object.is(a, b)).toBe(true);
      expect(a).toBeGreaterThan(0);
    }
  });

  it("dense covariance operator (gemv on the pinned C) is the same on both backends and equals Σ_j C_ij w_j", () => {
    for (const D of [5, 70, 129]) {
      const C = rand(D * D, rng), w = rand(D, rng);
      const op = denseCovariance(C, D);
      const a = new Float64Array(D), b = new Float64Array(D), ref = new Float64Array(D);
      withBackend("ts", () => op.apply(w, a));
      withBackend("wasm-simd", () => op.apply(w, b));
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) ref[i] += C[i * D + j] * w[j];
      expect([firstDiff(a, b), firstDiff(a, ref)]).toEqual([-1, -1]);
    }
  });

  it("the row pass follows its documented fixed order bit for bit: λ = (S0 + S2) + (S1 + S3), S_k = Σ_{j≡k mod 4} x_j w_j; blocks of four", () => {
    // The order is part of the results (goldens, TS = SIMD): pin it against a direct transcription.
    const spec = (x: Float64Array, o: number, w: Float64Array, D: number): number => {
      const S = [0, 0, 0, 0];
      for (let j = 0; j < D; j++) S[j % 4] += x[o + j] * w[j];
      return (S[0] + S[2]) + (S[1] + S[3]);
    };
    // Every D with a compiled-in variant (constant row offsets), their neighbours and small odd sizes.
    const special = [...Array(2001).keys()].filter((D) => wasmKernels()!.ex.rowPassSpecialised(D) === 1);
    expect(special).toEqual([20, 40, 100, 400, 1600]);
    for (const D of [1, 2, 3, 4, 5, 6, 7, 13, 99, 101, ...special]) {
      const n = 11, X = rand(n * D, rng), w = rand(D, rng, 1 / Math.sqrt(D)), out0 = rand(D, rng);
      for (let nu = 0; nu < n; nu++) expect(Object.is(rowDot(X, nu * D, w, D), spec(X, nu * D, w, D))).toBe(true);
      for (const [n0, n1] of [[0, n], [1, n], [2, 7]]) {
        const ref = out0.slice();
        let ss = 0, nu = n0;
        const f = (l: number) => l * (0.7 + 0.4 * l * l);
        for (; nu + 3 < n1; nu += 4) {
          const l = [0, 1, 2, 3].map((k) => spec(X, (nu + k) * D, w, D)), g = l.map(f);
          ss += l[0] * l[0] + l[1] * l[1] + l[2] * l[2] + l[3] * l[3];
          for (let i = 0; i < D; i++) ref[i] += (g[0] * X[nu * D + i] + g[1] * X[(nu + 1) * D + i]) + (g[2] * X[(nu + 2) * D + i] + g[3] * X[(nu + 3) * D + i]);
        }
        for (; nu < n1; nu++) {
          const l = spec(X, nu * D, w, D);
          ss += l * l;
          for (let i = 0; i < D; i++) ref[i] += f(l) * X[nu * D + i];
        }
        for (const backend of ["ts", "wasm-simd"] as const) {
          const out = out0.slice();
          const s = withBackend(backend, () => fusedRowPassRange(X, n0, n1, D, w, out, RowFn.Cubic, 0.7, 0.4));
          expect([backend, D, n0, Object.is(s, ss), firstDiff(out, ref)]).toEqual([backend, D, n0, true, -1]);
        }
      }
    }
  });

  it("rowPassChunks (all chunks of a pass in one call) = one rowPass per chunk into a zeroed out, bit for bit", () => {
    const wk = wasmKernels()!;
    for (const D of [3, 13, 100]) {
      const n = 203, X = rand(n * D, rng), w = rand(D, rng, 1 / Math.sqrt(D));
      const lo = Int32Array.from([0, 64, 128, 192, 5]), hi = Int32Array.from([64, 128, 192, 203, 7]);
      // chunks 1 … 3 of the table (k0 = 1, k1 = 4), written at their own slots; slot 0 and 4 untouched
      const partial = new Float64Array(5 * D).fill(7), ss = new Float64Array(5).fill(7);
      expect(wk.rowPassChunks(X, D, w, lo, hi, 1, 4, partial, ss, RowFn.CubicNeuron, 0.7, 0.4, 0.2, -1, 1.1, -0.5)).toBe(true);
      for (let k = 0; k < 5; k++) {
        if (k === 0 || k === 4) {
          expect([...partial.subarray(k * D, (k + 1) * D), ss[k]].every((x) => x === 7)).toBe(true);
          continue;
        }
        const out = new Float64Array(D);
        const s = wk.rowPass(X, lo[k], hi[k], D, w, out, RowFn.CubicNeuron, 0.7, 0.4, 0.2, -1, 1.1, -0.5)!;
        expect([D, k, Object.is(s, ss[k]), firstDiff(out, partial.subarray(k * D, (k + 1) * D))]).toEqual([D, k, true, -1]);
      }
    }
  });

  it("the flow's row pass: every kind, row ranges with odd starts, D odd/even/1, n = 0, 1", () => {
    const pars: [number, number, number, number, number, number] = [0.7, 0.4, 0.2, -1, 1.1, -0.5];
    for (const D of [1, 2, 3, 8, 13, 20, 40, 100, 400]) for (const [n0, n1] of [[0, 0], [0, 1], [0, 8], [1, 26], [3, 67], [0, 200]]) {
      const X = rand(200 * D, rng), w = rand(D, rng, 1 / Math.sqrt(D)), out0 = rand(D, rng);
      for (const kind of [RowFn.Linear, RowFn.Cubic, RowFn.Erf, RowFn.CubicNeuron]) {
        const ot = out0.slice(), ow = out0.slice();
        const st = tsFusedRowPass(X, n0, n1, D, w, ot, kind, ...pars);
        const sw = withBackend("wasm-simd", () => fusedRowPassRange(X, n0, n1, D, w, ow, kind, ...pars));
        expect(Object.is(st, sw)).toBe(true);
        if (kind !== RowFn.Erf) expect(firstDiff(ot, ow)).toBe(-1);
        else {
          // erf and exp inside wasm differ from V8's by a few ulp: compare to the size of the terms.
          const scale = new Float64Array(D);
          for (let nu = n0; nu < n1; nu++) for (let i = 0; i < D; i++) scale[i] += Math.abs(X[nu * D + i]) * Math.abs(pars[0]) * 4;
          for (let i = 0; i < D; i++) scale[i] += Math.abs(out0[i]);
          expect(maxRel(ot, ow, scale)).toBeLessThan(1e-13);
        }
      }
    }
  });

  it("erf inside wasm agrees with src/stats/special.ts to 1e-15 relative (observed ≤ 1 ulp) (1e-300 … 30, both signs)", () => {
    const wk = wasmKernels()!;
    let worst = 0, n = 0;
    const xs: number[] = [0, -0, 1e-300, 1e-20, 1e-8, 0.0624, 0.0625, 0.5, 0.9999, 1, 1.0001, 5.999, 6, 27, 30];
    for (let k = 0; k < 4000; k++) xs.push(-7 + 14 * rng.uniform());
    for (const x0 of xs) for (const x of [x0, -x0]) {
      const a = wk.ex.erf(x), b = erf(x);
      if (b === 0) expect(Object.is(a, b)).toBe(true);
      else worst = Math.max(worst, Math.abs(a - b) / Math.abs(b));
      n++;
    }
    expect(n).toBeGreaterThan(8000);
    expect(worst).toBeLessThan(1e-15);
  });

  it("the row pass's four-argument erf (interleaved Horner chains) gives erf's bits in every lane", () => {
    const wk = wasmKernels()!;
    const xs: number[] = [0, -0, 1e-300, 1e-8, 0.0624, 0.0625, 0.0626, 0.5, 0.9999, 1, 1.0001, 5.999, 6, 6.0001, 27, Infinity, NaN];
    for (let c = 0; c < 100; c++) xs.push(c / 16, c / 16 + 1 / 32); // cell edges and centres
    for (let k = 0; k < 20000; k++) xs.push(-7 + 14 * rng.uniform());
    let n = 0;
    for (const x0 of xs) for (const x of [x0, -x0]) for (let lane = 0; lane < 4; lane++) {
      const a = wk.ex.erf4Probe(x, lane), b = wk.ex.erf(x);
      if (!Object.is(a, b)) expect({ x, lane, a }).toEqual({ x, lane, a: b });
      n++;
    }
    expect(n).toBeGreaterThan(160000);
  });

  it("the CP sample pass (r = 1 … 9, D odd/even, with and without B, row ranges) is bit-identical", () => {
    for (const [P, D, r] of [[1, 1, 1], [5, 3, 2], [70, 9, 5], [129, 16, 4], [200, 11, 9], [64, 2, 3]]) for (const withB of [false, true]) for (const [n0f, n1f] of [[0, 1], [0.3, 0.9]]) {
      const n0 = Math.floor(n0f * P), n1 = Math.max(n0, Math.floor(n1f * P));
      const X = rand(P * D, rng), U = rand(2 + r * D, rng, 0.5);
      const mk = () => ({ s2: rand(r, rng), s4: rand(r, rng), A: rand(r * D, rng), B: withB ? rand(r * D, rng) : null });
      const t = mk();
      const w = { s2: t.s2.slice(), s4: t.s4.slice(), A: t.A.slice(), B: t.B ? t.B.slice() : null };
      withBackend("ts", () => cpSamplePass(X, D, n0, n1, U, 2, r, t.s2, t.s4, t.A, t.B));
      withBackend("wasm-simd", () => cpSamplePass(X, D, n0, n1, U, 2, r, w.s2, w.s4, w.A, w.B));
      expect([firstDiff(t.s2, w.s2), firstDiff(t.s4, w.s4), firstDiff(t.A, w.A), t.B ? firstDiff(t.B, w.B!) : -1]).toEqual([-1, -1, -1, -1]);
    }
  });

  it("CP loss + gradient: identical on both backends (with and without stored C); gradient check passes on wasm", () => {
    const P = 333, D = 21;
    const X = new Float64Array(P * D);
    const g = new Rng(5);
    for (let k = 0; k < X.length; k++) X[k] = g.normal() * (g.uniform() < 0.2 ? 2 : 0.6);
    for (const r of [1, 6]) for (const useCovariance of [true, false]) {
      const Lt = withBackend("ts", () => new ImplicitCumulantLoss(X, P, D, r, { useCovariance }));
      const Lw = withBackend("wasm-simd", () => new ImplicitCumulantLoss(X, P, D, r, { useCovariance }));
      // θ as in test/cp.test.ts: γ ~ N(0, 1), u ~ N(0, 1/D) (own stream: independent of earlier tests).
      const tr = new Rng(40 + r);
      const th = new Float64Array(Lt.n);
      for (let a = 0; a < r; a++) th[a] = tr.normal();
      for (let q = r; q < th.length; q++) th[q] = tr.normal() / Math.sqrt(D);
      const gt = new Float64Array(Lt.n), gw = new Float64Array(Lt.n);
      const ft = withBackend("ts", () => Lt.fg(th, gt));
      const fw = withBackend("wasm-simd", () => Lw.fg(th, gw));
      expect(Object.is(ft, fw)).toBe(true);
      expect(firstDiff(gt, gw)).toBe(-1);
      const pt = withBackend("ts", () => Lt.projections(th.subarray(r), new Float64Array(r)));
      const pw = withBackend("wasm-simd", () => Lw.projections(th.subarray(r), new Float64Array(r)));
      expect(firstDiff(pt, pw)).toBe(-1);
      // Central differences reach 1e-7 … 3e-6 relative here over seeds 30–49; a gradient slip such as
      // −8 → −8.008 gives ~1e-3, so 1e-5 separates them.
      const err = withBackend("wasm-simd", () => checkGradient((x, gg) => Lw.fg(x, gg), th));
      expect(err).toBeLessThan(1e-5);
    }
  });

  it("flow RHS (full with sample covariance, exact erf, exact cubic) agrees across backends", async () => {
    const D = 19, n = 83;
    const g = new Rng(9);
    const X1 = rand(n * D, g), X2 = rand(n * D, g, 1.3);
    const coef = await deriveFlowCoefficients({ v: 1, b: -0.5, labels: [-1, 1] });
    const classes = [
      { label: -1, weight: 0.4, X: X1, n, cov: "sample" as const },
      { label: 1, weight: 0.6, X: X2, n, cov: "sample" as const },
    ];
    const w = rand(D, g, 1 / Math.sqrt(D));
    for (const [variant, activation] of [["full", "erf"], ["exact", "erf"], ["exact", "cubic"]] as const) {
      const flow = buildSingleNeuronFlow({ variant, D, v: 1, b: -0.5, classes, activation }, coef);
      const dt = new Float64Array(D), dw = new Float64Array(D);
      withBackend("ts", () => flow.rhs(0, w, dt));
      withBackend("wasm-simd", () => flow.rhs(0, w, dw));
      if (activation === "erf" && variant === "exact") {
        let m = 0, s = 0;
        for (let i = 0; i < D; i++) { m = Math.max(m, Math.abs(dt[i] - dw[i])); s = Math.max(s, Math.abs(dt[i])); }
        expect(m).toBeLessThan(1e-13 * s);
      } else expect(firstDiff(dt, dw)).toBe(-1);
      expect(dt.some((x) => x !== 0)).toBe(true);
    }
  });

  it("pinned samples: a refilled array is re-copied, unpin frees, pinned copies survive memory growth", () => {
    const wk = wasmKernels()!;
    const D = 10, n = 40;
    const X = rand(n * D, rng), w = rand(D, rng);
    const before = wk.pinnedTotal();
    const run = (be: KernelBackend) => {
      const o = new Float64Array(D);
      withBackend(be, () => fusedRowPass(X, n, D, w, o, RowFn.Cubic, 0.3, 0.1));
      return o;
    };
    expect(firstDiff(run("wasm-simd"), run("ts"))).toBe(-1);
    expect(wk.isPinned(X)).toBe(true);
    expect(wk.pinnedTotal()).toBe(before + n * D * 8);
    // Refill X with new samples (the documented misuse the probes catch): results follow X.
    const fresh = rand(n * D, rng);
    X.set(fresh);
    expect(firstDiff(run("wasm-simd"), run("ts"))).toBe(-1);
    // Grow the memory by ≥ 64 MiB with a big temporary product, then use the pinned copy again.
    const big = 2100;
    const Y = new Float64Array(big * big).fill(1e-3);
    const C = new Float64Array(big * 4);
    expect(wk.gemm(false, false, 4, big, big, 1, Y.subarray(0, 4 * big), Y, 0, C)).toBe(true);
    expect(C[0]).toBeCloseTo(big * 1e-6, 12);
    expect(firstDiff(run("wasm-simd"), run("ts"))).toBe(-1);
    unpin(X);
    expect(wk.isPinned(X)).toBe(false);
    expect(wk.pinnedTotal()).toBe(before);
    withBackend("wasm-simd", () => expect(pin(X)).toBe(true));
    withBackend("ts", () => expect(pin(X)).toBe(false));
    unpin(X);
  });

  it("resident arrays live in (shared) wasm memory and are read in place: no pinned copy, same bits as TS, valid across memory growth", () => {
    const wk = wasmKernels()!;
    const D = 12, n = 353;
    const pinned0 = wk.pinnedTotal(), res0 = wk.residentTotal();
    const X = withBackend("wasm-simd", () => allocResident(n * D));
    expect(isResident(X)).toBe(true);
    expect(X.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(X.length).toBe(n * D);
    expect(X.every((v) => v === 0)).toBe(true);
    expect(wk.residentTotal()).toBe(res0 + n * D * 8);
    X.set(rand(n * D, rng));
    const copy = Float64Array.from(X);
    const w = rand(D, rng);
    const run = (be: KernelBackend, A: Float64Array, rows: number) => {
      const o = new Float64Array(D);
      const s = withBackend(be, () => fusedRowPass(A, rows, D, w, o, RowFn.CubicNeuron, 0.4, 0.2, 0.3, 1, 1, -1));
      return [s, ...o];
    };
    expect(firstDiff(run("wasm-simd", X, n), run("ts", copy, n))).toBe(-1);
    // A subarray (a class block) is resident too, at its own offset.
    const sub = residentSubarray(X, 5 * D, 21 * D);
    expect(isResident(sub)).toBe(true);
    expect(firstDiff(run("wasm-simd", sub, 16), run("ts", copy.subarray(5 * D, 21 * D), 16))).toBe(-1);
    // Never pinned: no copy was made, and a change to one entry is seen at once (no probes involved).
    expect(wk.isPinned(X)).toBe(false);
    expect(wk.pinnedTotal()).toBe(pinned0);
    X[7 * D + 3] += 1;
    copy[7 * D + 3] += 1;
    expect(firstDiff(run("wasm-simd", X, n), run("ts", copy, n))).toBe(-1);
    // Grow the memory by ≥ 64 MiB (a big temporary product): views of a shared memory stay attached.
    const big = 2100;
    const Y = new Float64Array(big * big).fill(1e-3);
    const C = new Float64Array(big * 4);
    expect(wk.gemm(false, false, 4, big, big, 1, Y.subarray(0, 4 * big), Y, 0, C)).toBe(true);
    expect(X.length).toBe(n * D);
    expect(firstDiff(X, copy)).toBe(-1);
    expect(firstDiff(run("wasm-simd", X, n), run("ts", copy, n))).toBe(-1);
    // gemm / gemv / syrk take resident operands in place, with the reference's bits.
    const B = rand(D * 7, rng), s = rand(n, rng);
    const g = (be: KernelBackend, A: Float64Array) => withBackend(be, () => {
      const out = new Float64Array(n * 7 + D + D * D);
      gemm(false, false, n, 7, D, 0.5, A, B, 0, out.subarray(0, n * 7));
      gemv(true, n, D, 1.5, A, s, 0, out.subarray(n * 7, n * 7 + D));
      syrkWeighted(A, n, D, s, 0.25, 0, out.subarray(n * 7 + D));
      return out;
    });
    expect(firstDiff(g("wasm-simd", X), g("ts", copy))).toBe(-1);
    expect(wk.pinnedTotal()).toBe(pinned0);
    // release frees the block; a new resident array in the reused block starts zero-filled.
    releaseResident(X);
    expect(wk.residentTotal()).toBe(res0);
    const Z = withBackend("wasm-simd", () => allocResident(n * D));
    expect(Z.every((v) => v === 0)).toBe(true);
    releaseResident(Z);
    releaseResident(Z); // twice: no-op
    expect(wk.residentTotal()).toBe(res0);
    // Releasing through a residentSubarray frees the whole parent block.
    const Q = withBackend("wasm-simd", () => allocResident(100));
    const q = residentSubarray(residentSubarray(Q, 10, 50), 5, 10);
    expect(wk.residentTotal()).toBe(res0 + 800);
    releaseResident(q);
    expect(wk.residentTotal()).toBe(res0);
    releaseResident(Q); // already freed: no-op
    expect(wk.residentTotal()).toBe(res0);
    // On the TS backend: a plain Float64Array.
    const T = withBackend("ts", () => allocResident(10));
    expect(isResident(T)).toBe(false);
    expect(T.buffer).toBeInstanceOf(ArrayBuffer);
    expect(() => allocResident(-1)).toThrow(/allocResident: length must be an integer ≥ 0/);
  });

  it("resident arrays are freed when garbage-collected; residentSubarray keeps the parent alive, a plain subarray does not", () => {
    const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", "test/fixtures/memory/resident-gc-child.ts"], {
      encoding: "utf8", env: { ...process.env, RFDYN_KERNELS: "wasm" },
    });
    expect(JSON.parse(out.trim())).toEqual({ held: 1000 * 8, value: 7, after: 0 });
  });
});
