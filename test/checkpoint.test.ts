/**
 * Runs that survive faults: long single runs checkpoint their full state into a RunStore, and a run
 * started with a store holding a checkpoint continues from it and ends BIT-IDENTICAL to an
 * uninterrupted run.  Each case runs uninterrupted; then with checkpoints at every boundary
 * (checkpointSeconds = 1e-9), aborted after a few checkpoints, resumed, aborted again, and resumed to
 * the end — with the in-memory store and with the directory store (values go through files, i.e.
 * through encodeExact/decodeExact, as in the CLI).
 */
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryStore, type RunStore } from "../src/run/store.js";
import { decodeExact, directoryStore, encodeExact } from "../src/io/run-store.js";
import { simulate, SGD_CHECKPOINT_KEY, type SgdCheckpoint, type SimulationConfig, type SimulationResult } from "../src/sim/simulate.js";
import { lsgExperiment, type LsgResult } from "../src/experiments/lsg.js";
import { LSG_SGD_CHECKPOINT_KEY, type SingleReluCheckpoint } from "../src/sim/single-relu.js";
import { odeExperiment, ODE_CHECKPOINT_KEY, type OdeMixtureResult, type OdeTeacherStudentResult } from "../src/experiments/ode.js";
import { solve, solveAsync, type OdeProblem, type OdeSolution, type SolveOptions, type SolverState } from "../src/integrate/index.js";
import { teacherStudentProblem, type TeacherStudentParams } from "../src/theory/saad-solla.js";
import { loadModel } from "../src/io/read-model.js";

const root = join(__dirname, "..");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type StoreKind = "memory" | "directory";
const STORES: StoreKind[] = ["memory", "directory"];

function makeStore(kind: StoreKind): RunStore {
  if (kind === "memory") return memoryStore();
  const d = mkdtempSync(join(tmpdir(), "rfdyn-ckpt-"));
  dirs.push(d);
  return directoryStore(d);
}

/** A store that reports every put (to abort the run from inside it). */
function watched(store: RunStore, onPut: (key: string, value: unknown) => void): RunStore {
  return {
    get: (k) => store.get(k),
    put: (k, v) => {
      store.put(k, v);
      onPut(k, v);
    },
  };
}

/** Same bits (length and every element, NaN payload aside: Object.is). */
function expectSameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) throw new Error(`${what}[${i}]: ${a[i]} ≠ ${b[i]}`);
  }
}

/**
 * Run with checkpoints at every boundary, aborting in run j once a checkpoint satisfies
 * `abortWhen[j]` (each run resumes from the store), then to the end without abort; returns the last
 * result, the number of checkpoints each interrupted run put and the interrupted results.
 */
async function interruptedTwice<R extends { status: string }, C>(run: (h: { store: RunStore; checkpointSeconds: number; signal?: AbortSignal }) => Promise<R>, store: RunStore, abortWhen: ((ck: C) => boolean)[]): Promise<{ result: R; puts: number[]; partial: R[] }> {
  const puts: number[] = [];
  const partial: R[] = [];
  for (const when of abortWhen) {
    const ac = new AbortController();
    let n = 0;
    const r = await run({ store: watched(store, (_k, v) => { n++; if (when(v as C)) ac.abort(); }), checkpointSeconds: 1e-9, signal: ac.signal });
    expect(r.status).toBe("interrupted");
    puts.push(n);
    partial.push(r);
  }
  return { result: await run({ store, checkpointSeconds: 1e-9 }), puts, partial };
}

// ---------------------------------------------------------------------------------------------
// SGD of the two-layer network

function expectSameSimulation(a: SimulationResult, b: SimulationResult): void {
  expect(a.status).toBe(b.status);
  expect([a.steps, a.totalSteps, a.D, a.K]).toEqual([b.steps, b.totalSteps, b.D, b.K]);
  expect(a.log).toEqual(b.log);
  expectSameBits(a.ipr, b.ipr, "ipr");
  expectSameBits(a.norms, b.norms, "norms");
  expectSameBits(a.biases, b.biases, "biases");
  expectSameBits(a.secondLayer, b.secondLayer, "secondLayer");
  expect(a.snapshots.t).toEqual(b.snapshots.t);
  expect(a.snapshots.steps).toEqual(b.snapshots.steps);
  expectSameBits(a.snapshots.W, b.snapshots.W, "snapshots.W");
  expectSameBits(a.net.W, b.net.W, "W");
  expectSameBits(a.net.b, b.net.b, "b");
  expectSameBits(a.net.v, b.net.v, "v");
}

