import { describe, expect, it } from "vitest";
import { setKernelBackend, simdAvailable } from "../src/kernels/index.js";
import { ChebPanels } from "../src/kernels/cheb-panels.js";
import { kurVariance, makeField, makeMarginal, type MarginalSpec } from "../src/data/marginals.js";
import { lbeta } from "../src/stats/gamma.js";
import { erf as erfRef } from "../src/stats/special.js";
import { Rng } from "../src/stats/rng.js";
import { Task } from "../src/data/task.js";
import { kernelRow } from "../src/data/kernels.js";
import { denseCirculant, lsgRhs, makePhi, phiCubic, phiDirect, phiSign } from "../src/theory/lsg24.js";
import { trainSingleRelu } from "../src/sim/single-relu.js";
import { lsgExperiment } from "../src/experiments/lsg.js";
import { writeLsgResult } from "../src/io/results/lsg.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SgdStepper } from "../src/sim/sgd.js";
import type { Network } from "../src/sim/network.js";

const S2P = Math.sqrt(2 / Math.PI);

describe("φ(a): closed forms and check values", () => {
  it("φ(0.5) = 0.43630 (±1), 0.39894 (Gaussian), 0.43253 (NLGP g = 3, LSG24 convention erf(g z))", () => {
    expect(Math.abs(phiSign(0.5) - 0.43630)).toBeLessThan(5e-6);
    expect(Math.abs(phiDirect(makeMarginal({ kind: "sign" }), 0.5) - 0.43630)).toBeLessThan(5e-6);
    expect(Math.abs(phiDirect(makeMarginal({ kind: "gaussian" }), 0.5) - 0.39894)).toBeLessThan(5e-6);
    // The check value 0.43253 is reproduced by LSG24's convention x ∝ erf(g z) with g = 3 (IG22 gain 3√2) …
    const lsg = phiDirect(makeMarginal({ kind: "nlgp", gain: 3, convention: "lsg24" }), 0.5);
    expect(Math.abs(lsg - 0.43253)).toBeLessThan(5e-6);
    const ig = phiDirect(makeMarginal({ kind: "nlgp", gain: 3 * Math.SQRT2, convention: "ig22" }), 0.5);
    expect(Math.abs(ig - lsg)).toBeLessThan(1e-12);
    // … and NOT by IG22's erf(g z/√2) with g = 3 (0.43081).
    const ig3 = phiDirect(makeMarginal({ kind: "nlgp", gain: 3 }), 0.5);
    expect(Math.abs(ig3 - 0.43081)).toBeLessThan(5e-6);
    expect(Math.abs(ig3 - 0.43253)).toBeGreaterThan(1e-3);
  });

  it("quadrature φ reproduces the Gaussian and ±1 limits of the NLGP", () => {
    const small = makeMarginal({ kind: "nlgp", gain: 1e-3 });
    const big = makeMarginal({ kind: "nlgp", gain: 1e5 });
    for (const a of [-0.9, -0.3, 0.1, 0.5, 0.8, 0.99]) {
      expect(Math.abs(phiDirect(small, a) - S2P * a)).toBeLessThan(1e-6);
      expect(Math.abs(phiDirect(big, a) - phiSign(a))).toBeLessThan(1e-4);
    }
    expect(phiDirect(small, 1)).toBeCloseTo(S2P, 6); // E|x| of a Gaussian
    expect(phiSign(1)).toBe(1);
  });

  it("small-a cubic expansion √(2/π)[a + (3−κ)a³/6], residual shrinking as a² (wrong κ would fail)", () => {
    const specs: MarginalSpec[] = [
      { kind: "nlgp", gain: 1 }, { kind: "nlgp", gain: 3, convention: "lsg24" }, { kind: "kur", k: 7 }, { kind: "kur", k: 20 },
      { kind: "elliptical", radius: { kind: "lognormal", s: 0.2 } }, { kind: "sign" },
    ];
    for (const s of specs) {
      const m = makeMarginal(s), k = m.kurtosis();
      const res = (a: number) => (phiDirect(m, a) - phiCubic(k, a)) / a ** 3;
      const r1 = res(0.01), r2 = res(0.02);
      expect(Math.abs(r1)).toBeLessThan(3e-5); // the cubic coefficient itself is 0.07–0.27 here
      expect(r2 / r1).toBeGreaterThan(3.6); // O(a²) remainder: ratio 4
      expect(r2 / r1).toBeLessThan(4.4);
    }
  });
});

