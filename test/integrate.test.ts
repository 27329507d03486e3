import { describe, it, expect } from "vitest";
import { IntegrationError, solve, solveAsync, type OdeProblem, type OdeSolution, type Rhs } from "../src/integrate/index.js";
import type { ProgressEvent } from "../src/run/hooks.js";

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
    const s = solve({ rhs: decay, y0: [1], tspan: [0, 10], saveat: times }, "gbs", tight);
    expect(s.retcode).toBe("success");
    expect(s.message).toBe("reached t = 10");
    expect(s.t).toEqual(times);
    expect(s.tEnd).toBe(10);
    for (let i = 0; i < times.length; i++) expect(Math.abs(s.y[i][0] - Math.exp(-times[i]))).toBeLessThan(1e-8);
    expect(s.stats.nSteps).toBeGreaterThan(0);
    expect(s.stats.nRhs).toBeGreaterThan(s.stats.nSteps);
  });

  it("harmonic oscillator matches (cos t, -sin t) to 1e-8 over several periods", () => {
    const times = Array.from({ length: 41 }, (_, i) => i * 0.5);
    const s = solve({ rhs: oscillator, y0: new Float64Array([1, 0]), tspan: [0, 20], saveat: times }, "gbs", tight);
    expect(s.t).toEqual(times);
    for (let i = 0; i < times.length; i++) {
      expect(Math.abs(s.y[i][0] - Math.cos(times[i]))).toBeLessThan(1e-8);
      expect(Math.abs(s.y[i][1] + Math.sin(times[i]))).toBeLessThan(1e-8);
    }
  });

  it("does not mutate y0 and returns independent copies", () => {
    const y0 = new Float64Array([1, 0]);
    const s = solve({ rhs: oscillator, y0, tspan: [0, 1], saveat: [0, 0.5, 1] });
    expect(Array.from(y0)).toEqual([1, 0]);
    expect(s.y[0]).not.toBe(y0);
    expect(Array.from(s.y[0])).toEqual([1, 0]);
    expect(s.y[1]).not.toBe(s.y[2]);
  });

  it("integrates to t1 when the grid ends earlier", () => {
    const s = solve({ rhs: decay, y0: [1], tspan: [0, 3], saveat: [0, 1] });
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
    const s = solve({ rhs, y0: exact(0), tspan: [0, 2], saveat: times }, "gbs", tight);
    for (let i = 0; i < times.length; i++) {
      const ex = exact(times[i]);
      expect(maxAbs(s.y[i].map((v, j) => v - ex[j]))).toBeLessThan(1e-8);
    }
    // Stability-limited steps h ≈ O(1/100): a few hundred steps, each ≲ 60 RHS calls.
    expect(s.stats.nRhs).toBeLessThan(30_000);
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
    const s = solve({ rhs, y0: [1], tspan: [0, 3], saveat: times }, "gbs", { h0: 0.5 });
    expect(s.retcode).toBe("success");
    expect(nanCalls).toBeGreaterThan(0);
    for (let i = 0; i < times.length; i++) {
      expect(Math.abs(s.y[i][0] - (0.5 + 0.5 * Math.exp(-50 * times[i])))).toBeLessThan(1e-8);
    }
  });
});

describe("solve: fixed-step schemes", () => {
  /** Error at t = 1 of the oscillator for step dt. */
  const oscError = (method: "rk4" | "euler", dt: number) => {
    const s = solve({ rhs: oscillator, y0: [1, 0], tspan: [0, 1] }, method, { dt });
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
    const s = solve({ rhs: decay, y0: [1], tspan: [0, 2.5], saveat: times }, "rk4", { dt: 0.3 });
    expect(s.t).toEqual(times);
    // Steps per segment: ceil(0.35/0.3)=2, ceil(0.65/0.3)=3, ceil(1.5/0.3)=5.
    expect(s.stats.nSteps).toBe(10);
    expect(s.stats.nRhs).toBe(40);
    expect(s.stats.nRejected).toBe(0);
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
    const s1 = solve({ rhs: minusGrad, y0: w0, tspan: [0, nIter * eta] }, "euler", { dt: eta });
    expect(s1.stats.nSteps).toBe(nIter);
    expect(Array.from(s1.y[1])).toEqual(traj[nIter]);
    // ... and an output after every iteration.
    const times = Array.from({ length: nIter + 1 }, (_, k) => k * eta);
    const s2 = solve({ rhs: minusGrad, y0: w0, tspan: [0, nIter * eta], saveat: times }, "euler", { dt: eta });
    expect(s2.stats.nSteps).toBe(nIter);
    expect(s2.stats.nRhs).toBe(nIter);
    for (let k = 0; k <= nIter; k++) expect(Array.from(s2.y[k])).toEqual(traj[k]);
  });
});

