/**
 * The reproduction gallery: runs the shipped model files behind each paper result and writes
 * docs/reproductions.md (with small PNGs in docs/img/).
 *
 *   npm run reproduce -- <name> [<name>…]     one or several entries (see --list)
 *   npm run reproduce -- --all                every entry (heavy models only with --heavy)
 *   options: --reuse (keep a finished run in results/reproduce/<model>/ instead of re-running it),
 *            --budget S (send Ctrl-C to a model after S seconds: partial results, status interrupted),
 *            -j N (threads per run, default 2), --docs-only (re-render the markdown from the record),
 *            --quick (run the golden quick variants, test/fixtures/golden/<model>.model.json — reduced
 *            sizes, seconds each — into results/reproduce-quick/; shown, labelled, where no full run
 *            has finished)
 *
 * Each model runs as `rfdyn run models/<model>.json -o results/reproduce/<model>` (the CLI through
 * tsx, so the record has the CLI's provenance); its wall time, status and the numbers shown are kept
 * in docs/reproductions.json, from which docs/reproductions.md is rendered, so running one entry
 * updates its section and keeps the others.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ENTRIES, type Entry } from "./reproduce-entries.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const RECORD = join(root, "docs", "reproductions.json");
const DOC = join(root, "docs", "reproductions.md");
const IMG = join(root, "docs", "img");
const OUT_FULL = join(root, "results", "reproduce");
const OUT_QUICK = join(root, "results", "reproduce-quick");
let quick = false;
const outDir = () => (quick ? OUT_QUICK : OUT_FULL);
const modelPath = (m: string) => (quick ? join("test", "fixtures", "golden", `${m}.model.json`) : join("models", `${m}.json`));
const key = (m: string) => (quick ? `${m} (quick)` : m);

interface ModelRecord {
  seconds: number | null;
  status: string;
  message: string;
  finished: string;
  cpus: number;
  load: number | null;
  numbers: string[];
  figures: string[];
}
type Record_ = Record<string, ModelRecord>;

function loadRecord(): Record_ {
  return existsSync(RECORD) ? (JSON.parse(readFileSync(RECORD, "utf8")) as Record_) : {};
}

function argValue(args: string[], flag: string): string | undefined {
  const k = args.indexOf(flag);
  return k >= 0 ? args[k + 1] : undefined;
}

async function runModel(model: string, threads: number, budget: number | undefined): Promise<{ seconds: number; code: number | null }> {
  const dir = join(outDir(), model);
  const args = ["--import", "tsx", "src/cli/index.ts", "run", modelPath(model), "-o", dir, "--force", "-q", "--dpi", "72", "-j", String(threads)];
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  let timer: NodeJS.Timeout | undefined;
  if (budget !== undefined) timer = setTimeout(() => child.kill("SIGINT"), budget * 1000);
  const code = await new Promise<number | null>((res) => child.on("exit", (c) => res(c)));
  clearTimeout(timer);
  return { seconds: (Date.now() - t0) / 1000, code };
}

function readJson(p: string): any {
  return JSON.parse(readFileSync(p, "utf8"));
}

async function doModel(e: Entry, model: string, rec: Record_, o: { reuse: boolean; threads: number; budget?: number }): Promise<void> {
  const dir = join(outDir(), model);
  const resultPath = join(dir, "result.json");
  const load = (await import("node:os")).loadavg()[0];
  let seconds: number | null = null;
  const fresh = !(o.reuse && existsSync(resultPath) && existsSync(join(dir, ".rfdyn", "provenance.json")));
  if (fresh) {
    process.stderr.write(`reproduce: ${e.name}: running ${model} …\n`);
    seconds = (await runModel(model, o.threads, o.budget)).seconds;
  }
  if (!existsSync(resultPath)) {
    rec[key(model)] = { seconds, status: "failed", message: "no result.json written", finished: new Date().toISOString(), cpus: 2, load, numbers: [], figures: [] };
    return;
  }
  const result = readJson(resultPath);
  const prov = existsSync(join(dir, ".rfdyn", "provenance.json")) ? readJson(join(dir, ".rfdyn", "provenance.json")) : undefined;
  if (seconds === null) seconds = prov?.seconds ?? null;
  mkdirSync(IMG, { recursive: true });
  const figures: string[] = [];
  for (const plot of e.figures[model] ?? []) {
    const src = join(dir, `${plot}.png`);
    if (!existsSync(src)) continue;
    const name = `${model}${quick ? "--quick" : ""}--${plot.replace(/\//g, "-")}.png`;
    copyFileSync(src, join(IMG, name));
    figures.push(`img/${name}`);
  }
  rec[key(model)] = {
    seconds, status: String(result.status), message: String(result.message ?? ""), finished: prov?.finished ?? new Date().toISOString(),
    cpus: prov?.cpus ?? 2, load: fresh ? load : rec[key(model)]?.load ?? null, numbers: e.numbers(model, dir), figures,
  };
}

function fmtSeconds(s: number | null): string {
  if (s === null) return "—";
  return s < 90 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

function render(rec: Record_): string {
  const lines: string[] = [];
  lines.push("# Reproductions of the papers' results", "");
  lines.push("Generated by `npm run reproduce -- --all` (or `-- <name>` for one entry; `-- --list` lists them) from the shipped");
  lines.push("model files in `models/`: each model runs as `rfdyn run models/<model>.json -o results/reproduce/<model>`, and this page");
  lines.push("shows the command, the wall time, our figure (PNG at 72 dpi, written by the run itself) and our numbers next to what");
  lines.push("the paper states, with the parameter choices made where the paper is silent. Runtimes were measured on the");
  lines.push("project's 2-core machine **while ~8 other jobs shared it** (the 1-minute load average at the start of each run is");
  lines.push("given): expect them to be 3–10× shorter on an idle machine. Quick variants of every model (seconds each) run in");
  lines.push("`npm test` (test/models-golden.test.ts), so the numbers stay put. Where a full run did not finish within this");
  lines.push("session's time budget on the loaded machine, the page also shows the quick variant's figure and numbers");
  lines.push("(`npm run reproduce -- --quick --all`), labelled as such — reduced sizes, so compare trends, not values.", "");
  lines.push("Papers: IG22 = Ingrosso & Goldt, *Data-driven emergence of convolutional structure in neural networks*, PNAS 2022;");
  lines.push("LSG24 = Lufkin, Saxe & Grant, *Nonlinear dynamics of localization in neural receptive fields*, NeurIPS 2024.", "");
  lines.push("| result | models | full runs in this session | wall time of the full runs (2 cores, loaded) |", "| --- | --- | --- | --- |");
  for (const e of ENTRIES) {
    const ms = e.models.map((m) => rec[m]);
    const one = (m: string) => {
      const r = rec[m];
      if (r && ["done", "steady", "event"].includes(r.status.split(" ")[0])) return "done";
      if (r?.status === "interrupted") return rec[`${m} (quick)`] ? "stopped by the time budget (quick variant shown)" : "stopped by the time budget";
      return rec[`${m} (quick)`] ? "quick variant only" : "not run";
    };
    const st = e.models.map(one);
    const status = st.every((x) => x === st[0]) ? st[0] : e.models.map((m, k) => `${m}: ${st[k]}`).join("; ");
    const total = ms.reduce((a, m) => a + (m?.seconds ?? 0), 0);
    lines.push(`| [${e.title}](#${e.name}) | ${e.models.map((m) => `\`${m}\``).join(", ")} | ${status} | ${ms.some((m) => m?.seconds) ? fmtSeconds(total) : "—"} |`);
  }
  lines.push("");
  for (const e of ENTRIES) {
    lines.push(`<a id="${e.name}"></a>`, `## ${e.title}`, "");
    lines.push("```sh", `npm run reproduce -- ${e.name}`, ...e.models.map((m) => `# = rfdyn run models/${m}.json -o results/reproduce/${m}`), "```", "");
    lines.push(`**The paper.** ${e.paper}`, "");
    lines.push(`**Choices where the paper is silent.** ${e.choices}`, "");
    for (const m of e.models) {
      const r = rec[m];
      const q = rec[`${m} (quick)`];
      const complete = r && ["done", "steady", "event"].includes(r.status.split(" ")[0]);
      lines.push(`**\`${m}\`** (full model) — ${r ? `${r.status}, ${fmtSeconds(r.seconds)}${r.load !== null && r.load !== undefined ? ` (load ${r.load.toFixed(1)} on ${r.cpus} cores)` : ""}, ${r.finished.slice(0, 10)}` : "not run in this session"}`, "");
      const show = (x: ModelRecord, label: string) => {
        if (x.message) lines.push(`> ${label}${x.message}`, "");
        for (const n of x.numbers) lines.push(n);
        if (x.numbers.length) lines.push("");
        for (const f of x.figures) lines.push(`![${m}](${f})`);
        if (x.figures.length) lines.push("");
      };
      const desc = (JSON.parse(readFileSync(join(root, "models", `${m}.json`), "utf8")) as { description?: string }).description;
      if (desc) lines.push(`<details><summary>model file description (settings, expectation, earlier measurements)</summary>`, "", desc, "", `</details>`, "");
      if (r && r.status === "interrupted") lines.push(`> stopped by this session's time budget: ${r.message} (partial outputs in \`results/reproduce/${m}/\`)`, "");
      else if (r) show(r, "");
      if (!complete && q) {
        lines.push(`*Quick variant* (\`test/fixtures/golden/${m}.model.json\`: the same code path at reduced sizes, as run by \`npm test\`; its description says what was reduced) — ${q.status}, ${fmtSeconds(q.seconds)}${q.load !== null && q.load !== undefined ? ` (load ${q.load.toFixed(1)})` : ""}:`, "");
        show(q, "");
      }
    }
    if (e.comparison) lines.push(`**Ours vs the paper.** ${e.comparison}`, "");
  }
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes("--list")) {
    for (const e of ENTRIES) process.stdout.write(`${e.name.padEnd(22)} ${e.title}  [${e.models.join(", ")}]${e.heavy ? "  (heavy)" : ""}\n`);
    return;
  }
  const rec = loadRecord();
  quick = args.includes("--quick");
  if (!args.includes("--docs-only")) {
    const all = args.includes("--all");
    const names = args.filter((a, k) => !a.startsWith("-") && !["--budget", "-j"].includes(args[k - 1] ?? ""));
    const unknown = names.filter((n) => !ENTRIES.some((e) => e.name === n));
    if (unknown.length) throw new Error(`unknown entry ${unknown.join(", ")} (see --list)`);
    if (!all && names.length === 0) throw new Error("give an entry name, --all, --list or --docs-only");
    const entries = all ? ENTRIES.filter((e) => !e.heavy || args.includes("--heavy") || names.includes(e.name)) : ENTRIES.filter((e) => names.includes(e.name));
    const budget = argValue(args, "--budget") !== undefined ? Number(argValue(args, "--budget")) : undefined;
    const threads = Number(argValue(args, "-j") ?? 2);
    for (const e of entries) {
      for (const m of e.models) {
        await doModel(e, m, rec, { reuse: args.includes("--reuse"), threads, budget });
        writeFileSync(RECORD, JSON.stringify(rec, null, 1) + "\n");
        writeFileSync(DOC, render(rec));
      }
    }
  }
  const md = render(rec);
  writeFileSync(DOC, md);
  // Keep only the images the page shows.
  if (existsSync(IMG)) for (const f of readdirSync(IMG)) if (!md.includes(`img/${f}`)) rmSync(join(IMG, f));
  process.stderr.write(`reproduce: wrote ${DOC}\n`);
}

main().catch((e) => {
  process.stderr.write(`reproduce: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
