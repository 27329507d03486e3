/**
 * The weight-space cumulant (Edgeworth) theory, src/theory/cumulant-theory.ts:
 *  - the closed-form tables E[g^{(n)} g^{(m)}] against brute-force 2-D Gauss–Hermite quadrature;
 *  - the gradient (W, b, v) against central finite differences, for the three cumulant sources;
 *  - zero cumulant reproduces the mixture ODE (weight space vs order parameters) to 1e-8, with and
 *    without the SGD-noise (η²) term;
 *  - loss and gradient against Monte Carlo on 10⁶ NLGP samples: closer than GET, and the remaining
 *    error shrinks like κ² as the gain → 0 (the table is printed);
 *  - K = 1 agrees with the single-neuron `full` flow (cubic σ̃, IG22 eq. 5) to O(|w|⁵);
 *  - the `theory` option of ode models.
 */
import { describe, expect, it } from "vitest";
import { ErfDerivativeTables, erfDerivative } from "../src/stats/erf-derivative-moments.js";
import { gaussHermiteProb } from "../src/stats/quadrature.js";
import { CumulantTheory, integrateCumulant, type CumulantClass, type CumulantSource } from "../src/theory/cumulant-theory.js";
import { integrateMixture } from "../src/theory/mixture-ode.js";
import { makeSingleNeuronFlow, translationInvariantCovariance } from "../src/theory/single-neuron.js";
import { classSpectra, runOde } from "../src/experiments/ode.js";
import { parseOdeModel } from "../src/schema/ode.js";
import { makeClassSampler, type ClassSpec } from "../src/data/task.js";
import type { Geometry } from "../src/data/kernels.js";
import { nlgpKurtosis, nlgpTransform } from "../src/data/nlgp.js";
import { Rng } from "../src/stats/rng.js";
import { erf } from "../src/stats/special.js";

const SQ2PI = Math.sqrt(2 / Math.PI);

function drawSamples(geom: Geometry, spec: ClassSpec, n: number, rng: Rng): Float64Array {
  const s = makeClassSampler(geom, spec);
  const D = s.D;
  const X = new Float64Array(n * D);
  for (let i = 0; i < n; i++) s.sample(X.subarray(i * D, (i + 1) * D), rng);
  return X;
}

describe("closed-form Gaussian expectations of erf derivatives", () => {
  it("match 2-D Gauss–Hermite quadrature for all orders n + m ≤ 6 (to 1e-10)", () => {
    const S = [0.7, 0.3, 0.3, 1.2], mu = [0.4, -0.9];
    const T = new ErfDerivativeTables(2, 6).compute(S, mu);
    const gh = gaussHermiteProb(120);
    const L11 = Math.sqrt(S[0]), L21 = S[1] / L11, L22 = Math.sqrt(S[3] - L21 * L21);
    const quad = (f: (x: number, y: number) => number) => {
      let s = 0;
      for (let i = 0; i < gh.x.length; i++) for (let j = 0; j < gh.x.length; j++) {
        const a = gh.x[i], c = gh.x[j];
        s += gh.w[i] * gh.w[j] * f(mu[0] + L11 * a, mu[1] + L21 * a + L22 * c);
      }
      return s;
    };
    let worst = 0;
    for (const [p, q] of [[0, 1], [1, 0], [0, 0], [1, 1]]) {
      for (let a = 0; a <= 6; a++) for (let b = 0; a + b <= 6; b++) {
        // erf (n = 0) has a kink-free but slowly converging tail only for |x| large: 120 nodes suffice.
        const ex = quad((x, y) => erfDerivative(a, p === 0 ? x : y) * erfDerivative(b, q === 0 ? x : y));
        worst = Math.max(worst, Math.abs(T.b(p, q, a, b) - ex));
      }
    }
    for (let p = 0; p < 2; p++) for (let a = 0; a <= 6; a++) worst = Math.max(worst, Math.abs(T.u(p, a) - quad((x, y) => erfDerivative(a, p === 0 ? x : y))));
    expect(worst).toBeLessThan(1e-10);
  });

  it("erfDerivative is the derivative of erf(x/√2)", () => {
    for (const x of [-1.3, 0.2, 2.1]) {
      expect(erfDerivative(0, x)).toBeCloseTo(erf(x / Math.SQRT2), 15);
      expect(erfDerivative(1, x)).toBeCloseTo(SQ2PI * Math.exp(-x * x / 2), 15);
      for (let n = 1; n < 6; n++) {
        const h = 1e-5;
        expect(erfDerivative(n + 1, x)).toBeCloseTo((erfDerivative(n, x + h) - erfDerivative(n, x - h)) / (2 * h), 7);
      }
    }
  });
});

