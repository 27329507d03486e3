#!/usr/bin/env node
/**
 * rfdyn command-line interface: parse → run → write.
 *
 *   rfdyn run <model.json>        run any model file (dispatch on its "kind")
 *   rfdyn <kind> <model.json>     the same, checking the kind (simulate, flow, cp, …)
 *   rfdyn sweep <model> --shard i/n   one shard of a sweep
 *   rfdyn merge <dir…>            join sweep shards
 *   rfdyn report <dir…> [-o f]    self-contained HTML report of output directories
 *
 * Every computation is a library call (src/experiments/); this file only reads the model, shows
 * progress, handles signals and writes the result (src/io/results/).
 */
import { dirname, join, resolve } from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { checkOutDir, claimOutDir, defaultOutDir, exitCodeOf, makeContext, progressBar, runCli } from "./common.js";
import { rfdynVersion } from "../io/version.js";
import { loadModel } from "../io/read-model.js";
import { UserError } from "../run/errors.js";
import { isComplete } from "../run/hooks.js";
import { experiment, kindOf, kinds, prestartUnitWorkers, type AnyResult, type Kind } from "../experiments/index.js";
import { modelHash, resolveShard } from "../experiments/sweep-grid.js";
import type { SweepHooks, SweepRunModel } from "../experiments/sweep.js";
import type { Argv } from "yargs";
import { writeResult } from "../io/results/index.js";
import { plotOutput, setPlotOutput } from "../io/plots.js";

interface CommonArgs {
  model: string;
  out?: string;
  quiet?: boolean;
  threads?: number;
  shard?: string;
  resume?: boolean;
  force?: boolean;
  checkpointEvery?: number;
  png?: boolean;
  dpi?: number;
  report?: boolean | string;
}

async function runModelFile(argv: CommonArgs, expectKind?: Kind): Promise<void> {
  setPlotOutput({ png: argv.png, dpi: argv.dpi });
  const started = new Date();
  const raw = loadModel(argv.model);
  const kind = kindOf(raw);
  // -j N: the workers start (and load the kind's unit code) on the other cores while this thread
  // loads the kind's code, validates the model and sets up.
  prestartUnitWorkers(raw, argv.threads);
  // The git commit for the provenance is looked up now (cached), not after an interrupt.
  const { gitCommit, makeProvenance, writeProvenance } = await import("../io/provenance.js");
  gitCommit();
  if (expectKind !== undefined && kind !== expectKind) throw new UserError(`model.kind: "${kind}" cannot be run by \`rfdyn ${expectKind}\` (use \`rfdyn run\`)`);
  const exp = await experiment(kind);
  const model = exp.parse(raw);
  if (kind === "sweep") await (await import("../experiments/sweep.js")).checkSweepPoints(model as SweepRunModel);
  if (argv.shard !== undefined && kind !== "sweep") throw new UserError(`--shard: only sweep models are sharded (this model is "${kind}")`);
  const shard = kind === "sweep" ? resolveShard(argv.shard, process.env) : undefined;
  const out = argv.out ?? (shard && shard.count > 1 ? join(defaultOutDir(argv.model), `shard-${shard.index}-of-${shard.count}`) : undefined);
  const ctx = makeContext({ ...argv, out }, argv.model);
  const every = argv.checkpointEvery;
  if (every !== undefined && !(every > 0 && every <= 86400)) throw new UserError(`--checkpoint-every: must be a number of seconds in (0, 86400] (got ${every})`);
  const store = claimOutDir(ctx.out, { kind, modelHash: modelHash({ model, shard: shard ?? null }), version: rfdynVersion(), resume: argv.resume ?? false, force: argv.force ?? false });
  // Load the plot renderer (vega, vega-lite: 0.4–1 s of module loading) while the run computes,
  // not after it, so that an interrupted run writes its partial results about a second after Ctrl-C.
  void Promise.all([import("vega-lite"), import("vega")]).catch(() => undefined);
  if (argv.resume && store.keys().length > 0) ctx.log(`rfdyn ${kind}: resuming from ${store.keys().length} saved record(s) in ${ctx.out}`);
  const bar = progressBar(ctx, kind);
  let result: AnyResult;
  try {
    const hooks: SweepHooks = { signal: ctx.signal, onProgress: (e) => bar.update(e), log: ctx.log, threads: ctx.threads, shard, store, checkpointSeconds: every };
    result = (await exp.run(model, hooks)) as AnyResult;
  } finally {
    bar.stop();
  }
  // Ctrl-C: write the partial results quickly — specs and SVGs, no PNGs and no report (both can be
  // made afterwards: rfdyn report <out>, or re-running with --resume).
  const aborted = ctx.signal.aborted;
  if (aborted) setPlotOutput({ png: false });
  if (result.kind === "sweep") await (await import("../io/results/sweep.js")).writeSweepResult(ctx.out, result, argv.model);
  else await writeResult(ctx.out, result);
  // Warnings (e.g. a saturated activation) are printed even with --quiet; they are in result.json too.
  const warnings = (result as { warnings?: unknown }).warnings;
  if (Array.isArray(warnings)) for (const w of warnings) process.stderr.write(`rfdyn: warning: ${String(w)}\n`);
  // A run that did not complete always says why (even with --quiet); outputs are written either way.
  // Complete: the checkpoints have served their purpose (result.json is the record now).
  if (isComplete(result.status)) store.clear();
  const said = result.message.startsWith(result.status) ? result.message : `${result.status}: ${result.message}`;
  if (isComplete(result.status)) ctx.log(`rfdyn ${kind}: ${said} → ${ctx.out}`);
  else process.stderr.write(`rfdyn: ${kind} ${result.status}: ${result.message} (partial outputs in ${ctx.out})\n`);
  process.exitCode = exitCodeOf(result.status);
  writeProvenance(ctx.out, makeProvenance({
    modelFile: argv.model, kind, seed: typeof (model as { seed?: unknown }).seed === "number" ? (model as { seed: number }).seed : null, started,
    status: result.status, message: result.message, exitCode: process.exitCode, threads: ctx.threads, plots: plotOutput(),
  }));
  if (argv.report !== undefined && argv.report !== false && aborted) process.stderr.write(`rfdyn: report skipped after the interrupt (make it with: rfdyn report ${ctx.out})\n`);
  else if (argv.report !== undefined && argv.report !== false) {
    const { writeReport } = await import("../report/index.js");
    const file = typeof argv.report === "string" && argv.report !== "" ? resolve(argv.report) : join(ctx.out, "report.html");
    writeReport([ctx.out], file);
    ctx.log(`rfdyn ${kind}: report → ${file}`);
  }
}

