/**
 * NLGP statistics: exact γ(g), covariance and marginal kurtosis next to their sample estimates.
 *
 *   npx tsx examples/nlgp-statistics.ts
 */
import { Rng, kernelRow, nlgpCovariance, nlgpGamma, nlgpKurtosis, NlgpClass } from "rfdyn";

const geom = { dim: 1, L: 64 } as const;
const xi = 4;
const n = 20_000;
const rng = new Rng(7);

console.log("gain   gamma(g)   excess kurtosis (exact | sample)   C(0,1) (exact | sample)   C(0,4) (exact | sample)");
for (const g of [1, 3, 10]) {
  const cls = new NlgpClass(geom, xi, g);
  const x = new Float64Array(geom.L);
  let m4 = 0, c01 = 0, c04 = 0, m2 = 0;
  for (let s = 0; s < n; s++) {
    cls.sample(x, rng);
    for (let i = 0; i < geom.L; i++) { m2 += x[i] ** 2; m4 += x[i] ** 4; }
    for (let i = 0; i < geom.L; i++) { c01 += x[i] * x[(i + 1) % geom.L]; c04 += x[i] * x[(i + 4) % geom.L]; }
  }
  const N = n * geom.L;
  const base = kernelRow(geom, xi);
  console.log(
    `${String(g).padEnd(6)} ${nlgpGamma(g).toFixed(6)}   ${(nlgpKurtosis(g) - 3).toFixed(4)} | ${(m4 / N / (m2 / N) ** 2 - 3).toFixed(4)}` +
      `                 ${nlgpCovariance(base[1], g).toFixed(4)} | ${(c01 / N).toFixed(4)}` +
      `              ${nlgpCovariance(base[4], g).toFixed(4)} | ${(c04 / N).toFixed(4)}`,
  );
}
