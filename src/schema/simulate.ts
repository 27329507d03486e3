/**
 * Model file of kind "simulate": SGD training of a two-layer network on a two-class task
 * (see src/sim/simulate.ts for the maths and conventions).
 *
 * Learning rates: every parameter group is updated as θ ← θ − (η_θ/D^s) ∂L/∂θ with s = lrScaling
 * (default 1: time t = steps/D).  η_W = lr, η_b = lrBias (default lr), η_v = lrSecondLayer (default lr).
 * weightDecay ℓ2 adds ℓ2·W to ∂L/∂W (first layer only).  Length of the run: `steps` or `time`
 * (t = steps/D^s), exactly one.  Batch mode: dataset size `P` or `alpha` (P = round(αD)), exactly one;
 * each epoch is a fresh permutation cut into minibatches of batchSize (last one holds P mod B).
 * Online mode with batchSize B > 1 averages the gradient over B fresh examples per step.
 * Logging: `points` log-spaced times in [1 step, end] plus t = 0; `snapshots` is a count (spread
 * evenly over the log times, first and last included) or a list of times t (nearest log time each).
 * Biases: "none" (b = 0), "fixed" or "trained" starting from `value` with `pattern` "split" (first
 * ⌈K/2⌉ neurons +value, the rest −value) or "same".  Second layer: v_k = value (default 1/K).
 * W init i.i.d. N(0, initScale²/D).  testSize examples (own RNG stream) give the test pmse/accuracy.
 */
import { z } from "zod";
import { nonNegInt, posInt, seed, taskSchema } from "./common.js";
import { UserError } from "../run/errors.js";

/** Memory guards (number of doubles) for the test set and the training dataset. */
export const MAX_ARRAY_DOUBLES = 1e8;

export const networkSchema = z
  .object({
    K: posInt(100_000),
    activation: z.enum(["erf", "relu", "tanh", "cubic"]).default("erf"),
    secondLayer: z
      .object({
        mode: z.enum(["fixed", "trained"]).default("fixed"),
        value: z.number().min(-1e3).max(1e3).optional(),
      })
      .strict()
      .default({ mode: "fixed" }),
    bias: z
      .object({
        mode: z.enum(["none", "fixed", "trained"]).default("none"),
        value: z.number().min(-1e3).max(1e3).default(0),
        pattern: z.enum(["split", "same"]).default("split"),
      })
      .strict()
      .default({ mode: "none", value: 0, pattern: "split" }),
    initScale: z.number().min(0).max(1e3).default(1),
  })
  .strict();

export const trainingSchema = z
  .object({
    mode: z.enum(["online", "batch"]).default("online"),
    steps: posInt(1e12).optional(),
    time: z.number().gt(0).max(1e9).optional(),
    lr: z.number().gt(0).max(1e6),
    lrScaling: z.number().min(0).max(3).default(1),
    lrSecondLayer: z.number().gt(0).max(1e6).optional(),
    lrBias: z.number().gt(0).max(1e6).optional(),
    weightDecay: z.number().min(0).max(1e6).default(0),
    batchSize: posInt(1e6).default(1),
    P: posInt(1e9).optional(),
    alpha: z.number().gt(0).max(1e9).optional(),
    /**
     * Runaway guard (src/sim/simulate.ts, DivergenceConfig): the run stops with status "diverged"
     * when a neuron's |w_k| (or a trained |b_k|, |v_k|) exceeds maxGrowth·max(1, its initial value)
     * or the test pmse exceeds maxGrowth·(max |label|)².  Default 1e6, far above any healthy run.
     */
    divergence: z.object({ maxGrowth: z.number().gt(1).max(1e300).default(1e6) }).strict().default({ maxGrowth: 1e6 }),
  })
  .strict();

export const loggingSchema = z
  .object({
    points: z.number().int().min(1).max(100_000).default(50),
    snapshots: z.union([nonNegInt(10_000), z.array(z.number().min(0).max(1e12)).max(10_000)]).default(5),
  })
  .strict();