const modelOptions = (y: ReturnType<typeof yargs>) =>
  y
    .positional("model", { type: "string", describe: "model file (JSON)", demandOption: true })
    .option("out", { alias: "o", type: "string", describe: "output directory (default results/<model name>)" })
    .option("quiet", { alias: "q", type: "boolean", describe: "no progress bar or status lines" })
    .option("threads", { alias: "j", type: "number", describe: "threads: worker threads for the independent units of sweeps, cp, flow and compare models; for a single flow run or CP decomposition, threads for its passes over the samples; for a teacher–student ODE, threads for its η² pair sums (same results for every value; default 1)" })
    .option("resume", { type: "boolean", describe: "continue an interrupted run in the same output directory (finished units and checkpoints are kept)" })
    .option("force", { type: "boolean", describe: "write into an output directory that holds another model's results" })
    .option("checkpoint-every", { type: "number", describe: "seconds between checkpoints of long single runs (default 30)" })
    .option("png", { type: "boolean", describe: "also write every plot as PNG (default true; --no-png: SVG and Vega-Lite only)" })
    .option("dpi", { type: "number", describe: "PNG resolution in dots per inch (default 150; 36–1200)" })
    .option("report", { type: "string", describe: "write an HTML report at the end (default <out>/report.html; --report FILE to choose)" });

const describeKind: Record<Kind, string> = {
  simulate: "SGD simulation of a two-layer network",
  flow: "single-neuron gradient flow of IG22: gaussian | full | cp | exact, gain sweeps",
  cp: "CP decomposition of a class's 4th-order cumulant, with sweeps",
  attractors: "attractor analysis of the cp gradient flow between CP factors",
  lsg: "LSG24 single ReLU neuron: effective ODE or online SGD",
  ode: "Saad–Solla / Gaussian-mixture order-parameter ODEs",
  compare: "ODE vs several SGD seeds, deviations in SE units",
  sweep: "parameter sweep over any model kind, on worker threads; --shard i/n runs one part",
};

