/**
 * Kind "simulate": SGD on a two-layer network (src/sim/simulate.ts), plus the final receptive-field
 * statistics and their translation-invariant clustering (IG22 Methods).
 */
import { parseWith } from "../schema/common.js";
import { resolveSimulateSizes, simulateSchema, type SimulateModel } from "../schema/simulate.js";
import { simulate, type SimulationConfig, type SimulationResult } from "../sim/simulate.js";
import { receptiveFields } from "../analysis/receptive.js";
import { clusterReceptiveFields } from "../analysis/overlaps.js";
import type { Geometry } from "../data/kernels.js";
import type { Experiment, ExperimentHooks, ResultBase } from "./types.js";

/** Final saturation fraction (log column `saturated`) above which the result carries a warning. */
export const SATURATION_WARNING = 0.9;

/** Warning lines of a finished simulation (empty when healthy): saturated or dead hidden units. */
export function simulationWarnings(sim: SimulationResult, activation: string): string[] {
  const fin = sim.log[sim.log.length - 1];
  const f = fin?.saturated;
  if (!(f > SATURATION_WARNING)) return [];
  const what = activation === "relu"
    ? `${(100 * f).toFixed(1)}% of the ReLU units are dead (λ + b ≤ 0 on ≥ 99% of the test inputs)`
    : `${(100 * f).toFixed(1)}% of (test input, neuron) pairs are saturated (σ'(λ + b) < 1e-3·max σ')`;
  return [`${what} at t = ${fin.t.toPrecision(4)}: the network has stopped learning (pmse ${fin.pmse.toFixed(4)}); reduce model.training.lr or model.network.initScale`];
}

export interface SimulateResult extends ResultBase<"simulate", SimulateModel> {
  /** Warnings about a run that finished but is not healthy (e.g. saturated units); printed by the CLI. */
  warnings: string[];
  config: SimulationConfig;
  sim: SimulationResult;
  /** Final receptive field of each neuron (centre and width per axis). */
  receptiveFields: ReturnType<typeof receptiveFields>;
  /** Average-linkage clustering of the final RFs (K between 2 and 2000), else null. */
  clustering: ReturnType<typeof clusterReceptiveFields> | null;
}

/** Simulation configuration of a validated model file. */
export function simulationConfig(m: SimulateModel): SimulationConfig {
  const { steps, P } = resolveSimulateSizes(m);
  return {
    task: { geometry: m.task.geometry, classes: m.task.classes, labels: m.task.labels },
    network: {
      K: m.network.K,
      activation: m.network.activation,
      secondLayer: m.network.secondLayer,
      bias: m.network.bias,
      initScale: m.network.initScale,
    },
    training: {
      mode: m.training.mode,
      steps,
      lr: m.training.lr,
      lrScaling: m.training.lrScaling,
      lrSecondLayer: m.training.lrSecondLayer,
      lrBias: m.training.lrBias,
      weightDecay: m.training.weightDecay,
      batchSize: m.training.batchSize,
      P,
      divergence: m.training.divergence,
    },
    logging: { points: m.logging.points, snapshots: m.logging.snapshots },
    testSize: m.testSize,
    seed: m.seed,
  };
}

export async function runSimulate(model: SimulateModel, hooks: ExperimentHooks = {}): Promise<SimulateResult> {
  const config = simulationConfig(model);
  const { D } = resolveSimulateSizes(model);
  hooks.log?.(`simulate: D = ${D}, K = ${config.network.K}, ${config.training.mode} SGD, ${config.training.steps} steps, seed ${config.seed}`);
  const sim = await simulate(config, hooks);
  const geom = config.task.geometry as Geometry;
  const K = sim.K;
  const fin = sim.log[sim.log.length - 1];
  const message = sim.status === "diverged"
    ? sim.divergence ?? `training diverged by t = ${fin.t.toPrecision(4)} (non-finite test error or weights): reduce model.training.lr`
    : `${sim.status} at t = ${fin.t.toPrecision(4)} (${sim.steps} steps, ${Math.round(sim.stepsPerSecond)} steps/s): pmse = ${fin.pmse.toFixed(4)}, accuracy = ${(100 * fin.accuracy).toFixed(2)}%, max IPR = ${fin.maxIpr.toFixed(4)}`;
  return {
    kind: "simulate",
    status: sim.status,
    message,
    model,
    seed: model.seed,
    timings: { wall: sim.wallTime, train: sim.trainTime },
    summary: { t: fin.t, steps: fin.steps, pmse: fin.pmse, accuracy: fin.accuracy, meanIpr: fin.meanIpr, maxIpr: fin.maxIpr, minIpr: fin.minIpr, saturated: fin.saturated },
    warnings: simulationWarnings(sim, config.network.activation),
    config,
    sim,
    receptiveFields: receptiveFields(sim.net.W, K, geom),
    clustering: K <= 2000 && K > 1 ? clusterReceptiveFields(sim.net.W, K, geom) : null,
  };
}

export const simulateExperiment: Experiment<SimulateModel, SimulateResult> = {
  kind: "simulate",
  describe: "SGD simulation of a two-layer network",
  parse: (raw) => parseWith(simulateSchema, raw),
  run: runSimulate,
};
