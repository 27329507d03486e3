/**
 * Deterministic generator of bad model files for test/bad-input.test.ts ("runs that survive faults").
 *
 * Every shipped model (models/*.json), every quick variant (test/fixtures/golden/*.model.json) and a
 * teacher–student "ode" model derived from models/saad-solla-plateau.json (no shipped file has that
 * kind × mode) is walked leaf by leaf; each leaf / field gets the mutations its type and meaning make
 * invalid:
 *
 *   numbers   wrong type (string, null, object, array, boolean), NaN (library path only: JSON cannot
 *             hold it), ±Infinity (1e999 in the JSON text), the string "NaN", 1e308, 2^53 + 2, and by
 *             field name: negative, zero (fields that must be > 0 / ≥ 1), fractions (integer fields),
 *             values > 1 (tolerances and thresholds bounded by 1), sizes of 1e9–1e12;
 *   strings   a number, an unknown enum value (enum fields), an over-long string (free text);
 *   booleans  the string "true", the number 1;
 *   objects / arrays   replaced by a value of another type, the wrong number of items (tuples);
 *   keys      deleted (required fields only: fields with a default are listed in OPTIONAL below), and
 *             misspelt (a letter dropped, or a trailing space) — unknown keys must be rejected.
 *
 * Mutations that are legitimately valid are not generated (see OPTIONAL, SIGNED, the sweep notes);
 * a case that is accepted is a schema bug, not a test bug.  No randomness: the list is the same in
 * every run (order: base files sorted by name, then a depth-first walk in key order).
 *
 * Sweep models: the sweep schema validates the sweep's own fields; a mutation inside `base` (or a
 * grid `set`/`axes` value) is only seen when a grid point's model is validated, which `run` does
 * before any compute.  Those cases are marked `stage: "run"`.  Paths of the base that every grid
 * block overrides (`set` / `axes`) are skipped: a mutation there is never seen (valid).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fieldPath } from "../src/schema/common.js";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** Kind, with the mode for ode / compare. */
export type Group =
  | "simulate" | "flow" | "cp" | "attractors" | "lsg" | "sweep"
  | "ode/teacher-student" | "ode/mixture" | "compare/teacher-student" | "compare/mixture";
export const GROUPS: Group[] = ["simulate", "flow", "cp", "attractors", "lsg", "ode/teacher-student", "ode/mixture", "compare/teacher-student", "compare/mixture", "sweep"];