export const simulateSchema = z
  .object({
    kind: z.literal("simulate"),
    description: z.string().max(10_000).optional(),
    task: taskSchema,
    network: networkSchema,
    training: trainingSchema,
    logging: loggingSchema.default({ points: 50, snapshots: 5 }),
    testSize: posInt(10_000_000).default(10_000),
    seed,
  })
  .strict()
  .superRefine((m, ctx) => {
    const tr = m.training;
    if ((tr.steps === undefined) === (tr.time === undefined)) ctx.addIssue({ code: "custom", path: ["training", "steps"], message: "give exactly one of training.steps or training.time" });
    if (tr.mode === "batch") {
      if ((tr.P === undefined) === (tr.alpha === undefined)) ctx.addIssue({ code: "custom", path: ["training", "P"], message: "batch mode needs exactly one of training.P or training.alpha" });
    } else if (tr.P !== undefined || tr.alpha !== undefined) {
      ctx.addIssue({ code: "custom", path: ["training", "mode"], message: 'training.P / training.alpha are only allowed with mode "batch"' });
    }
    // Sizes that would exhaust memory or time: refused while validating (before an output directory is made).
    if ((tr.steps === undefined) !== (tr.time === undefined) && (tr.mode !== "batch" || (tr.P === undefined) !== (tr.alpha === undefined))) {
      const issue = simulateSizeIssue(m);
      if (issue) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    }
  });

export type SimulateModel = z.infer<typeof simulateSchema>;

type SizeIssue = { path: string[]; message: string };
type Sizes = { D: number; steps: number; P?: number };

/** Derived run sizes, or the first impossible / too large one (path and message, with the value given). */
function simulateSizes(m: Pick<SimulateModel, "task" | "training" | "testSize" | "network" | "logging">): Sizes | SizeIssue {
  const L = m.task.geometry.L;
  const D = m.task.geometry.dim === 1 ? L : L * L;
  const tr = m.training;
  const raw = (tr.time ?? 0) * Math.pow(D, tr.lrScaling);
  const steps = tr.steps ?? Math.round(raw);
  if (!(steps >= 1)) return { path: ["training", "time"], message: `must give at least one step: time·D^lrScaling ≥ 0.5 (got ${tr.time}·${D}^${tr.lrScaling} = ${raw.toPrecision(3)})` };
  if (steps > 1e12) return { path: ["training", "time"], message: `must give ≤ 1e12 steps: time·D^lrScaling (got ${tr.time}·${D}^${tr.lrScaling} = ${steps.toPrecision(3)})` };
  let P: number | undefined;
  if (tr.mode === "batch") {
    P = tr.P ?? Math.round((tr.alpha ?? 0) * D);
    const f = tr.P !== undefined ? "P" : "alpha";
    if (!(P >= 1)) return { path: ["training", "alpha"], message: `must give P = round(alpha·D) ≥ 1 (got ${tr.alpha}·${D})` };
    if (P * D > MAX_ARRAY_DOUBLES) return { path: ["training", f], message: `dataset P·D must be ≤ ${MAX_ARRAY_DOUBLES} numbers (got ${P}·${D})` };
    if (tr.batchSize > P) return { path: ["training", "batchSize"], message: `must be ≤ P = ${P} (got ${tr.batchSize})` };
  } else if (tr.batchSize * D > MAX_ARRAY_DOUBLES) {
    return { path: ["training", "batchSize"], message: `batchSize·D must be ≤ ${MAX_ARRAY_DOUBLES} (got ${tr.batchSize}·${D})` };
  }
  if (m.testSize * D > MAX_ARRAY_DOUBLES) return { path: ["testSize"], message: `testSize·D must be ≤ ${MAX_ARRAY_DOUBLES} numbers (got ${m.testSize}·${D})` };
  if (m.network.K * D > MAX_ARRAY_DOUBLES) return { path: ["network", "K"], message: `K·D must be ≤ ${MAX_ARRAY_DOUBLES} (got ${m.network.K}·${D})` };
  const nSnap = typeof m.logging.snapshots === "number" ? m.logging.snapshots : m.logging.snapshots.length;
  if (nSnap * m.network.K * D > MAX_ARRAY_DOUBLES) return { path: ["logging", "snapshots"], message: `snapshots·K·D must be ≤ ${MAX_ARRAY_DOUBLES} (got ${nSnap}·${m.network.K}·${D})` };
  return { D, steps, P };
}

function simulateSizeIssue(m: Parameters<typeof simulateSizes>[0]): SizeIssue | null {
  const r = simulateSizes(m);
  return "message" in r ? r : null;
}

/** Derived run sizes: D, total steps, P; throws a one-line UserError for impossible combinations. */
export function resolveSimulateSizes(m: SimulateModel): Sizes {
  const r = simulateSizes(m);
  if ("message" in r) throw new UserError(`model.${r.path.join(".")}: ${r.message}`);
  return r;
}