describe("corrected loss: exact gradient", () => {
  const geom: Geometry = { dim: 1, L: 12 };
  const D = 12, K = 3;
  const classes: ClassSpec[] = [{ kind: "nlgp", xi: 1, gain: 3 }, { kind: "nlgp", xi: 2, gain: 3 }];
  const spectra = classSpectra(geom, classes);
  const rng = new Rng(5, 0);
  const samples = classes.map((c) => drawSamples(geom, c, 400, rng));
  const cpFactors = Float64Array.from({ length: 2 * D }, () => rng.normal() * 0.5);
  const sources: Record<string, (mu: number) => CumulantSource> = {
    samples: (mu) => ({ kind: "samples", X: samples[mu], n: 400 }),
    cp: () => ({ kind: "cp", weights: [-0.7, 0.4], factors: cpFactors, r: 2 }),
    iid: () => ({ kind: "iid", excessKurtosis: -1.3 }),
  };
  for (const [name, src] of Object.entries(sources)) {
    it(`∂L/∂(W, b, v) equals central finite differences (${name} source)`, () => {
      const cls: CumulantClass[] = spectra.map((sp, mu) => ({ label: mu === 0 ? -1 : 1, spectrum: sp, cumulant: src(mu) }));
      const th = new CumulantTheory({ K, geometry: geom, classes: cls, lr: 1, weightDecay: 0, trainBias: true, trainSecondLayer: true, secondOrder: false }, [0, 0, 0], [0, 0, 0]);
      const r = new Rng(9, 1);
      const W = Float64Array.from({ length: K * D }, () => r.normal() * 0.5);
      const y = th.initialState({ W, b: [0.3, -0.5, 0.8], v: [0.7, -0.4, 0.9] });
      th.evaluate(y);
      // the correction is really there (not a silent zero)
      expect(Math.abs(th.classCorrection[0]) + Math.abs(th.classCorrection[1])).toBeGreaterThan(1e-3);
      const g = th.gradients();
      const grad = new Float64Array(y.length);
      grad.set(g.W);
      grad.set(g.b, K * D);
      grad.set(g.v, K * D + K);
      let worst = 0;
      for (let i = 0; i < y.length; i++) {
        const h = 1e-5;
        const yp = y.slice(), ym = y.slice();
        yp[i] += h;
        ym[i] -= h;
        const fd = (th.evaluate(yp) - th.evaluate(ym)) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - grad[i]));
      }
      expect(worst).toBeLessThan(2e-8);
    });
  }
});

