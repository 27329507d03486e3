/**
 * Model files of kinds "ode" (order-parameter ODEs) and "compare" (ODE vs N SGD seeds).
 *
 * Both have a `mode`:
 *   "teacher-student": Saad–Solla ODEs (src/theory/saad-solla.ts) for a K-unit erf student and an
 *     M-unit erf teacher with isotropic Gaussian inputs; the initial order parameters are those of
 *     the SGD run with the same seed (N inputs, student weights N(0, initScale²), teacher N(0, 1)).
 *       { "kind": "ode", "mode": "teacher-student", "seed": 1,
 *         "teacherStudent": { "K": 2, "M": 2, "N": 500, "initScale": 0.05, "lr": 0.5,
 *                             "secondLayer": {"mode": "fixed", "value": 1}, "teacherSecondLayer": 1,
 *                             "noise": 0, "weightDecay": 0 },
 *         "time": { "end": 300, "points": 60, "spacing": "linear" } }
 *   "mixture": per-Fourier-mode ODEs (src/theory/mixture-ode.ts) for the two-layer erf network of
 *     `rfdyn simulate` on a two-class task with translation-invariant class covariances (exact for
 *     GP inputs; for NLGP classes the ODE uses the exact NLGP covariance = Gaussian equivalence).
 *     `task` and `network` are the same objects as in a "simulate" model (activation must be erf);
 *     `training` holds lr, lrBias, lrSecondLayer, weightDecay (online SGD, lrScaling 1, t = steps/D).
 *     The initial weights are those of the SGD run with the same seed.
 *
 * "compare" adds `sgd`: { seeds (number of SGD runs, seeds seed … seed+seeds−1), testSize,
 * snapshots, gaussianClone (mixture: also train on the Gaussian clone of the task) }.
 * `solver`: method "dop853" (explicit Runge–Kutta of order 8 with dense output; the default in
 *   teacher-student mode, where it needs ~30 % fewer RHS than GBS at a smaller global error), "gbs"
 *   (adaptive Gragg–Bulirsch–Stoer; the default in mixture mode), "rkc" (stabilised Runge–Kutta–
 *   Chebyshev: fewer RHS evaluations on stiff runs, e.g. a trained readout or t ~ 10⁵), "rodas" or
 *   "bdf" (implicit, finite-difference Jacobians), tolerances (rtol, atol), optional hMax and maxSteps.
 * Output times: `time.points` times in [0, end], linear or log-spaced (from end·1e-3); in compare's
 * mixture mode the times are the simulator's log times (`time.points` log-spaced step counts).
 */
import { z } from "zod";
import { expandVector } from "./ode-defaults.js";
import { fmtGot, parseWith, posInt, seed, taskSchema } from "./common.js";
import { networkSchema } from "./simulate.js";
import { UserError } from "../run/errors.js";

const numOrArray = (lo: number, hi: number) => z.union([z.number().min(lo).max(hi), z.array(z.number().min(lo).max(hi)).min(1).max(1000)]);

export const teacherStudentSchema = z
  .object({
    K: posInt(50),
    M: posInt(50),
    N: posInt(1_000_000).default(1000),
    initScale: z.number().min(0).max(100).default(0.05),
    lr: z.number().gt(0).max(100),
    lrSecondLayer: z.number().gt(0).max(100).optional(),
    secondLayer: z
      .object({ mode: z.enum(["fixed", "trained"]).default("fixed"), value: numOrArray(-1e3, 1e3).default(1) })
      .strict()
      .default({ mode: "fixed", value: 1 }),
    teacherSecondLayer: numOrArray(-1e3, 1e3).default(1),
    noise: z.number().min(0).max(1e3).default(0),
    weightDecay: z.number().min(0).max(1e3).default(0),
    secondOrder: z.boolean().default(true),
  })
  .strict();

export const mixtureTrainingSchema = z
  .object({
    lr: z.number().gt(0).max(1e6),
    lrBias: z.number().gt(0).max(1e6).optional(),
    lrSecondLayer: z.number().gt(0).max(1e6).optional(),
    weightDecay: z.number().min(0).max(1e6).default(0),
    secondOrder: z.boolean().default(true),
  })
  .strict();

