/**
 * One point of the scaling benchmark (bench/scale.ts), run in its own process so that peak RSS
 * belongs to this size alone:  node scale-child.js <case> <json params>.
 * Prints one JSON line {seconds, calls, maxRssMB, setupSeconds}: CPU seconds per unit of work
 * (an SGD step, a flow RHS, a CP loss+gradient, an ODE RHS), measured over ≥ `minSeconds` of CPU
 * time after a warm-up, and the process's peak resident set size (process.resourceUsage().maxRSS).
 */
import { Rng } from "../src/stats/rng.js";
import { initNetwork } from "../src/sim/network.js";
import { SgdStepper } from "../src/sim/sgd.js";
import { buildTask } from "../src/sim/simulate.js";
import { twoClassTask, makeClassSampler } from "../src/data/task.js";
import { deriveFlowCoefficients } from "../src/theory/coefficients.js";
import { buildSingleNeuronFlow } from "../src/theory/single-neuron.js";
import { classDatasets } from "../src/theory/flow-trajectory.js";
import { ImplicitCumulantLoss } from "../src/cp/loss.js";
import { sampleClass } from "../src/cp/analyse.js";
import { SaadSollaOde } from "../src/theory/saad-solla.js";
import { overlaps, teacherStudentInit } from "../src/sim/teacher-student.js";
import { MixtureOde } from "../src/theory/mixture-ode.js";
import { clipSpectrum, spectrumOfRow, type Geometry } from "../src/data/kernels.js";

export type ScaleCase = "sgd" | "flow" | "cp" | "saad-solla" | "mixture" | "baseline";
export interface ScaleParams { D?: number; K?: number; P?: number; r?: number; minSeconds?: number }
export interface ScalePoint { seconds: number; calls: number; maxRssMB: number; setupSeconds: number }

const cpu = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };

/** CPU seconds per call of `body(n)` doing n units, over ≥ minSeconds after a warm-up of `warm` units. */
function perUnit(body: (n: number) => void, batch: number, warm: number, minSeconds: number): { seconds: number; calls: number } {
  body(warm);
  let n = 0;
  const t0 = cpu();
  let t = t0;
  while (t - t0 < minSeconds) {
    body(batch);
    n += batch;
    t = cpu();
  }
  return { seconds: (t - t0) / n, calls: n };
}

export async function runPoint(kind: ScaleCase, p: ScaleParams): Promise<ScalePoint> {
  const minSeconds = p.minSeconds ?? 0.4;
  const t0 = cpu();
  let body: (n: number) => void = () => {};
  let batch = 1, warm = 1;
  if (kind === "sgd") {
    const D = p.D!, K = p.K!;
    const task = buildTask({ geometry: { dim: 1, L: D }, classes: [{ kind: "nlgp", xi: 8, gain: 3 }, { kind: "nlgp", xi: 16, gain: 3 }], labels: "pm1" });
    const net = initNetwork({ K, activation: "erf", secondLayer: { mode: "fixed" }, bias: { mode: "trained", value: 1, pattern: "split" }, initScale: 0.1 }, D, new Rng(1));
    const st = new SgdStepper(net, { lr: 0.8, lrScaling: 1, weightDecay: 0, trainSecondLayer: false, trainBias: true });
    const rng = new Rng(2), x = new Float64Array(D), x2 = new Float64Array(D), lab = task.labels;
    const draw = (xx: Float64Array) => lab[task.sample(xx, rng)];
    body = (n) => st.runOnline(n, draw, x, x2);
    batch = 1000; warm = 2000;
  } else if (kind === "flow") {
    const D = p.D!, P = p.P!;
    const task = twoClassTask({ dim: 1, L: D }, { kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 });
    const cls = classDatasets(task, P, Rng.stream(1, 0), false);
    const coef = await deriveFlowCoefficients({ v: 1, b: -1, labels: [-1, 1] });
    const flow = buildSingleNeuronFlow({
      variant: "full", D, v: 1, b: -1,
      classes: cls.map((c, mu) => ({ label: mu ? 1 : -1, weight: c.n / P, X: c.X, n: c.n, cov: "sample" as const })),
    }, coef);
    const w = Rng.stream(1, 1).fillNormal(new Float64Array(D), 1 / Math.sqrt(D)), dw = new Float64Array(D);
    body = (n) => { for (let i = 0; i < n; i++) flow.rhs(0, w, dw); };
  } else if (kind === "cp") {
    const D = p.D!, P = p.P!, r = p.r!;
    const X = sampleClass({ dim: 1, L: D }, { kind: "nlgp", xi: 5, gain: 3 }, P, new Rng(1));
    const loss = new ImplicitCumulantLoss(X, P, D, r);
    const theta = new Rng(2).fillNormal(new Float64Array(loss.n), 1 / Math.sqrt(D)), g = new Float64Array(loss.n);
    body = (n) => { for (let i = 0; i < n; i++) loss.fg(theta, g); };
  } else if (kind === "saad-solla") {
    const K = p.K!, M = K, N = 1000;
    const { B, W } = teacherStudentInit({ N, K, M, initScale: 0.5, seed: 1 });
    const ode = new SaadSollaOde({ K, M, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: new Array(M).fill(1), T: overlaps(B, M, B, M, N) }, new Float64Array(K).fill(1));
    const y = ode.pack({ Q: overlaps(W, K, W, K, N), R: overlaps(W, K, B, M, N), v: new Float64Array(K).fill(1) }), dy = new Float64Array(ode.dim);
    body = (n) => { for (let i = 0; i < n; i++) ode.rhs(0, y, dy); };
  } else if (kind === "mixture") {
    const K = p.K!, L = p.D ?? 400;
    const geom: Geometry = { dim: 1, L };
    const spectra = [8, 16].map((xi) => clipSpectrum(spectrumOfRow(geom, makeClassSampler(geom, { kind: "nlgp", xi, gain: 3 }).covarianceRow())));
    const net = initNetwork({ K, activation: "erf", secondLayer: { mode: "fixed" }, bias: { mode: "trained", value: 1, pattern: "split" }, initScale: 1 }, L, Rng.stream(1, 0));
    const ode = new MixtureOde({ K, geometry: geom, spectra, labels: [-1, 1], lr: 0.8, weightDecay: 0, trainBias: true, trainSecondLayer: false }, net.b, net.v);
    const y = ode.initialState(net), dy = new Float64Array(ode.dim);
    body = (n) => { for (let i = 0; i < n; i++) ode.rhs(0, y, dy); };
  }
  const setupSeconds = cpu() - t0;
  const r = kind === "baseline" ? { seconds: 0, calls: 0 } : perUnit(body, batch, warm, minSeconds);
  return { ...r, maxRssMB: process.resourceUsage().maxRSS / 1024, setupSeconds };
}

if (process.argv[2] && import.meta.url === `file://${process.argv[1]}`) {
  const out = await runPoint(process.argv[2] as ScaleCase, JSON.parse(process.argv[3] ?? "{}") as ScaleParams);
  process.stdout.write(JSON.stringify(out) + "\n");
}
