/**
 * `rfdyn report DIR… [-o report.html]`: one self-contained HTML page for one or several run
 * directories (see html.ts for what it shows).  File links are relative to the report, so the page
 * and the run directories can be moved together.
 */
import { dirname, relative, resolve, sep } from "node:path";
import { mkdirSync } from "node:fs";
import { writeFileAtomic } from "../io/atomic.js";
import { rfdynVersion } from "../io/version.js";
import { gitCommit } from "../io/provenance.js";
import { readRunDirs, type RunDir } from "./read.js";
import { reportHtml, type ReportOptions } from "./html.js";

export { readRunDir, readRunDirs, type RunDir, type RunPlot } from "./read.js";
export { reportHtml, keyNumbers, headlinePlot } from "./html.js";
export { makeInteractive } from "./interactive.js";
export { overlays, overlayable } from "./overlay.js";
export { conventionsFor } from "./conventions.js";

/** Build the report of `dirs` and write it to `out`; returns the runs read. */
export function writeReport(dirs: readonly string[], out: string, opts: ReportOptions = {}): RunDir[] {
  const runs = readRunDirs(dirs);
  const outAbs = resolve(out);
  const link = (run: RunDir, path: string) => relative(dirname(outAbs), resolve(run.dir, path)).split(sep).join("/");
  const html = reportHtml(runs, { generator: { version: rfdynVersion(), git: gitCommit() }, link, ...opts });
  mkdirSync(dirname(outAbs), { recursive: true });
  writeFileAtomic(outAbs, html);
  return runs;
}