const onlineNlgp: SimulationConfig = {
  task: { geometry: { dim: 1, L: 36 }, classes: [{ kind: "nlgp", xi: 1, gain: 3 }, { kind: "gp-clone", xi: 3, gain: 3 }], labels: "pm1" },
  network: { K: 4, activation: "erf", secondLayer: { mode: "trained" }, bias: { mode: "trained", value: 0.5, pattern: "split" }, initScale: 1 },
  training: { mode: "online", steps: 30_000, lr: 0.5, lrScaling: 1, weightDecay: 0, batchSize: 1 },
  logging: { points: 10, snapshots: 3 },
  testSize: 300,
  seed: 11,
};

const onlineMinibatch: SimulationConfig = {
  ...onlineNlgp,
  task: { geometry: { dim: 2, L: 6 }, classes: [{ kind: "gp", xi: 1 }, { kind: "field", xi: 2, marginal: { kind: "elliptical", radius: { kind: "lognormal", s: 0.3 } } }], labels: "01" },
  training: { mode: "online", steps: 12_000, lr: 0.3, lrScaling: 1, weightDecay: 1e-3, batchSize: 3 },
  seed: 5,
};

const batchFinite: SimulationConfig = {
  task: { geometry: { dim: 1, L: 30 }, classes: [{ kind: "nlgp", xi: 1, gain: 2 }, { kind: "nlgp", xi: 3, gain: 2 }], labels: "pm1" },
  network: { K: 3, activation: "relu", secondLayer: { mode: "fixed" }, bias: { mode: "trained", value: 0.2, pattern: "split" }, initScale: 1 },
  training: { mode: "batch", steps: 9000, lr: 0.2, lrScaling: 1, weightDecay: 1e-4, batchSize: 7, P: 200 },
  logging: { points: 8, snapshots: [0.5, 3] },
  testSize: 200,
  seed: 3,
};

describe("SGD checkpoints (simulate, key sgd/state): interrupted and resumed runs equal the uninterrupted run bit for bit", () => {
  const cases: [string, SimulationConfig][] = [
    ["online SGD on NLGP / GP-clone classes (GP spare-sample caching)", onlineNlgp],
    ["online minibatches on 2D GP / elliptical classes", onlineMinibatch],
    ["minibatch SGD on a finite data set (EpochBatcher, P mod B ≠ 0)", batchFinite],
  ];
  for (const [name, cfg] of cases) {
    let refRun: Promise<SimulationResult> | undefined;
    for (const kind of STORES) {
      it(`${name} — ${kind} store`, async () => {
        const ref = await (refRun ??= simulate(cfg));
        expect(ref.status).toBe("done");
        const store = makeStore(kind);
        // Interrupt after 20 % and 50 % of the run (mid-epoch, with samplers' caches in use).
        const total = cfg.training.steps;
        const { result, puts, partial } = await interruptedTwice<SimulationResult, SgdCheckpoint>((h) => simulate(cfg, h), store, [(c) => c.steps >= 0.2 * total, (c) => c.steps >= 0.5 * total]);
        expect(Math.min(...puts)).toBeGreaterThan(1);
        expect(partial[0].steps).toBeGreaterThanOrEqual(0.2 * total);
        expect(partial[1].steps).toBeGreaterThan(partial[0].steps);
        expect(partial[1].steps).toBeLessThan(cfg.training.steps);
        expectSameSimulation(result, ref);
      });
    }
  }

  it("the checkpoint holds the full state, and a run is resumed from where it was interrupted", async () => {
    const store = memoryStore();
    const ac = new AbortController();
    let n = 0;
    const r = await simulate(onlineNlgp, { store: watched(store, () => { if (++n === 5) ac.abort(); }), checkpointSeconds: 1e-9, signal: ac.signal });
    const ck = store.get<SgdCheckpoint>(SGD_CHECKPOINT_KEY)!;
    expect(ck.steps).toBe(r.steps);
    // The interrupted run adds a row for the point reached unless it is a log time.
    expect(r.log.slice(0, ck.log.length)).toEqual(ck.log);
    expect(r.log.length - ck.log.length).toBe(r.steps === ck.log[ck.log.length - 1].steps ? 0 : 1);
    expect(ck.task.length).toBe(2);
    // Round trip through the file encoding is exact.
    expect(decodeExact(encodeExact(ck))).toEqual(ck);
    // Default interval: no checkpoint is written by a short run unless it is interrupted.
    const quiet = memoryStore();
    await simulate({ ...onlineNlgp, training: { ...onlineNlgp.training, steps: 2000 } }, { store: quiet });
    expect(quiet.keys()).toEqual([]);
  });

  it("a checkpoint of another run is refused", async () => {
    const store = memoryStore();
    const ac = new AbortController();
    ac.abort();
    await simulate(onlineNlgp, { store, signal: ac.signal });
    expect(store.get(SGD_CHECKPOINT_KEY)).toBeDefined();
    await expect(simulate({ ...onlineNlgp, seed: 12 }, { store })).rejects.toThrow(/does not belong/);
  });
});

