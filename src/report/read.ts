/**
 * Reading rfdyn output directories for a report: result.json (or a sweep shard's shard.json), the
 * provenance the CLI records (.rfdyn/provenance.json), every plot's Vega-Lite spec (*.vl.json,
 * recursively), the list of data files, and the model file when it can still be read.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { UserError } from "../run/errors.js";
import { PROVENANCE_FILE, type Provenance } from "../io/provenance.js";

export interface RunPlot {
  /** Path of the plot relative to the run directory, without `.vl.json` (e.g. "ipr", "cp/class1/factors"). */
  name: string;
  spec: Record<string, unknown>;
}

export interface RunFile {
  path: string;
  bytes: number;
}

export interface RunDir {
  dir: string;
  /** Short unique label (the directory name, disambiguated by its parent when needed). */
  label: string;
  kind: string;
  status: string;
  message: string;
  /** result.json (or, for a sweep shard without one, the shard file). */
  result: Record<string, unknown>;
  provenance?: Provenance;
  /** The validated model as stored with the result. */
  model: unknown;
  /** The model file as written by the user, when its path is known and it still exists. */
  modelFileText?: { path: string; text: string };
  plots: RunPlot[];
  files: RunFile[];
}

function readJson(p: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`report: ${what} "${p}" is not valid JSON: ${(e as Error).message.split("\n")[0]}`);
  }
}

function walk(dir: string, root: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === ".rfdyn" || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, root, out);
    else out.push(relative(root, p));
  }
}

/** Read one output directory (UserError if it is not an rfdyn run directory). */
export function readRunDir(dirArg: string): RunDir {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`report: "${dirArg}" is not a directory`);
  const resultPath = join(dir, "result.json");
  const shardPath = join(dir, "shard.json");
  let result: Record<string, unknown>;
  if (existsSync(resultPath)) result = readJson(resultPath, "result file");
  else if (existsSync(shardPath)) {
    const sf = readJson(shardPath, "shard file");
    result = { kind: "sweep", status: sf.complete ? "done (shard)" : "interrupted", message: `sweep shard ${JSON.stringify(sf.shard)}`, model: sf.model, version: sf.version, modelFile: sf.modelFile };
  } else throw new UserError(`report: "${dirArg}" holds no result.json (not an rfdyn output directory, or the run has not finished writing)`);
  const provPath = join(dir, PROVENANCE_FILE);
  const provenance = existsSync(provPath) ? (readJson(provPath, "provenance file") as unknown as Provenance) : undefined;
  const rel: string[] = [];
  walk(dir, dir, rel);
  rel.sort();
  const plots: RunPlot[] = rel.filter((f) => f.endsWith(".vl.json")).map((f) => ({ name: f.slice(0, -".vl.json".length), spec: readJson(join(dir, f), "plot spec") }));
  const files = rel.map((f) => ({ path: f, bytes: statSync(join(dir, f)).size }));
  const modelPath = provenance?.modelFile ?? (typeof result.modelFile === "string" && result.modelFile !== "" ? result.modelFile : undefined);
  let modelFileText: RunDir["modelFileText"];
  if (modelPath) {
    const candidates = [resolve(provenance?.cwd ?? ".", modelPath), resolve(modelPath)];
    const found = candidates.find((p) => existsSync(p) && statSync(p).isFile());
    if (found) modelFileText = { path: modelPath, text: readFileSync(found, "utf8") };
  }
  return {
    dir,
    label: basename(dir),
    kind: String(result.kind ?? "unknown"),
    status: String(provenance?.status ?? result.status ?? "unknown"),
    message: String(result.message ?? ""),
    result,
    provenance,
    model: result.model,
    modelFileText,
    plots,
    files,
  };
}

/** Read several directories; labels are made unique (parent/dir when two share a name). */
export function readRunDirs(dirs: readonly string[]): RunDir[] {
  if (dirs.length === 0) throw new UserError("report: give at least one output directory");
  const runs = dirs.map(readRunDir);
  const seen = new Map<string, number>();
  for (const r of runs) seen.set(r.label, (seen.get(r.label) ?? 0) + 1);
  for (const r of runs) if ((seen.get(r.label) ?? 0) > 1) r.label = `${basename(resolve(r.dir, ".."))}/${r.label}`;
  const again = new Set<string>();
  runs.forEach((r, k) => {
    if (again.has(r.label)) r.label = `${r.label} (${k + 1})`;
    again.add(r.label);
  });
  return runs;
}
