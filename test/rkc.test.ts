/**
 * Runge–Kutta–Chebyshev (method "rkc" of `solve`, src/integrate/rkc.ts).
 *
 * Against closed forms: a diagonal stiff linear system (rates in [0.01, 100]) and the 1-D heat equation
 * by finite differences (N = 100, eigenvalues up to ≈ 4N²), exact through its sine eigen-decomposition;
 * against tight "gbs": a 50-dimensional quartic gradient flow; observed order 2 with a fixed step
 * (few and many stages); cost against "gbs" (RHS evaluations, not time); NaN/blow-up, steady state,
 * events, output grid, step budget.
 */
import { describe, expect, it } from "vitest";
import { IntegrationError, solve, type Rhs, type SolverCarry } from "../src/integrate/index.js";

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** y' = −λ_i y_i, λ log-spaced in [0.01, 100], y(0) = 1. */
function diagonal(n: number) {
  const lam = Array.from({ length: n }, (_, i) => 0.01 * Math.pow(1e4, i / (n - 1)));
  const rhs: Rhs = (_t, y, d) => {
    for (let i = 0; i < n; i++) d[i] = -lam[i] * y[i];
  };
  const exact = (t: number) => lam.map((l) => Math.exp(-l * t));
  return { lam, rhs, exact, y0: new Float64Array(n).fill(1) };
}

