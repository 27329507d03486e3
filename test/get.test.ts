import { describe, expect, it } from "vitest";
import { getAccuracyMc, getTestError, preactivationCovariance } from "../src/theory/get.js";
import { makeClassSampler, twoClassTask, GpClass } from "../src/data/task.js";
import { denseFromRow, kernelRow, spectrumOfRow, type Geometry } from "../src/data/kernels.js";
import { evaluate, type Network } from "../src/sim/network.js";
import { Rng } from "../src/stats/rng.js";
import { gErf } from "../src/stats/gaussian-integrals.js";

/** Monte-Carlo pmse and accuracy of a network on a task, with standard errors. */
function mcPmse(net: Network, task: ReturnType<typeof twoClassTask>, n: number, seed: number) {
  const rng = new Rng(seed);
  const { X, y } = task.dataset(n, rng);
  const D = net.D, K = net.K;
  let s = 0, s2 = 0;
  for (let m = 0; m < n; m++) {
    let phi = 0;
    for (let k = 0; k < K; k++) {
      let h = net.b[k];
      for (let i = 0; i < D; i++) h += net.W[k * D + i] * X[m * D + i];
      phi += net.v[k] * gErf(h);
    }
    const e = (y[m] - phi) ** 2;
    s += e;
    s2 += e * e;
  }
  const mean = s / n;
  const ev = evaluate(net, X, y, n, [-1, 1]);
  return { mean, se: Math.sqrt((s2 / n - mean * mean) / n), evalPmse: ev.pmse, accuracy: ev.accuracy };
}

describe("Gaussian-equivalence test error", () => {
  it("Ω = W C Wᵀ by FFT equals the dense product (1D and 2D)", () => {
    for (const geom of [{ dim: 1, L: 40 }, { dim: 2, L: 7 }] as Geometry[]) {
      const D = geom.dim === 1 ? geom.L : geom.L * geom.L, K = 3;
      const row = kernelRow(geom, 2.5);
      const W = new Rng(1).fillNormal(new Float64Array(K * D), 1 / Math.sqrt(D));
      const Om = preactivationCovariance(W, K, geom, spectrumOfRow(geom, row));
      const C = denseFromRow(geom, row);
      for (let k = 0; k < K; k++) for (let l = 0; l < K; l++) {
        let s = 0;
        for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) s += W[k * D + i] * C[i * D + j] * W[l * D + j];
        expect(Om[k * K + l]).toBeCloseTo(s, 12);
      }
    }
  });

  it("is exact for GP inputs: agrees with Monte Carlo on sampled inputs within 4 SE (D = 64, K = 4, biases)", () => {
    const geom: Geometry = { dim: 1, L: 64 };
    const task = twoClassTask(geom, { kind: "gp", xi: 2 }, { kind: "gp", xi: 6 });
    const K = 4, D = 64;
    const rng = new Rng(5);
    // A structured network: two localised and two delocalised neurons, mixed biases and readout.
    const W = new Float64Array(K * D);
    for (let i = 0; i < D; i++) {
      W[i] = 0.8 * Math.exp(-(((i - 20) / 3) ** 2));
      W[D + i] = -0.6 * Math.exp(-(((i - 45) / 5) ** 2));
    }
    for (let i = 2 * D; i < K * D; i++) W[i] = rng.normal() / Math.sqrt(D);
    const net: Network = { K, D, activation: "erf", W, b: Float64Array.from([0.7, -0.4, 1.1, -0.9]), v: Float64Array.from([0.9, -0.6, 0.5, 0.4]) };
    const spectra = task.classes.map((c) => (c as GpClass).spectrum());
    const get = getTestError(net, geom, spectra, [-1, 1]);
    const mc = mcPmse(net, task, 100_000, 17);
    expect(Math.abs(get.pmse - mc.mean)).toBeLessThan(4 * mc.se);
    expect(mc.se).toBeLessThan(0.01 * get.pmse); // an error of a few % would be detected
    expect(mc.evalPmse).toBeCloseTo(mc.mean, 10); // same convention as the simulator's evaluate (no ½)
    // GET accuracy (MC over the K Gaussian pre-activations) agrees with the sampled accuracy.
    const acc = getAccuracyMc(get.omegas, net.b, net.v, [-1, 1], [0.5, 0.5], K, 50_000, 3);
    const seAcc = Math.sqrt(mc.accuracy * (1 - mc.accuracy) / 100_000);
    expect(Math.abs(acc.accuracy - mc.accuracy)).toBeLessThan(4 * Math.hypot(acc.se, seAcc));
  });

  it("NLGP: GET holds for delocalised weights but fails for a localised neuron (IG22 Fig. 3 mechanism)", () => {
    const geom: Geometry = { dim: 1, L: 64 };
    const D = 64, K = 1;
    const nlgp = twoClassTask(geom, { kind: "nlgp", xi: 2, gain: 10 }, { kind: "nlgp", xi: 6, gain: 10 });
    // Spectra of the exact NLGP covariances (what the GET uses).
    const spectra = nlgp.classes.map((c) => spectrumOfRow(geom, c.covarianceRow()));
    const deloc = new Rng(2).fillNormal(new Float64Array(D), 1.5 / Math.sqrt(D));
    const loc = new Float64Array(D);
    loc[10] = 1.5; // a single-site receptive field: λ = 1.5 x_10 is far from Gaussian for g = 10
    const mk = (W: Float64Array): Network => ({ K, D, activation: "erf", W, b: Float64Array.from([0.3]), v: Float64Array.from([1]) });
    const d = mk(deloc), l = mk(loc);
    const mcD = mcPmse(d, nlgp, 60_000, 21), mcL = mcPmse(l, nlgp, 60_000, 22);
    const gD = getTestError(d, geom, spectra, [-1, 1]).pmse, gL = getTestError(l, geom, spectra, [-1, 1]).pmse;
    expect(Math.abs(gD - mcD.mean)).toBeLessThan(4 * mcD.se + 0.01);
    expect(Math.abs(gL - mcL.mean)).toBeGreaterThan(10 * mcL.se);
    // …while for the GP clone with the same covariance the localised neuron is again exact.
    const clone = twoClassTask(geom, { kind: "gp-clone", xi: 2, gain: 10 }, { kind: "gp-clone", xi: 6, gain: 10 });
    const mcC = mcPmse(l, clone, 60_000, 23);
    expect(Math.abs(gL - mcC.mean)).toBeLessThan(4 * mcC.se);
    expect(makeClassSampler(geom, { kind: "gp", xi: 1 }).D).toBe(D);
  });
});
