/** Localisation, receptive-field position and translation-invariant clustering, against hand values. */
import { describe, expect, it } from "vitest";
import { ipr, iprRows, participationRatio, participationRatioRows } from "../src/analysis/ipr.js";
import { circularStats, receptiveField1D, receptiveField2D, receptiveFields } from "../src/analysis/receptive.js";
import { averageLinkage, clusterReceptiveFields, invariantDistances, invariantOverlaps } from "../src/analysis/overlaps.js";
import { Rng } from "../src/stats/rng.js";

describe("IPR and participation ratio", () => {
  it("hand values: one site → 1, flat → 1/D, two equal sites → 1/2, (1, 2) → 17/25", () => {
    const D = 10;
    const e = new Float64Array(D); e[3] = -2.5;
    expect(ipr(e)).toBe(1);
    expect(ipr(new Float64Array(D).fill(0.3))).toBeCloseTo(1 / D, 15);
    expect(ipr([1, -1, 0, 0])).toBe(0.5);
    expect(ipr([1, 2])).toBeCloseTo(17 / 25, 15);
    expect(participationRatio([1, 2])).toBeCloseTo(25 / 17, 14);
    expect(participationRatio([0, 3, 0, -3, 3])).toBeCloseTo(3, 14);
    expect(Number.isNaN(ipr([0, 0, 0]))).toBe(true);
  });
  it("is scale invariant and works row by row on a K×D matrix", () => {
    const W = Float64Array.from([1, 0, 0, 0, 1, 1, 1, 1, 1, 2, 0, 0]);
    expect(Array.from(iprRows(W, 3, 4))).toEqual([1, 0.25, 17 / 25]);
    const pr = participationRatioRows(W, 3, 4);
    expect(pr[0]).toBe(1);
    expect(pr[1]).toBe(4);
    expect(pr[2]).toBeCloseTo(25 / 17, 14);
    expect(ipr([7, 14])).toBeCloseTo(ipr([1, 2]), 15);
  });
  it("a random Gaussian vector has IPR ≈ 3/D (E Σw⁴ / (Σw²)² → 3D/D²)", () => {
    const D = 20000;
    const w = new Rng(1).fillNormal(new Float64Array(D));
    expect(ipr(w) * D).toBeCloseTo(3, 1);
  });
});

describe("receptive-field centre and width (circular statistics of w²)", () => {
  it("a single site: centre at that site, width 0, R = 1", () => {
    const w = new Float64Array(10); w[3] = -0.7;
    const s = receptiveField1D(w);
    expect(s.centre).toBeCloseTo(3, 12);
    expect(s.width).toBe(0);
    expect(s.resultant).toBeCloseTo(1, 14);
  });
  it("two equal sites across the boundary (9 and 1 on L = 10): centre 0 (circular, not the arithmetic mean 5)", () => {
    const w = new Float64Array(10); w[9] = 1; w[1] = -1;
    const s = receptiveField1D(w);
    expect(Math.min(s.centre, 10 - s.centre)).toBeLessThan(1e-12);
    // R = cos(2π/10); width = (L/2π)√(−2 ln R).
    expect(s.resultant).toBeCloseTo(Math.cos((2 * Math.PI) / 10), 14);
    expect(s.width).toBeCloseTo((10 / (2 * Math.PI)) * Math.sqrt(-2 * Math.log(Math.cos((2 * Math.PI) / 10))), 12);
  });
  it("sites 1 and 2 on L = 4: centre 1.5, R = √2/2, width = (2/π)√(ln 2)", () => {
    const s = receptiveField1D([0, 1, 1, 0]);
    expect(s.centre).toBeCloseTo(1.5, 14);
    expect(s.resultant).toBeCloseTo(Math.SQRT1_2, 14);
    expect(s.width).toBeCloseTo((2 / Math.PI) * Math.sqrt(Math.LN2), 13);
  });
  it("a Gaussian bump with w² ∝ exp(−(i−c)²/(2σ²)) on a large ring has centre c and width σ (wrapped normal: exact up to lattice sums)", () => {
    const L = 400, c = 397.3, sig = 6;
    const w = Float64Array.from({ length: L }, (_, i) => {
      let d = Math.abs(i - c) % L; d = Math.min(d, L - d);
      return Math.exp(-(d * d) / (4 * sig * sig));
    });
    const s = receptiveField1D(w);
    expect(s.centre).toBeCloseTo(c, 8);
    expect(s.width).toBeCloseTo(sig, 6);
  });
  it("opposite equal sites: R = 0, centre undefined (NaN), width ∞", () => {
    const s = circularStats([1, 0, 1, 0], 4);
    expect(s.resultant).toBe(0);
    expect(Number.isNaN(s.centre)).toBe(true);
    expect(s.width).toBe(Infinity);
  });
  it("2D: per-axis centres of a spike at (row 3, column 7) and of a bump across the corner", () => {
    const L = 10;
    const w = new Float64Array(L * L); w[3 * L + 7] = 2;
    const [a, b] = receptiveField2D(w, L);
    expect(a.centre).toBeCloseTo(3, 12);
    expect(b.centre).toBeCloseTo(7, 12);
    const u = new Float64Array(L * L); u[0] = 1; u[9 * L + 9] = 1; // (0,0) and (9,9): centre (9.5, 9.5)
    const [ua, ub] = receptiveField2D(u, L);
    expect(ua.centre).toBeCloseTo(9.5, 12);
    expect(ub.centre).toBeCloseTo(9.5, 12);
    const all = receptiveFields(Float64Array.from([...w, ...u]), 2, { dim: 2, L });
    expect(all[1].centre[0]).toBeCloseTo(9.5, 12);
  });
});

