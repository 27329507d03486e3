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

export interface SimulateResult extends ResultBase<"simulate", SimulateModel> {
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
    ? `training diverged by t = ${fin.t.toPrecision(4)} (non-finite test error or weights): reduce model.training.lr`
    : `${sim.status} at t = ${fin.t.toPrecision(4)} (${sim.steps} steps, ${Math.round(sim.stepsPerSecond)} steps/s): pmse = ${fin.pmse.toFixed(4)}, accuracy = ${(100 * fin.accuracy).toFixed(2)}%, max IPR = ${fin.maxIpr.toFixed(4)}`;
  return {
    kind: "simulate",
    status: sim.status,
    message,
    model,
    seed: model.seed,
    timings: { wall: sim.wallTime, train: sim.trainTime },
    summary: { t: fin.t, steps: fin.steps, pmse: fin.pmse, accuracy: fin.accuracy, meanIpr: fin.meanIpr, maxIpr: fin.maxIpr, minIpr: fin.minIpr },
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