describe("zero cumulant = mixture ODE", () => {
  it("weight-space flow reproduces the order-parameter ODE to 1e-8 (with and without the η² term)", async () => {
    const geom: Geometry = { dim: 1, L: 16 };
    const D = 16, K = 3;
    const spectra = classSpectra(geom, [{ kind: "nlgp", xi: 1, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 }]);
    const rng = new Rng(3, 0);
    const W = Float64Array.from({ length: K * D }, () => rng.normal() * 0.3);
    const b = [0.5, -0.5, 1], v = [0.5, 0.3, 0.4];
    const times = [0, 1, 3, 10, 20];
    for (const second of [false, true]) {
      const base = { K, geometry: geom, lr: 0.8, weightDecay: 0.01, trainBias: true, trainSecondLayer: true, secondOrder: second };
      const mix = await integrateMixture({ ...base, spectra, labels: [-1, 1] }, { W, b, v }, { times, rtol: 1e-11, atol: 1e-13 });
      // order 1 with no cumulant source, and order 0 with one: both must be exactly Gaussian.
      const rngS = new Rng(4, 0);
      const X = Float64Array.from({ length: 50 * D }, () => rngS.normal());
      for (const variant of [{ order: 1 as const, src: null }, { order: 0 as const, src: { kind: "samples" as const, X, n: 50 } }]) {
        const cum = await integrateCumulant({ ...base, order: variant.order, classes: spectra.map((s, mu) => ({ label: mu ? 1 : -1, spectrum: s, cumulant: variant.src })) }, { W, b, v }, { times, rtol: 1e-11, atol: 1e-13, accuracySamples: 0 });
        let worst = 0;
        times.forEach((_t, j) => {
          worst = Math.max(worst, Math.abs(mix.pmse[j] - cum.pmse[j]));
          for (let mu = 0; mu < 2; mu++) for (let i = 0; i < K * K; i++) worst = Math.max(worst, Math.abs(mix.states[j].omegas[mu][i] - cum.states[j].omegas[mu][i]));
          for (let k = 0; k < K; k++) worst = Math.max(worst, Math.abs(mix.states[j].b[k] - cum.states[j].b[k]), Math.abs(mix.states[j].v[k] - cum.states[j].v[k]));
        });
        expect(mix.pmse[times.length - 1]).toBeLessThan(mix.pmse[0] - 0.1); // it learns
        expect(worst).toBeLessThan(1e-8);
      }
    }
  });
});

/** Loss and ∇_W of a K = 2 network on one class with i.i.d. NLGP inputs: GET (order 0) and the cumulant theory (iid source, exact κ). */
function theories(D: number, W: Float64Array, b: number[], v: number[], label: number, kappa: number) {
  const geom: Geometry = { dim: 1, L: D };
  const mk = (order: 0 | 1) => new CumulantTheory({ K: 2, geometry: geom, classes: [{ label, spectrum: new Float64Array(D).fill(1), cumulant: { kind: "iid", excessKurtosis: kappa } }], lr: 1, weightDecay: 0, trainBias: false, trainSecondLayer: false, secondOrder: false, order }, b, v);
  const get = mk(0), cum = mk(1);
  const y0 = get.initialState({ W, b, v });
  const lGet = get.evaluate(y0), gGet = get.gradients().W.slice();
  const lCum = cum.evaluate(y0), gCum = cum.gradients().W.slice();
  return { lGet, gGet, lCum, gCum };
}

const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2; return Math.sqrt(s); };