describe("PhiTable (piecewise Chebyshev in θ = asin a)", () => {
  it("matches direct quadrature to 1e-9 on [−1, 1]", () => {
    const specs: MarginalSpec[] = [
      { kind: "nlgp", gain: 1 }, { kind: "nlgp", gain: 3, convention: "lsg24" }, { kind: "nlgp", gain: 100 },
      { kind: "kur", k: 4.5 }, { kind: "kur", k: 50 }, { kind: "elliptical", radius: { kind: "student", nu: 6 } },
    ];
    const rng = new Rng(7);
    for (const s of specs) {
      const m = makeMarginal(s);
      const { phi, table } = makePhi(m);
      // The table met its own error target (largest tail coefficient ≤ tol = 1e-12) with few panels.
      expect(table!.errorEstimate).toBeLessThanOrEqual(1e-12);
      expect(table!.panels).toBeLessThan(100);
      const pts = [-1, -0.999999, -0.5, 0, 1e-6, 0.3, 0.9999, 1];
      for (let i = 0; i < 40; i++) pts.push(2 * rng.uniform() - 1);
      for (const a of pts) expect(Math.abs(phi(a) - phiDirect(m, a))).toBeLessThan(1e-9);
    }
  });

  it("table and quadrature equal closed forms: uniform marginal (NLGP g = 1) for all a; E|x| at a = ±1 for Kur(k) and Student-t", () => {
    // NLGP g = 1: erf(z/√2) = 2Φ(z) − 1 is uniform, so x is uniform on [−√3, √3] and
    // φ(a) = (1/√3) ∫_0^√3 x erf(cx) dx = (1/√3)[(3/2 − 1/(4c²)) erf(√3 c) + √3 e^{−3c²}/(2c√π)],  c = a/√(2(1−a²)).
    const uni = makeMarginal({ kind: "nlgp", gain: 1 });
    const { phi } = makePhi(uni);
    const exactUniform = (a: number) => {
      if (Math.abs(a) === 1) return Math.sign(a) * Math.sqrt(3) / 2; // E|x|
      const c = Math.abs(a) / Math.sqrt(2 * (1 - a * a)), r3 = Math.sqrt(3);
      const v = ((1.5 - 1 / (4 * c * c)) * erfRef(r3 * c) + (r3 * Math.exp(-3 * c * c)) / (2 * c * Math.sqrt(Math.PI))) / r3;
      return Math.sign(a) * v;
    };
    for (const a of [-1, -0.97, -0.6, -0.2, 0.05, 0.1, 0.3, 0.5, 0.75, 0.9, 0.999, 1]) {
      const want = exactUniform(a);
      expect(Math.abs(phiDirect(uni, a) - want)).toBeLessThan(1e-12);
      expect(Math.abs(phi(a) - want)).toBeLessThan(1e-11);
    }
    // Kur(k) at a = 1: E|x| = E[y (1 − y^k)^{−1/k}]/σ_k with y = |2U − 1| uniform = B(2/k, 1 − 1/k)/(k σ_k).
    for (const k of [4.5, 7, 50]) {
      const m = makeMarginal({ kind: "kur", k });
      const want = Math.exp(lbeta(2 / k, 1 - 1 / k)) / (k * Math.sqrt(kurVariance(k)));
      expect(Math.abs(makePhi(m).phi(1) - want)).toBeLessThan(1e-10);
      expect(Math.abs(phiDirect(m, -1) + want)).toBeLessThan(1e-10);
    }
    // Student-t radius (ν = 6): E|x| = √((ν−2)/π) Γ((ν−1)/2)/Γ(ν/2) = 3/4 exactly.
    const st = makeMarginal({ kind: "elliptical", radius: { kind: "student", nu: 6 } });
    expect(Math.abs(makePhi(st).phi(1) - 0.75)).toBeLessThan(1e-10);
    expect(Math.abs(phiDirect(st, 1) - 0.75)).toBeLessThan(1e-12);
  });

  it("evalMany (interleaved recurrences, TS and SIMD) gives eval's bits for every entry, any n", () => {
    const rng = new Rng(21);
    const backends = simdAvailable() ? (["ts", "wasm-simd"] as const) : (["ts"] as const);
    for (const [b, s] of backends.flatMap((b) => ([{ kind: "nlgp", gain: 3, convention: "lsg24" }, { kind: "kur", k: 4.5 }] as MarginalSpec[]).map((s) => [b, s] as const))) {
      const prev = setKernelBackend(b);
      const { phi, phiMany, table } = makePhi(makeMarginal(s));
      expect(phiMany).toBeDefined();
      const pts = [-1, -0.999999, -0.5, -0, 0, 1e-300, 1e-6, 0.3, 0.9999, 1, 1.5, -7];
      // Points right on every panel edge (θ = asin a), where a wrong panel would show.
      for (let p = 1; p < table!.panels; p++) pts.push(Math.sin(table!.edges[p]), -Math.sin(table!.edges[p]));
      for (let i = 0; i < 40; i++) pts.push(2 * rng.uniform() - 1);
      for (const n of [pts.length, pts.length - 1, pts.length - 2, pts.length - 3, 3, 1, 0]) {
        const a = Float64Array.from(pts.slice(0, n)), out = new Float64Array(n).fill(NaN);
        phiMany!(a, out, n);
        for (let i = 0; i < n; i++) expect(Object.is(out[i], phi(a[i])), `${b}, ${s.kind}: a = ${a[i]}, n = ${n}`).toBe(true);
      }
      setKernelBackend(prev);
    }
  });

  it("ChebPanels rejects a malformed table with a clear error", () => {
    expect(() => new ChebPanels(new Float64Array([0]), new Float64Array(25), 24)).toThrow(/need ≥ 2 edges/);
    expect(() => new ChebPanels(new Float64Array([0, 1]), new Float64Array(24), 24)).toThrow(/coefficients per panel/);
  });
});

