/**
 * Cooperative L-BFGS / CP decomposition: `lbfgsAsync` and `decomposeAsync` return to the event loop
 * (so a Ctrl-C handler can abort the signal) without changing a single bit of the arithmetic, and a
 * long cp run is interrupted promptly with status "interrupted".
 */
import { describe, expect, it } from "vitest";
import { lbfgs, lbfgsAsync, lbfgsSteps, type LbfgsOptions, type LbfgsResult, type ObjectiveWithGradient } from "../src/optim/lbfgs.js";
import { decompose, decomposeAsync, decomposeSteps, type CpDecomposition } from "../src/cp/decompose.js";
import { ImplicitCumulantLoss } from "../src/cp/loss.js";
import { sampleClass } from "../src/cp/analyse.js";
import { cpExperiment } from "../src/experiments/cp.js";
import { yieldToEventLoop } from "../src/run/hooks.js";
import { Rng } from "../src/stats/rng.js";

const rosenbrock: ObjectiveWithGradient = (x, g) => {
  const a = x[0], b = x[1];
  g[0] = -400 * a * (b - a * a) - 2 * (1 - a);
  g[1] = 200 * (b - a * a);
  return 100 * (b - a * a) ** 2 + (1 - a) ** 2;
};

/** f = ½ Σ λ_i (x_i − 1)², λ_i log-spaced over 1e-3 … 1e3 (condition number 1e6), rotated. */
function illConditioned(n: number): ObjectiveWithGradient {
  const lam = Float64Array.from({ length: n }, (_, i) => 10 ** (-3 + (6 * i) / (n - 1)));
  // Rotation by a product of Givens rotations (fixed angles): x' = Q x.
  const rot = (v: Float64Array, out: Float64Array, sign: number) => {
    out.set(v);
    const steps = sign > 0 ? [...Array(n - 1).keys()] : [...Array(n - 1).keys()].reverse();
    for (const i of steps) {
      const th = sign * (0.3 + 0.1 * i), c = Math.cos(th), s = Math.sin(th);
      const a = out[i], b = out[i + 1];
      out[i] = c * a - s * b;
      out[i + 1] = s * a + c * b;
    }
  };
  const y = new Float64Array(n), gy = new Float64Array(n);
  return (x, g) => {
    rot(x, y, 1);
    let f = 0;
    for (let i = 0; i < n; i++) {
      const d = y[i] - 1;
      f += 0.5 * lam[i] * d * d;
      gy[i] = lam[i] * d;
    }
    rot(gy, g, -1); // Qᵀ gy (inverse rotation in reverse order)
    return f;
  };
}

/** Wrap fg to record every evaluation point (bitwise, as a copy). */
function recording(fg: ObjectiveWithGradient): { fg: ObjectiveWithGradient; xs: number[][] } {
  const xs: number[][] = [];
  return { xs, fg: (x, g) => { xs.push(Array.from(x)); return fg(x, g); } };
}

/** Run lbfgsSteps with a pacer that pauses at every opportunity, awaiting the event loop each time. */
async function lbfgsPausingEverywhere(fg: ObjectiveWithGradient, x0: Float64Array, opts: LbfgsOptions): Promise<{ res: LbfgsResult; pauses: number }> {
  const it = lbfgsSteps(fg, x0, opts, { due: () => true });
  let pauses = 0;
  for (;;) {
    const r = it.next();
    if (r.done) return { res: r.value, pauses };
    pauses++;
    await yieldToEventLoop();
  }
}

function sameResult(a: LbfgsResult, b: LbfgsResult) {
  expect(Array.from(b.x)).toEqual(Array.from(a.x));
  expect(Array.from(b.g)).toEqual(Array.from(a.g));
  expect(Object.is(b.f, a.f)).toBe(true);
  expect([b.iterations, b.evaluations, b.status, b.message]).toEqual([a.iterations, a.evaluations, a.status, a.message]);
}

describe("lbfgsAsync: same bits as lbfgs", () => {
  const problems: [string, () => ObjectiveWithGradient, Float64Array, LbfgsOptions][] = [
    ["Rosenbrock", () => rosenbrock, Float64Array.from([-1.2, 1]), { gtol: 1e-10, ftol: 0 }],
    ["ill-conditioned quadratic (κ = 1e6, n = 40)", () => illConditioned(40), new Float64Array(40), { gtol: 1e-9, ftol: 0, maxIter: 400 }],
  ];
  for (const [name, make, x0, opts] of problems) {
    it(`${name}: every evaluation point, iterate and the result are bit-identical`, async () => {
      const iters = () => {
        const log: number[][] = [];
        return { log, onIter: (it: number, f: number, gn: number) => { log.push([it, f, gn]); } };
      };
      const s = recording(make()), si = iters();
      const sync = lbfgs(s.fg, x0, { ...opts, onIter: si.onIter });
      expect(["gtol", "ftol", "maxIter"]).toContain(sync.status);
      expect(sync.iterations).toBeGreaterThan(30);

      const a = recording(make()), ai = iters();
      const asy = await lbfgsAsync(a.fg, x0, { ...opts, onIter: ai.onIter });
      sameResult(sync, asy);
      expect(a.xs).toEqual(s.xs);
      expect(ai.log).toEqual(si.log);

      // Pausing at every iteration and before every line-search evaluation changes nothing either.
      const p = recording(make()), pi = iters();
      const { res, pauses } = await lbfgsPausingEverywhere(p.fg, x0, { ...opts, onIter: pi.onIter });
      expect(pauses).toBeGreaterThanOrEqual(sync.evaluations - 1);
      sameResult(sync, res);
      expect(p.xs).toEqual(s.xs);
      expect(pi.log).toEqual(si.log);
    });
  }

  it("an aborted signal stops lbfgsAsync at the last accepted iterate (status stopped)", async () => {
    const ac = new AbortController();
    const fg = illConditioned(40);
    let n = 0;
    const it = lbfgsSteps((x, g) => { if (++n === 30) ac.abort(); return fg(x, g); }, new Float64Array(40), { gtol: 1e-12, ftol: 0 }, { due: () => true, signal: ac.signal });
    let r = it.next();
    while (!r.done) r = it.next();
    expect(r.value.status).toBe("stopped");
    expect(r.value.evaluations).toBe(30); // stopped at the pause right after the aborting evaluation
    // The returned point is an accepted iterate: its f and g are consistent.
    const g = new Float64Array(40);
    expect(fg(r.value.x, g)).toBe(r.value.f);
    expect(Array.from(g)).toEqual(Array.from(r.value.g));
  });
});

