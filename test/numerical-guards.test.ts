/**
 * Runs that survive faults: runaway SGD ends with status "diverged" (time reached in the message,
 * partial log kept) and saturated / dead hidden units give a warning while the status stays "done".
 */
import { describe, expect, it } from "vitest";
import { lsgExperiment } from "../src/experiments/lsg.js";
import { simulateExperiment } from "../src/experiments/simulate.js";
import { simulateTeacherStudent } from "../src/sim/teacher-student.js";
import { runawayIndex } from "../src/sim/simulate.js";
import { saturationFraction, SATURATION_THRESHOLD } from "../src/sim/network.js";
import { fmtMeanSe, fmtNumber, odeFailureMessage } from "../src/experiments/ode.js";

const lsgModel = (lr: number, extra: Record<string, unknown> = {}) => lsgExperiment.parse({
  kind: "lsg", seed: 1, dynamics: "sgd",
  data: { geometry: { dim: 1, L: 40 }, marginal: { kind: "kur", k: 8 }, classes: [{ xi: 0.3 }, { xi: 0.7 }] },
  sgd: { lr, t1: 100, ...extra },
});

describe("divergence guard", () => {
  it("LSG24 single ReLU at lr 0.1, L = 40 (|w| → 1e17+ before): diverged, with the time reached and partial trajectory", async () => {
    const r = await lsgExperiment.run(lsgModel(0.1));
    expect(r.status).toBe("diverged");
    expect(r.message).toMatch(/^diverged at t = [0-9.]+ \(step \d+\): \|w\| = [0-9.e+]+ > 1\.00e\+6·max\(1, \|w\(0\)\|\)/);
    expect(r.message).toContain("reduce model.sgd.lr");
    const tEnd = r.t[r.t.length - 1];
    expect(tEnd).toBeLessThan(100);
    expect(r.summary.norm).toBeGreaterThan(1e6);
    expect(r.summary.norm).toBeLessThan(1e9); // caught soon after crossing, not at overflow
    expect(r.ws.length).toBe(r.t.length);
  });

  it("a healthy lsg SGD run is untouched; the threshold is configurable", async () => {
    const ok = await lsgExperiment.run(lsgModel(0.01, { t1: 20 }));
    expect(ok.status).toBe("done");
    expect(ok.warnings).toEqual([]);
    const strict = await lsgExperiment.run(lsgModel(0.01, { t1: 20, divergence: { maxGrowth: 1.0001 } }));
    expect(strict.status === "diverged" || strict.summary.norm <= 1.0001 * Math.max(1, Math.hypot(...strict.ws[0]))).toBe(true);
  });

  it("simulate: a runaway (threshold lowered to 2) stops with what ran away, its size and the time", async () => {
    const m = simulateExperiment.parse({
      kind: "simulate", seed: 1,
      task: { geometry: { dim: 1, L: 20 }, classes: [{ kind: "nlgp", xi: 1, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 }] },
      network: { K: 2, activation: "relu", bias: { mode: "fixed", value: 0.5 } },
      training: { lr: 5, time: 50, divergence: { maxGrowth: 2 } }, testSize: 500,
    });
    const r = await simulateExperiment.run(m);
    expect(r.status).toBe("diverged");
    expect(r.message).toMatch(/^diverged at t = [0-9.]+ \(step \d+\): (\|w_\d\| = [0-9.e+]+ > 2\.00e\+0·max\(1, \|w_\d\(0\)\|\)|test pmse = [0-9.e+]+ > 2\.00e\+0)/);
    expect(r.message).toContain("reduce model.training.lr");
    expect(r.sim.steps).toBeLessThan(r.sim.totalSteps);
    expect(r.sim.log[r.sim.log.length - 1].steps).toBe(r.sim.steps);
  });

  it("runawayIndex: norms of rows against maxGrowth·max(1, initial norm); NaN counts", () => {
    expect(runawayIndex([3, 4, 0, 0], [0.1, 0, 0, 0], 2, 5)).toBeNull();
    expect(runawayIndex([3, 4, 0, 0], [0.1, 0, 0, 0], 2, 4)).toEqual({ k: 0, norm: 5, limit: 4 });
    expect(runawayIndex([0, 0, NaN, 0], [1, 0, 1, 0], 2, 1e6)?.k).toBe(1);
  });

  it("teacher–student SGD: runaway learning rate → diverged with the time", async () => {
    const r = await simulateTeacherStudent({ N: 50, K: 2, M: 2, lr: 0.5, trainSecondLayer: true, lrSecondLayer: 400, noise: 0, weightDecay: 0, A: [1, 1], v0: [1, 1], initScale: 0.5, times: [0, 50], seed: 1, maxGrowth: 3 });
    expect(r.status).toBe("diverged");
    expect(r.divergence).toMatch(/^diverged at t = /);
    const ok = await simulateTeacherStudent({ N: 50, K: 2, M: 2, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: [1, 1], v0: [1, 1], initScale: 0.05, times: [0, 5, 10], seed: 1 });
    expect(ok.status).toBe("done");
  });
});

