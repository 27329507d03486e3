/**
 * Train a K = 4 network on two NLGP classes with the library API (no model file) and watch the
 * receptive fields localise; compare with the Gaussian clone of the same task.
 *
 *   npx tsx examples/train-network.ts
 */
import { simulate, ipr, type SimulationConfig } from "rfdyn";

function config(kind: "nlgp" | "gp-clone"): SimulationConfig {
  const D = 100;
  return {
    task: { geometry: { dim: 1, L: D }, classes: [{ kind, xi: 0, gain: 3 }, { kind, xi: 4, gain: 3 }], labels: "pm1" },
    network: { K: 4, activation: "erf", secondLayer: { mode: "fixed" }, bias: { mode: "trained", value: 1, pattern: "split" }, initScale: 0.1 },
    training: { mode: "online", steps: 400 * D, lr: 5, lrScaling: 1, weightDecay: 0, batchSize: 1 },
    logging: { points: 8, snapshots: 1 },
    testSize: 4000,
    seed: 3,
  };
}

for (const kind of ["nlgp", "gp-clone"] as const) {
  const res = await simulate(config(kind));
  const last = res.log[res.log.length - 1];
  const D = res.D;
  const W = res.snapshots.W.subarray(res.snapshots.W.length - res.K * D);
  const iprs = Array.from({ length: res.K }, (_, k) => ipr(W.subarray(k * D, (k + 1) * D)).toFixed(3));
  console.log(`${kind.padEnd(9)} t = ${last.t}: accuracy ${(100 * last.accuracy).toFixed(1)} %, pmse ${last.pmse.toFixed(3)}, IPR per neuron [${iprs.join(", ")}] (1/D = ${(1 / D).toFixed(3)})`);
}