describe("effective ODE", () => {
  it("Gaussian inputs: a single Fourier mode of amplitude √(2/π)√λ1/(λ0+λ1) is a fixed point", () => {
    const L = 16, D = L, k = 2;
    const r0 = kernelRow({ dim: 1, L }, 0.8), r1 = kernelRow({ dim: 1, L }, 1.6);
    const S0 = denseCirculant(L, 1, r0), S1 = denseCirculant(L, 1, r1);
    const sum = S0.map((v, i) => v + S1[i]);
    const lam = (r: Float64Array) => r.reduce((s, v, j) => s + v * Math.cos((2 * Math.PI * k * j) / L), 0);
    const l0 = lam(r0), l1 = lam(r1);
    const v = Float64Array.from({ length: D }, (_, i) => Math.cos((2 * Math.PI * k * i) / L + 0.3));
    const nv = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const A = (S2P * Math.sqrt(l1)) / (l0 + l1);
    const w = v.map((x) => (A * x) / nv);
    const dw = new Float64Array(D);
    lsgRhs({ D, sigma1: S1, sum, phi: (a) => S2P * a })(0, w, dw);
    for (let i = 0; i < D; i++) expect(Math.abs(dw[i])).toBeLessThan(1e-13);
    // A 10 % larger amplitude is not a fixed point.
    lsgRhs({ D, sigma1: S1, sum, phi: (a) => S2P * a })(0, w.map((x) => 1.1 * x), dw);
    expect(Math.max(...dw.map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it("mean SGD update of a ReLU neuron on Gaussian inputs = ½·RHS (exact there); trainSingleRelu agrees", async () => {
    const L = 8, D = L, geom = { dim: 1 as const, L };
    const f0 = makeField(geom, { xi: 0.6, marginal: { kind: "gaussian" } }), f1 = makeField(geom, { xi: 1.5, marginal: { kind: "gaussian" } });
    const task = new Task([f0.sampler, f1.sampler], [0, 1]);
    const S0 = denseCirculant(L, 1, f0.sampler.covarianceRow()), S1 = denseCirculant(L, 1, f1.sampler.covarianceRow());
    const sum = S0.map((v, i) => v + S1[i]);
    const w = Float64Array.from([0.5, -0.2, 0.3, 0.1, -0.4, 0.25, 0.05, -0.1]);
    const rhs = new Float64Array(D);
    lsgRhs({ D, sigma1: S1, sum, phi: (a) => S2P * a })(0, w, rhs);
    const N = 300000, x = new Float64Array(D), rng = new Rng(99);
    const m = new Float64Array(D), m2 = new Float64Array(D);
    for (let n = 0; n < N; n++) {
      const mu = task.sample(x, rng);
      let h = 0;
      for (let i = 0; i < D; i++) h += w[i] * x[i];
      const g = h > 0 ? task.labels[mu] - h : 0;
      for (let i = 0; i < D; i++) { const u = g * x[i]; m[i] += u; m2[i] += u * u; }
    }
    for (let i = 0; i < D; i++) {
      const mean = m[i] / N, se = Math.sqrt((m2[i] / N - mean * mean) / N);
      expect(Math.abs(mean - 0.5 * rhs[i])).toBeLessThan(5 * se);
    }
    // The simulator with a tiny learning rate walks along the same mean (same sample stream).
    const lr = 1e-10;
    const r = await trainSingleRelu(new Task([f0.sampler, f1.sampler], [0, 1]), w, new Rng(99), { lr, steps: N });
    for (let i = 0; i < D; i++) expect(Math.abs((r.w[i] - w[i]) / (lr * N) - m[i] / N)).toBeLessThan(2e-6);
  });

  it("trainSingleRelu follows the general simulator (K = 1, ReLU, v = 1, no bias, lr/D⁰) step for step", async () => {
    const L = 20, geom = { dim: 1 as const, L };
    const mk = () => new Task([makeField(geom, { xi: 0.3, marginal: { kind: "kur", k: 8 } }).sampler, makeField(geom, { xi: 0.7, marginal: { kind: "kur", k: 8 } }).sampler], [0, 1]);
    const w0 = Float64Array.from({ length: L }, (_, i) => 0.3 * Math.sin(i + 1));
    const lr = 0.01, steps = 3000;
    const mine = await trainSingleRelu(mk(), w0, new Rng(4), { lr, steps });
    const net: Network = { K: 1, D: L, activation: "relu", W: w0.slice(), b: new Float64Array(1), v: Float64Array.of(1) };
    const st = new SgdStepper(net, { lr, lrScaling: 0, weightDecay: 0, trainSecondLayer: false, trainBias: false });
    const task = mk(), rng = new Rng(4), x = new Float64Array(L);
    for (let n = 0; n < steps; n++) {
      const mu = task.sample(x, rng);
      st.stepSample(x, 0, task.labels[mu]);
    }
    let d = 0;
    for (let i = 0; i < L; i++) d = Math.max(d, Math.abs(net.W[i] - mine.w[i]));
    expect(d).toBeLessThan(1e-12);
    expect(Math.max(...mine.w.map((v, i) => Math.abs(v - w0[i])))).toBeGreaterThan(1e-2); // it did move
  });

  it("kurtosis sweep (L = 40, ξ = (0.3, 0.7), 3 seeds): localised iff κ < 3", async () => {
    // Thresholds (D = 40): "delocalised" = mean final IPR < 0.06 = 2.4/D (an extended Fourier mode
    // has IPR between 1/D and 3/(2D) = 0.0375); "localised" = mean IPR > 0.2 = 8/D (participation
    // ratio below 5 sites).  The Gaussian marginal is the delocalised baseline.
    const base = (marginal: MarginalSpec, seed: number) => ({
      kind: "lsg", seed, dynamics: "ode",
      data: { geometry: { dim: 1, L: 40 }, marginal, classes: [{ xi: 0.3 }, { xi: 0.7 }] },
      ode: { t1: 1000 },
    });
    const meanIpr = async (m: MarginalSpec) => {
      let s = 0;
      for (const seed of [1, 2, 3]) s += (await lsgExperiment.run(lsgExperiment.parse(base(m, seed)))).summary.ipr;
      return s / 3;
    };
    const gauss = await meanIpr({ kind: "gaussian" });
    expect(gauss).toBeLessThan(0.06);
    const cases: [MarginalSpec, number][] = [
      [{ kind: "kur", k: 4.5 }, 7.054], [{ kind: "kur", k: 5 }, 4.285], [{ kind: "elliptical", radius: { kind: "student", nu: 6 } }, 6],
      [{ kind: "kur", k: 8 }, 2.270], [{ kind: "kur", k: 50 }, 1.809], [{ kind: "nlgp", gain: 1 }, 1.8], [{ kind: "nlgp", gain: 10 }, 1.066],
    ];
    const got: string[] = [];
    for (const [m, kappa] of cases) {
      expect(makeMarginal(m).kurtosis()).toBeCloseTo(kappa, 2);
      const I = await meanIpr(m);
      got.push(`${JSON.stringify(m)} κ=${kappa} IPR=${I.toFixed(4)}`);
      if (kappa > 3) expect(I, got.join("; ")).toBeLessThan(0.06);
      else expect(I, got.join("; ")).toBeGreaterThan(0.2);
    }
  });

  it("an lsg run (ode and sgd) is a pure call; the writer puts its arrays, tables and result.json on disk", async () => {
    const raw = (dynamics: "ode" | "sgd") => ({
      kind: "lsg", seed: 2, dynamics,
      data: { geometry: { dim: 1, L: 12 }, marginal: { kind: "kur", k: 8 }, classes: [{ xi: 0.3 }, { xi: 0.7 }] },
      ode: { t1: 50, samples: 10 }, sgd: { lr: 0.05, t1: 5, samples: 10 },
    });
    const root = mkdtempSync(join(tmpdir(), "rfdyn-lsg-"));
    try {
      for (const dyn of ["ode", "sgd"] as const) {
        const r = await lsgExperiment.run(lsgExperiment.parse(raw(dyn)));
        expect(["done", "steady"]).toContain(r.status);
        expect(r.t[0]).toBe(0);
        expect(r.ws.length).toBe(r.t.length);
        expect(Array.from(r.w)).toEqual(Array.from(r.ws[r.ws.length - 1]));
        // Same seed ⇒ same initial weights for both dynamics.
        const again = await lsgExperiment.run(lsgExperiment.parse(raw(dyn)));
        expect(Array.from(again.w)).toEqual(Array.from(r.w));
        const out = join(root, dyn);
        await writeLsgResult(out, r);
        const res = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
        expect(res.kind).toBe("lsg");
        expect(res.status).toBe(r.status);
        expect(res.message).toBe(r.message);
        expect(res.summary.ipr).toBe(r.summary.ipr);
        expect(readFileSync(join(out, "trajectory.csv"), "utf8").trim().split("\n").length).toBe(r.t.length + 1);
        expect(readFileSync(join(out, "w.npy")).length).toBeGreaterThan(12 * 8);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("LSG24's published training settings (minibatch, loss (y − ŷ)², truncated xavier init)", () => {
  it("truncated xavier-normal init: Var w_i = initScale·2/(1 + D) (4 SE), |w_i| ≤ 2 sd of the untruncated normal", async () => {
    const { initWeightsXavierTruncated, TRUNCNORM2_STD } = await import("../src/theory/lsg24.js");
    const D = 40, initScale = 0.001, n = 4000;
    let s2 = 0, s4 = 0, max = 0;
    for (let k = 0; k < n; k++) {
      const w = initWeightsXavierTruncated(D, initScale, Rng.stream(7, k));
      for (const v of w) { s2 += v * v; s4 += v ** 4; max = Math.max(max, Math.abs(v)); }
    }
    const N = n * D, v = s2 / N, se = Math.sqrt((s4 / N - v * v) / N);
    const want = initScale * 2 / (1 + D);
    expect(Math.abs(v - want)).toBeLessThan(4 * se);
    // Untruncated N(0, want) would exceed this bound; the truncated law never does.
    expect(max).toBeLessThanOrEqual(2 * Math.sqrt(want) / TRUNCNORM2_STD + 1e-15);
    expect(max).toBeGreaterThan(1.9 * Math.sqrt(want) / TRUNCNORM2_STD);
  });

  it("a minibatch step is w += (f·lr/B) Σ_b (y_b − ŷ_b)1[h_b > 0] x_b over B fresh samples at the same w (replayed by hand, bit for bit)", async () => {
    const L = 10, geom = { dim: 1 as const, L };
    const mk = () => new Task([makeField(geom, { xi: 0.3, marginal: { kind: "kur", k: 8 } }).sampler, makeField(geom, { xi: 0.7, marginal: { kind: "kur", k: 8 } }).sampler], [0, 1]);
    const w0 = Float64Array.from({ length: L }, (_, i) => 0.2 * Math.cos(i));
    const B = 37, steps = 5, lr = 0.1, f = 2;
    const r = await trainSingleRelu(mk(), w0, new Rng(11), { lr, steps, batchSize: B, lossFactor: f });
    const task = mk(), rng = new Rng(11), x = new Float64Array(L), w = w0.slice(), g = new Float64Array(L);
    for (let n = 0; n < steps; n++) {
      g.fill(0);
      for (let b = 0; b < B; b++) {
        const mu = task.sample(x, rng);
        let h = 0;
        for (let i = 0; i < L; i++) h += w[i] * x[i];
        if (h > 0) for (let i = 0; i < L; i++) g[i] += (task.labels[mu] - h) * x[i];
      }
      for (let i = 0; i < L; i++) w[i] += ((f * lr) / B) * g[i];
    }
    expect(Array.from(r.w)).toEqual(Array.from(w));
    await expect(trainSingleRelu(mk(), w0, new Rng(1), { lr, steps: 1, batchSize: 0 })).rejects.toThrow(/batchSize/);
  });

  it("time mapping: with loss (y − ŷ)² one step advances ODE time by lr (not lr/2) — large-batch SGD lands on the ODE at t = lr·steps, and is off at lr·steps/2", async () => {
    const common = { kind: "lsg", seed: 3, data: { geometry: { dim: 1, L: 12 }, marginal: { kind: "gaussian" }, classes: [{ xi: 0.5 }, { xi: 1.5 }] }, init: { kind: "xavier-truncated", initScale: 1 } };
    // lr 0.02: the Euler discretisation error of a step (dt = lr) stays small (at lr 0.1 it is ~12 % of |w| here).
    const lr = 0.02, steps = 750;
    const sgd = await lsgExperiment.run(lsgExperiment.parse({ ...common, dynamics: "sgd", sgd: { lr, steps, batchSize: 4000, loss: "lsg24", samples: 5 } }));
    expect(sgd.t[sgd.t.length - 1]).toBeCloseTo(lr * steps, 12);
    const ode = async (t1: number) => (await lsgExperiment.run(lsgExperiment.parse({ ...common, dynamics: "ode", ode: { t1, samples: 5, steadyTol: 0 } }))).w;
    const dist = (a: Float64Array, b: Float64Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / b.reduce((s, v) => s + v * v, 0));
    const right = dist(sgd.w, await ode(lr * steps)), half = dist(sgd.w, await ode((lr * steps) / 2)), twice = dist(sgd.w, await ode(2 * lr * steps));
    expect(right).toBeLessThan(0.1); // measured 0.057
    expect(half).toBeGreaterThan(4 * right); // measured 0.33
    expect(twice).toBeGreaterThan(4 * right); // measured 0.44
    // Same seed ⇒ same initial weights for the ODE and SGD (both start from sgd.ws[0]).
    const o = await lsgExperiment.run(lsgExperiment.parse({ ...common, dynamics: "ode", ode: { t1: 1, samples: 2 } }));
    expect(Array.from(o.ws[0])).toEqual(Array.from(sgd.ws[0]));
  });

  it("schema: steps/batchSize/loss/init validated with one-line errors", () => {
    const base = { kind: "lsg", dynamics: "sgd", data: { geometry: { dim: 1, L: 8 }, marginal: { kind: "gaussian" }, classes: [{ xi: 0.5 }, { xi: 1 }] } };
    expect(() => lsgExperiment.parse({ ...base, sgd: { batchSize: 0 } })).toThrow(/model\.sgd\.batchSize/);
    expect(() => lsgExperiment.parse({ ...base, sgd: { loss: "l1" } })).toThrow(/model\.sgd\.loss/);
    expect(() => lsgExperiment.parse({ ...base, init: { initScale: 0.1 } })).toThrow(/model\.init\.initScale: needs model\.init\.kind "xavier-truncated"/);
    expect(() => lsgExperiment.parse({ ...base, sgd: { steps: 1e6, batchSize: 1e6 } })).toThrow(/steps × batchSize/);
  });
});
