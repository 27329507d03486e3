/**
 * Model file of kind "flow": the single-neuron gradient flow of IG22 (eqs. 3, 5, 16; see
 * src/theory/single-neuron.ts for the maths and src/experiments/flow.ts for the driver).
 *
 *   variant      gaussian | full | cp | exact
 *   neuron       { v, b, activation (variant exact only: erf (default) | cubic), alpha1?, alpha3? (cubic σ̃) }
 *   P | alpha    data-set size (P = round(αD)); required unless variant = gaussian with exact covariance
 *   covariance   "sample" (Ĉ of the same samples; default for full/exact) | "exact" (NLGP closed form)
 *   classWeights "empirical" (n_μ/P: the flow is the exact gradient of the empirical loss) | "uniform"
 *                (the task's class probabilities, 1/M); without a data set the task's probabilities are used
 *   symmetrise   add −x_ν for every sample (odd sample moments vanish exactly; P doubles)
 *   data         { precision: "float64" (default) | "float32" }: storage of the samples; float32 halves
 *                the memory (accumulation stays float64; not with cp.factors "compute")
 *   init         { kind: "random", scale } w0 ~ N(0, scale²/D)  |  { kind: "file", path } (.npy or .json)
 *                |  { kind: "inline", w: [D numbers] }
 *   integration  { method, rtol, atol, dt, T, times (count of log-spaced outputs), stop: { steadyTol, iprThreshold } }
 *                method: gbs | dop853 | rkc | bdf | rodas | rk4 | euler.  bdf (variable-order NDF with the flow's
 *                analytic Jacobian, reused across steps) needs the fewest RHS evaluations on these mildly
 *                stiff flows (see README, "Stiff solvers"); rodas evaluates a Jacobian every step and
 *                suits small D only.
 *   cp           { factors: [source, source] } one per class (null = no cumulant for that class):
 *                  { file: "f.json" }           {"gamma": [...], "U": [[...], ...]} (r rows of length D)
 *                  { npy: { U, gamma } }        U.npy (r×D) and gamma.npy (r)
 *                  { inline: { gamma, U } }     U: r rows of length D, or r·D numbers row-major
 *                  { diagonal: "exact" }       ΔT = (κ(g)−3) Σ e_i⊗4 (exact for an NLGP class with ξ = 0)
 *                  { compute: { rank, ... } }  CP decomposition of the class's sample cumulant (src/cp)
 *   gains        optional sweep: the gain of every nlgp / gp-clone class is set to each value in turn
 *   replicates   independent data sets / initial conditions per gain (median and quartiles reported)
 *
 * Time is the gradient-descent learning time: Euler with dt = η is full-batch GD with rate η.
 * Relative paths are resolved against the model file's directory.  File sources ("file", "npy",
 * init "file") are loaded into their inline forms by src/io/model-files.ts before a run (the
 * experiment does no file I/O); `from` records the file.
 */
import { z } from "zod";
import { posInt, seed, taskSchema } from "./common.js";

const finite = (lo: number, hi: number) => z.number().min(lo).max(hi);

const cpSourceSchema = z.union([
  z.null(),
  z.object({ file: z.string().min(1) }).strict(),
  z.object({ npy: z.object({ U: z.string().min(1), gamma: z.string().min(1) }).strict() }).strict(),
  z
    .object({
      inline: z.object({ gamma: z.array(z.number()).min(1), U: z.union([z.array(z.array(z.number()).min(1)).min(1), z.array(z.number()).min(1)]) }).strict(),
      /** Where the numbers were read from (set by resolveModelFiles: the JSON file or the .npy pair). */
      from: z.union([z.string(), z.object({ U: z.string(), gamma: z.string() }).strict()]).optional(),
    })
    .strict(),
  z.object({ diagonal: z.literal("exact") }).strict(),
  z
    .object({
      compute: z
        .object({
          rank: posInt(10_000),
          restarts: posInt(1000).default(3),
          maxIter: posInt(1e6).default(2000),
          gtol: z.number().gt(0).max(1).default(1e-7),
          method: z.enum(["reduced", "joint"]).default("reduced"),
        })
        .strict(),
    })
    .strict(),
]);
export type CpSource = z.infer<typeof cpSourceSchema>;

