/**
 * The GBS integrator's per-component loops (src/kernels/gbs-loops.ts; SIMD kernels gbsAxpy,
 * gbsAxpyStab, gbsExtrapolate in wasm/kernels.ts):
 *   - each SIMD kernel reproduces its TS reference bit for bit on random data (every output array and
 *     the returned sums), for n = 1 … 9 and a few larger odd and even n (vector body, scalar tail),
 *     every extrapolation line j = 1 … 9, aliasing out = x, and non-finite inputs;
 *   - the comparison is exact: perturbing one input component by one ulp changes the outputs;
 *   - the references equal odex's own (unfused) loops, written out here as odex has them;
 *   - the finiteness check of accepted states (SIMD `allFinite`) flags a single NaN or ±∞ anywhere;
 *   - a solve with the GBS port gives its work block back when it ends (and ends identically on both
 *     backends);
 *   - GbsSolver is bit-identical on both backends and to odex (test/gbs-port.test.ts, run on both).
 */
import { afterEach, describe, expect, it } from "vitest";
import { GbsWork, allFinite, tsAllFinite, tsGbsAxpy, tsGbsAxpyStab, tsGbsExtrapolate } from "../src/kernels/gbs-loops.js";
import { allocResident, kernelBackend, setKernelBackend, simdAvailable, simdKernels, type KernelBackend } from "../src/kernels/index.js";
import { solve } from "../src/integrate/index.js";
import { Rng } from "../src/stats/rng.js";

const initial: KernelBackend = kernelBackend();
afterEach(() => { setKernelBackend(initial); });

const KM = 9;

/** Same bits (NaN payloads aside), element by element. */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function nextUp(x: number): number {
  const f = new Float64Array([x]), u = new BigInt64Array(f.buffer);
  u[0] += x >= 0 ? 1n : -1n;
  return f[0];
}

/** A GbsWork on `backend` with every array filled from the seed (scal > 0 as odex's is). */
function filled(backend: KernelBackend, n: number, seed: number, special = false): GbsWork {
  setKernelBackend(backend);
  const w = new GbsWork(n, KM);
  expect(w.backend).toBe(backend);
  const rng = new Rng(seed);
  const fill = (a: Float64Array, scale: number) => { for (let i = 0; i < n; i++) a[i] = scale * rng.normal(); };
  fill(w.y, 1); fill(w.dz, 3); fill(w.yh1, 1); fill(w.yh2, 1); fill(w.dy, 3);
  for (let l = 1; l <= KM; l++) fill(w.tab[l], 1);
  for (let i = 0; i < n; i++) w.scal[i] = 1e-9 + Math.abs(rng.normal());
  for (let l = 2; l <= KM; l++) w.fac[l] = 1 + 3 * rng.uniform();
  if (special && n > 3) {
    w.dy[1] = NaN; w.y[2] = Infinity; w.yh1[3] = -0; w.dz[0] = -Infinity;
  }
  return w;
}

function snapshot(w: GbsWork): Float64Array[] {
  return [w.y, w.dz, w.yh1, w.yh2, w.dy, w.scal, ...w.tab.slice(1), w.fac, w.del].map((a) => Float64Array.from(a));
}

/** Runs one of the loops on a work set; returns the returned value (or NaN) and all arrays after. */
type Op = (w: GbsWork) => number;
const ops: [string, Op][] = [
  ["axpy into yh1", (w) => { w.axpy(0.37, w.y, w.dy, w.yh1); return 0; }],
  ["axpy in place (out = x)", (w) => { w.axpy(-1.3e-3, w.yh2, w.dy, w.yh2); return 0; }],
  ["axpy + stability norms", (w) => { w.axpyStab(2.5e-2, w.yh1, w.dy, w.yh2); return 0; }],
  ...Array.from({ length: KM }, (_, j): [string, Op] => [`extrapolation line ${j + 1}`, (w) => w.extrapolate(j + 1, 0.013, w.yh1, w.yh2, 1e-12, 1e-9)]),
];

const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 37, 64, 1001];

describe.skipIf(!simdAvailable())("GBS loops: SIMD kernels = TS reference, bit for bit", () => {
  for (const [name, op] of ops) {
    it(name, () => {
      for (const n of sizes) {
        for (const special of [false, true]) {
          const a = filled("ts", n, 100 + n, special), b = filled("wasm-simd", n, 100 + n, special);
          const ra = op(a), rb = op(b);
          expect(Object.is(ra, rb), `n = ${n}: returned ${ra} vs ${rb}`).toBe(true);
          const sa = snapshot(a), sb = snapshot(b);
          for (let k = 0; k < sa.length; k++) expect(sameBits(sa[k], sb[k]), `n = ${n}, array ${k}`).toBe(true);
        }
      }
    });
  }

  it("a one-ulp change of a single input component shows in the compared outputs", () => {
    const n = 37;
    for (const [name, op] of ops) {
      const a = filled("ts", n, 7), b = filled("wasm-simd", n, 7);
      // perturb the component feeding every loop: dy for the substeps and the smoothing step
      b.dy[19] = nextUp(b.dy[19]);
      const ra = op(a), rb = op(b);
      const sa = snapshot(a), sb = snapshot(b);
      const allSame = Object.is(ra, rb) && sa.every((x, k) => sameBits(x, sb[k]));
      expect(allSame, name).toBe(false);
    }
  });
});

