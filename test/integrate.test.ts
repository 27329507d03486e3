import { describe, it, expect } from "vitest";
import { IntegrationError, solve, type Rhs } from "../src/integrate/index.js";

const decay: Rhs = (_t, y, d) => {
  d[0] = -y[0];
};
const oscillator: Rhs = (_t, y, d) => {
  d[0] = y[1];
  d[1] = -y[0];
};
const tight = { rtol: 1e-10, atol: 1e-10 };

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe("solve: gbs (odex)", () => {
  it("exponential decay matches exp(-t) to 1e-8 on an output grid", () => {
    const times = [0, 0.5, 1, 2, 5, 10];
    const s = solve(decay, [1], { t0: 0, t1: 10, times, ...tight });
    expect(s.status).toBe("done");
    expect(s.t).toEqual(times);
    expect(s.tEnd).toBe(10);
    for (let i = 0; i < times.length; i++) expect(Math.abs(s.y[i][0] - Math.exp(-times[i]))).toBeLessThan(1e-8);
    expect(s.nSteps).toBeGreaterThan(0);
    expect(s.nRhs).toBeGreaterThan(s.nSteps);
  });

  it("harmonic oscillator matches (cos t, -sin t) to 1e-8 over several periods", () => {
    const times = Array.from({ length: 41 }, (_, i) => i * 0.5);
    const s = solve(oscillator, new Float64Array([1, 0]), { t0: 0, t1: 20, times, ...tight });
    expect(s.t).toEqual(times);
    for (let i = 0; i < times.length; i++) {
      expect(Math.abs(s.y[i][0] - Math.cos(times[i]))).toBeLessThan(1e-8);
      expect(Math.abs(s.y[i][1] + Math.sin(times[i]))).toBeLessThan(1e-8);
    }
  });

  it("does not mutate y0 and returns independent copies", () => {
    const y0 = new Float64Array([1, 0]);
    const s = solve(oscillator, y0, { t0: 0, t1: 1, times: [0, 0.5, 1] });
    expect(Array.from(y0)).toEqual([1, 0]);
    expect(s.y[0]).not.toBe(y0);
    expect(Array.from(s.y[0])).toEqual([1, 0]);
    expect(s.y[1]).not.toBe(s.y[2]);
  });

  it("integrates to t1 when the grid ends earlier", () => {
    const s = solve(decay, [1], { t0: 0, t1: 3, times: [0, 1] });
    expect(s.t).toEqual([0, 1]);
    expect(s.tEnd).toBe(3);
  });

  it("200-dimensional stiff-ish diffusion system: accurate at sane cost", () => {
    // y' = -c L y, L the Dirichlet Laplacian; sine modes are eigenvectors with λ_k = 2 - 2cos(πk/(n+1)).
    const n = 200;
    const c = 25; // fastest rate c·λ_max ≈ 100
    const rhs: Rhs = (_t, y, d) => {
      for (let j = 0; j < n; j++) {
        const left = j > 0 ? y[j - 1] : 0;
        const right = j < n - 1 ? y[j + 1] : 0;
        d[j] = c * (left - 2 * y[j] + right);
      }
    };
    const modes = [1, 7, 60, 200];
    const mode = (k: number, j: number) => Math.sin((Math.PI * k * (j + 1)) / (n + 1));
    const lambda = (k: number) => 2 - 2 * Math.cos((Math.PI * k) / (n + 1));
    const exact = (t: number) =>
      Array.from({ length: n }, (_, j) => modes.reduce((acc, k) => acc + Math.exp(-c * lambda(k) * t) * mode(k, j), 0));
    const times = [0, 0.01, 0.1, 1, 2];
    const s = solve(rhs, exact(0), { t0: 0, t1: 2, times, ...tight });
    for (let i = 0; i < times.length; i++) {
      const ex = exact(times[i]);
      expect(maxAbs(s.y[i].map((v, j) => v - ex[j]))).toBeLessThan(1e-8);
    }
    // Stability-limited steps h ≈ O(1/100): a few hundred steps, each ≲ 60 RHS calls.
    expect(s.nRhs).toBeLessThan(30_000);
  });

  it("recovers when trial stages leave the RHS domain (NaN) but the solution does not", () => {
    // y' = -50(y - 1/2) from y = 1 stays above 1/2; the RHS is NaN below 0.3.  A huge first step
    // makes odex accept a NaN state; the adapter retries from the last finite state.
    let nanCalls = 0;
    const rhs: Rhs = (_t, y, d) => {
      d[0] = y[0] > 0.3 ? -50 * (y[0] - 0.5) : NaN;
      if (Number.isNaN(d[0])) nanCalls++;
    };
    const times = [0, 0.5, 1, 3];
    const s = solve(rhs, [1], { t0: 0, t1: 3, times, h0: 0.5 });
    expect(nanCalls).toBeGreaterThan(0);
    for (let i = 0; i < times.length; i++) {
      expect(Math.abs(s.y[i][0] - (0.5 + 0.5 * Math.exp(-50 * times[i])))).toBeLessThan(1e-8);
    }
  });
});