describe("saturation warning", () => {
  it("erf network at lr 1e6 saturates: status done, warning, log column near 1", async () => {
    const m = simulateExperiment.parse({
      kind: "simulate", seed: 1,
      task: { geometry: { dim: 1, L: 40 }, classes: [{ kind: "nlgp", xi: 1, gain: 3 }, { kind: "nlgp", xi: 4, gain: 3 }] },
      network: { K: 4, bias: { mode: "fixed", value: 1 } },
      training: { lr: 1e6, time: 10 }, testSize: 1000,
    });
    const r = await simulateExperiment.run(m);
    expect(r.status).toBe("done");
    expect(r.sim.log[0].saturated).toBeLessThan(0.1);
    expect(r.sim.log[r.sim.log.length - 1].saturated).toBeGreaterThan(0.9);
    expect(r.warnings.length).toBe(1);
    expect(r.warnings[0]).toMatch(/saturated/);
  });

  it("a healthy erf run has no warning", async () => {
    const m = simulateExperiment.parse({
      kind: "simulate", seed: 1,
      task: { geometry: { dim: 1, L: 20 }, classes: [{ kind: "nlgp", xi: 1, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 }] },
      network: { K: 2, bias: { mode: "fixed", value: 1 } }, training: { lr: 0.1, time: 5 }, testSize: 500,
    });
    const r = await simulateExperiment.run(m);
    expect(r.status).toBe("done");
    expect(r.warnings).toEqual([]);
    expect(r.sim.log.every((row) => row.saturated >= 0 && row.saturated < 0.5)).toBe(true);
  });

  it("thresholds: σ' = 1e-3 max σ' at |h| = √(2 ln 1000) (erf) and acosh √1000 (tanh); ReLU counts dead units", () => {
    const erfP = (h: number) => Math.exp(-h * h / 2);
    expect(erfP(SATURATION_THRESHOLD.erf)).toBeCloseTo(1e-3, 12);
    expect(1 / Math.cosh(SATURATION_THRESHOLD.tanh) ** 2).toBeCloseTo(1e-3, 12);
    expect(saturationFraction("relu", [100, 98, 99, 0], 100)).toBe(0.5);
    expect(saturationFraction("erf", [100, 50], 100)).toBe(0.75);
    expect(saturationFraction("cubic", [1], 100)).toBeNaN();
  });
});

describe("messages never print NaN", () => {
  it("fmtMeanSe / fmtNumber / odeFailureMessage", () => {
    expect(fmtMeanSe(0.5, 0.01, 3)).toBe("0.5000 ± 0.0100");
    expect(fmtMeanSe(0.5, NaN, 1)).toBe("0.5000 (n = 1, no SE)");
    expect(fmtMeanSe(NaN, NaN, 0)).toBe("n/a (no finished seed)");
    expect(fmtNumber(NaN)).toBe("n/a");
    expect(odeFailureMessage({ t: [], message: "x" })).not.toMatch(/NaN/);
  });
});