/**
 * Largest data set P·D (8 bytes each; twice as many numbers in float32, the same 1.6 GB) and largest
 * D for the exact diagonal cumulant (D×D factors).
 */
export const FLOW_MAX_SAMPLE_DOUBLES = 2e8;
export const FLOW_MAX_DIAGONAL_D = 10_000;

export const flowIntegrationSchema = z
  .object({
    method: z.enum(["gbs", "dop853", "rkc", "rodas", "bdf", "rk4", "euler"]).default("bdf"),
    rtol: z.number().gt(0).lt(1).default(1e-7),
    atol: z.number().gt(0).max(1).default(1e-10),
    dt: z.number().gt(0).max(1e6).default(0.01),
    T: z.number().gt(0).max(1e9),
    times: z.number().int().min(2).max(100_000).default(60),
    tMin: z.number().gt(0).max(1e9).optional(),
    maxSteps: posInt(1e9).optional(),
    stop: z
      .object({
        steadyTol: z.number().gt(0).max(1).optional(),
        iprThreshold: z.number().gt(0).max(1).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const flowSchema = z
  .object({
    kind: z.literal("flow"),
    description: z.string().max(10_000).optional(),
    task: taskSchema,
    neuron: z
      .object({
        v: finite(-1e3, 1e3).default(1),
        b: finite(-1e3, 1e3).default(-1),
        activation: z.enum(["erf", "cubic"]).optional(),
        alpha1: finite(-1e3, 1e3).optional(),
        alpha3: finite(-1e3, 1e3).optional(),
      })
      .strict()
      .default({ v: 1, b: -1 }),
    variant: z.enum(["gaussian", "full", "cp", "exact"]),
    P: posInt(1e9).optional(),
    alpha: z.number().gt(0).max(1e9).optional(),
    covariance: z.enum(["sample", "exact"]).optional(),
    classWeights: z.enum(["empirical", "uniform"]).default("empirical"),
    symmetrise: z.boolean().default(false),
    /** Storage of the samples (absent: float64). */
    data: z.object({ precision: z.enum(["float64", "float32"]).default("float64") }).strict().optional(),
    seed,
    init: z
      .discriminatedUnion("kind", [
        z.object({ kind: z.literal("random"), scale: z.number().gt(0).max(1e6).default(1) }).strict(),
        z.object({ kind: z.literal("file"), path: z.string().min(1) }).strict(),
        /** Weights given inline (what resolveModelFiles turns a "file" init into; `from` = the file). */
        z.object({ kind: z.literal("inline"), w: z.array(z.number()).min(1), from: z.string().optional() }).strict(),
      ])
      .default({ kind: "random", scale: 1 }),
    integration: flowIntegrationSchema,
    cp: z.object({ factors: z.tuple([cpSourceSchema, cpSourceSchema]) }).strict().optional(),
    gains: z.array(z.number().gt(0).max(1e6)).min(1).max(10_000).optional(),
    replicates: posInt(10_000).default(1),
  })
  .strict()
  .superRefine((m, ctx) => {
    const cov = m.covariance ?? (m.variant === "gaussian" || m.variant === "cp" ? "exact" : "sample");
    const needData = m.variant === "full" || m.variant === "exact" || cov === "sample" || (m.cp?.factors.some((f) => f !== null && "compute" in f) ?? false);
    if (m.P !== undefined && m.alpha !== undefined) ctx.addIssue({ code: "custom", path: ["P"], message: "give at most one of P or alpha" });
    if (needData && m.P === undefined && m.alpha === undefined) ctx.addIssue({ code: "custom", path: ["P"], message: `variant "${m.variant}" with covariance "${cov}" needs P or alpha (data-set size)` });
    if (m.variant === "exact" && m.covariance === "exact") ctx.addIssue({ code: "custom", path: ["covariance"], message: 'variant "exact" uses the samples only; covariance must be "sample" or omitted' });
    if (m.variant === "cp" && !m.cp) ctx.addIssue({ code: "custom", path: ["cp"], message: 'variant "cp" needs cp.factors (one source per class, null for none)' });
    if (m.variant !== "cp" && m.cp) ctx.addIssue({ code: "custom", path: ["cp"], message: `only used by variant "cp" (variant is "${m.variant}")` });
    if (m.neuron.activation !== undefined && m.variant !== "exact") ctx.addIssue({ code: "custom", path: ["neuron", "activation"], message: `only used by variant "exact" (the other variants use the cubic σ̃ = α1 h − (α3/3) h³)` });
    if (m.variant === "exact" && (m.neuron.activation ?? "erf") === "erf" && (m.neuron.alpha1 !== undefined || m.neuron.alpha3 !== undefined)) ctx.addIssue({ code: "custom", path: ["neuron", "alpha1"], message: 'alpha1/alpha3 define the cubic σ̃; the "exact" erf neuron does not use them' });
    if (m.gains && !m.task.classes.some((c) => "gain" in c)) ctx.addIssue({ code: "custom", path: ["gains"], message: "a gain sweep needs at least one nlgp or gp-clone class" });
    // Sizes that would exhaust memory: refused while validating (before an output directory is made).
    const D = m.task.geometry.dim === 1 ? m.task.geometry.L : m.task.geometry.L ** 2;
    const P = m.P ?? (m.alpha !== undefined ? Math.max(1, Math.round(m.alpha * D)) : 0);
    const f32 = m.data?.precision === "float32";
    const maxNumbers = f32 ? 2 * FLOW_MAX_SAMPLE_DOUBLES : FLOW_MAX_SAMPLE_DOUBLES;
    if (P * D > maxNumbers) ctx.addIssue({ code: "custom", path: [m.P !== undefined ? "P" : "alpha"], message: `data set P·D must be ≤ ${maxNumbers} numbers${f32 ? " in float32" : ""} (got ${P}·${D})` });
    if (f32 && (m.cp?.factors.some((f) => f !== null && "compute" in f) ?? false)) ctx.addIssue({ code: "custom", path: ["data", "precision"], message: 'float32 samples cannot be used with cp.factors "compute" (the CP decomposition needs float64 samples); use "float64"' });
    m.cp?.factors.forEach((f, i) => {
      if (f !== null && "diagonal" in f && D > FLOW_MAX_DIAGONAL_D) ctx.addIssue({ code: "custom", path: ["cp", "factors", i, "diagonal"], message: `the exact diagonal cumulant has D² entries: needs D ≤ ${FLOW_MAX_DIAGONAL_D} (got D = ${D})` });
      if (f !== null && "compute" in f && f.compute.rank * D > 1e8) ctx.addIssue({ code: "custom", path: ["cp", "factors", i, "compute", "rank"], message: `rank·D must be ≤ 1e8 (got ${f.compute.rank}·${D})` });
    });
    if (m.init.kind === "inline" && m.init.w.length !== D) ctx.addIssue({ code: "custom", path: ["init", "w"], message: `needs D = ${D} weights (got ${m.init.w.length})` });
    const it = m.integration;
    if (it.tMin !== undefined && !(it.tMin < it.T)) ctx.addIssue({ code: "custom", path: ["integration", "tMin"], message: `must be < integration.T = ${it.T}` });
    if ((it.method === "rk4" || it.method === "euler") && it.dt > it.T) ctx.addIssue({ code: "custom", path: ["integration", "dt"], message: `must be ≤ integration.T = ${it.T}` });
  });

export type FlowModel = z.infer<typeof flowSchema>;
export type FlowIntegration = z.infer<typeof flowIntegrationSchema>;

export { effectiveCovariance } from "./flow-defaults.js";