describe("solve: fixed-step schemes", () => {
  /** Error at t = 1 of the oscillator for step dt. */
  const oscError = (method: "rk4" | "euler", dt: number) => {
    const s = solve(oscillator, [1, 0], { t0: 0, t1: 1, method, dt });
    return Math.hypot(s.y[1][0] - Math.cos(1), s.y[1][1] + Math.sin(1));
  };

  it("RK4 has global order 4", () => {
    const order = Math.log2(oscError("rk4", 0.05) / oscError("rk4", 0.025));
    expect(Math.abs(order - 4)).toBeLessThan(0.3);
  });

  it("Euler has global order 1", () => {
    const order = Math.log2(oscError("euler", 1e-3) / oscError("euler", 5e-4));
    expect(Math.abs(order - 1)).toBeLessThan(0.1);
  });

  it("lands exactly on an output grid that is not a multiple of dt, counting RHS calls", () => {
    const times = [0, 0.35, 1, 2.5];
    const s = solve(decay, [1], { t0: 0, t1: 2.5, times, method: "rk4", dt: 0.3 });
    expect(s.t).toEqual(times);
    // Steps per segment: ceil(0.35/0.3)=2, ceil(0.65/0.3)=3, ceil(1.5/0.3)=5.
    expect(s.nSteps).toBe(10);
    expect(s.nRhs).toBe(40);
    for (let i = 0; i < times.length; i++) expect(Math.abs(s.y[i][0] - Math.exp(-times[i]))).toBeLessThan(1e-4);
  });

  it("Euler with dt = η reproduces gradient descent w ← w + η f(w) bit for bit", () => {
    // V(w) = Σ a_i w_i²/2 + b (Σ w_i²)²/4, f = -∇V.
    const a = [1, 0.5, 2, 0.1];
    const b = 0.3;
    const minusGrad: Rhs = (_t, w, g) => {
      let r2 = 0;
      for (let i = 0; i < w.length; i++) r2 += w[i] * w[i];
      for (let i = 0; i < w.length; i++) g[i] = -(a[i] * w[i] + b * r2 * w[i]);
    };
    const eta = 0.05;
    const nIter = 300;
    const w0 = [1.3, -0.7, 0.4, 2.1];

    const w = Float64Array.from(w0);
    const g = new Float64Array(w.length);
    const traj: number[][] = [Array.from(w)];
    for (let k = 0; k < nIter; k++) {
      minusGrad(0, w, g);
      for (let i = 0; i < w.length; i++) w[i] = w[i] + eta * g[i];
      traj.push(Array.from(w));
    }

    // One output at the end (one long segment) ...
    const s1 = solve(minusGrad, w0, { t0: 0, t1: nIter * eta, method: "euler", dt: eta });
    expect(s1.nSteps).toBe(nIter);
    expect(Array.from(s1.y[1])).toEqual(traj[nIter]);
    // ... and an output after every iteration.
    const times = Array.from({ length: nIter + 1 }, (_, k) => k * eta);
    const s2 = solve(minusGrad, w0, { t0: 0, t1: nIter * eta, times, method: "euler", dt: eta });
    expect(s2.nSteps).toBe(nIter);
    expect(s2.nRhs).toBe(nIter);
    for (let k = 0; k <= nIter; k++) expect(Array.from(s2.y[k])).toEqual(traj[k]);
  });
});

