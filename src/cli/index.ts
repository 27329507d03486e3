#!/usr/bin/env node
/**
 * rfdyn command-line interface.
 *
 *   rfdyn run <model.json>        run any model file (dispatch on its "kind")
 *   rfdyn simulate <model.json>   SGD simulation of a two-layer network
 *   … one sub-command per model kind (see `rfdyn --help`).
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { makeContext, runCli } from "./common.js";
import { runners } from "./runners.js";
import { readModelFile } from "../io/schema/common.js";
import { UserError } from "../io/errors.js";

interface CommonArgs {
  model: string;
  out?: string;
  quiet?: boolean;
  threads?: number;
}

async function runModel(argv: CommonArgs, expectKind?: string): Promise<void> {
  const model = readModelFile(argv.model);
  const kind = typeof model.kind === "string" ? model.kind : undefined;
  const known = Object.keys(runners);
  if (kind === undefined) throw new UserError(`model.kind: required, one of ${known.join(", ")}`);
  if (expectKind !== undefined && kind !== expectKind) throw new UserError(`model.kind: "${kind}" cannot be run by \`rfdyn ${expectKind}\` (use \`rfdyn run\`)`);
  const load = runners[kind];
  if (!load) throw new UserError(`model.kind: must be one of ${known.join(", ")} (got "${kind}")`);
  const runner = await load();
  const ctx = makeContext(argv, argv.model);
  await runner(model, ctx, argv.model);
  if (ctx.signal.aborted) process.exitCode = 130;
}

const modelCommand = (name: string, describe: string, kind?: string) => ({
  command: `${name} <model>`,
  describe,
  builder: (y: ReturnType<typeof yargs>) =>
    y
      .positional("model", { type: "string", describe: "model file (JSON)", demandOption: true })
      .option("out", { alias: "o", type: "string", describe: "output directory (default results/<model name>)" })
      .option("quiet", { alias: "q", type: "boolean", describe: "no progress bar or status lines" })
      .option("threads", { alias: "j", type: "number", describe: "worker threads: sweep models, and the grid points / runs of cp and flow models (default 1)" }),
  handler: (argv: CommonArgs) => runCli(() => runModel(argv, kind)),
});

const cli = yargs(hideBin(process.argv))
  .scriptName("rfdyn")
  .usage("$0 <command> <model.json> [options]")
  .command(modelCommand("run", "run any model file (dispatches on its \"kind\")") as never)
  .command(modelCommand("simulate", "SGD simulation of a two-layer network (kind: simulate)", "simulate") as never)
  .command(modelCommand("flow", "single-neuron gradient flow of IG22: gaussian | full | cp | exact, gain sweeps (kind: flow)", "flow") as never)
  .command(modelCommand("cp", "CP decomposition of a class's 4th-order cumulant, with sweeps (kind: cp)", "cp") as never)
  .command(modelCommand("attractors", "attractor analysis of the cp gradient flow between CP factors (kind: attractors)", "attractors") as never)
  .command(modelCommand("lsg", "LSG24 single ReLU neuron: effective ODE or online SGD (kind: lsg)", "lsg") as never)
  .command(modelCommand("ode", "Saad–Solla / Gaussian-mixture order-parameter ODEs (kind: ode)", "ode") as never)
  .command(modelCommand("compare", "ODE vs several SGD seeds, deviations in SE units (kind: compare)", "compare") as never)
  .command((await import("./commands/sweep.js")).sweepCommand as never)
  .command((await import("./commands/merge.js")).mergeCommand as never)
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
  .version();

await cli.parseAsync();