describe("against the true NLGP loss", () => {
  const K = 2, b = [0.4, -0.7], v = [0.8, 0.6], label = 1;
  it("loss and gradient are closer to Monte Carlo on 10⁶ NLGP samples than GET's", () => {
    // i.i.d. NLGP coordinates (ξ = 0), so the pre-activation cumulant is exact (source "iid").
    // Coupled samples z ~ N(0, I), x = f_g(z) (NLGP, unit variance), x_G = z (its Gaussian equivalent):
    //   E_NLGP[ℓ] ≈ E_G[ℓ] (closed form) + (1/n) Σ [ℓ(W f(z) + b) − ℓ(W z + b)]  (small variance).
    const D = 6, n = 1_000_000;
    const rng = new Rng(21, 0);
    const W = Float64Array.from({ length: K * D }, () => (rng.normal() / Math.sqrt(D)) * 1.5);
    const z = new Float64Array(D), x = new Float64Array(D);
    console.log("Monte Carlo (10⁶ coupled samples, D = 6, K = 2): gain | κ | |GET − MC| loss | |cumulant − MC| loss | MC SE | |GET − MC| ∇W | |cumulant − MC| ∇W");
    for (const g of [3, 1]) {
      const f = nlgpTransform(g);
      const kappa = nlgpKurtosis(g) - 3;
      const t = theories(D, W, b, v, label, kappa);
      const r = new Rng(100, Math.round(g * 10));
      let s = 0, s2 = 0;
      const dg = new Float64Array(K * D);
      const lamN = new Float64Array(K), lamG = new Float64Array(K);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < D; j++) { z[j] = r.normal(); x[j] = f(z[j]); }
        let phiN = 0, phiG = 0;
        for (let k = 0; k < K; k++) {
          let a = b[k], c = b[k];
          for (let j = 0; j < D; j++) { a += W[k * D + j] * x[j]; c += W[k * D + j] * z[j]; }
          lamN[k] = a; lamG[k] = c;
          phiN += v[k] * erf(a / Math.SQRT2);
          phiG += v[k] * erf(c / Math.SQRT2);
        }
        const rN = phiN - label, rG = phiG - label;
        const d = 0.5 * (rN * rN - rG * rG);
        s += d; s2 += d * d;
        for (let k = 0; k < K; k++) {
          const cN = rN * v[k] * SQ2PI * Math.exp(-0.5 * lamN[k] * lamN[k]);
          const cG = rG * v[k] * SQ2PI * Math.exp(-0.5 * lamG[k] * lamG[k]);
          for (let j = 0; j < D; j++) dg[k * D + j] += cN * x[j] - cG * z[j];
        }
      }
      const mean = s / n, se = Math.sqrt((s2 / n - mean * mean) / n);
      const mcGrad = Float64Array.from(t.gGet, (gv, i) => gv + dg[i] / n);
      const getErr = Math.abs(mean), cumErr = Math.abs(t.lCum - t.lGet - mean);
      const getG = dist(t.gGet, mcGrad), cumG = dist(t.gCum, mcGrad);
      console.log([g, kappa.toFixed(4), getErr.toExponential(2), cumErr.toExponential(2), se.toExponential(1), getG.toExponential(2), cumG.toExponential(2)].join(" | "));
      expect(getErr).toBeGreaterThan(10 * se);
      expect(cumErr).toBeLessThan(0.35 * getErr);
      expect(cumG).toBeLessThan(0.5 * getG);
    }
  }, 120_000);

  it("the remaining error shrinks like κ² as the gain → 0 (exact 3-D quadrature, no MC noise)", () => {
    // D = 3: E_NLGP[ℓ] and E_NLGP[∇_W ℓ] by 48³-point Gauss–Hermite quadrature over z (x = f_g(z)).
    const D = 3;
    const rng = new Rng(21, 0);
    const W = Float64Array.from({ length: K * D }, () => (rng.normal() / Math.sqrt(D)) * 1.5);
    const gh = gaussHermiteProb(48);
    const rows: { g: number; kappa: number; getErr: number; cumErr: number; getG: number; cumG: number }[] = [];
    for (const g of [1, 0.5, 0.25, 0.125, 0.0625]) {
      const f = nlgpTransform(g);
      const kappa = nlgpKurtosis(g) - 3;
      const t = theories(D, W, b, v, label, kappa);
      const fx = gh.x.map(f);
      let L = 0;
      const gr = new Float64Array(K * D), x = [0, 0, 0], lam = [0, 0];
      const N = gh.x.length;
      for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) for (let k = 0; k < N; k++) {
        const w = gh.w[i] * gh.w[j] * gh.w[k];
        x[0] = fx[i]; x[1] = fx[j]; x[2] = fx[k];
        let phi = 0;
        for (let a = 0; a < K; a++) {
          let s = b[a];
          for (let d = 0; d < D; d++) s += W[a * D + d] * x[d];
          lam[a] = s;
          phi += v[a] * erf(s / Math.SQRT2);
        }
        const r = phi - label;
        L += w * 0.5 * r * r;
        for (let a = 0; a < K; a++) {
          const c = w * r * v[a] * SQ2PI * Math.exp(-0.5 * lam[a] * lam[a]);
          for (let d = 0; d < D; d++) gr[a * D + d] += c * x[d];
        }
      }
      rows.push({ g, kappa, getErr: Math.abs(t.lGet - L), cumErr: Math.abs(t.lCum - L), getG: dist(t.gGet, gr), cumG: dist(t.gCum, gr) });
    }
    console.log("exact quadrature (D = 3, K = 2): gain | κ | |GET − exact| loss | |cumulant − exact| loss | |GET − exact| ∇W | |cumulant − exact| ∇W | local slopes vs |κ| (GET, cumulant; loss)");
    rows.forEach((r, i) => {
      const p = rows[i - 1];
      const sl = p ? `${(Math.log(r.getErr / p.getErr) / Math.log(r.kappa / p.kappa)).toFixed(2)}, ${(Math.log(r.cumErr / p.cumErr) / Math.log(r.kappa / p.kappa)).toFixed(2)}` : "";
      console.log([r.g, r.kappa.toExponential(3), r.getErr.toExponential(3), r.cumErr.toExponential(3), r.getG.toExponential(3), r.cumG.toExponential(3), sl].join(" | "));
    });
    for (const r of rows) {
      expect(r.cumErr).toBeLessThan(r.getErr);
      expect(r.cumG).toBeLessThan(r.getG);
    }
    // Asymptotic slopes over the two smallest gain steps: GET error ∝ |κ|, cumulant error ∝ κ².
    for (const i of [3, 4]) {
      const r = rows[i], p = rows[i - 1];
      const lk = Math.log(r.kappa / p.kappa);
      expect(Math.log(r.getErr / p.getErr) / lk).toBeGreaterThan(0.9);
      expect(Math.log(r.getErr / p.getErr) / lk).toBeLessThan(1.15);
      expect(Math.log(r.cumErr / p.cumErr) / lk).toBeGreaterThan(1.85);
      expect(Math.log(r.cumErr / p.cumErr) / lk).toBeLessThan(2.2);
      expect(Math.log(r.cumG / p.cumG) / lk).toBeGreaterThan(1.85);
      expect(Math.log(r.cumG / p.cumG) / lk).toBeLessThan(2.2);
    }
  }, 120_000);
});

