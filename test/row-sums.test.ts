/**
 * Sparse row sums by affine runs (src/kernels/row-sums.ts; SIMD kernel `rowSums` in wasm/kernels.ts),
 * which compute the Saad–Solla guard functionals' derivatives:
 *   - every row equals the plain CSR sum `s = 0; s += c_e·x[k_e]` in row order, bit for bit, on the TS
 *     reference and on the SIMD kernel — for the guard rows of K = M = 3 (with the cross terms), 5
 *     and 32 and for random CSR matrices with runs of every kind (steps 0, 1, other and negative, empty
 *     rows, one-row runs, −0 and NaN inputs);
 *   - runs are found where they exist (the K = 32 guard rows collapse to ~2,300 runs) and never join
 *     rows whose coefficients differ;
 *   - a one-ulp change of one input component changes the sums compared;
 *   - overlapping input and output are rejected.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RowSums, affineRuns } from "../src/kernels/row-sums.js";
import { allocResident, kernelBackend, setKernelBackend, simdAvailable, type KernelBackend } from "../src/kernels/index.js";
import { Rng } from "../src/stats/rng.js";
import { SaadSollaOde, guardFunctionals } from "../src/theory/saad-solla.js";

const initial: KernelBackend = kernelBackend();
afterEach(() => { setKernelBackend(initial); });

interface Csr { start: Int32Array; col: Int32Array; coef: Float64Array; nCols: number }

function csrOf(rows: [number, number][][], nCols: number): Csr {
  const start = new Int32Array(rows.length + 1);
  rows.forEach((r, j) => { start[j + 1] = start[j] + r.length; });
  const col = new Int32Array(start[rows.length]), coef = new Float64Array(start[rows.length]);
  rows.forEach((r, j) => r.forEach(([k, c], e) => { col[start[j] + e] = k; coef[start[j] + e] = c; }));
  return { start, col, coef, nCols };
}

/** The plain CSR loop (the guard wrapper's loop before the runs). */
function csrSums(m: Csr, x: ArrayLike<number>, out: Float64Array, o: number): void {
  for (let j = 0; j + 1 < m.start.length; j++) {
    let s = 0;
    for (let e = m.start[j]; e < m.start[j + 1]; e++) s += m.coef[e] * x[m.col[e]];
    out[o + j] = s;
  }
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function guardCsr(K: number, M: number): Csr {
  const rng = new Rng(K * 100 + M);
  const T = new Float64Array(M * M);
  for (let n = 0; n < M; n++) T[n * M + n] = 1 + 0.1 * rng.uniform();
  const ode = new SaadSollaOde({ K, M, lr: 0.5, trainSecondLayer: true, noise: 0, weightDecay: 0, A: new Array(M).fill(1), T }, new Float64Array(K).fill(1));
  return csrOf(guardFunctionals(ode).rows, ode.dim);
}

/** Random rows built from runs of every kind, then shuffled by blocks so that some runs break. */
function randomCsr(seed: number): Csr {
  const rng = new Rng(seed);
  const nCols = 300;
  const rows: [number, number][][] = [];
  const coefs = [1, -1, 2, -2, 0.5, -0, 0, 3.25];
  while (rows.length < 900) {
    const len = Math.floor(rng.uniform() * 5); // 0 … 4 terms (empty rows too)
    const cnt = 1 + Math.floor(rng.uniform() * 40);
    const terms = Array.from({ length: len }, () => {
      const step = [0, 1, 1, 2, -1, 5][Math.floor(rng.uniform() * 6)];
      const c0 = step < 0 ? nCols - 1 - Math.floor(rng.uniform() * 20) : Math.floor(rng.uniform() * 20);
      return { c0, step, cf: rng.uniform() < 0.8 ? coefs[Math.floor(rng.uniform() * coefs.length)] : rng.normal() };
    });
    for (let r = 0; r < cnt; r++) {
      // now and then a row whose coefficient or column breaks the run
      const breakIt = rng.uniform() < 0.05;
      rows.push(terms.map((t, i) => [Math.min(nCols - 1, Math.max(0, t.c0 + t.step * r + (breakIt && i === 0 ? 3 : 0))), breakIt && i === len - 1 ? t.cf * 1.5 : t.cf]));
    }
  }
  return csrOf(rows, nCols);
}

function input(nCols: number, seed: number, backend: KernelBackend, extra: number): Float64Array {
  setKernelBackend(backend);
  const rng = new Rng(seed);
  const x = allocResident(nCols + extra);
  for (let i = 0; i < nCols; i++) x[i] = rng.normal() * Math.exp(4 * rng.normal());
  x[1] = -0; x[2] = 0;
  return x;
}

const cases: [string, () => Csr][] = [
  ["guard rows K = M = 3 (cross terms, trained v)", () => guardCsr(3, 3)],
  ["guard rows K = M = 5", () => guardCsr(5, 5)],
  ["guard rows K = M = 32", () => guardCsr(32, 32)],
  ["random runs (seed 1)", () => randomCsr(1)],
  ["random runs (seed 2)", () => randomCsr(2)],
];

const backends: KernelBackend[] = simdAvailable() ? ["ts", "wasm-simd"] : ["ts"];

describe("RowSums: every row is the CSR sum in its own order, bit for bit", () => {
  for (const [name, make] of cases) {
    for (const backend of backends) {
      it(`${name} (${backend})`, () => {
        const m = make();
        const nRows = m.start.length - 1;
        const x = input(m.nCols, 5, backend, nRows);
        const rs = new RowSums(m.start, m.col, m.coef);
        expect(rs.rows).toBe(nRows);
        const ref = new Float64Array(nRows);
        csrSums(m, x, ref, 0);
        // in place (x and out the same array, as in the Saad–Solla RHS) and into a separate array
        rs.apply(x, x, m.nCols);
        expect(sameBits(x.subarray(m.nCols), ref)).toBe(true);
        const out = new Float64Array(nRows + 3);
        rs.apply(x, out, 3);
        expect(sameBits(out.subarray(3), ref)).toBe(true);
        const out2 = new Float64Array(nRows);
        rs.applyTs(x, out2, 0);
        expect(sameBits(out2, ref)).toBe(true);
      });
    }
  }

  it("the runs: K = 32 guard rows collapse; rows with other coefficients never join a run", () => {
    const g = guardCsr(32, 32);
    const r = affineRuns(g.start, g.col, g.coef);
    expect(r.runs).toBeLessThan(2600);
    expect(r.runs).toBeGreaterThan(1000);
    const m = csrOf([[[0, 1], [1, 1]], [[1, 1], [2, 1]], [[2, 1], [3, -1]], [[3, 1], [4, -1]], [[4, -0], [5, -1]], [[5, 0], [6, -1]]], 7);
    const a = affineRuns(m.start, m.col, m.coef);
    // [j0, count, len, …]: rows 0–1, 2–3, 4, 5
    expect(a.runs).toBe(4);
    expect([a.ints[0], a.ints[1]]).toEqual([0, 2]);
  });

  it.skipIf(!simdAvailable())("a one-ulp change of one input component changes the SIMD sums", () => {
    const m = guardCsr(5, 5);
    const nRows = m.start.length - 1;
    const rs = new RowSums(m.start, m.col, m.coef);
    const a = input(m.nCols, 9, "wasm-simd", nRows), b = input(m.nCols, 9, "wasm-simd", nRows);
    const f = new Float64Array([b[7]]), u = new BigInt64Array(f.buffer);
    u[0] += 1n;
    b[7] = f[0];
    rs.apply(a, a, m.nCols);
    rs.apply(b, b, m.nCols);
    expect(sameBits(a.subarray(m.nCols), b.subarray(m.nCols))).toBe(false);
  });

  it("overlapping input and output, bad CSR arrays: clear errors", () => {
    const m = guardCsr(3, 3);
    const rs = new RowSums(m.start, m.col, m.coef);
    const x = new Float64Array(m.nCols + rs.rows);
    expect(() => rs.apply(x, x, m.nCols - 1)).toThrow(/overlap/);
    expect(() => rs.apply(x, x, m.nCols + 1)).toThrow(/too short/);
    expect(() => new RowSums(Int32Array.from([0, 2]), Int32Array.from([0]), Float64Array.from([1]))).toThrow(/inconsistent/);
    expect(() => new RowSums(Int32Array.from([0, 1]), Int32Array.from([-1]), Float64Array.from([1]))).toThrow(/not an index/);
  });
});