describe("solve: early stops and failures", () => {
  for (const method of ["gbs", "rk4", "euler"] as const) {
    it(`stops at steady state (${method})`, () => {
      const times = Array.from({ length: 101 }, (_, i) => i);
      const steadyTol = 1e-6;
      const s = solve({ rhs: decay, y0: [1], tspan: [0, 100], saveat: times, events: { steadyTol } }, method, { dt: 0.01 });
      expect(s.retcode).toBe("steady");
      expect(s.message).toBe(`steady state at t = ${s.tEnd}`);
      expect(s.tEnd).toBeLessThan(20); // |y| ≤ 1e-6 from t ≈ 13.8
      expect(s.tEnd).toBeGreaterThan(13);
      expect(s.t[s.t.length - 1]).toBe(s.tEnd);
      expect(s.t.slice(0, -1)).toEqual(times.filter((t) => t < s.tEnd));
      const yEnd = s.y[s.y.length - 1][0];
      expect(Math.abs(yEnd)).toBeLessThanOrEqual(steadyTol);
    });
  }

  it("stops on an event with its reason", () => {
    const s = solve({
      rhs: (_t, _y, d) => void (d[0] = 1),
      y0: [0],
      tspan: [0, 10],
      saveat: [0, 1, 2, 3, 4],
      events: { stop: (_t, y) => (y[0] > 2.5 ? "threshold crossed" : false) },
    });
    expect(s.retcode).toBe("event");
    expect(s.reason).toBe("threshold crossed");
    expect(s.message).toBe(`stopped at t = ${s.tEnd}: threshold crossed`);
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
      const s = solve({ rhs: oscillator, y0: [1, 0], tspan: [0, 5] }, method, {
        dt: 0.1,
        onStep: (t) => {
          expect(t).toBeGreaterThan(tPrev);
          tPrev = t;
          calls++;
        },
      });
      expect(calls).toBe(s.stats.nSteps);
      expect(tPrev).toBe(5);
    }
  });

  it("blow-up of y' = y² (y0 = 1) raises IntegrationError near t = 1", () => {
    for (const method of ["gbs", "rk4", "euler"] as const) {
      let err: unknown;
      try {
        solve({ rhs: (_t, y, d) => void (d[0] = y[0] * y[0]), y0: [1], tspan: [0, 2] }, method, { dt: 1e-3, throwOnFailure: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IntegrationError);
      const ie = err as IntegrationError;
      expect(ie.tReached).toBeGreaterThan(0.95);
      expect(ie.tReached).toBeLessThan(1.05);
      expect(ie.message).toMatch(/^integration failed at t = [0-9.e+-]+: /);
      // gbs follows the singularity until its step size underflows; the others overflow to Inf.
      expect(ie.code).toBe(method === "gbs" ? "dtmin" : "unstable");
    }
  });

  it("reports an exhausted step budget", () => {
    const throwing = { maxSteps: 5, throwOnFailure: true };
    expect(() => solve({ rhs: oscillator, y0: [1, 0], tspan: [0, 100] }, "gbs", throwing)).toThrow(/maxSteps \(5\) exceeded/);
    expect(() => solve({ rhs: oscillator, y0: [1, 0], tspan: [0, 1] }, "rk4", { ...throwing, dt: 0.01 })).toThrow(IntegrationError);
  });

  it("rejects invalid options with one-line messages", () => {
    const base: OdeProblem = { rhs: decay, y0: [1], tspan: [0, 1] };
    expect(() => solve(base, "gbs", { rtol: 0 })).toThrow("solve: rtol must be in (0, 1) (got 0)");
    expect(() => solve(base, "gbs", { atol: -1 })).toThrow(RangeError);
    expect(() => solve(base, "rk4")).toThrow('solve: dt is required for method "rk4"');
    expect(() => solve(base, "euler", { dt: 0 })).toThrow(/dt must be > 0/);
    expect(() => solve({ ...base, saveat: [0, 2] })).toThrow(/saveat\[1\] must be in \[t0, t1\]/);
    expect(() => solve({ ...base, saveat: [0.5, 0.2] })).toThrow(/strictly increasing/);
    expect(() => solve({ ...base, tspan: [1, 0] })).toThrow(/t1 must be ≥ t0/);
    expect(() => solve({ ...base, y0: [NaN] })).toThrow(/y0\[0\] must be finite/);
    expect(() => solve({ ...base, y0: [] })).toThrow(/non-empty/);
    expect(() => solve(base, "gbs", { maxSteps: 1.5 })).toThrow(/maxSteps must be a positive integer/);
    expect(() => solve(base, "rk45" as never)).toThrow(/method must be one of/);
  });
});

// ---------------------------------------------------------------------------------------------
// The driver: retcodes, statistics, solveAsync (pausing, interruption), progress, validation.
// ---------------------------------------------------------------------------------------------

const square: Rhs = (_t, y, d) => void (d[0] = y[0] * y[0]);

/** The solution ends at tEnd with a finite state (what a failure retcode must return). */
function expectEndsFinite(s: OdeSolution): void {
  expect(s.t.length).toBe(s.y.length);
  expect(s.t[s.t.length - 1]).toBe(s.tEnd);
  for (const v of s.y[s.y.length - 1]) expect(Number.isFinite(v)).toBe(true);
}

/** 200-dim forced diffusion y' = 25 L y + sin(3t + j) (non-autonomous: times must match bit for bit). */
function forcedDiffusion(n = 200) {
  const rhs: Rhs = (t, y, d) => {
    for (let j = 0; j < n; j++) {
      const l = j > 0 ? y[j - 1] : 0;
      const r = j < n - 1 ? y[j + 1] : 0;
      d[j] = 25 * (l - 2 * y[j] + r) + Math.sin(3 * t + j);
    }
  };
  return { rhs, y0: Float64Array.from({ length: n }, (_, j) => Math.sin(0.1 * j)) };
}

describe("solve: retcodes", () => {
  it('blow-up of y\' = y² returns a failure retcode ("unstable"; gbs: "dtmin") at the last finite state', () => {
    // The numerical solutions pass the singularity at t = 1 slightly before failing (gbs 1 + 3e-9,
    // rkc 1 + 5e-5, rk4 1.002, Euler 1.016), so tEnd is near 1, not below it.
    const cases = [
      { alg: "gbs", opts: {}, code: "dtmin" },
      { alg: "rkc", opts: { rtol: 1e-6 }, code: "unstable" },
      { alg: "euler", opts: { dt: 1e-3 }, code: "unstable" },
      { alg: "rk4", opts: { dt: 1e-3 }, code: "unstable" },
    ] as const;
    for (const { alg, opts, code } of cases) {
      const s = solve({ rhs: square, y0: [1], tspan: [0, 2] }, alg, opts);
      expect(s.retcode, alg).toBe(code);
      expect(s.message).toMatch(new RegExp(`^integration failed at t = ${s.tEnd.toString().replace(/[.+]/g, "\\$&")}: `));
      expect(s.tEnd).toBeGreaterThan(0.95);
      expect(s.tEnd).toBeLessThan(1.05);
      expect(s.t).toEqual([0, s.tEnd]);
      expect(s.y[0][0]).toBe(1);
      expectEndsFinite(s);
      expect(s.y[1][0]).toBeGreaterThan(1e3);
    }
  });

  it('a RHS that turns NaN gives "unstable" for gbs, with the saved grid up to there', () => {
    const rhs: Rhs = (t, _y, d) => void (d[0] = t < 0.5 ? 1 : NaN);
    const s = solve({ rhs, y0: [0], tspan: [0, 1], saveat: [0, 0.25, 0.75, 1] }, "gbs");
    expect(s.retcode).toBe("unstable");
    expect(s.message).toMatch(/NaN\/Inf/);
    expect(s.tEnd).toBeGreaterThan(0.25);
    expect(s.tEnd).toBeLessThanOrEqual(0.5);
    expect(s.t).toEqual([0, 0.25, s.tEnd]);
    expectEndsFinite(s);
    expect(s.y[2][0]).toBeCloseTo(s.tEnd, 10);
    expect(() => solve({ rhs, y0: [0], tspan: [0, 1] }, "gbs", { throwOnFailure: true })).toThrow(/NaN\/Inf/);
  });

  it('"maxiters" when the step budget runs out', () => {
    for (const alg of ["gbs", "dop853", "rkc", "rodas", "bdf", "rk4", "euler"] as const) {
      const s = solve({ rhs: oscillator, y0: [1, 0], tspan: [0, 100] }, alg, { maxSteps: 5, dt: 0.01 });
      expect(s.retcode, alg).toBe("maxiters");
      expect(s.message).toMatch(/maxSteps \(5\) exceeded/);
      expect(s.stats.nSteps).toBeLessThanOrEqual(5);
      expect(s.tEnd).toBeGreaterThan(0);
      expect(s.tEnd).toBeLessThan(100);
      expect(s.t[0]).toBe(0);
      expectEndsFinite(s);
      let err: unknown;
      try {
        solve({ rhs: oscillator, y0: [1, 0], tspan: [0, 100] }, alg, { maxSteps: 5, dt: 0.01, throwOnFailure: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IntegrationError);
      expect((err as IntegrationError).code).toBe("maxiters");
      expect((err as IntegrationError).tReached).toBe(s.tEnd);
    }
  });

  it('"event" and "steady" for every algorithm', () => {
    for (const alg of ["gbs", "dop853", "rkc", "rodas", "bdf", "rk4", "euler"] as const) {
      const ev = solve(
        { rhs: (_t, _y, d) => void (d[0] = 1), y0: [0], tspan: [0, 10], saveat: [0, 1, 2, 3], events: { stop: (t) => (t >= 1.5 ? "late" : null) } },
        alg,
        // The implicit methods and dop853 integrate y' = 1 exactly, so their steps grow without bound: cap them.
        { dt: 0.1, hMax: alg === "rodas" || alg === "bdf" || alg === "dop853" ? 0.5 : 0 },
      );
      expect(ev.retcode, alg).toBe("event");
      expect(ev.reason).toBe("late");
      expect(ev.message).toBe(`stopped at t = ${ev.tEnd}: late`);
      expect(ev.tEnd).toBeGreaterThanOrEqual(1.5);
      expect(ev.tEnd).toBeLessThanOrEqual(2);
      expect(ev.t.slice(0, 2)).toEqual([0, 1]);
      expect(ev.t[ev.t.length - 1]).toBe(ev.tEnd);

      const st = solve({ rhs: decay, y0: [1], tspan: [0, 100], events: { steadyTol: 1e-6 } }, alg, { dt: 0.01 });
      expect(st.retcode, alg).toBe("steady");
      expect(st.reason).toBeUndefined();
      expect(st.tEnd).toBeGreaterThan(13);
      expect(st.tEnd).toBeLessThan(20);
      expect(st.t).toEqual([0, st.tEnd]);
    }
  });

  it('"interrupted" with an already-aborted signal returns y = [y0], t = [t0]', async () => {
    const ac = new AbortController();
    ac.abort();
    for (const alg of ["gbs", "dop853", "rkc", "rodas", "bdf", "rk4", "euler"] as const) {
      const p: OdeProblem = { rhs: oscillator, y0: [1, 0], tspan: [2, 5], saveat: [2, 3, 4, 5] };
      for (const s of [solve(p, alg, { dt: 0.1, signal: ac.signal }), await solveAsync(p, alg, { dt: 0.1, signal: ac.signal })]) {
        expect(s.retcode, alg).toBe("interrupted");
        expect(s.message).toBe("interrupted at t = 2");
        expect(s.t).toEqual([2]);
        expect(s.y.map((v) => Array.from(v))).toEqual([[1, 0]]);
        expect(s.tEnd).toBe(2);
        expect(s.stats.nSteps).toBe(0);
      }
    }
  });

  it('"interrupted" when the signal is aborted mid-run (from onStep)', () => {
    for (const alg of ["gbs", "dop853", "rkc", "rodas", "bdf", "rk4", "euler"] as const) {
      const ac = new AbortController();
      let tAbort = NaN;
      const s = solve({ rhs: oscillator, y0: [1, 0], tspan: [0, 10], saveat: [0, 1, 2, 3, 10] }, alg, {
        dt: 0.01,
        signal: ac.signal,
        onStep: (t) => {
          if (t > 2.5 && !ac.signal.aborted) {
            tAbort = t;
            ac.abort();
          }
        },
      });
      expect(s.retcode, alg).toBe("interrupted");
      expect(s.tEnd).toBe(tAbort);
      expect(s.tEnd).toBeGreaterThan(2.5);
      expect(s.tEnd).toBeLessThan(10);
      expect(s.message).toBe(`interrupted at t = ${tAbort}`);
      expect(s.t.slice(0, 3)).toEqual([0, 1, 2]);
      expect(s.t[s.t.length - 1]).toBe(tAbort);
      const yEnd = s.y[s.y.length - 1];
      expect(Math.abs(yEnd[0] - Math.cos(tAbort))).toBeLessThan(2e-2); // Euler (dt = 0.01): 1.0e-2
      expect(Math.abs(yEnd[1] + Math.sin(tAbort))).toBeLessThan(2e-2);
    }
  });
});

describe("solve: statistics", () => {
  it("counts rejected steps (gbs, rkc) on a stiff-ish problem started with a large h0; nJac = 0", () => {
    // y' = −50 (y − cos t), tight tolerances, h0 = 1 ≫ 1/50.
    const rhs: Rhs = (t, y, d) => void (d[0] = -50 * (y[0] - Math.cos(t)));
    const p: OdeProblem = { rhs, y0: [0], tspan: [0, 10] };
    for (const alg of ["gbs", "rkc"] as const) {
      const s = solve(p, alg, { h0: 1, rtol: 1e-10, atol: 1e-10 });
      expect(s.retcode).toBe("success");
      expect(s.stats.nRejected, alg).toBeGreaterThan(0);
      expect(s.stats.nJac).toBe(0);
      expect(s.stats.nSteps).toBeGreaterThan(0);
      expect(s.stats.nRhs).toBeGreaterThan(s.stats.nSteps);
      // Particular solution (2500 cos t + 50 sin t)/2501 plus a decayed transient.
      expect(Math.abs(s.y[1][0] - (2500 * Math.cos(10) + 50 * Math.sin(10)) / 2501)).toBeLessThan(1e-6);
    }
    for (const alg of ["rk4", "euler"] as const) {
      const s = solve(p, alg, { dt: 0.01 });
      expect(s.stats.nRejected).toBe(0);
      expect(s.stats.nJac).toBe(0);
    }
  });
});

describe("solveAsync", () => {
  // Each integration takes a few hundred ms, so solveAsync pauses (every ~40 ms) many times.
  const { rhs, y0 } = forcedDiffusion();
  const saveat = Array.from({ length: 51 }, (_, i) => i * 0.37);
  const problem: OdeProblem = { rhs, y0, tspan: [0, saveat[50]], saveat };
  const opts = { euler: { dt: 0.001 }, rk4: { dt: 0.0015 }, rkc: {}, gbs: {}, dop853: {}, rodas: {}, bdf: {} } as const;

  /** solve and solveAsync on `problem`; the number of 1 ms timer ticks that ran during the await. */
  async function both(alg: keyof typeof opts) {
    const sync = solve(problem, alg, opts[alg]);
    let ticks = 0;
    const iv = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    // Pause at every opportunity, so the pausing is exercised however fast the machine is.
    const asy = await solveAsync(problem, alg, { ...opts[alg], pauseEveryMs: 0 });
    const ms = performance.now() - t0;
    clearInterval(iv);
    return { sync, asy, ticks, ms };
  }

  function expectIdentical(a: OdeSolution, b: OdeSolution) {
    expect(b.retcode).toBe(a.retcode);
    expect(b.t).toEqual(a.t);
    expect(b.tEnd).toBe(a.tEnd);
    expect(b.stats).toEqual(a.stats);
    expect(b.y.length).toBe(a.y.length);
    let same = true;
    for (let k = 0; k < a.y.length; k++) for (let j = 0; j < a.y[k].length; j++) if (!Object.is(a.y[k][j], b.y[k][j])) same = false;
    expect(same).toBe(true);
  }

  for (const alg of ["gbs", "dop853", "rkc", "rodas", "bdf"] as const) {
    it(`gives bit-identical t and y to solve, pausing on the way (${alg})`, async () => {
      const { sync, asy, ticks, ms } = await both(alg);
      expect(sync.retcode).toBe("success");
      expect(ticks).toBeGreaterThan(0); // the event loop ran while the integration was under way
      expectIdentical(sync, asy);
    });
  }

  // Fixed-step steppers keep their segment (start time, step count) across a pause, so a paused
  // run computes the same step times t_segment + k·dt as an unpaused one.
  for (const alg of ["euler", "rk4"] as const) {
    it(`pauses during fixed-step integration and gives bit-identical t and y to solve (${alg})`, async () => {
      const { sync, asy, ticks } = await both(alg);
      expect(sync.retcode).toBe("success");
      expect(asy.retcode).toBe("success");
      expect(ticks).toBeGreaterThan(0);
      expectIdentical(sync, asy);
    });
  }

  it("an AbortController aborted by a timer stops a long rkc integration promptly", async () => {
    // hMax = 1e-3 over [0, 1e4]: ten million steps, far more than a second of work.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 100);
    const t0 = performance.now();
    const s = await solveAsync({ rhs, y0, tspan: [0, 1e4], saveat: [0, 1e-3, 1e4] }, "rkc", { hMax: 1e-3, maxSteps: Infinity, signal: ac.signal });
    const ms = performance.now() - t0;
    clearTimeout(timer);
    expect(ac.signal.aborted).toBe(true);
    expect(s.retcode).toBe("interrupted");
    expect(ms).toBeLessThan(1000);
    expect(ms).toBeGreaterThanOrEqual(90);
    expect(s.message).toBe(`interrupted at t = ${s.tEnd}`);
    expect(s.tEnd).toBeGreaterThan(1e-3);
    expect(s.tEnd).toBeLessThan(1e4);
    expect(s.t).toEqual([0, 1e-3, s.tEnd]);
    expect(s.stats.nSteps).toBeGreaterThan(1);
    expectEndsFinite(s);
  });

  it("throws IntegrationError with throwOnFailure and rejects invalid input", async () => {
    await expect(solveAsync({ rhs: square, y0: [1], tspan: [0, 2] }, "euler", { dt: 1e-3, throwOnFailure: true })).rejects.toThrow(IntegrationError);
    await expect(solveAsync({ rhs: decay, y0: [1], tspan: [0, 1] }, "euler")).rejects.toThrow(RangeError);
  });
});

describe("solve: progress", () => {
  it("reports ProgressEvents in model time, monotone, ending at tEnd, with the metrics passed through", () => {
    // tspan starts at 2 (done counts from t0) and the grid ends before t1 (the final event is at tEnd).
    const { rhs, y0 } = forcedDiffusion();
    const events: ProgressEvent[] = [];
    const metricsList: Record<string, number>[] = [];
    let yLast = 0;
    const s = solve({ rhs, y0, tspan: [2, 12], saveat: [2, 4] }, "rkc", {
      onStep: (_t, y) => void (yLast = y[0]),
      onProgress: (e) => events.push(e),
      progressEveryMs: 0, // an event after every accepted step (deterministic, not clock-driven)
      progressMetrics: (_t, y) => {
        const m = { y0: y[0], calls: metricsList.length + 1 };
        metricsList.push(m);
        return m;
      },
    });
    expect(s.retcode).toBe("success");
    expect(s.tEnd).toBe(12);
    expect(events.length).toBe(s.stats.nSteps + 1); // one per accepted step + the final one
    let prev = -Infinity;
    events.forEach((e, i) => {
      expect(e.unit).toBe("time");
      expect(e.total).toBe(10);
      expect(e.done).toBeGreaterThanOrEqual(0);
      expect(e.done).toBeLessThanOrEqual(10);
      expect(e.done).toBeGreaterThanOrEqual(prev);
      prev = e.done;
      expect(e.t).toBe(2 + e.done);
      expect(e.metrics).toBe(metricsList[i]); // each event carries its own metrics call
    });
    const last = events[events.length - 1];
    expect(last.done).toBe(s.tEnd - 2);
    expect(s.t).toEqual([2, 4]);
    expect(last.metrics).toEqual({ y0: yLast, calls: metricsList.length }); // the state at t = 12
  });

  it("ends with an event at the failure point on a failure and at t0 when interrupted up front", () => {
    const events: ProgressEvent[] = [];
    const s = solve({ rhs: square, y0: [1], tspan: [0, 2] }, "euler", { dt: 1e-3, onProgress: (e) => events.push(e), progressMetrics: (_t, y) => ({ y: y[0] }) });
    expect(s.retcode).toBe("unstable");
    const last = events[events.length - 1];
    expect(last.done).toBe(s.tEnd);
    expect(last.metrics).toEqual({ y: s.y[1][0] });

    const ac = new AbortController();
    ac.abort();
    const ev2: ProgressEvent[] = [];
    solve({ rhs: decay, y0: [1], tspan: [1, 3] }, "rkc", { signal: ac.signal, onProgress: (e) => ev2.push(e) });
    expect(ev2).toEqual([{ done: 0, total: 2, unit: "time", t: 1, metrics: undefined }]);
  });
});

describe("solve: validation", () => {
  const base: OdeProblem = { rhs: decay, y0: [1], tspan: [0, 1] };
  it("bad tspan", () => {
    expect(() => solve({ ...base, tspan: [1, 0] })).toThrow(RangeError);
    expect(() => solve({ ...base, tspan: [1, 0] })).toThrow("solve: t1 must be ≥ t0 (got t0 = 1, t1 = 0)");
    expect(() => solve({ ...base, tspan: [0, NaN] })).toThrow("solve: t1 must be a finite number (got NaN)");
    expect(() => solve({ ...base, tspan: [0, Infinity] })).toThrow(/t1 must be a finite number/);
    expect(() => solve({ ...base, tspan: [0] as never })).toThrow(TypeError);
    expect(() => solve({ ...base, tspan: [0] as never })).toThrow("solve: problem.tspan must be [t0, t1]");
    expect(() => solve({ ...base, tspan: undefined as never })).toThrow(TypeError);
  });
  it("saveat outside tspan or not strictly increasing", () => {
    expect(() => solve({ ...base, saveat: [-0.5, 1] })).toThrow("solve: saveat[0] must be in [t0, t1] = [0, 1] (got -0.5)");
    expect(() => solve({ ...base, saveat: [0, 1.5] })).toThrow(RangeError);
    expect(() => solve({ ...base, saveat: [0, 0.5, 0.5] })).toThrow("solve: saveat must be strictly increasing (saveat[2] = 0.5 ≤ 0.5)");
    expect(() => solve({ ...base, saveat: [] })).toThrow(/saveat must be a non-empty array/);
  });
  it("unknown algorithm, missing dt, bad problem", () => {
    expect(() => solve(base, "rk45" as never)).toThrow(RangeError);
    expect(() => solve(base, "rk45" as never)).toThrow('solve: method must be one of "gbs", "dop853", "rkc", "rodas", "bdf", "rk4", "euler" (got rk45)');
    expect(() => solve(base, "euler")).toThrow(RangeError);
    expect(() => solve(base, "euler", { dt: undefined })).toThrow('solve: dt is required for method "euler"');
    expect(() => solve(null as never)).toThrow(TypeError);
    expect(() => solve({ ...base, rhs: 1 as never })).toThrow("solve: problem.rhs must be a function");
    expect(() => solve({ ...base, events: { stop: "x" as never } })).toThrow(TypeError);
    expect(() => solve(base, "gbs", { onStep: 3 as never })).toThrow("solve: onStep must be a function");
  });
});