describe("K = 1 against the single-neuron full flow", () => {
  it("drifts agree to O(|w|⁵) (the order both are valid), sample cumulant shared", async () => {
    const L = 16, D = 16;
    const geom: Geometry = { dim: 1, L };
    const classes: ClassSpec[] = [{ kind: "nlgp", xi: 1, gain: 3 }, { kind: "nlgp", xi: 2, gain: 3 }];
    const rng = new Rng(8, 0);
    const n = 3000;
    const X = classes.map((c) => drawSamples(geom, c, n, rng));
    const rowsC = classes.map((c) => makeClassSampler(geom, c).covarianceRow());
    const spectra = classSpectra(geom, classes);
    const flow = await makeSingleNeuronFlow({
      variant: "full", D, v: 1, b: 0,
      classes: classes.map((_c, mu) => ({ label: mu ? 1 : -1, weight: 0.5, X: X[mu], n, cov: translationInvariantCovariance(geom, rowsC[mu]) })),
    });
    // b = 0: σ̃ is the cubic Taylor polynomial of erf(h/√2), c2 = −α1² v², c4 = (4/3) α1 α3 v².
    expect(flow.coefficients.c2[0]).toBeCloseTo(-2 / Math.PI, 12);
    expect(flow.coefficients.c4).toBeCloseTo((4 / 3) * Math.sqrt(2 / Math.PI) / Math.sqrt(2 * Math.PI), 12);
    const th = new CumulantTheory({
      K: 1, geometry: geom, lr: 1, weightDecay: 0, trainBias: false, trainSecondLayer: false, secondOrder: false,
      classes: spectra.map((s, mu) => ({ label: mu ? 1 : -1, spectrum: s, cumulant: { kind: "samples", X: X[mu], n } })),
    }, [0], [1]);
    const w0 = Float64Array.from({ length: D }, (_x, i) => Math.exp(-((i - 5) ** 2) / 4) + 0.2 * rng.normal());
    const nrm = Math.sqrt(w0.reduce((a, c) => a + c * c, 0));
    const rel: number[] = [];
    const relCum: number[] = [];
    for (const eps of [0.1, 0.05]) {
      const w = Float64Array.from(w0, (c) => (eps * c) / nrm);
      const a = new Float64Array(D), c = new Float64Array(D);
      flow.rhs(0, w, a);
      th.rhs(0, w, c);
      // the cumulant parts alone: full flow minus its Gaussian variant, theory minus order 0
      const g0 = await makeSingleNeuronFlow({ variant: "gaussian", D, v: 1, b: 0, coefficients: flow.coefficients, classes: classes.map((_c, mu) => ({ label: mu ? 1 : -1, weight: 0.5, cov: translationInvariantCovariance(geom, rowsC[mu]) })) });
      const th0 = new CumulantTheory({ K: 1, geometry: geom, lr: 1, weightDecay: 0, trainBias: false, trainSecondLayer: false, secondOrder: false, order: 0, classes: spectra.map((s, mu) => ({ label: mu ? 1 : -1, spectrum: s, cumulant: null })) }, [0], [1]);
      const a0 = new Float64Array(D), c0 = new Float64Array(D);
      g0.rhs(0, w, a0);
      th0.rhs(0, w, c0);
      let d = 0, m = 0, dc = 0, mc = 0;
      for (let i = 0; i < D; i++) {
        d += (a[i] - c[i]) ** 2; m += a[i] ** 2;
        dc += ((a[i] - a0[i]) - (c[i] - c0[i])) ** 2; mc += (a[i] - a0[i]) ** 2;
      }
      rel.push(Math.sqrt(d / m));
      relCum.push(Math.sqrt(dc / mc));
    }
    console.log(`K = 1 vs single-neuron full flow: relative drift difference ${rel.map((r) => r.toExponential(2)).join(" → ")}, of the cumulant terms ${relCum.map((r) => r.toExponential(2)).join(" → ")} (ε = 0.1 → 0.05)`);
    // Drift O(ε), difference O(ε⁵): halving ε divides the relative difference by ≈ 16.
    expect(rel[0]).toBeLessThan(0.01);
    expect(rel[0] / rel[1]).toBeGreaterThan(12);
    expect(rel[0] / rel[1]).toBeLessThan(20);
    // Cumulant term O(ε³), difference O(ε⁵): relative difference ÷ ≈ 4.
    expect(relCum[0]).toBeLessThan(0.15);
    expect(relCum[0] / relCum[1]).toBeGreaterThan(3.3);
    expect(relCum[0] / relCum[1]).toBeLessThan(4.8);
  });
});