describe("GBS loops: the TS references are odex's loops", () => {
  it("axpy, stability norms and the extrapolation/error pass equal the unfused loops", () => {
    for (const n of [1, 5, 64]) {
      for (let j = 1; j <= KM; j++) {
        const rng = new Rng(j * 31 + n);
        const arr = () => Float64Array.from({ length: n }, () => rng.normal());
        const y = arr(), dz = arr(), dy = arr(), yh1 = arr(), yh2 = arr();
        const scal = Float64Array.from({ length: n }, () => 0.1 + Math.abs(rng.normal()));
        const tab = Array.from({ length: KM + 1 }, (_, l) => (l === 0 ? new Float64Array(0) : arr()));
        const fac = new Float64Array(KM + 1);
        for (let l = 2; l <= j; l++) { const r = (2 * j) / (2 * (l - 1)); fac[l] = r * r - 1; }
        const hj = 0.02, aTol = 1e-12, rTol = 1e-9;
        // odex (gbs.ts before fusing)
        const oTab = tab.map((t) => t.slice()), oScal = scal.slice();
        const tj = oTab[j];
        for (let i = 0; i < n; i++) tj[i] = (yh1[i] + yh2[i] + hj * dy[i]) / 2;
        let oErr = 0;
        if (j > 1) {
          for (let l = j; l > 1; --l) {
            const f = fac[l], tl = oTab[l], tm = oTab[l - 1];
            for (let i = 0; i < n; i++) tm[i] = tl[i] + (tl[i] - tm[i]) / f;
          }
          for (let i = 0; i < n; i++) {
            const t1i = Math.max(Math.abs(y[i]), Math.abs(oTab[1][i]));
            oScal[i] = aTol + rTol * t1i;
            const q = (oTab[1][i] - oTab[2][i]) / oScal[i];
            oErr += q * q;
          }
        }
        const err = tsGbsExtrapolate(n, j, hj, yh1, yh2, dy, tab, fac, y, scal, aTol, rTol);
        expect(Object.is(err, oErr)).toBe(true);
        for (let l = 1; l <= KM; l++) expect(sameBits(tab[l], oTab[l])).toBe(true);
        expect(sameBits(scal, oScal)).toBe(true);
        if (j === 1) {
          // odex's substep and stability check
          const out = new Float64Array(n), del = new Float64Array(2);
          tsGbsAxpyStab(n, 0.3, yh1, dy, out, dz, scal, del);
          let d1 = 0, d2 = 0;
          for (let i = 0; i < n; i++) { const q = dz[i] / scal[i]; d1 += q * q; }
          for (let i = 0; i < n; i++) { const q = (dy[i] - dz[i]) / scal[i]; d2 += q * q; }
          expect([Object.is(del[0], d1), Object.is(del[1], d2)]).toEqual([true, true]);
          const ref = Float64Array.from(yh1, (v, i) => v + 0.3 * dy[i]);
          expect(sameBits(out, ref)).toBe(true);
          const out2 = new Float64Array(n);
          tsGbsAxpy(n, 0.3, yh1, dy, out2);
          expect(sameBits(out2, ref)).toBe(true);
        }
      }
    }
  });
});

describe("allFinite: one NaN or ±∞ anywhere", () => {
  for (const backend of simdAvailable() ? (["ts", "wasm-simd"] as const) : (["ts"] as const)) {
    it(backend, () => {
      setKernelBackend(backend);
      for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 33]) {
        const x = allocResident(n);
        expect(backend === "ts" || n === 0 || x.buffer instanceof SharedArrayBuffer).toBe(true);
        const rng = new Rng(n);
        for (let i = 0; i < n; i++) x[i] = rng.normal() * 1e300;
        if (n > 0) x[0] = Number.MAX_VALUE;
        expect(allFinite(x)).toBe(true);
        expect(tsAllFinite(x, n)).toBe(true);
        for (let i = 0; i < n; i++) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            const keep = x[i];
            x[i] = bad;
            expect(allFinite(x), `n = ${n}, x[${i}] = ${bad}`).toBe(false);
            x[i] = keep;
          }
        }
      }
    });
  }
});

describe.skipIf(!simdAvailable())("GBS port in solve: work memory released, same result on both backends", () => {
  it("5,000 forced decays", () => {
    const n = 5000;
    const problem = {
      rhs: (t: number, y: Float64Array, dy: Float64Array) => { for (let i = 0; i < n; i++) dy[i] = -(1 + (i % 7)) * y[i] + Math.sin(t * (1 + (i % 5))); },
      y0: Float64Array.from({ length: n }, (_, i) => Math.cos(i)),
      tspan: [0, 0.5] as [number, number],
      saveat: [0, 0.25, 0.5],
    };
    const ends = [];
    for (const b of ["ts", "wasm-simd"] as const) {
      setKernelBackend(b);
      const before = simdKernels()?.residentTotal() ?? 0;
      const sol = solve(problem, "gbs", { rtol: 1e-8, atol: 1e-10 });
      expect(sol.retcode).toBe("success");
      expect(simdKernels()?.residentTotal() ?? 0).toBe(before);
      ends.push(sol);
    }
    expect(ends[1].stats).toEqual(ends[0].stats);
    for (let k = 0; k < 3; k++) expect(sameBits(ends[1].y[k], ends[0].y[k])).toBe(true);
  });
});