describe("decomposeAsync: same bits as decompose, event loop alive", () => {
  const P = 2000, D = 24, r = 4;
  const X = sampleClass({ dim: 1, L: D }, { kind: "nlgp", xi: 2, gain: 3 }, P, new Rng(11));
  const sameDecomposition = (a: CpDecomposition, b: CpDecomposition) => {
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
    expect(Array.from(b.factors)).toEqual(Array.from(a.factors));
    expect(Object.is(b.loss, a.loss)).toBe(true);
    expect([b.best, b.status]).toEqual([a.best, a.status]);
    expect(b.restarts).toEqual(a.restarts);
  };

  for (const method of ["reduced", "joint"] as const) {
    it(`${method}: decomposeAsync and decomposeSteps pausing everywhere give decompose's bits`, async () => {
      const opts = { restarts: 2, seed: 4, maxIter: 150, method };
      const sync = decompose(new ImplicitCumulantLoss(X, P, D, r), opts);
      sameDecomposition(sync, await decomposeAsync(new ImplicitCumulantLoss(X, P, D, r), opts));
      const it = decomposeSteps(new ImplicitCumulantLoss(X, P, D, r), opts, {}, { due: () => true });
      let res = it.next(), pauses = 0;
      while (!res.done) { pauses++; await yieldToEventLoop(); res = it.next(); }
      expect(pauses).toBeGreaterThan(100);
      sameDecomposition(sync, res.value);
    });
  }

  it("timers run during a decomposition (setInterval counter advances)", async () => {
    const PP = 30000, DD = 60, rr = 8; // ≥ 200 ms of decomposition also with the SIMD kernels
    const XX = sampleClass({ dim: 1, L: DD }, { kind: "nlgp", xi: 3, gain: 3 }, PP, new Rng(3));
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 5);
    const t0 = performance.now();
    let res: CpDecomposition;
    try {
      res = await decomposeAsync(new ImplicitCumulantLoss(XX, PP, DD, rr), { restarts: 1, seed: 2, maxIter: 200 });
    } finally {
      clearInterval(timer);
    }
    const ms = performance.now() - t0;
    expect(res.status).toBe("done");
    // The clock pauses every ~40 ms: expect a tick at least every ~100 ms of decomposition.
    expect(ms).toBeGreaterThan(200);
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(ms / 100));
    console.log(`decomposeAsync: ${ms.toFixed(0)} ms, ${ticks} timer ticks`);
  });
});

describe("cp run interrupted by a signal", () => {
  it("a long decomposition (D = 100, P = 10⁴, rank 10) stops promptly with status interrupted", async () => {
    // Uninterrupted, this takes ~9 s on a 2-core machine (4 restarts of ~2 s; the first 2: 4.5 s).
    const m = cpExperiment.parse({
      kind: "cp", seed: 42,
      data: { geometry: { dim: 1, L: 100 }, class: { kind: "nlgp", xi: 5, gain: 3, convention: "ig22" }, alpha: 100 },
      decomposition: { rank: 10, restarts: 4, maxIter: 5000, gtol: 1e-7, ftol: 1e-10, memory: 10, method: "reduced" },
      output: { reconstructionError: "none" },
    });
    const ac = new AbortController();
    let abortedAt = 0, armedAt = 0, iterationsAtAbort = -1, lastIteration = 0;
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 10);
    const t0 = performance.now();
    try {
      // Abort 300 ms into the L-BFGS iterations (the data sampling before them takes ~0.4 s).
      const res = await cpExperiment.run(m, {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.metrics?.iteration === undefined) return;
          lastIteration = e.metrics.iteration;
          if (armedAt === 0) {
            armedAt = performance.now();
            setTimeout(() => { abortedAt = performance.now(); iterationsAtAbort = lastIteration; ac.abort(); }, 300);
          }
        },
      });
      const end = performance.now();
      clearInterval(timer);
      expect(abortedAt).toBeGreaterThan(0);
      const latency = end - abortedAt;
      console.log(`cp interrupt: iterations from ${(armedAt - t0).toFixed(0)} ms, aborted at ${(abortedAt - t0).toFixed(0)} ms (after ${iterationsAtAbort} iterations), returned ${latency.toFixed(1)} ms later; ${ticks} timer ticks`);
      expect(iterationsAtAbort).toBeGreaterThan(0);
      expect(res.status).toBe("interrupted");
      expect(res.runs.length).toBe(0);
      // Bound on responsiveness (robust on a loaded 2-core machine), not a speed target.
      expect(latency).toBeLessThan(3000);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
    }
  }, 60_000);
});
