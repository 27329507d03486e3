/**
 * Analytic Jacobians (OdeProblem.jac) against finite differences.
 *
 *  - Single-neuron flow (src/theory/single-neuron.ts), every variant and covariance path: gaussian
 *    (exact dense C, FFT C, sample Ĉ), full (Ĉ = one fused syrk; exact C + sample cumulant), cp
 *    (general factors and the exact diagonal cumulant), exact (erf and cubic neuron).  Central
 *    differences with step 1e-5 (truncation O(h²) ≈ 1e-10 relative for these polynomials/erf) at a
 *    random non-small w; agreement to 1e-7 relative to max|J| (a wrong factor 2 or 3, a missing
 *    rank-one term or a transposition is O(1)).
 *  - LSG24 effective dynamics (src/theory/lsg24.ts) for the Gaussian, ±1 (closed-form φ') and
 *    tabulated (NLGP, Kur) marginals (φ' by a central difference of the table), to 1e-7.
 *  - The finite-difference Jacobian of the solvers (src/integrate/linalg.ts) against analytic ones.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../src/stats/rng.js";
import { twoClassTask } from "../src/data/task.js";
import { nlgpKurtosis } from "../src/data/nlgp.js";
import { deriveFlowCoefficients } from "../src/theory/coefficients.js";
import {
  buildSingleNeuronFlow, diagonalCumulantFactors, translationInvariantCovariance, type FlowClass, type FlowVariant,
} from "../src/theory/single-neuron.js";
import { classDatasets } from "../src/theory/flow-trajectory.js";
import { makeCPTensor } from "../src/stats/cp-tensor.js";
import { fdJacobian } from "../src/integrate/linalg.js";
import { makeMarginal, type MarginalSpec } from "../src/data/marginals.js";
import { kernelRow } from "../src/data/kernels.js";
import { denseCirculant, lsgJacobian, lsgRhs, makePhi } from "../src/theory/lsg24.js";
import type { Jac, Rhs } from "../src/integrate/index.js";

/** Central-difference Jacobian (independent of the solvers' forward differences). */
function centralJacobian(rhs: Rhs, y: Float64Array, h = 1e-5): Float64Array {
  const n = y.length, J = new Float64Array(n * n), fp = new Float64Array(n), fm = new Float64Array(n);
  const yy = Float64Array.from(y);
  for (let j = 0; j < n; j++) {
    yy[j] = y[j] + h;
    rhs(0, yy, fp);
    yy[j] = y[j] - h;
    rhs(0, yy, fm);
    yy[j] = y[j];
    for (let i = 0; i < n; i++) J[i * n + j] = (fp[i] - fm[i]) / (2 * h);
  }
  return J;
}

