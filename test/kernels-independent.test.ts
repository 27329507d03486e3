/**
 * Independent checks of the squared-exponential kernels and their spectra (src/data/kernels.ts):
 * the kernel is written out here as exp(−(d/ξ)²) with d = min(|i−j|, L−|i−j|) for every pair (i, j),
 * the spectra are compared with a naive O(D²) DFT and with Σ·u = λ·u for explicit Fourier vectors,
 * and the 2D kernel with Σ⊗Σ element by element.
 */
import { describe, expect, it } from "vitest";
import { circulantSpectrum, denseFromRow, kernelRow, kronSpectrum, seKernelRow, spectrumOfRow, type Geometry } from "../src/data/kernels.js";
import { naiveDft } from "./independent-quadrature.js";

/** Σ_ij = exp(−(d_ij/ξ)²), d_ij = min(|i−j|, L−|i−j|); ξ = 0 ⇒ identity. Written out, no src code. */
function seEntry(i: number, j: number, L: number, xi: number): number {
  const a = Math.abs(i - j);
  const d = Math.min(a, L - a);
  if (xi === 0) return d === 0 ? 1 : 0;
  return Math.exp(-((d / xi) ** 2));
}

const Ls = [2, 3, 5, 8, 9, 16, 17, 31];
const xis = [0, 0.5, 1, 2.5, 7];

describe("SE kernel on the ring: every entry against exp(−(d/ξ)²) written out", () => {
  it("seKernelRow, kernelRow (1D) and the dense matrix agree entry-wise to 1e-15 for odd and even L", () => {
    let compared = 0;
    for (const L of Ls) for (const xi of xis) {
      const row = seKernelRow(L, xi);
      const row1 = kernelRow({ dim: 1, L }, xi);
      expect(row.length).toBe(L);
      for (let j = 0; j < L; j++) {
        // Tolerance 1e-15: both sides are exp of the same double (d/ξ)², so only the order of the
        // square differs (≤ 1 ulp); an off-by-one in the distance changes entries by ≥ 1e-3 for ξ ≤ 7.
        expect(Math.abs(row[j] - seEntry(0, j, L, xi))).toBeLessThanOrEqual(1e-15);
        expect(Math.abs(row1[j] - seEntry(0, j, L, xi))).toBeLessThanOrEqual(1e-15);
      }
      const C = denseFromRow({ dim: 1, L }, row);
      for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) {
        expect(Math.abs(C[i * L + j] - seEntry(i, j, L, xi))).toBeLessThanOrEqual(1e-15);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1500);
  });

  it("spot values: the periodic distance wraps (L = 9: d(0,8) = 1, d(0,5) = 4; L = 8: d(0,4) = 4)", () => {
    const r9 = seKernelRow(9, 2), r8 = seKernelRow(8, 2);
    expect(r9[8]).toBe(Math.exp(-0.25));
    expect(r9[5]).toBe(Math.exp(-4));
    expect(r9[4]).toBe(Math.exp(-4));
    expect(r8[4]).toBe(Math.exp(-4));
    expect(r8[5]).toBe(Math.exp(-2.25));
    expect(Array.from(seKernelRow(5, 0))).toEqual([1, 0, 0, 0, 0]);
  });
});

describe("spectra: DFT of the row, computed naively and checked as eigenvalues", () => {
  it("circulantSpectrum / spectrumOfRow (1D) equal the naive O(L²) DFT of the written-out row (1e-12 relative)", () => {
    for (const L of Ls) for (const xi of xis) {
      const row = Float64Array.from({ length: L }, (_, j) => seEntry(0, j, L, xi));
      const ref = naiveDft(row);
      const lam = circulantSpectrum(seKernelRow(L, xi));
      const lam1 = spectrumOfRow({ dim: 1, L }, kernelRow({ dim: 1, L }, xi));
      const scale = Math.max(...Array.from(ref.re, Math.abs));
      for (let k = 0; k < L; k++) {
        // The DFT of a symmetric real row is real; tolerance: FFT vs naive-sum round-off (~1e-15·L)
        // plus the documented clipping of |λ| ≤ 1e-12·max λ to zero.
        expect(Math.abs(ref.im[k])).toBeLessThan(1e-12 * scale);
        expect(Math.abs(lam[k] - ref.re[k])).toBeLessThan(2e-12 * scale);
        expect(Math.abs(lam1[k] - ref.re[k])).toBeLessThan(2e-12 * scale);
      }
    }
  });

  it("each λ_τ is the eigenvalue of the written-out Σ for the Fourier vectors cos(2πτj/L), sin(2πτj/L)", () => {
    for (const L of [7, 8, 12]) for (const xi of [0.7, 2]) {
      const lam = circulantSpectrum(seKernelRow(L, xi));
      for (let t = 0; t < L; t++) {
        for (const trig of [Math.cos, Math.sin]) {
          const u = Float64Array.from({ length: L }, (_, j) => trig((2 * Math.PI * t * j) / L));
          for (let i = 0; i < L; i++) {
            let s = 0;
            for (let j = 0; j < L; j++) s += seEntry(i, j, L, xi) * u[j];
            expect(Math.abs(s - lam[t] * u[i])).toBeLessThan(1e-12);
          }
        }
      }
    }
  });

  it("2D (torus): kernelRow and denseFromRow equal Σ⊗Σ element-wise; spectrum = naive 2D DFT = kronSpectrum", () => {
    for (const L of [3, 4, 5, 6]) for (const xi of [0, 0.8, 1.7]) {
      const geom: Geometry = { dim: 2, L };
      const D = L * L;
      const row = kernelRow(geom, xi);
      const C = denseFromRow(geom, row);
      for (let i = 0; i < D; i++) {
        const ia = Math.floor(i / L), ib = i % L;
        for (let j = 0; j < D; j++) {
          const ja = Math.floor(j / L), jb = j % L;
          const ref = seEntry(ia, ja, L, xi) * seEntry(ib, jb, L, xi);
          expect(Math.abs(C[i * D + j] - ref)).toBeLessThanOrEqual(1e-15);
        }
      }
      // Naive 2D DFT of the first row: Λ(p, q) = Σ_{a,b} row[a L + b] e^{−2πi(pa + qb)/L}.
      const lam = spectrumOfRow(geom, row);
      const lam1 = circulantSpectrum(seKernelRow(L, xi));
      const kron = kronSpectrum(lam1);
      for (let p = 0; p < L; p++) for (let q = 0; q < L; q++) {
        let re = 0, im = 0;
        for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) {
          const th = (-2 * Math.PI * ((p * a + q * b) % L)) / L;
          re += row[a * L + b] * Math.cos(th);
          im += row[a * L + b] * Math.sin(th);
        }
        expect(Math.abs(im)).toBeLessThan(1e-12);
        expect(Math.abs(lam[p * L + q] - re)).toBeLessThan(1e-11);
        expect(Math.abs(kron[p * L + q] - re)).toBeLessThan(1e-11);
      }
    }
  });
});