describe("the theory option of ode models", () => {
  const model = {
    kind: "ode", mode: "mixture", seed: 2,
    task: { geometry: { dim: 1, L: 16 }, classes: [{ kind: "nlgp", xi: 1, gain: 3 }, { kind: "nlgp", xi: 2, gain: 3 }], labels: "pm1" },
    network: { K: 2, activation: "erf", secondLayer: { mode: "fixed" }, bias: { mode: "trained", value: 1, pattern: "split" }, initScale: 1 },
    training: { lr: 0.8 },
    time: { end: 20, points: 5, spacing: "linear" },
  };
  it("order 0 reproduces the GET ODE; order 1 runs and differs from it", async () => {
    const m0 = parseOdeModel({ ...model, theory: "cumulant", cumulant: { samples: 500, order: 0, accuracySamples: 0 } });
    const r0 = await runOde(m0);
    if (r0.mode !== "mixture" || !r0.cumulant) throw new Error("expected a mixture result with the cumulant run");
    r0.run.pmse.forEach((p, j) => expect(Math.abs(p - r0.cumulant!.pmse[j])).toBeLessThan(1e-6));
    const m1 = parseOdeModel({ ...model, theory: "cumulant", cumulant: { samples: 2000, accuracySamples: 2000 } });
    const r1 = await runOde(m1);
    if (r1.mode !== "mixture" || !r1.cumulant) throw new Error("expected a mixture result with the cumulant run");
    const c = r1.cumulant;
    expect(c.status).toBe("done");
    expect(Math.abs(c.pmse[4] - r1.run.pmse[4])).toBeGreaterThan(1e-4);
    expect(c.accuracy[4].accuracy).toBeGreaterThan(0.5);
    expect(c.meanIprWithNoise[4]).toBeGreaterThan(1 / 16);
  }, 60_000);
  it("rejects cumulant options without the cumulant theory and iid with correlated classes", () => {
    expect(() => parseOdeModel({ ...model, cumulant: { samples: 10 } })).toThrow(/model.theory: must be "cumulant"/);
    expect(() => parseOdeModel({ ...model, theory: "cumulant", cumulant: { source: "iid" } })).toThrow(/xi = 0/);
    expect(() => parseOdeModel({ ...model, theory: "nope" })).toThrow(/theory/);
  });
});