export const timeSchema = z
  .object({
    end: z.number().gt(0).max(1e7),
    points: z.number().int().min(2).max(100_000).default(60),
    spacing: z.enum(["log", "linear"]).default("log"),
  })
  .strict();

const SOLVER_METHODS = ["gbs", "dop853", "rkc", "rodas", "bdf"] as const;

/** The `solver` object with `method` defaulting to `method` (per mode: see the module comment). */
function solverWithDefault(method: (typeof SOLVER_METHODS)[number]) {
  return z
    .object({
      /**
       * "dop853": explicit Runge–Kutta of order 8 (src/integrate/dop853.ts); "gbs": adaptive
       * Gragg–Bulirsch–Stoer (odex); "rkc": stabilised Runge–Kutta–Chebyshev, for stiff runs (e.g.
       * trained second layer); "rodas" / "bdf": implicit stiff solvers with finite-difference
       * Jacobians (see src/integrate/rodas.ts, bdf.ts).
       */
      method: z.enum(SOLVER_METHODS).default(method),
      rtol: z.number().gt(0).lt(1).default(1e-8),
      atol: z.number().gt(0).max(1).default(1e-10),
      hMax: z.number().min(0).max(1e7).default(0),
      maxSteps: posInt(1e9).default(1_000_000),
    })
    .strict()
    .default({ method, rtol: 1e-8, atol: 1e-10, hMax: 0, maxSteps: 1_000_000 });
}

/** The `solver` object of mixture mode (default method "gbs"). */
export const solverSchema = solverWithDefault("gbs");
/** The `solver` object of teacher-student mode (default method "dop853"). */
export const teacherStudentSolverSchema = solverWithDefault("dop853");

export const sgdCompareSchema = z
  .object({
    seeds: posInt(1000).default(5),
    testSize: posInt(10_000_000).default(10_000),
    snapshots: z.number().int().min(2).max(1000).default(12),
    gaussianClone: z.boolean().default(true),
  })
  .strict();

const common = {
  description: z.string().max(10_000).optional(),
  seed,
  time: timeSchema,
};

/**
 * Cumulant (Edgeworth) theory options (mixture mode, `"theory": "cumulant"`; src/theory/cumulant-theory.ts):
 *   source   "samples": the 4th cumulant of each class from a fixed set of `samples` inputs
 *            (seeded by `seed`); "iid": exact for NLGP classes with xi = 0 (independent coordinates).
 *   seeds    compare only: how many of the SGD seeds also run the cumulant theory (default all).
 *   accuracySamples  MC samples per class and output time for the Edgeworth accuracy (0: skip).
 */
export const cumulantOptionsSchema = z
  .object({
    source: z.enum(["samples", "iid"]).default("samples"),
    samples: posInt(1_000_000).default(10_000),
    seed: z.number().int().min(0).max(2 ** 53 - 1).default(12345),
    seeds: posInt(1000).optional(),
    accuracySamples: z.number().int().min(0).max(1_000_000).default(20_000),
    /** Edgeworth order: 1 (default) or 0 (Gaussian equivalence in weight space, a check). */
    order: z.union([z.literal(0), z.literal(1)]).default(1),
  })
  .strict();

const tsMode = z.object({ mode: z.literal("teacher-student"), teacherStudent: teacherStudentSchema, solver: teacherStudentSolverSchema }).strict();
const mixMode = z.object({
  mode: z.literal("mixture"), task: taskSchema, network: networkSchema, training: mixtureTrainingSchema, solver: solverSchema,
  /** "get" (default): the per-Fourier-mode ODE (Gaussian equivalence); "cumulant": also the weight-space Edgeworth theory. */
  theory: z.enum(["get", "cumulant"]).optional(),
  cumulant: cumulantOptionsSchema.optional(),
}).strict();

export const odeSchema = z.discriminatedUnion("mode", [
  tsMode.extend({ kind: z.literal("ode"), ...common }).strict(),
  mixMode.extend({ kind: z.literal("ode"), ...common }).strict(),
]);