// ---------------------------------------------------------------------------------------------
// LSG24 single-ReLU SGD

function expectSameLsg(a: LsgResult, b: LsgResult): void {
  expect(a.status).toBe(b.status);
  expect(a.message).toBe(b.message);
  expect(a.summary).toEqual(b.summary);
  expect(a.t).toEqual(b.t);
  expect(a.ws.length).toBe(b.ws.length);
  a.ws.forEach((w, j) => expectSameBits(w, b.ws[j], `ws[${j}]`));
  expectSameBits(a.w, b.w, "w");
}

describe("LSG24 single-ReLU SGD checkpoints (key lsg-sgd/state)", () => {
  const model = lsgExperiment.parse({
    kind: "lsg", dynamics: "sgd", seed: 4,
    data: {
      geometry: { dim: 1, L: 24 },
      classes: [
        { xi: 0.5, marginal: { kind: "elliptical", radius: { kind: "student", nu: 6 } } },
        { xi: 1.5, marginal: { kind: "nlgp", gain: 2 } },
      ],
    },
    init: { scale: 1 },
    sgd: { lr: 0.002, t1: 40, samples: 12 },
  });
  let refRun: Promise<LsgResult> | undefined;
  for (const kind of STORES) {
    it(`elliptical / NLGP fields (NORTA and scale-mixture samplers with GP caching) — ${kind} store`, async () => {
      const ref = await (refRun ??= lsgExperiment.run(model));
      expect(ref.status).toBe("done");
      const store = makeStore(kind);
      const total = (2 * 40) / 0.002;
      const { result, partial } = await interruptedTwice<LsgResult, SingleReluCheckpoint>((h) => lsgExperiment.run(model, h), store, [(c) => c.n >= 0.3 * total, (c) => c.n >= 0.6 * total]);
      const ck = store.get<SingleReluCheckpoint>(LSG_SGD_CHECKPOINT_KEY)!;
      expect(ck.n).toBeGreaterThan(0);
      expect(partial[1].summary.steps).toBeGreaterThan(partial[0].summary.steps);
      expectSameLsg(result, ref);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// ODEs

function expectSameSolution(a: OdeSolution, b: OdeSolution): void {
  expect(a.retcode).toBe(b.retcode);
  expect(a.message).toBe(b.message);
  expect(a.reason).toBe(b.reason);
  expect(a.tEnd).toBe(b.tEnd);
  expect(a.t).toEqual(b.t);
  expect(a.stats).toEqual(b.stats);
  expect(a.y.length).toBe(b.y.length);
  a.y.forEach((y, j) => expectSameBits(y, b.y[j], `y[${j}]`));
}

function expectSameMixture(a: OdeMixtureResult, b: OdeMixtureResult): void {
  expect(a.status).toBe(b.status);
  expect(a.summary).toEqual(b.summary);
  expect(a.accuracy).toEqual(b.accuracy);
  const ra = a.run, rb = b.run;
  expect([ra.t, ra.pmse, ra.pmsePerClass, ra.nRhs, ra.nSteps, ra.message]).toEqual([rb.t, rb.pmse, rb.pmsePerClass, rb.nRhs, rb.nSteps, rb.message]);
  ra.states.forEach((s, j) => {
    const r = rb.states[j];
    s.omegas.forEach((o, m) => expectSameBits(o, r.omegas[m], `states[${j}].omegas[${m}]`));
    expectSameBits(s.b, r.b, `states[${j}].b`);
    expectSameBits(s.v, r.v, `states[${j}].v`);
    expectSameBits(s.norms2, r.norms2, `states[${j}].norms2`);
  });
}

describe("ODE checkpoints (kind ode, mixture mode, key ode/state)", () => {
  const raw = loadModel(join(root, "test/fixtures/golden/ig22-fig3-ode-long.model.json")) as Record<string, unknown>;
  const solver = raw.solver as Record<string, unknown>;
  for (const method of ["gbs", "rkc"] as const) {
    const model = odeExperiment.parse({ ...raw, network: { ...(raw.network as object), K: 4 }, time: { end: 40, points: 12, spacing: "log" }, solver: { ...solver, method } });
    let refRun: Promise<OdeMixtureResult> | undefined;
    for (const kind of STORES) {
      it(`mixture ODE with ${method} — ${kind} store`, async () => {
        const ref = await (refRun ??= odeExperiment.run(model) as Promise<OdeMixtureResult>);
        expect(ref.status).toBe("done");
        const store = makeStore(kind);
        const { result, partial } = await interruptedTwice<OdeMixtureResult, SolverState>(async (h) => (await odeExperiment.run(model, h)) as OdeMixtureResult, store, [(c) => c.next >= 5, (c) => c.next >= 10]);
        const ck = store.get<SolverState>(ODE_CHECKPOINT_KEY)!;
        expect(ck.method).toBe(method);
        expect(partial[1].run.t.length).toBeGreaterThan(partial[0].run.t.length);
        expectSameMixture(result, ref);
      });
    }
  }
});

describe("ODE checkpoints (kind ode, teacher–student mode, key ode/state)", () => {
  const model = odeExperiment.parse({ kind: "ode", mode: "teacher-student", seed: 3, time: { end: 300, points: 16, spacing: "linear" },
    teacherStudent: { K: 2, M: 2, N: 500, lr: 0.5 } });
  let refRun: Promise<OdeTeacherStudentResult> | undefined;
  for (const kind of STORES) {
    it(`Saad–Solla ODE through odeExperiment.run — ${kind} store`, async () => {
      const ref = await (refRun ??= odeExperiment.run(model) as Promise<OdeTeacherStudentResult>);
      expect(ref.status).toBe("done");
      const store = makeStore(kind);
      const { result } = await interruptedTwice<OdeTeacherStudentResult, SolverState>(async (h) => (await odeExperiment.run(model, h)) as OdeTeacherStudentResult, store, [(c) => c.next >= 4, (c) => c.next >= 9]);
      expect(result.status).toBe(ref.status);
      expect(result.run.t).toEqual(ref.run.t);
      expect(result.run.eps).toEqual(ref.run.eps);
      result.run.states.forEach((st, j) => {
        expectSameBits(st.Q, ref.run.states[j].Q, `states[${j}].Q`);
        expectSameBits(st.R, ref.run.states[j].R, `states[${j}].R`);
      });
      expect(result.run.nRhs).toBe(ref.run.nRhs);
    });
  }
});

describe("solver checkpoints (solve / solveAsync with checkpoint and resumeFrom)", () => {
  /** Run with checkpoints, abort after `k` saves per run (twice), resume to the end. */
  async function resumed(problem: OdeProblem, method: "gbs" | "rkc" | "rk4" | "euler", opts: SolveOptions, abortAfter: number[], async: boolean, viaFiles: boolean): Promise<{ sol: OdeSolution; saves: number[] }> {
    let saved: SolverState | undefined;
    const keep = (s: SolverState) => { saved = viaFiles ? (decodeExact(encodeExact(s)) as SolverState) : s; };
    const saves: number[] = [];
    for (const k of abortAfter) {
      const ac = new AbortController();
      let n = 0;
      const o: SolveOptions = { ...opts, signal: ac.signal, resumeFrom: saved, checkpoint: { every: 0, save: (s) => { keep(s); if (++n >= k) ac.abort(); } } };
      const sol = async ? await solveAsync(problem, method, o) : solve(problem, method, o);
      expect(sol.retcode).toBe("interrupted");
      saves.push(n);
    }
    const o: SolveOptions = { ...opts, resumeFrom: saved, checkpoint: { every: 0, save: keep } };
    return { sol: async ? await solveAsync(problem, method, o) : solve(problem, method, o), saves };
  }

  // A small nonlinear, mildly stiff system with a steady state (events.steadyTol exercises the
  // cached F_n / k1 of rkc and the fixed-step schemes).
  const rhs = (_t: number, y: Float64Array, dy: Float64Array) => {
    const n = y.length;
    for (let i = 0; i < n; i++) {
      const l = y[(i + n - 1) % n], r = y[(i + 1) % n];
      dy[i] = 20 * (l - 2 * y[i] + r) - y[i] * y[i] * y[i] + 0.3 * Math.sin(i);
    }
  };
  const y0 = Float64Array.from({ length: 12 }, (_, i) => Math.cos(0.7 * i) + 0.1 * i);
  const times = Array.from({ length: 25 }, (_, j) => (j * j) / 40);
  const problem: OdeProblem = { rhs, y0, tspan: [0, 16], saveat: times, events: { steadyTol: 1e-9 } };
  const cases: ["gbs" | "rkc" | "rk4" | "euler", SolveOptions][] = [
    ["gbs", { rtol: 1e-9, atol: 1e-11 }],
    ["rkc", { rtol: 1e-7, atol: 1e-9 }],
    ["rk4", { dt: 0.004 }],
    ["euler", { dt: 0.003 }],
  ];
  for (const [method, opts] of cases) {
    for (const async of [false, true]) {
      it(`${method} (${async ? "solveAsync, state through the file encoding" : "solve"})`, async () => {
        const ref = async ? await solveAsync(problem, method, opts) : solve(problem, method, opts);
        expect(["success", "steady"]).toContain(ref.retcode);
        const { sol, saves } = await resumed(problem, method, opts, [5, 6], async, async);
        expect(saves).toEqual([5, 6]);
        expectSameSolution(sol, ref);
      });
    }
  }

  it("a state of another problem or method is refused", () => {
    let st: SolverState | undefined;
    solve(problem, "rk4", { dt: 0.01, checkpoint: { every: 0, save: (s) => { st = s; } } });
    expect(st).toBeDefined();
    expect(() => solve(problem, "euler", { dt: 0.01, resumeFrom: st })).toThrow(/resumeFrom/);
    expect(() => solve({ ...problem, y0: [1, 2] }, "rk4", { dt: 0.01, resumeFrom: st })).toThrow(/resumeFrom/);
    expect(() => solve({ ...problem, saveat: times.map((t) => t * 0.5) }, "rk4", { dt: 0.01, resumeFrom: st })).toThrow(/resumeFrom/);
  });

  it("Saad–Solla teacher–student ODE with gbs (events.stop at convergence)", async () => {
    const params: TeacherStudentParams = { K: 3, M: 2, lr: 0.6, trainSecondLayer: true, lrSecondLayer: 0.3, noise: 0.01, weightDecay: 1e-4, A: [1, 0.8], T: [1, 0.1, 0.1, 0.9], secondOrder: true };
    const Q = Float64Array.from([0.04, 0.001, 0.002, 0.001, 0.05, 0.001, 0.002, 0.001, 0.03]);
    const R = Float64Array.from([0.01, 0.002, 0.003, 0.012, 0.001, 0.004]);
    const init = { Q, R, v: Float64Array.from([0.5, 0.4, 0.3]) };
    const times = [0, ...Array.from({ length: 20 }, (_, j) => 0.5 * 1.4 ** j)];
    const { problem: ts } = teacherStudentProblem(params, init, { times });
    const opts: SolveOptions = { rtol: 1e-9, atol: 1e-11, maxSteps: 1_000_000 };
    const ref = await solveAsync(ts, "gbs", opts);
    expect(ref.retcode).toBe("success");
    for (const viaFiles of [false, true]) {
      const { sol } = await resumed(ts, "gbs", opts, [3, 8], true, viaFiles);
      expectSameSolution(sol, ref);
    }
  });
});