describe("solve: early stops and failures", () => {
  for (const method of ["gbs", "rk4", "euler"] as const) {
    it(`stops at steady state (${method})`, () => {
      const times = Array.from({ length: 101 }, (_, i) => i);
      const steadyTol = 1e-6;
      const s = solve(decay, [1], { t0: 0, t1: 100, times, method, dt: 0.01, steadyTol });
      expect(s.status).toBe("steady");
      expect(s.tEnd).toBeLessThan(20); // |y| ≤ 1e-6 from t ≈ 13.8
      expect(s.tEnd).toBeGreaterThan(13);
      expect(s.t[s.t.length - 1]).toBe(s.tEnd);
      expect(s.t.slice(0, -1)).toEqual(times.filter((t) => t < s.tEnd));
      const yEnd = s.y[s.y.length - 1][0];
      expect(Math.abs(yEnd)).toBeLessThanOrEqual(steadyTol);
    });
  }

  it("stops on an event with its reason", () => {
    const s = solve((_t, _y, d) => void (d[0] = 1), [0], {
      t0: 0,
      t1: 10,
      times: [0, 1, 2, 3, 4],
      stopWhen: (_t, y) => (y[0] > 2.5 ? "threshold crossed" : false),
    });
    expect(s.status).toBe("event");
    expect(s.reason).toBe("threshold crossed");
    expect(s.tEnd).toBeGreaterThan(2.5);
    expect(s.tEnd).toBeLessThanOrEqual(3);
    expect(s.t.slice(0, 3)).toEqual([0, 1, 2]);
    expect(s.t[s.t.length - 1]).toBe(s.tEnd);
    expect(s.y[s.y.length - 1][0]).toBeCloseTo(s.tEnd, 10);
  });

  it("calls onStep once per accepted step", () => {
    for (const method of ["gbs", "rk4"] as const) {
      let calls = 0;
      let tPrev = -Infinity;
      const s = solve(oscillator, [1, 0], {
        t0: 0,
        t1: 5,
        method,
        dt: 0.1,
        onStep: (t) => {
          expect(t).toBeGreaterThan(tPrev);
          tPrev = t;
          calls++;
        },
      });
      expect(calls).toBe(s.nSteps);
      expect(tPrev).toBe(5);
    }
  });

  it("blow-up of y' = y² (y0 = 1) raises IntegrationError near t = 1", () => {
    for (const method of ["gbs", "rk4", "euler"] as const) {
      let err: unknown;
      try {
        solve((_t, y, d) => void (d[0] = y[0] * y[0]), [1], { t0: 0, t1: 2, method, dt: 1e-3 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IntegrationError);
      const ie = err as IntegrationError;
      expect(ie.tReached).toBeGreaterThan(0.95);
      expect(ie.tReached).toBeLessThan(1.05);
      expect(ie.message).toMatch(/^integration failed at t = [0-9.e+-]+: /);
    }
  });

  it("reports an exhausted step budget", () => {
    expect(() => solve(oscillator, [1, 0], { t0: 0, t1: 100, maxSteps: 5 })).toThrow(/maxSteps \(5\) exceeded/);
    expect(() => solve(oscillator, [1, 0], { t0: 0, t1: 1, method: "rk4", dt: 0.01, maxSteps: 5 })).toThrow(IntegrationError);
  });

  it("rejects invalid options with one-line messages", () => {
    const base = { t0: 0, t1: 1 };
    expect(() => solve(decay, [1], { ...base, rtol: 0 })).toThrow("solve: rtol must be in (0, 1) (got 0)");
    expect(() => solve(decay, [1], { ...base, atol: -1 })).toThrow(RangeError);
    expect(() => solve(decay, [1], { ...base, method: "rk4" })).toThrow('solve: dt is required for method "rk4"');
    expect(() => solve(decay, [1], { ...base, method: "euler", dt: 0 })).toThrow(/dt must be > 0/);
    expect(() => solve(decay, [1], { ...base, times: [0, 2] })).toThrow(/times\[1\] must be in \[t0, t1\]/);
    expect(() => solve(decay, [1], { ...base, times: [0.5, 0.2] })).toThrow(/strictly increasing/);
    expect(() => solve(decay, [1], { t0: 1, t1: 0 })).toThrow(/t1 must be ≥ t0/);
    expect(() => solve(decay, [NaN], base)).toThrow(/y0\[0\] must be finite/);
    expect(() => solve(decay, [], base)).toThrow(/non-empty/);
    expect(() => solve(decay, [1], { ...base, maxSteps: 1.5 })).toThrow(/maxSteps must be a positive integer/);
    expect(() => solve(decay, [1], { ...base, method: "rk45" as never })).toThrow(/method must be one of/);
  });
});