function relMaxDiff(a: Float64Array, b: Float64Array): number {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

function analytic(jac: Jac, y: Float64Array): Float64Array {
  const J = new Float64Array(y.length * y.length).fill(NaN);
  jac(0, y, J);
  return J;
}

describe("single-neuron flow: analytic Jacobian = central differences of the RHS", async () => {
  const L = 12, D = L, P = 600;
  const task = twoClassTask({ dim: 1, L }, { kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 2, gain: 3 });
  const data = classDatasets(task, P, Rng.stream(7, 0), false);
  const coef = await deriveFlowCoefficients({ v: 1, b: -1, labels: [-1, 1] });
  const coefV = await deriveFlowCoefficients({ v: 0.8, b: -0.6, labels: [-1, 1] });
  const w = new Float64Array(D);
  Rng.stream(7, 1).fillNormal(w, 0.6);
  const exactCov = (mu: number, denseMax = 1024) => translationInvariantCovariance({ dim: 1, L }, task.classes[mu].covarianceRow(), denseMax);
  const rngU = Rng.stream(7, 2);
  const cpGeneral = [0, 1].map(() => { const U = new Float64Array(3 * D); rngU.fillNormal(U); return makeCPTensor([0.7, -0.4, 1.1], U, D); });
  const cases: [string, FlowVariant, (mu: number) => Partial<FlowClass>, ("erf" | "cubic")?][] = [
    ["gaussian, exact dense C", "gaussian", (mu) => ({ cov: exactCov(mu) })],
    ["gaussian, exact C by FFT", "gaussian", (mu) => ({ cov: exactCov(mu, 4) })],
    ["gaussian, sample Ĉ", "gaussian", () => ({ cov: "sample" })],
    ["full, sample Ĉ (one fused syrk)", "full", () => ({ cov: "sample" })],
    ["full, exact C + sample cumulant", "full", (mu) => ({ cov: exactCov(mu) })],
    ["cp, general factors", "cp", (mu) => ({ cov: exactCov(mu), cp: cpGeneral[mu] })],
    ["cp, exact diagonal cumulant + none", "cp", (mu) => ({ cov: exactCov(mu), cp: mu === 0 ? diagonalCumulantFactors(D, nlgpKurtosis(3) - 3) : null })],
    ["exact, erf neuron", "exact", () => ({}), "erf"],
    ["exact, cubic neuron", "exact", () => ({}), "cubic"],
  ];
  for (const [name, variant, extra, activation] of cases) {
    for (const [tag, c] of [["v = 1, b = −1", coef], ["v = 0.8, b = −0.6", coefV]] as const) {
      it(`${name} (${tag})`, () => {
        const classes: FlowClass[] = data.map((d, mu) => ({ label: mu ? 1 : -1, weight: d.n / P, X: d.X, n: d.n, ...extra(mu) }));
        const flow = buildSingleNeuronFlow({ variant, D, v: c.v, b: c.b, classes, activation }, c);
        const Ja = analytic(flow.jac, w);
        const Jn = centralJacobian(flow.rhs, w);
        expect(relMaxDiff(Ja, Jn)).toBeLessThan(1e-7);
        // Not trivially zero, and the same on a second call (buffers reused).
        expect(Math.max(...Array.from(Ja, Math.abs))).toBeGreaterThan(1e-3);
        expect(Array.from(analytic(flow.jac, w))).toEqual(Array.from(Ja));
      });
    }
  }
});

describe("LSG24 effective dynamics: analytic Jacobian = central differences", () => {
  const L = 10;
  const r0 = kernelRow({ dim: 1, L }, 1), r1 = kernelRow({ dim: 1, L }, 2.5);
  const S0 = denseCirculant(L, 1, r0), S1 = denseCirculant(L, 1, r1);
  const sum = S0.map((x, i) => x + S1[i]);
  const w = new Float64Array(L);
  Rng.stream(9, 0).fillNormal(w, 0.5);
  const specs: MarginalSpec[] = [{ kind: "gaussian" }, { kind: "sign" }, { kind: "nlgp", gain: 3, convention: "lsg24" }, { kind: "kur", k: 4.5 }];
  for (const spec of specs) {
    it(`${spec.kind} marginal`, () => {
      const { phi, dphi } = makePhi(makeMarginal(spec));
      const sys = { D: L, sigma1: S1, sum, phi, dphi };
      const Ja = analytic(lsgJacobian(sys), w);
      expect(relMaxDiff(Ja, centralJacobian(lsgRhs(sys), w, 1e-6))).toBeLessThan(1e-7);
    });
  }
});

describe("forward-difference Jacobian of the solvers", () => {
  it("matches analytic Jacobians (Robertson; a dense nonlinear system) to ~√ε", () => {
    const rober: Rhs = (_t, y, dy) => {
      dy[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
      dy[2] = 3e7 * y[1] * y[1];
      dy[1] = -dy[0] - dy[2];
    };
    const roberJ: Jac = (_t, y, J) => {
      J.set([-0.04, 1e4 * y[2], 1e4 * y[1], 0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1], 0, 6e7 * y[1], 0]);
    };
    const n = 7;
    const A = new Float64Array(n * n);
    Rng.stream(3, 0).fillNormal(A);
    const dense: Rhs = (_t, y, dy) => {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += A[i * n + j] * Math.tanh(y[j]);
        dy[i] = s - y[i] * y[i] * y[i];
      }
    };
    const denseJ: Jac = (_t, y, J) => {
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) J[i * n + j] = A[i * n + j] / Math.cosh(y[j]) ** 2 - (i === j ? 3 * y[i] * y[i] : 0);
    };
    for (const [rhs, jac, y0] of [[rober, roberJ, [0.7, 3e-5, 0.3]], [dense, denseJ, [0.3, -1.2, 0.5, 2, -0.1, 0.9, -0.7]]] as const) {
      const y = Float64Array.from(y0), f0 = new Float64Array(y.length), J = new Float64Array(y.length ** 2);
      rhs(0, y, f0);
      const before = y.slice();
      fdJacobian(rhs, 0, y, f0, J, new Float64Array(y.length));
      expect(Array.from(y)).toEqual(Array.from(before)); // restored bit for bit
      expect(relMaxDiff(J, analytic(jac, y))).toBeLessThan(1e-6);
    }
  });
});