describe('solve: method "rkc"', () => {
  it("diagonal stiff system y' = −λy, λ ∈ [0.01, 100]: matches exp(−λt); error shrinks like rtol^(2/3)", () => {
    const { rhs, exact, y0 } = diagonal(20);
    const times = [0, 0.01, 0.1, 1, 10, 100];
    const run = (rtol: number) => {
      const s = solve({ rhs, y0, tspan: [0, 100], saveat: times }, "rkc", { rtol, atol: 1e-10 });
      expect(s.t).toEqual(times);
      expect(s.retcode).toBe("success");
      let err = 0;
      for (let k = 0; k < times.length; k++) err = Math.max(err, maxAbsDiff(s.y[k], exact(times[k])));
      return { err, s };
    };
    const a = run(1e-6);
    const b = run(1e-8);
    // RKC controls the local error per step (weighted RMS norm); the global error of this 2nd-order
    // method is ≈ 30·rtol here (3.1e-5 at rtol 1e-6, dominated by the λ = 100 transient) and scales as
    // rtol^(2/3) (observed ratio 21.5 for a factor 100 in rtol).
    expect(a.err).toBeLessThan(5e-5);
    expect(b.err).toBeLessThan(3e-6);
    expect(a.err / b.err).toBeGreaterThan(10);
    expect(a.err / b.err).toBeLessThan(45);
    expect(a.s.stats.nRhs).toBeGreaterThan(a.s.stats.nSteps);
  });

  it("needs far fewer RHS evaluations than gbs on the stiff diagonal system", () => {
    const { rhs, exact, y0 } = diagonal(20);
    const opts = { rtol: 1e-6, atol: 1e-8 };
    const r = solve({ rhs, y0, tspan: [0, 100] }, "rkc", opts);
    const g = solve({ rhs, y0, tspan: [0, 100] }, "gbs", opts);
    // gbs is stability-limited (h ≲ 1/λ_max for 100 time units: ≈ 37,000 evaluations); rkc ≈ 5,000.
    expect(maxAbsDiff(r.y[1], exact(100))).toBeLessThan(1e-5);
    expect(r.stats.nRhs * 4).toBeLessThan(g.stats.nRhs);
  });

  it("1-D heat equation (N = 100, ρ ≈ 4N²) against its sine eigen-decomposition", () => {
    // u_t = u_xx on (0, 1), u = 0 at both ends, second differences on N interior points.
    const N = 100;
    const dx = 1 / (N + 1);
    const c = 1 / (dx * dx);
    const rhs: Rhs = (_t, u, d) => {
      for (let j = 0; j < N; j++) {
        const l = j > 0 ? u[j - 1] : 0;
        const r = j < N - 1 ? u[j + 1] : 0;
        d[j] = c * (l - 2 * u[j] + r);
      }
    };
    const x = Array.from({ length: N }, (_, j) => (j + 1) * dx);
    // Discrete sine modes φ_k(j) = sin(πk x_j), eigenvalues −μ_k = −4c sin²(πk dx/2); orthogonal with
    // Σ_j φ_k φ_l = (N + 1)/2 δ_kl.
    const mu = Array.from({ length: N }, (_, k) => 4 * c * Math.sin((Math.PI * (k + 1) * dx) / 2) ** 2);
    const phi = (k: number, j: number) => Math.sin(Math.PI * (k + 1) * x[j]);
    // Rough initial condition (all modes present): a tent plus a step.
    const u0 = x.map((xj) => Math.min(xj, 1 - xj) + (xj > 0.3 && xj < 0.4 ? 0.5 : 0));
    const coef = mu.map((_, k) => (2 / (N + 1)) * u0.reduce((acc, v, j) => acc + v * phi(k, j), 0));
    const exact = (t: number) => x.map((_, j) => coef.reduce((acc, a, k) => acc + a * Math.exp(-mu[k] * t) * phi(k, j), 0));
    expect(maxAbsDiff(exact(0), u0)).toBeLessThan(1e-12);
    expect(mu[N - 1]).toBeGreaterThan(0.99 * 4 * (N + 1) ** 2);

    const times = [0, 1e-4, 1e-3, 0.01, 0.05, 0.2];
    const scale = Math.max(...u0);
    for (const spectralRadius of [undefined, () => mu[N - 1]]) {
      const s = solve({ rhs, y0: u0, tspan: [0, 0.2], saveat: times, spectralRadius }, "rkc", { rtol: 1e-6, atol: 1e-8 });
      expect(s.t).toEqual(times);
      let err = 0;
      for (let k = 0; k < times.length; k++) err = Math.max(err, maxAbsDiff(s.y[k], exact(times[k])));
      expect(err / scale).toBeLessThan(4e-5); // observed 1.75e-5
      // The explicit step limit is h ≤ 2/ρ ≈ 5e-5, i.e. ≥ 4000 steps; rkc takes far fewer (many stages each).
      expect(s.stats.nSteps).toBeLessThan(1000);
      expect(s.stats.nRhs).toBeLessThan(20_000);
    }
  });

  it("nonlinear 50-dimensional gradient flow w' = −∇V (quartic V) agrees with tight gbs", () => {
    // V(w) = Σ a_i w_i²/2 + (b/4)(Σ w_i²)² + (c/4) Σ w_i⁴ − Σ f_i w_i,  a_i ∈ [0.02, 50].
    const n = 50;
    const a = Array.from({ length: n }, (_, i) => 0.02 * Math.pow(2500, i / (n - 1)));
    const f = Array.from({ length: n }, (_, i) => Math.cos(1.3 * i));
    const b = 0.2, cq = 0.5;
    const rhs: Rhs = (_t, w, g) => {
      let r2 = 0;
      for (let i = 0; i < n; i++) r2 += w[i] * w[i];
      for (let i = 0; i < n; i++) g[i] = -(a[i] * w[i] + b * r2 * w[i] + cq * w[i] ** 3 - f[i]);
    };
    const w0 = Array.from({ length: n }, (_, i) => Math.sin(0.7 * i + 0.3));
    const times = [0, 0.1, 1, 10, 100];
    const problem = { rhs, y0: w0, tspan: [0, 100], saveat: times } as const;
    const ref = solve(problem, "gbs", { rtol: 1e-12, atol: 1e-12 });
    const s = solve(problem, "rkc", { rtol: 1e-7, atol: 1e-9 });
    expect(s.t).toEqual(times);
    for (let k = 0; k < times.length; k++) expect(maxAbsDiff(s.y[k], ref.y[k])).toBeLessThan(2e-5);
    expect(s.stats.nRhs * 2).toBeLessThan(ref.stats.nRhs);
  });

  it("has observed order 2 with a fixed step, with few and with many stages", () => {
    // Smooth, non-stiff, non-autonomous: y1' = −y1³ + sin t + y2/2, y2' = −y2 + cos(y1).
    const rhs: Rhs = (t, y, d) => {
      d[0] = -(y[0] ** 3) + Math.sin(t) + 0.5 * y[1];
      d[1] = -y[1] + Math.cos(y[0]);
    };
    const y0 = [0.8, -0.3];
    const T = 3;
    const ref = solve({ rhs, y0, tspan: [0, T] }, "gbs", { rtol: 1e-13, atol: 1e-13 }).y[1];
    // Step fixed at h: error control switched off by a huge atol, growth capped by hMax = h0 = h; the
    // given spectral radius fixes the stage count (2 for ρ = 1; ≈ 9–13 for ρ = 1000).
    const err = (h: number, rho: number) => {
      const s = solve({ rhs, y0, tspan: [0, T], spectralRadius: () => rho }, "rkc", { h0: h, hMax: h, rtol: 0.5, atol: 1e6 });
      expect(s.stats.nSteps).toBe(Math.round(T / h));
      return Math.hypot(s.y[1][0] - ref[0], s.y[1][1] - ref[1]);
    };
    for (const rho of [1, 1000]) {
      const e1 = err(0.1, rho), e2 = err(0.05, rho), e3 = err(0.025, rho);
      expect(e1 / e2).toBeGreaterThan(3.4);
      expect(e1 / e2).toBeLessThan(4.6);
      expect(e2 / e3).toBeGreaterThan(3.4);
      expect(e2 / e3).toBeLessThan(4.6);
    }
  });

  it("power-iteration estimate of the spectral radius is counted in nRhs and matches the given one", () => {
    const { rhs, y0 } = diagonal(20);
    const opts = { rtol: 1e-6, atol: 1e-8 };
    const est = solve({ rhs, y0, tspan: [0, 10] }, "rkc", opts);
    const given = solve({ rhs, y0, tspan: [0, 10], spectralRadius: () => 100 }, "rkc", opts);
    // Same answer to within the tolerance; the estimate costs a few extra evaluations.
    expect(maxAbsDiff(est.y[1], given.y[1])).toBeLessThan(1e-5);
    expect(est.stats.nRhs).toBeGreaterThan(given.stats.nRhs - 50);
  });

  it("lands exactly on the output grid and calls onStep once per accepted step", () => {
    const times = [0, 0.013, 0.5, 0.51, 2.25, 7];
    let calls = 0;
    let tPrev = -Infinity;
    const s = solve({ rhs: (_t, y, d) => void (d[0] = -y[0]), y0: [1], tspan: [0, 7], saveat: times }, "rkc", {
      rtol: 1e-8, atol: 1e-10,
      onStep: (t) => {
        expect(t).toBeGreaterThan(tPrev);
        tPrev = t;
        calls++;
      },
    });
    expect(s.t).toEqual(times);
    expect(s.tEnd).toBe(7);
    expect(calls).toBe(s.stats.nSteps);
    for (let k = 0; k < times.length; k++) expect(Math.abs(s.y[k][0] - Math.exp(-times[k]))).toBeLessThan(1e-6);
  });

  it("stops at steady state", () => {
    const times = Array.from({ length: 101 }, (_, i) => i);
    const steadyTol = 1e-6;
    const s = solve({ rhs: (_t, y, d) => void (d[0] = -y[0]), y0: [1], tspan: [0, 100], saveat: times, events: { steadyTol } }, "rkc");
    expect(s.retcode).toBe("steady");
    expect(s.tEnd).toBeGreaterThan(13);
    expect(s.tEnd).toBeLessThan(20);
    expect(s.t[s.t.length - 1]).toBe(s.tEnd);
    expect(s.t.slice(0, -1)).toEqual(times.filter((t) => t < s.tEnd));
    expect(Math.abs(s.y[s.y.length - 1][0])).toBeLessThanOrEqual(steadyTol);
  });

  it("stops on an event with its reason", () => {
    const s = solve({
      rhs: (_t, _y, d) => void (d[0] = 1), y0: [0], tspan: [0, 10], saveat: [0, 1, 2, 3, 4],
      events: { stop: (_t, y) => (y[0] > 2.5 ? "threshold crossed" : false) },
    }, "rkc");
    expect(s.retcode).toBe("event");
    expect(s.reason).toBe("threshold crossed");
    expect(s.tEnd).toBeGreaterThan(2.5);
    expect(s.t[s.t.length - 1]).toBe(s.tEnd);
    expect(s.y[s.y.length - 1][0]).toBeCloseTo(s.tEnd, 10);
  });

  it("blow-up of y' = y² (y0 = 1) raises IntegrationError near t = 1", () => {
    let err: unknown;
    try {
      // rkc follows the singularity with ever shorter steps until the state overflows (≈ 24,000 steps
      // at rtol 1e-6; at the default 1e-8 the 100,000-step budget runs out first, at t ≈ 1 + 2e-6).
      solve({ rhs: (_t, y, d) => void (d[0] = y[0] * y[0]), y0: [1], tspan: [0, 2] }, "rkc", { rtol: 1e-6, throwOnFailure: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IntegrationError);
    const ie = err as IntegrationError;
    expect(ie.tReached).toBeGreaterThan(0.95);
    expect(ie.tReached).toBeLessThan(1.05);
    expect(ie.message).toMatch(/^integration failed at t = [0-9.e+-]+: /);
    expect(ie.code).toBe("unstable");
  });

  it("a RHS that turns NaN returns a failure retcode with the time reached", () => {
    // y' = 1 while t < 0.5, then NaN: the solution itself cannot continue past t = 0.5.
    const s = solve({ rhs: (t, _y, d) => void (d[0] = t < 0.5 ? 1 : NaN), y0: [0], tspan: [0, 1] }, "rkc");
    expect(["unstable", "dtmin"]).toContain(s.retcode);
    expect(s.tEnd).toBeGreaterThan(0.49);
    expect(s.tEnd).toBeLessThanOrEqual(0.5);
    expect(s.message).toMatch(/NaN\/Inf|underflow/);
    expect(s.message).toMatch(/^integration failed at t = [0-9.e+-]+: /);
    expect(s.t).toEqual([0, s.tEnd]);
    expect(s.y[1][0]).toBeCloseTo(s.tEnd, 10);
  });

  it("reports an exhausted step budget and a bad spectral radius", () => {
    const { rhs, y0 } = diagonal(5);
    expect(() => solve({ rhs, y0, tspan: [0, 100] }, "rkc", { maxSteps: 5, throwOnFailure: true })).toThrow(/maxSteps \(5\) exceeded/);
    expect(() => solve({ rhs, y0, tspan: [0, 1], spectralRadius: () => NaN }, "rkc", { throwOnFailure: true })).toThrow(IntegrationError);
    const bad = solve({ rhs, y0, tspan: [0, 1], spectralRadius: () => NaN }, "rkc");
    expect(bad.retcode).toBe("unstable");
    expect(bad.message).toMatch(/spectralRadius returned NaN/);
    expect(() => solve({ rhs, y0, tspan: [0, 1], spectralRadius: 3 as never }, "rkc")).toThrow(/spectralRadius must be a function/);
  });

  it("limits the number of stages (≤ 250) by shortening the step", () => {
    // ρ = 1e7 with a large step: s would be ≈ 1.5e3; capped at 250 with h = (250² − 1)/(1.54 ρ).
    const rhs: Rhs = (_t, y, d) => {
      d[0] = -1e7 * (y[0] - 1);
      d[1] = -0.1 * y[1];
    };
    const s = solve({ rhs, y0: [0, 1], tspan: [0, 1] }, "rkc", { rtol: 1e-4, atol: 1e-6 });
    expect(Math.abs(s.y[1][0] - 1)).toBeLessThan(1e-4);
    expect(Math.abs(s.y[1][1] - Math.exp(-0.1))).toBeLessThan(1e-5);
    const hMaxStage = (250 * 250 - 1) / (1.54 * 1e7);
    expect(s.stats.nSteps).toBeGreaterThanOrEqual(Math.floor(1 / hMaxStage / 1.25));
  });
});

describe("rkc carry across segments", () => {
  it("a run split into 40 segments with a shared carry matches one call at about the same cost", async () => {
    const { solve } = await import("../src/integrate/index.js");
    // Stiff diagonal linear system y_i' = −λ_i y_i, λ_i ∈ [0.01, 50].
    const n = 30;
    const lam = Float64Array.from({ length: n }, (_, i) => 0.01 * Math.pow(5000, i / (n - 1)));
    const rhs = (_t: number, y: Float64Array, dy: Float64Array) => { for (let i = 0; i < n; i++) dy[i] = -lam[i] * y[i]; };
    const y0 = new Float64Array(n).fill(1);
    const T = 200;
    const one = solve({ rhs, y0, tspan: [0, T] }, "rkc", { rtol: 1e-7, atol: 1e-10 });
    const seg = (carry?: SolverCarry) => {
      let y = y0.slice(), nRhs = 0;
      for (let k = 0; k < 40; k++) {
        const a = (k * T) / 40, b = ((k + 1) * T) / 40;
        const s = solve({ rhs, y0: y, tspan: [a, b] }, "rkc", { rtol: 1e-7, atol: 1e-10, carry });
        expect(s.retcode).toBe("success");
        y = s.y[s.y.length - 1].slice();
        nRhs += s.stats.nRhs;
      }
      return { y, nRhs };
    };
    const withCarry = seg({});
    const without = seg(undefined);
    for (let i = 0; i < n; i++) {
      const exact = Math.exp(-lam[i] * T);
      expect(Math.abs(withCarry.y[i] - exact)).toBeLessThan(2e-6);
      expect(Math.abs(withCarry.y[i] - one.y[one.y.length - 1][i])).toBeLessThan(2e-6);
    }
    // With the carry a segmented run costs about what one call costs (measured 11,854 vs 11,772
    // RHS evaluations); restarting the step control and power iteration at every boundary costs more.
    expect(withCarry.nRhs).toBeLessThan(1.05 * one.stats.nRhs);
    expect(withCarry.nRhs).toBeLessThan(without.nRhs);
  });
});