export interface BadCase {
  /** Unique, stable id: `<base>#<path>:<mutation>`. */
  id: string;
  group: Group;
  /** Base file (relative to the repository root), or a description for derived bases. */
  base: string;
  /** The mutated field, as the error message should name it (`model.training.lr`). */
  path: string;
  mutation: string;
  /** The mutated model (may hold NaN / ±Infinity). */
  model: unknown;
  /**
   * The message must start with one of these field paths followed by ":" (a sibling or the parent
   * for cross-field checks, e.g. deleting training.time reports model.training.steps).
   */
  expectPaths: string[];
  /** …or a field under one of these (cross-field checks name a sibling or the parent object). */
  expectUnder: string[];
  /** The message must also match this (allowed range / type / values named), when given. */
  expectText?: RegExp;
  /** "parse": parseModel refuses it; "run": parse passes and run refuses it before any compute. */
  stage: "parse" | "run";
  /** Can be written as JSON text (no NaN). */
  jsonable: boolean;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

// ---------------------------------------------------------------------------------------------
// Field knowledge (by key name, with path exceptions).  Keys not listed only get type mutations.
// ---------------------------------------------------------------------------------------------

/** Integer-valued fields: a fraction is invalid. */
const INT_KEYS = new Set(["K", "M", "N", "L", "P", "steps", "batchSize", "points", "testSize", "seed", "rank", "restarts", "maxIter", "memory", "plotFactors", "topK", "samples", "seeds", "times", "maxSteps", "replicates", "track", "count", "dim", "factors", "from", "snapshots"]);
/** Fields that must be > 0 (or ≥ 1, or ≥ 2): zero is invalid. */
const POSITIVE_KEYS = new Set(["K", "M", "N", "L", "P", "steps", "time", "lr", "lrBias", "lrSecondLayer", "batchSize", "points", "testSize", "alpha", "gain", "k", "nu", "T", "end", "dt", "rtol", "atol", "gtol", "scale", "t1", "rank", "restarts", "maxIter", "memory", "topK", "samples", "seeds", "replicates", "times", "count", "maxSteps", "eigTol", "newtonTol", "matchThreshold", "fpTol", "implicitMaxFlops", "steadyTol", "iprThreshold", "tMin", "dim", "factors", "phiTol", "gains"]);
/** Fields where a negative number is valid. */
const SIGNED_KEYS = new Set(["v", "b", "value", "alpha1", "alpha3", "J", "teacherSecondLayer", "gamma"]);
/** Zero is valid here although the key is usually > 0: lsg's ode.steadyTol = 0 disables the fixed-point test (documented). */
const ZERO_OK = ["ode.steadyTol"];
/** Fields bounded by 1 (tolerances, thresholds): 1.5 is invalid. */
const UNIT_KEYS = new Set(["rtol", "atol", "gtol", "ftol", "steadyTol", "iprThreshold", "matchThreshold", "fpTol"]);
/** Size fields: a size that would exhaust memory or time (must be refused by a limit). */
const SIZE_BOMB: Record<string, number> = { L: 1e9, K: 1e9, M: 1e9, N: 1e12, P: 1e12, testSize: 1e12, batchSize: 1e12, rank: 1e9, restarts: 1e9, samples: 1e12, seeds: 1e9, replicates: 1e9, points: 1e9, times: 1e9, count: 1e12, memory: 1e9, steps: 1e15, maxIter: 1e12, maxSteps: 1e15, snapshots: 1e9, alpha: 1e12, topK: 1e9, plotFactors: 1e9 };
/** Enum-valued string fields: an unknown value is invalid. */
const ENUM_KEYS = new Set(["kind", "mode", "activation", "pattern", "convention", "labels", "method", "variant", "covariance", "classWeights", "dynamics", "spacing", "reconstructionError", "seedMode", "diagonal"]);
/** Free-text fields and their maximum lengths (an over-long value is invalid). */
const TEXT_KEYS = new Set(["description", "name", "title"]);

/**
 * Fields with a default or optional (deleting them is valid), as path patterns: `*` matches one
 * segment, `[]` any index.  Everything else is required, so deleting it must be refused.
 */
const OPTIONAL: string[] = [
  "description", "name", "seed",
  // task / classes
  "task.labels", "task.classes[].convention", "data.class.convention", "data.classes[].marginal",
  // simulate / mixture network
  "network.activation", "network.secondLayer", "network.secondLayer.mode", "network.secondLayer.value", "network.bias", "network.bias.mode",
  "network.bias.value", "network.bias.pattern", "network.initScale",
  // simulate training / logging
  "training.mode", "training.lrScaling", "training.lrSecondLayer", "training.lrBias", "training.weightDecay", "training.batchSize", "training.secondOrder",
  "logging", "logging.points", "logging.snapshots", "testSize",
  // ode / compare
  "time.points", "time.spacing", "solver", "solver.method", "solver.rtol", "solver.atol", "solver.hMax", "solver.maxSteps",
  "sgd", "sgd.seeds", "sgd.testSize", "sgd.snapshots", "sgd.gaussianClone",
  "cumulant", "cumulant.source", "cumulant.samples", "cumulant.seed", "cumulant.seeds", "cumulant.accuracySamples", "cumulant.order",
  "teacherStudent.N", "teacherStudent.initScale", "teacherStudent.secondLayer", "teacherStudent.secondLayer.mode", "teacherStudent.secondLayer.value",
  "teacherStudent.teacherSecondLayer", "teacherStudent.noise", "teacherStudent.weightDecay", "teacherStudent.secondOrder", "teacherStudent.lrSecondLayer",
  // flow
  "neuron", "neuron.v", "neuron.b", "covariance", "classWeights", "symmetrise", "init", "init.scale", "replicates",
  "integration.method", "integration.rtol", "integration.atol", "integration.dt", "integration.times", "integration.stop", "integration.stop.steadyTol",
  "integration.stop.iprThreshold", "integration.tMin", "integration.maxSteps", "integration.steadyTol",
  "cp.factors[].compute.restarts", "cp.factors[].compute.maxIter", "cp.factors[].compute.gtol", "cp.factors[].compute.method",
  // cp
  "decomposition", "decomposition.rank", "decomposition.restarts", "decomposition.maxIter", "decomposition.gtol", "decomposition.ftol", "decomposition.memory",
  "decomposition.method", "output", "output.plotFactors", "output.topK", "output.reconstructionError", "output.implicitMaxFlops", "output.allRuns", "sweep.samples",
  "sweep.gain", "sweep.xi", "sweep.L", "sweep",
  // attractors
  "track", "starts.seeds", "starts.sigma", "integration", "integration.T", "analysis", "analysis.newtonTol", "analysis.eigTol", "analysis.matchThreshold",
  "analysis.fpTol", "analysis.plotFactors", "cp.classes[].restarts", "cp.classes[].maxIter", "cp.classes[].gtol", "cp.classes[].method",
  // lsg
  "dynamics", "init", "ode", "ode.t1", "ode.method", "ode.rtol", "ode.atol", "ode.steadyTol", "ode.samples", "ode.dt", "ode.maxSteps", "ode.phiTol",
  "sgd.lr", "sgd.t1", "sgd.samples", "sgd.steps", "sgd.batchSize", "sgd.loss", "init.initScale",
  // sweep (own fields)
  "grid[].name", "grid[].set", "grid[].axes", "seeds", "seeds.from", "seeds.count", "seedMode", "seedPath", "metrics", "plot", "plot.x", "plot.y",
  "plot.logX", "plot.logY", "plot.title",
];

/**
 * Optional fields of one group only (the same name is required elsewhere), or fields whose deletion
 * is valid because another field takes over.  Documented one by one.
 */
const OPTIONAL_IN: Partial<Record<Group, string[]>> = {
  // attractors / flow: P and alpha are alternatives; the shipped files give alpha; "gaussian" with exact covariance needs neither.
  flow: ["alpha", "gains", "init.kind"],
  // the shipped cp files give a sweep over alpha and L; deleting data.alpha while sweep.alpha is set is refused (covered), data.class.xi is required.
  // ig22-fig4e-cp gives both data.alpha and sweep.alpha: without the sweep axis data.alpha is used (valid).
  cp: ["sweep.alpha"],
  // lsg: the per-class marginal is optional when data.marginal is given (and vice versa when every class has one).
  lsg: ["data.marginal"],
  // attractors: alpha is needed only to compute factors / the sample covariance: the shipped file computes factors, so deletion is refused (kept).
  attractors: [],
};

/** Cross-field checks may name the parent object or a sibling field instead (e.g. training.steps for training.time). */
function relatedOf(segs: readonly Seg[]): Seg[][] {
  return segs.length > 1 ? [segs.slice(0, -1)] : [];
}

function matches(pattern: string, path: string): boolean {
  const re = new RegExp("^" + pattern.replace(/[.$]/g, (c) => `\\${c}`).replace(/\[\]/g, "\\[\\d+\\]").replace(/\*/g, "[^.\\[]+") + "$");
  return re.test(path);
}

// ---------------------------------------------------------------------------------------------
// Bases
// ---------------------------------------------------------------------------------------------

export interface Base {
  name: string;
  file: string;
  group: Group;
  model: Obj;
}

function groupOf(m: Obj): Group {
  const k = m.kind as string;
  if (k === "ode" || k === "compare") return `${k}/${m.mode as "teacher-student" | "mixture"}`;
  return k as Group;
}

export function loadBases(): Base[] {
  const out: Base[] = [];
  const add = (file: string) => {
    const model = JSON.parse(readFileSync(join(ROOT, file), "utf8")) as Obj;
    out.push({ name: file.replace(/^.*\//, ""), file, group: groupOf(model), model });
  };
  for (const f of readdirSync(join(ROOT, "models")).filter((f) => f.endsWith(".json")).sort()) add(`models/${f}`);
  for (const f of readdirSync(join(ROOT, "test/fixtures/golden")).filter((f) => f.endsWith(".model.json")).sort()) add(`test/fixtures/golden/${f}`);
  // No shipped file is an "ode" in teacher–student mode: derive one from the Saad–Solla compare model.
  const ss = JSON.parse(readFileSync(join(ROOT, "models/saad-solla-plateau.json"), "utf8")) as Obj;
  delete ss.sgd;
  ss.kind = "ode";
  out.push({ name: "saad-solla-plateau(ode)", file: "models/saad-solla-plateau.json (kind → ode)", group: "ode/teacher-student", model: ss });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Walking and mutating
// ---------------------------------------------------------------------------------------------

type Seg = string | number;

function fmtPath(segs: readonly Seg[]): string {
  return segs.reduce<string>((s, p) => (typeof p === "number" ? `${s}[${p}]` : s === "" ? p : `${s}.${p}`), "");
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function setAt(root: Obj, segs: readonly Seg[], f: (parent: Obj | Json[], key: Seg) => void): Obj {
  const m = clone(root);
  let cur: Json = m;
  for (const s of segs.slice(0, -1)) cur = (cur as Obj)[s as string];
  f(cur as Obj, segs[segs.length - 1]);
  return m;
}

interface Leaf {
  segs: Seg[];
  value: Json;
  key: string;
}

function walk(v: Json, segs: Seg[], out: Leaf[]): void {
  const last = segs[segs.length - 1];
  const key = typeof last === "number" ? String(segs.filter((s) => typeof s === "string").pop() ?? "") : (last ?? "");
  if (segs.length > 0) out.push({ segs, value: v, key });
  if (v !== null && typeof v === "object") {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...segs, i], out));
    else for (const k of Object.keys(v)) walk(v[k], [...segs, k], out);
  }
}

/** A misspelling of a key: a letter dropped (keys of length ≥ 3), else a trailing space. */
function misspell(k: string): string {
  return k.length >= 3 ? k.slice(0, 1) + k.slice(2) : `${k} `;
}

/** Paths of a sweep's base that a grid block overrides (set / axes), as prefixes. */
function sweepOverrides(m: Obj): string[] {
  const blocks = (Array.isArray(m.grid) ? m.grid : [m.grid]) as Obj[];
  const out: string[] = [];
  for (const b of blocks) for (const part of ["set", "axes"]) for (const p of Object.keys((b[part] as Obj | undefined) ?? {})) out.push(p);
  return out;
}

function isCpSourcePath(group: Group, path: string): boolean {
  return (group === "flow" && /^cp\.factors\[\d\]$/.test(path)) || (group === "attractors" && /^cp\.classes\[\d\]$/.test(path));
}

const TYPE_NUM = /must be a (finite )?number|must be an integer|required|must be one of/;
const NONFINITE = (got: string) => new RegExp(`must be (a finite number|one of [^(]*)(.*)?\\(got ${got}\\)`);
const RANGE = /must be [≥>≤<] ?-?[\d.e+]+|must be an integer|must be one of|≤ [\d.e+]+/;

export function generateCases(bases: Base[] = loadBases()): BadCase[] {
  const cases: BadCase[] = [];
  const seen = new Set<string>();
  for (const b of bases) {
    const leaves: Leaf[] = [];
    walk(b.model, [], leaves);
    const overrides = b.group === "sweep" ? sweepOverrides(b.model) : [];
    for (const leaf of leaves) {
      const segs = leaf.segs;
      const fullPath = fmtPath(segs);
      // Sweep: mutations of base are seen when a grid point is validated (run); model paths inside
      // base are reported relative to the point's model.
      let stage: BadCase["stage"] = "parse";
      let reportSegs: Seg[] = segs;
      if (b.group === "sweep") {
        if (segs[0] === "grid" && segs.length > 3 && (segs[2] === "set" || segs[2] === "axes")) continue; // grid values: covered via base
        if (segs[0] === "base") {
          if (segs.length === 1) {
            /* the base object itself: a sweep field */
          } else {
            const inner = fmtPath(segs.slice(1));
            if (overrides.some((o) => inner === o || inner.startsWith(`${o}.`) || inner.startsWith(`${o}[`) || o.startsWith(`${inner}.`))) continue; // overridden by the grid (or holds an overridden path)
            if (inner === "kind" || inner === "seed") continue; // kind: covered by the base kinds; seed: the sweep sets it
            stage = "run";
            reportSegs = segs.slice(1);
          }
        }
      }
      const key = leaf.key;
      const group = b.group;
      const add = (mutation: string, model: Obj, opts: { expect?: RegExp; related?: Seg[][]; also?: Seg[][]; jsonable?: boolean; at?: Seg[]; parse?: boolean } = {}) => {
        const path = fieldPath(opts.at ?? reportSegs);
        // One case per (group, path, mutation): the golden variants repeat the shipped files.
        const dedupe = `${group}|${fullPath}|${mutation}`;
        if (seen.has(dedupe)) return;
        seen.add(dedupe);
        const rel = (opts.related ?? []).map((p) => fieldPath(p)).filter((p) => p !== "model");
        const under = rel;
        cases.push({
          id: `${b.name}#${fullPath}:${mutation}`, group, base: b.file, path, mutation, model,
          expectPaths: [path, ...(opts.also ?? []).map((p) => fieldPath(p)), ...rel], expectUnder: under, expectText: opts.expect, stage: opts.parse ? "parse" : stage, jsonable: opts.jsonable ?? true,
        });
      };
      const put = (v: unknown) => setAt(b.model, segs, (p, k) => ((p as Record<string | number, unknown>)[k] = v));
      const v = leaf.value;

      if (typeof v === "number") {
        add("string-for-number", put(String(v)), { expect: TYPE_NUM });
        add("null-for-number", put(null), { expect: TYPE_NUM });
        add("object-for-number", put({ value: v }), { expect: /must be/ });
        add("bool-for-number", put(true), { expect: /must be/ });
        // Inside a sweep's free-form base the sweep schema itself refuses non-finite numbers (at parse).
        const nf = stage === "run" ? { at: segs, parse: true } : {};
        add("NaN", put(NaN), { expect: NONFINITE("NaN"), jsonable: false, ...nf });
        add("Infinity", put(Infinity), { expect: NONFINITE("Infinity"), ...nf });
        add("-Infinity", put(-Infinity), { expect: NONFINITE("-Infinity"), ...nf });
        add("NaN-string", put("NaN"), { expect: TYPE_NUM });
        add("1e308", put(1e308), { expect: RANGE });
        if (INT_KEYS.has(key)) add("2^53+2", put(2 ** 53 + 2), { expect: RANGE });
        if (!SIGNED_KEYS.has(key) && !(group === "sweep" && segs[0] === "grid")) add("negative", put(-1), { expect: RANGE, related: relatedOf(reportSegs) });
        if (POSITIVE_KEYS.has(key) && !(key === "from") && !ZERO_OK.some((p) => matches(p, fmtPath(reportSegs)))) add("zero", put(0), { expect: RANGE, related: relatedOf(reportSegs) });
        if (INT_KEYS.has(key)) add("fraction", put(v + 0.5), { expect: /integer|one of/ });
        if (UNIT_KEYS.has(key)) add("above-1", put(1.5), { expect: RANGE });
        if (key in SIZE_BOMB) add("size-bomb", put(SIZE_BOMB[key]), { expect: /≤|must be/, related: relatedOf(reportSegs) });
      } else if (typeof v === "string") {
        add("number-for-string", put(1), { expect: /must be/ });
        if (ENUM_KEYS.has(key)) add("unknown-enum", put(`${v}x`), { expect: /one of|must be "/ });
        if (TEXT_KEYS.has(key)) add("too-long", put("x".repeat(20_001)), { expect: /at most \d+ characters/ });
      } else if (typeof v === "boolean") {
        add("string-for-bool", put(String(v)), { expect: /must be a boolean/ });
        add("number-for-bool", put(1), { expect: /must be a boolean/ });
      } else if (v === null) {
        // null CP source (no cumulant for that class): an object of the wrong shape instead
        add("number-for-null", put(1), { expect: /must be/ });
      } else if (Array.isArray(v)) {
        // An object where an array (or an object, in a union) is allowed: the object's unknown key may be named instead.
        add("object-for-array", put({ 0: v[0] ?? null }), { expect: /must be|unknown field/, related: [reportSegs] });
        add("string-for-array", put("x"), { expect: /must be/ });
        if (v.length > 0) add("empty-array", put([]), { expect: /must|at least|needs/, related: relatedOf(reportSegs) });
        if (v.length === 2 && /classes$|factors$/.test(fullPath) && !/starts\.factors$/.test(fullPath)) add("three-items", put([...v, v[0]]), { expect: /at most 2 items/ });
      } else {
        const isBase = group === "sweep" && fullPath === "base";
        add("array-for-object", put([v]), { expect: /must be|one of/ });
        if (!isBase) add("string-for-object", put("x"), { expect: /must be|one of/ }); // sweep base: a string is a file path (resolved when read)
        if (!isCpSourcePath(group, fullPath)) add("null-for-object", put(null), { expect: /must be|one of|required/ });
        add("number-for-object", put(7), { expect: /must be|one of/ });
      }

      // Keys: delete (required only) and misspell.
      const last = segs[segs.length - 1];
      if (typeof last === "string") {
        const rel = stage === "run" ? fmtPath(segs.slice(1)) : fullPath;
        const optional = OPTIONAL.some((p) => matches(p, rel)) || (OPTIONAL_IN[group] ?? []).some((p) => matches(p, rel));
        if (!optional) add("delete", setAt(b.model, segs, (p, k) => delete (p as Obj)[k as string]), { expect: /required|must|give|needs/, related: relatedOf(reportSegs) });
        const bad = misspell(last);
        add("misspelt-key", setAt(b.model, segs, (p, k) => {
          const o = p as Obj;
          // keep the key order (the misspelt key takes the place of the right one)
          const entries = Object.entries(o).map(([kk, vv]) => (kk === k ? [bad, vv] : [kk, vv]) as [string, Json]);
          for (const kk of Object.keys(o)) delete o[kk];
          for (const [kk, vv] of entries) o[kk] = vv;
        }), {
          at: [...reportSegs.slice(0, -1), bad],
          // A misspelt discriminator ("kind", "dim", "mode") leaves no branch to compare the keys with: it is reported missing.
          also: [reportSegs],
          expect: new RegExp(`unknown field \\(did you mean "${last}"\\?\\)|\\.${last}: required`),
        });
      }
    }
    // Root-level: an unknown extra field.
    const extra = clone(b.model);
    extra["trainng"] = 1;
    cases.push({ id: `${b.name}#trainng:unknown-root-field`, group: b.group, base: b.file, path: "model.trainng", mutation: "unknown-root-field", model: extra, expectPaths: ["model.trainng"], expectUnder: [], expectText: /unknown field/, stage: "parse", jsonable: true });
  }
  // keep only one unknown-root-field per group
  const rootSeen = new Set<string>();
  return cases.filter((c) => {
    if (c.mutation !== "unknown-root-field") return true;
    if (rootSeen.has(c.group)) return false;
    rootSeen.add(c.group);
    return true;
  });
}

/** JSON text of a case's model: ±Infinity as ±1e999 (JSON.parse reads them back as ±Infinity). */
export function toJsonText(model: unknown): string {
  const INF = "\u0000INF\u0000", NINF = "\u0000NINF\u0000";
  const s = JSON.stringify(model, (_k, v: unknown) => (v === Infinity ? INF : v === -Infinity ? NINF : v), 2);
  return s.replaceAll(JSON.stringify(INF), "1e999").replaceAll(JSON.stringify(NINF), "-1e999");
}

/** A deterministic sample of cases for the (slower) CLI path: `perGroup` per group, spread over mutations. */
export function cliSample(cases: BadCase[], perGroup = 4): BadCase[] {
  const out: BadCase[] = [];
  for (const g of GROUPS) {
    const pool = cases.filter((c) => c.group === g && c.jsonable && c.stage === "parse");
    const byMutation = new Map<string, BadCase[]>();
    for (const c of pool) byMutation.set(c.mutation, [...(byMutation.get(c.mutation) ?? []), c]);
    // Prefer the mutations the CLI path treats specially (Infinity as 1e999, strings "NaN", misspellings, size bombs, deletions).
    const order = ["Infinity", "NaN-string", "misspelt-key", "size-bomb", "delete", "negative", "unknown-enum", "fraction", "zero", "string-for-number"];
    let taken = 0;
    for (const mu of order) {
      if (taken >= perGroup) break;
      const list = byMutation.get(mu);
      if (!list || list.length === 0) continue;
      out.push(list[Math.floor(list.length / 2)]);
      taken++;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Semantic cases: every field is in range, but the combination is impossible or would exhaust
// memory / time.  They must be refused by a limit (named in the message), never attempted.
// ---------------------------------------------------------------------------------------------

type Edit = (m: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

export function semanticCases(bases: Base[] = loadBases()): BadCase[] {
  const byName = (n: string) => {
    const b = bases.find((x) => x.name === n);
    if (!b) throw new Error(`no base ${n}`);
    return b;
  };
  const out: BadCase[] = [];
  const add = (baseName: string, what: string, edit: Edit, paths: string[], text: RegExp, stage: BadCase["stage"] = "parse") => {
    const b = byName(baseName);
    const m = clone(b.model) as Record<string, unknown>;
    edit(m);
    out.push({ id: `${b.name}#semantic:${what}`, group: b.group, base: b.file, path: paths[0], mutation: `semantic:${what}`, model: m, expectPaths: paths, expectUnder: [], expectText: text, stage, jsonable: true });
  };
  // simulate (D = 400)
  add("default.json", "testSize·D", (m) => (m.testSize = 10_000_000), ["model.testSize"], /testSize·D must be ≤ 100000000 .*\(got 10000000·400\)/);
  add("default.json", "P·D", (m) => Object.assign(m.training, { mode: "batch", P: 1e9 }), ["model.training.P"], /P·D must be ≤ 100000000/);
  add("default.json", "K·D", (m) => ((m.network.K = 100_000), (m.task.geometry.L = 4096), (m.testSize = 100)), ["model.network.K"], /K·D must be ≤ 100000000/);
  add("default.json", "batchSize·D", (m) => (m.training.batchSize = 1_000_000), ["model.training.batchSize"], /batchSize·D must be ≤ 100000000/);
  add("default.json", "snapshots·K·D", (m) => ((m.logging.snapshots = 10_000), (m.network.K = 100)), ["model.logging.snapshots"], /snapshots·K·D must be ≤ 100000000/);
  add("default.json", "steps > 1e12", (m) => ((m.training.lrScaling = 3), (m.training.time = 1e9)), ["model.training.time"], /≤ 1e12 steps/);
  add("default.json", "no step", (m) => (m.training.time = 1e-9), ["model.training.time"], /at least one step/);
  add("default.json", "batchSize > P", (m) => Object.assign(m.training, { mode: "batch", P: 10, batchSize: 11 }), ["model.training.batchSize"], /≤ P = 10/);
  // flow
  add("ig22-fig4b-full.json", "P·D", (m) => (m.alpha = 1e9), ["model.alpha"], /P·D must be ≤ 200000000/);
  add("ig22-fig4b-cp.json", "diagonal D²", (m) => ((m.task.geometry.L = 1 << 20), (m.alpha = 1e-4)), ["model.cp.factors[0].diagonal"], /D ≤ 10000 \(got D = 1048576\)/);
  add("ig22-fig4b-cp.json", "rank·D", (m) => ((m.task.geometry.L = 20_000), (m.alpha = 0.01), (m.cp.factors = [null, { compute: { rank: 10_000 } }])), ["model.cp.factors[1].compute.rank"], /rank·D must be ≤ 1e8/);
  add("ig22-fig4b-full.json", "inline w of the wrong length", (m) => (m.init = { kind: "inline", w: [1, 2, 3] }), ["model.init.w"], /needs D = 100 weights \(got 3\)/);
  // cp
  add("ig22-fig4c-cp.json", "P·D", (m) => (m.data.alpha = 1e6), ["model.data"], /P·D = .* must be ≤ 2e8|must be ≤ 200000000/);
  add("ig22-fig4c-cp.json", "explicit error at D = 100", (m) => (m.output = { reconstructionError: "explicit" }), ["model.output.reconstructionError"], /D ≤ 40/);
  add("ig22-fig4c-cp.json", "rank·D", (m) => ((m.decomposition = { rank: 10_000 }), (m.data.geometry.L = 20_000), (m.data.alpha = 0.01)), ["model.decomposition.rank"], /rank·D must be ≤ 1e8/);
  // attractors
  add("ig22-figS2-attractors.json", "dense D", (m) => (m.task.geometry.L = 4000), ["model.task.geometry"], /D ≤ 2000/);
  add("ig22-figS2-attractors.json", "start beyond the rank", (m) => (m.starts.factors = [11]), ["model.starts.factors"], /exceeds the rank 10/);
  // lsg
  add("lsg24-single-ode.json", "dense D", (m) => (m.data.geometry.L = 5000), ["model.data.geometry"], /D must be ≤ 4096/);
  add("lsg24-single-ode.json", "SGD steps", (m) => ((m.dynamics = "sgd"), (m.sgd = { lr: 1e-3, t1: 1e9 })), ["model.sgd.t1"], /≤ 1e10/);
  // ode / compare
  // (K+M)·N ≤ 1e8 cannot be exceeded with K, M ≤ 50 and N ≤ 1e6 (the field bounds imply it): no case.
  add("saad-solla-plateau(ode)", "second layer of the wrong length", (m) => (m.teacherStudent.secondLayer = { mode: "fixed", value: [1, 2] }), ["model.teacherStudent.secondLayer.value"], /array of length 3/);
  add("ig22-fig3-ode-long.json", "mixture K", (m) => (m.network.K = 65), ["model.network.K"], /≤ 64/);
  add("ig22-fig3-ode-long.json", "mixture activation", (m) => (m.network.activation = "relu"), ["model.network.activation"], /"erf" only/);
  add("ig22-fig3-compare.json", "SGD test set", (m) => (m.sgd.testSize = 10_000_000), ["model.sgd.testSize"], /testSize·D must be ≤ 1e8/);
  add("ig22-fig3-compare.json", "one seed", (m) => (m.sgd.seeds = 1), ["model.sgd.seeds"], /≥ 2/);
  add("saad-solla-plateau.json", "one seed", (m) => (m.sgd.seeds = 1), ["model.sgd.seeds"], /≥ 2/);
  add("saad-solla-plateau.json", "teacher second layer length", (m) => (m.teacherStudent.teacherSecondLayer = [1]), ["model.teacherStudent.teacherSecondLayer"], /array of length 3/);
  // sweep
  add("lsg24-kurtosis-ode.json", "1e15 grid points", (m) => (m.grid[0].axes = { "data.marginal.gain": { linspace: [1, 2, 100_000] }, "data.classes[0].xi": { linspace: [0, 1, 100_000] }, "data.classes[1].xi": { linspace: [0, 1, 100_000] } }), ["model.grid"], /≤ 1000000 points/);
  add("lsg24-kurtosis-ode.json", "points × seeds", (m) => ((m.grid[0].axes = { "data.marginal.gain": { linspace: [1, 2, 1000] } }), (m.seeds = { from: 1, count: 100_000 })), ["model.seeds.count"], /≤ 10000000 runs/);
  add("lsg24-kurtosis-ode.json", "Infinity in a grid value", (m) => (m.grid[1].axes["data.marginal.k"] = [5, Infinity]), ['model.grid[1].axes["data.marginal.k"][1]'], /finite number \(got Infinity\)/);
  add("lsg24-kurtosis-ode.json", "grid point out of range (k ≤ 4)", (m) => (m.grid[1].axes["data.marginal.k"] = [5, 3]), ["model.data.marginal.k"], /sweep point 11 .*must be > 4 \(got 3\)/, "run");
  add("lsg24-kurtosis-ode.json", "seed path as an axis", (m) => (m.grid[2].axes = { seed: [1, 2] }), ["model.grid"], /seed path/, "run");
  return out;
}