describe("translation-invariant overlap q̃ = (1/D)|ŵ_k|·|ŵ_l|", () => {
  const D = 16;
  const delta = (i: number) => { const w = new Float64Array(D); w[i] = 1; return w; };
  const cosm = (m: number, ph = 0) => Float64Array.from({ length: D }, (_, i) => Math.cos((2 * Math.PI * m * i) / D + ph));
  const stack = (...rows: Float64Array[]) => { const W = new Float64Array(rows.length * D); rows.forEach((r, k) => W.set(r, k * D)); return W; };
  it("hand values: translates → 1, delta vs cosine → √(2/D), different frequencies → 0, cos vs sin → 1, diagonal 1", () => {
    const W = stack(delta(0), delta(5).map((v) => 3 * v), cosm(3), cosm(3, Math.PI / 2), cosm(5));
    const Q = invariantOverlaps(W, 5, { dim: 1, L: D });
    const q = (k: number, l: number) => Q[k * 5 + l];
    for (let k = 0; k < 5; k++) expect(q(k, k)).toBeCloseTo(1, 14);
    expect(q(0, 1)).toBeCloseTo(1, 14);
    expect(q(0, 2)).toBeCloseTo(Math.sqrt(2 / D), 14);
    expect(q(2, 3)).toBeCloseTo(1, 14);
    expect(q(2, 4)).toBeCloseTo(0, 14);
    expect(q(1, 4)).toBeCloseTo(Math.sqrt(2 / D), 14);
    const Dm = invariantDistances(W, 5, { dim: 1, L: D });
    expect(Dm[0 * 5 + 2]).toBeCloseTo(1 - Math.sqrt(2 / D), 14);
    expect(Dm[3 * 5 + 3]).toBe(0);
  });
  it("2D: a random image and its (wrapped) 2D translate have q̃ = 1; a 1D-only treatment of the flattened vector would not", () => {
    const L = 6, rng = new Rng(2);
    const a = rng.fillNormal(new Float64Array(L * L));
    const b = new Float64Array(L * L);
    for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) b[((i + 2) % L) * L + ((j + 1) % L)] = a[i * L + j];
    const W = Float64Array.from([...a, ...b]);
    expect(invariantOverlaps(W, 2, { dim: 2, L })[1]).toBeCloseTo(1, 13);
    expect(invariantOverlaps(W, 2, { dim: 1, L: L * L })[1]).toBeLessThan(0.99);
  });
});

describe("average-linkage clustering", () => {
  const line = (x: number[]) => { const n = x.length; const d = new Float64Array(n * n); for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i * n + j] = Math.abs(x[i] - x[j]); return d; };
  it("points 0, 1, 5, 6, 20: merges (0,1)@1, (2,3)@1, (5,6)@5 = mean of {5,6,4,5}, (4,7)@17 = mean of {20,19,15,14}", () => {
    const { merges, order } = averageLinkage(line([0, 1, 5, 6, 20]), 5);
    expect(merges).toEqual([
      { a: 0, b: 1, height: 1, size: 2 },
      { a: 2, b: 3, height: 1, size: 2 },
      { a: 5, b: 6, height: 5, size: 4 },
      { a: 4, b: 7, height: 17, size: 5 },
    ]);
    expect(order).toEqual([4, 0, 1, 2, 3]);
  });
  it("uses the average (not single or complete) linkage: points 0, 2, 5 merge at 2 and then at (5 + 3)/2 = 4", () => {
    const { merges } = averageLinkage(line([0, 2, 5]), 3);
    expect(merges.map((m) => m.height)).toEqual([2, 4]);
  });
  it("separates localised from oscillatory receptive fields (IG22 Fig. 2A use)", () => {
    const D = 32, rng = new Rng(4);
    const rows: Float64Array[] = [];
    for (let k = 0; k < 4; k++) rows.push(Float64Array.from({ length: D }, (_, i) => { const d = Math.min(Math.abs(i - 7 * k), D - Math.abs(i - 7 * k)); return Math.exp(-d * d / 4) * (1 + 0.05 * rng.normal()); }));
    for (let k = 0; k < 4; k++) rows.push(Float64Array.from({ length: D }, (_, i) => Math.cos((2 * Math.PI * 13 * i) / D + k) + 0.05 * rng.normal()));
    const order = [3, 6, 0, 5, 1, 7, 2, 4];
    const W = new Float64Array(8 * D);
    order.forEach((r, k) => W.set(rows[r], k * D));
    const { order: leaves, merges } = clusterReceptiveFields(W, 8, { dim: 1, L: D });
    const group = (k: number) => (order[k] < 4 ? "loc" : "osc");
    const g = leaves.map(group);
    // The two groups are contiguous in the leaf order and join only at the last merge.
    expect(new Set(g.slice(0, 4)).size).toBe(1);
    expect(new Set(g.slice(4)).size).toBe(1);
    expect(merges[6].height).toBeGreaterThan(2 * merges[5].height);
  });
});