export const compareSchema = z.discriminatedUnion("mode", [
  tsMode.extend({ kind: z.literal("compare"), ...common, sgd: sgdCompareSchema.default({ seeds: 5, testSize: 10_000, snapshots: 12, gaussianClone: true }) }).strict(),
  mixMode.extend({ kind: z.literal("compare"), ...common, sgd: sgdCompareSchema.default({ seeds: 5, testSize: 10_000, snapshots: 12, gaussianClone: true }) }).strict(),
]);

export type OdeModel = z.infer<typeof odeSchema>;
export type CompareModel = z.infer<typeof compareSchema>;
export type TeacherStudentModel = z.infer<typeof teacherStudentSchema>;


/** Validate the model-level constraints zod cannot express; returns the parsed model. */
export function parseOdeModel(raw: unknown): OdeModel {
  checkMode(raw);
  const m = parseWith(odeSchema, raw);
  checkCommon(m);
  return m;
}

export function parseCompareModel(raw: unknown): CompareModel {
  checkMode(raw);
  const m = parseWith(compareSchema, raw);
  checkCommon(m);
  if (m.sgd.seeds < 2) throw new UserError(`model.sgd.seeds: must be ≥ 2 to estimate a standard error (got ${m.sgd.seeds})`);
  if (m.mode === "mixture") {
    const L = m.task.geometry.L, D = m.task.geometry.dim === 1 ? L : L * L;
    if (m.sgd.testSize * D > 1e8) throw new UserError(`model.sgd.testSize: testSize·D must be ≤ 1e8 numbers (got ${m.sgd.testSize}·${D})`);
  }
  return m;
}

const MODES = ["teacher-student", "mixture"];

function checkMode(raw: unknown): void {
  const mode = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>).mode : undefined;
  if (typeof mode !== "string" || !MODES.includes(mode)) {
    throw new UserError(`model.mode: ${mode === undefined ? "required, " : ""}must be one of ${MODES.map((x) => `"${x}"`).join(", ")}${mode === undefined ? "" : ` (got ${fmtGot(mode)})`}`);
  }
}

function checkCommon(m: OdeModel | CompareModel): void {
  if (m.mode === "teacher-student") {
    const ts = m.teacherStudent;
    expandVector(ts.secondLayer.value, ts.K, "model.teacherStudent.secondLayer.value");
    expandVector(ts.teacherSecondLayer, ts.M, "model.teacherStudent.teacherSecondLayer");
    if ((ts.K + ts.M) * ts.N > 1e8) throw new UserError(`model.teacherStudent.N: (K+M)·N must be ≤ 1e8 (got ${(ts.K + ts.M) * ts.N})`);
  } else {
    if (m.network.activation !== "erf") throw new UserError(`model.network.activation: the ODEs and the GET are for "erf" only (got "${m.network.activation}")`);
    if (m.network.K > 64) throw new UserError(`model.network.K: must be ≤ 64 for the mixture ODEs (cost ∝ K⁴; got ${m.network.K})`);
    const L = m.task.geometry.L, D = m.task.geometry.dim === 1 ? L : L * L;
    if (m.network.K * D > 1e8) throw new UserError(`model.network.K: K·D must be ≤ 1e8 (got ${m.network.K * D})`);
    if (m.cumulant && m.theory !== "cumulant") throw new UserError(`model.theory: must be "cumulant" when model.cumulant is given (got ${m.theory === undefined ? "no theory" : `"${m.theory}"`})`);
    if (m.theory === "cumulant") {
      const c = m.cumulant;
      const P = c?.samples ?? 10_000;
      if ((c?.source ?? "samples") === "samples" && 2 * P * D > 1e8) throw new UserError(`model.cumulant.samples: 2·samples·D must be ≤ 1e8 numbers (got 2·${P}·${D})`);
      if (c?.source === "iid") {
        m.task.classes.forEach((cl, i) => {
          if (cl.kind !== "nlgp" || cl.xi !== 0) throw new UserError(`model.task.classes[${i}]: cumulant source "iid" needs NLGP classes with xi = 0 (got ${cl.kind}${"xi" in cl ? ` xi = ${cl.xi}` : ""}); use source "samples"`);
        });
      }
      if (m.network.K > 16) throw new UserError(`model.network.K: must be ≤ 16 for the cumulant theory (got ${m.network.K})`);
    }
  }
}

export { expandVector };