let cli = yargs(hideBin(process.argv))
  .scriptName("rfdyn")
  .usage("$0 <command> <model.json> [options]")
  .command({
    command: "run <model>",
    describe: "run any model file (dispatches on its \"kind\")",
    builder: (y: Argv) => modelOptions(y as never).option("shard", { type: "string", describe: "sweeps: run only shard i of n (0 ≤ i < n); default $RFDYN_SHARD, else the SLURM array task" }),
    handler: (argv: unknown) => runCli(() => runModelFile(argv as CommonArgs)),
  } as never);
for (const kind of kinds) {
  cli = cli.command({
    command: `${kind} <model>`,
    describe: `${describeKind[kind]} (kind: ${kind})`,
    builder: (y: Argv) => {
      const b = modelOptions(y as never);
      return kind === "sweep" ? b.option("shard", { type: "string", describe: "run only shard i of n (0 ≤ i < n), e.g. --shard 3/8 (points p ≡ i mod n); default $RFDYN_SHARD, else the SLURM array task" }) : b;
    },
    handler: (argv: unknown) => runCli(() => runModelFile(argv as CommonArgs, kind)),
  } as never);
}
cli = cli.command({
  command: "merge <dirs..>",
  describe: "join the shard outputs of `rfdyn sweep --shard i/n` (checks model hash, completeness, no overlap)",
  builder: (y: Argv) =>
    y
      .positional("dirs", { type: "string", array: true, describe: "shard output directories", demandOption: true })
      .option("out", { alias: "o", type: "string", describe: "output directory (default: parent of the first shard directory)" })
      .option("quiet", { alias: "q", type: "boolean", describe: "no status lines" })
      .option("png", { type: "boolean", describe: "also write the plot as PNG (default true)" })
      .option("dpi", { type: "number", describe: "PNG resolution in dots per inch (default 150)" }),
  handler: (argv: { dirs: string[]; out?: string; quiet?: boolean; png?: boolean; dpi?: number }) =>
    runCli(async () => {
      setPlotOutput({ png: argv.png, dpi: argv.dpi });
      const { mergeShards, writeShardFiles, writeAggregate } = await import("../io/results/sweep.js");
      const dirs = argv.dirs.map(String);
      const out = resolve(argv.out ?? dirname(resolve(dirs[0] ?? ".")));
      if (dirs.some((d) => resolve(d) === out)) throw new UserError(`--out: must differ from the shard directories (got "${out}")`);
      const merged = mergeShards(dirs);
      checkOutDir(out);
      writeShardFiles(out, merged);
      await writeAggregate(out, merged, { mergedFrom: dirs.map((d) => resolve(d)) });
      if (!argv.quiet) process.stderr.write(`merge: ${dirs.length} shard(s), ${merged.runs.length} runs → ${out}\n`);
    }),
} as never);

cli = cli.command({
  command: "report <dirs..>",
  describe: "self-contained HTML report (interactive plots, overlays, provenance, model, conventions) of one or several output directories",
  builder: (y: Argv) =>
    y
      .positional("dirs", { type: "string", array: true, describe: "output directories of rfdyn runs", demandOption: true })
      .option("out", { alias: "o", type: "string", describe: "report file (default report.html in the current directory; <dir>/report.html for one directory)" })
      .option("title", { type: "string", describe: "page title" })
      .option("quiet", { alias: "q", type: "boolean", describe: "no status line" }),
  handler: (argv: { dirs: string[]; out?: string; title?: string; quiet?: boolean }) =>
    runCli(async () => {
      const { writeReport } = await import("../report/index.js");
      const dirs = argv.dirs.map(String);
      if (argv.out !== undefined && String(argv.out).trim() === "") throw new UserError("--out: must be a non-empty path");
      const out = resolve(argv.out ?? (dirs.length === 1 ? join(dirs[0], "report.html") : "report.html"));
      const runs = writeReport(dirs, out, { title: argv.title });
      if (!argv.quiet) process.stderr.write(`report: ${runs.length} run(s), ${runs.reduce((a, r) => a + r.plots.length, 0)} plot(s) → ${out}\n`);
    }),
} as never);

await cli
  .demandCommand(1, "give a command, e.g. `rfdyn run models/default.json`")
  .strict()
  .fail((msg, err) => {
    if (err) {
      process.stderr.write(`rfdyn: internal error: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`rfdyn: ${msg}\n`);
    process.exit(2);
  })
  .help()
  .version()
  .parseAsync();
