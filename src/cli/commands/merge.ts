/**
 * `rfdyn merge <dir...> [-o out]`: join the outputs of `rfdyn sweep --shard i/n` runs.
 *
 * Checks (each failure is a one-line UserError): every directory has a shard.json; all come from
 * the same sweep model (same sha256 of the canonical model, which is also re-computed from the
 * stored model); the same shard count n; shard indices are distinct and cover 0..n−1; point sets
 * are non-overlapping and each is exactly the set shard i must hold; every shard is complete (all
 * runs present, none failed or interrupted).  Writes shard.json (as one complete 0/1 shard, so merged
 * outputs can be merged again), runs.csv, summary.csv, the plot and result.json — the same bytes an
 * unsharded run gives for runs.csv and summary.csv.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { runCli, type RunContext } from "../common.js";
import { UserError } from "../../io/errors.js";
import { enumerateGrid, modelHash, shardPoints } from "../../io/sweep.js";
import { SHARD_FILE, writeAggregate, writeShardFiles, type ShardFile } from "./sweep.js";

export function readShard(dir: string): ShardFile {
  const p = join(dir, SHARD_FILE);
  if (!existsSync(p)) throw new UserError(`merge: "${dir}" has no ${SHARD_FILE} (not a sweep output directory)`);
  let sf: ShardFile;
  try {
    sf = JSON.parse(readFileSync(p, "utf8")) as ShardFile;
  } catch (e) {
    throw new UserError(`merge: ${p} is not valid JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  if (sf.format !== "rfdyn-sweep-shard/1") throw new UserError(`merge: ${p}: unknown format ${JSON.stringify(sf.format)}`);
  if (modelHash(sf.model) !== sf.modelHash) throw new UserError(`merge: ${p}: stored model does not match its hash (file edited?)`);
  return sf;
}

/** Merge shard files (validated as described above) into one complete ShardFile. */
export function mergeShards(dirs: readonly string[]): ShardFile {
  if (dirs.length === 0) throw new UserError("merge: give at least one shard directory");
  const shards = dirs.map((d) => ({ dir: d, sf: readShard(d) }));
  const first = shards[0].sf;
  const n = first.shard.count;
  const seen = new Map<number, string>();
  for (const { dir, sf } of shards) {
    if (sf.modelHash !== first.modelHash) throw new UserError(`merge: "${dir}" comes from a different sweep model (hash ${sf.modelHash.slice(0, 12)} ≠ ${first.modelHash.slice(0, 12)} of "${shards[0].dir}")`);
    if (sf.shard.count !== n) throw new UserError(`merge: "${dir}" is shard ${sf.shard.index}/${sf.shard.count}, but "${shards[0].dir}" has n = ${n}`);
    const other = seen.get(sf.shard.index);
    if (other !== undefined) throw new UserError(`merge: shard ${sf.shard.index}/${n} given twice ("${other}" and "${dir}")`);
    seen.set(sf.shard.index, dir);
    if (!sf.complete) throw new UserError(`merge: "${dir}" (shard ${sf.shard.index}/${n}) is incomplete (interrupted or failed runs); re-run it`);
  }
  const missing = [];
  for (let i = 0; i < n; i++) if (!seen.has(i)) missing.push(i);
  if (missing.length) throw new UserError(`merge: missing shard(s) ${missing.map((i) => `${i}/${n}`).join(", ")}`);
  const nPoints = enumerateGrid(first.model).length;
  const owner = new Map<number, string>();
  for (const { dir, sf } of shards) {
    const expect = shardPoints(nPoints, sf.shard);
    if (sf.points.length !== expect.length || sf.points.some((p, k) => p !== expect[k])) throw new UserError(`merge: "${dir}" does not hold exactly the points of shard ${sf.shard.index}/${n}`);
    for (const p of sf.points) {
      const o = owner.get(p);
      if (o !== undefined) throw new UserError(`merge: point ${p} appears in both "${o}" and "${dir}"`);
      owner.set(p, dir);
    }
    const want = sf.points.length * sf.replicates;
    const keys = new Set(sf.runs.map((r) => `${r.point}:${r.replicate}`));
    if (sf.runs.length !== want || keys.size !== want || sf.runs.some((r) => !owner.has(r.point) || owner.get(r.point) !== dir)) {
      throw new UserError(`merge: "${dir}" has ${sf.runs.length} run records, expected ${want} distinct ones for its points`);
    }
  }
  if (owner.size !== nPoints) throw new UserError(`merge: shards cover ${owner.size} of ${nPoints} grid points`);
  const runs = shards.flatMap((s) => s.sf.runs).sort((a, b) => a.point - b.point || a.replicate - b.replicate);
  return {
    ...first, shard: { index: 0, count: 1 }, points: shardPoints(nPoints, { index: 0, count: 1 }), complete: true, runs,
  };
}

export async function runMerge(dirs: readonly string[], ctx: Pick<RunContext, "out" | "log">): Promise<ShardFile> {
  const merged = mergeShards(dirs);
  writeShardFiles(ctx.out, merged);
  await writeAggregate(ctx.out, merged, { mergedFrom: dirs.map((d) => resolve(d)) });
  ctx.log(`merge: ${dirs.length} shard(s), ${merged.runs.length} runs → ${ctx.out}`);
  return merged;
}

interface MergeArgs {
  dirs: string[];
  out?: string;
  quiet?: boolean;
}

/** yargs command module for `rfdyn merge`. */
export const mergeCommand = {
  command: "merge <dirs..>",
  describe: "join the shard outputs of `rfdyn sweep --shard i/n` (checks model hash, completeness, no overlap)",
  builder: (y: import("yargs").Argv) =>
    y
      .positional("dirs", { type: "string", array: true, describe: "shard output directories", demandOption: true })
      .option("out", { alias: "o", type: "string", describe: "output directory (default: parent of the first shard directory)" })
      .option("quiet", { alias: "q", type: "boolean", describe: "no status lines" }),
  handler: (argv: MergeArgs) =>
    runCli(async () => {
      const dirs = argv.dirs.map(String);
      const out = resolve(argv.out ?? dirname(resolve(dirs[0] ?? ".")));
      if (dirs.some((d) => resolve(d) === out)) throw new UserError(`--out: must differ from the shard directories (got "${out}")`);
      await runMerge(dirs, { out, log: argv.quiet ? () => {} : (m) => process.stderr.write(m + "\n") });
    }),
};
