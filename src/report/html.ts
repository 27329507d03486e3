/**
 * The HTML of an rfdyn report: one self-contained page (Vega, Vega-Lite and vega-embed inlined from
 * node_modules — no CDN, works from file:// offline) showing one or several run directories.
 *
 * Page: summary (runs, status, headline figures, key numbers) → overlays across runs → one section
 * per run (every plot interactive, key numbers, provenance, the model, the files) → conventions.
 * The plots are embedded as Vega-Lite specs in a JSON block and drawn by vega-embed with the SVG
 * renderer; `window.rfdynReport` exposes `{ ready: Promise, views, errors }` for tests.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { makeInteractive } from "./interactive.js";
import { overlays } from "./overlay.js";
import { conventionsFor } from "./conventions.js";
import type { RunDir } from "./read.js";

type Spec = Record<string, unknown>;

/** The three browser bundles, read once. */
let scripts: { name: string; code: string }[] | undefined;
export function vegaScripts(): { name: string; code: string }[] {
  if (scripts) return scripts;
  const req = createRequire(import.meta.url);
  const file = (pkg: string, f: string) => join(dirname(req.resolve(pkg)), f);
  const list = [
    { name: "vega", path: file("vega", "vega.min.js") },
    { name: "vega-lite", path: file("vega-lite", "vega-lite.min.js") },
    { name: "vega-embed", path: file("vega-embed", "vega-embed.min.js") },
  ];
  scripts = list.map((s) => ({ name: s.name, code: readFileSync(s.path, "utf8") }));
  return scripts;
}

/** Text safe inside a <script> element (no "</script", no HTML comment openers). */
export function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

export function esc(s: unknown): string {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Headline plots per kind, in order of preference. */
const HEADLINE: Record<string, string[]> = {
  simulate: ["pmse_accuracy", "ipr", "receptive_fields"],
  compare: ["pmse", "eps", "ipr"],
  ode: ["pmse", "eps"],
  flow: ["ipr_gain", "ipr_t", "w_final"],
  cp: ["max_ipr", "leading_ipr", "factors"],
  attractors: ["overlaps_u1", "factor_stability"],
  lsg: ["ipr", "rf"],
  sweep: ["sweep"],
};

export function headlinePlot(run: RunDir): string | undefined {
  for (const n of HEADLINE[run.kind] ?? []) if (run.plots.some((p) => p.name === n)) return n;
  return run.plots[0]?.name;
}

function fmtNum(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(4) : Number(x.toPrecision(6)).toString();
}

function fmtVal(v: unknown): string {
  if (typeof v === "number") return fmtNum(v);
  if (Array.isArray(v) && v.length <= 10 && v.every((x) => typeof x === "number")) return `[${(v as number[]).map(fmtNum).join(", ")}]`;
  if (v === null) return "—";
  return String(v);
}

/** Scalar leaves of a result's summary (and `final` block), at most `limit`, as (path, value) rows. */
export function keyNumbers(result: Record<string, unknown>, limit = 30): [string, string][] {
  const rows: [string, string][] = [];
  const visit = (v: unknown, path: string, depth: number) => {
    if (rows.length >= limit) return;
    if (v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean") {
      if (typeof v === "string" && v.length > 120) return;
      rows.push([path, fmtVal(v)]);
    } else if (Array.isArray(v)) {
      if (v.length <= 10 && v.every((x) => typeof x === "number")) rows.push([path, fmtVal(v)]);
    } else if (typeof v === "object" && depth < 3) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (k === "symbolic") continue;
        visit(x, path ? `${path}.${k}` : k, depth + 1);
      }
    }
  };
  for (const key of ["summary", "final"]) if (result[key] && typeof result[key] === "object") visit(result[key], key, 0);
  return rows;
}

function table(rows: [string, string][], cls = "kv"): string {
  if (rows.length === 0) return "";
  return `<table class="${cls}">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>`;
}

function seconds(run: RunDir): number | undefined {
  const r = run.result as Record<string, unknown>;
  const t = run.provenance?.seconds ?? (r.timings as { seconds?: number; wall?: number } | undefined)?.seconds ?? (r.wallTime as number | undefined);
  return typeof t === "number" ? Number(t.toPrecision(3)) : undefined;
}

function seedOf(run: RunDir): unknown {
  const r = run.result;
  return run.provenance?.seed ?? r.seed ?? (r.model as { seed?: unknown } | undefined)?.seed ?? null;
}

function provenanceRows(run: RunDir): [string, string][] {
  const p = run.provenance;
  const r = run.result;
  const rows: [string, string][] = [
    ["directory", run.dir],
    ["kind", run.kind],
    ["status", run.status],
    ["message", run.message],
    ["rfdyn version", String(p?.rfdynVersion ?? r.version ?? "unknown")],
    ["git commit", p ? (p.git ? `${p.git.commit}${p.git.dirty ? " (with uncommitted changes)" : ""}` : "not a git checkout") : "not recorded (run not made by `rfdyn run`)"],
    ["seed", fmtVal(seedOf(run))],
    ["wall time", seconds(run) !== undefined ? `${fmtNum(seconds(run)!)} s` : "—"],
  ];
  if (p) {
    rows.push(
      ["Node", p.node], ["platform", `${p.platform}, ${p.cpus} CPUs`], ["threads", String(p.threads)],
      ["command", p.command.join(" ")], ["working directory", p.cwd], ["model file", p.modelFile], ["model sha256", p.modelSha256 ?? "—"],
      ["started", p.started], ["finished", p.finished], ["exit code", String(p.exitCode)], ["plots", p.plots.png ? `SVG + PNG at ${p.plots.dpi} dpi` : "SVG only"],
    );
  }
  return rows;
}

interface Vis {
  id: string;
  spec: Spec;
}

export interface ReportOptions {
  title?: string;
  /** Generated-at time shown on the page (default now). */
  now?: Date;
  /** Provenance of the rfdyn that builds the report. */
  generator?: { version: string; git: { commit: string; dirty: boolean } | null };
  /** Link target of a run's file (default: absolute file:// URL). */
  link?: (run: RunDir, path: string) => string;
}

/** The report page for the given runs. */
export function reportHtml(runs: readonly RunDir[], opts: ReportOptions = {}): string {
  const vis: Vis[] = [];
  const fileUrl = (run: RunDir, path: string) => fileUrlWith(opts.link, run, path);
  const embed = (spec: Spec, cls = ""): string => {
    if (!hasData(spec)) return `<div class="vis nodata">no data points (the run stopped before any were recorded)</div>`;
    const id = `vis-${vis.length}`;
    vis.push({ id, spec: makeInteractive(spec) });
    return `<div class="vis ${cls}" id="${id}" data-vis></div>`;
  };
  const title = opts.title ?? `rfdyn report — ${runs.map((r) => r.label).join(", ")}`;
  const ov = overlays(runs);
  const conv = conventionsFor(runs.map((r) => r.kind));
  const now = opts.now ?? new Date();

  const body: string[] = [];
  body.push(`<header><h1>${esc(title)}</h1><p class="meta">Generated ${esc(now.toISOString())}${opts.generator ? ` by rfdyn ${esc(opts.generator.version)}${opts.generator.git ? ` (git ${esc(opts.generator.git.commit.slice(0, 12))}${opts.generator.git.dirty ? ", modified" : ""})` : ""}` : ""}. Plots: hover for values, scroll to zoom, drag to pan, double-click to reset, click a legend entry to highlight a series (shift-click for several).</p></header>`);
  const nav = [`<a href="#summary">Summary</a>`, ...(ov.length ? [`<a href="#overlays">Overlays</a>`] : []), ...runs.map((r, k) => `<a href="#run-${k}">${esc(r.label)}</a>`), `<a href="#conventions">Conventions</a>`];
  body.push(`<nav>${nav.join(" · ")}</nav>`);

  // Summary.
  const rows = runs.map((r, k) => `<tr><td><a href="#run-${k}">${esc(r.label)}</a></td><td>${esc(r.kind)}</td><td class="status ${esc(r.status.split(" ")[0])}">${esc(r.status)}</td><td>${esc(fmtVal(seedOf(r)))}</td><td>${seconds(r) !== undefined ? esc(fmtNum(seconds(r)!)) + " s" : "—"}</td><td>${esc(r.message)}</td></tr>`);
  body.push(`<section id="summary"><h2>Summary</h2><table class="runs"><tr><th>run</th><th>kind</th><th>status</th><th>seed</th><th>wall time</th><th>message</th></tr>${rows.join("")}</table>`);
  const heads = runs.map((r) => ({ r, name: headlinePlot(r) })).filter((h) => h.name !== undefined);
  if (heads.length > 0) {
    body.push(`<div class="grid">${heads.map(({ r, name }) => `<figure>${embed(r.plots.find((p) => p.name === name)!.spec)}<figcaption>${esc(r.label)}: ${esc(name!)}</figcaption></figure>`).join("")}</div>`);
  }
  body.push(`</section>`);

  if (ov.length > 0) {
    body.push(`<section id="overlays"><h2>Overlays across runs</h2><p>Plots that several runs wrote under the same name, drawn together; series are named <code>run: series</code>.</p><div class="grid">`);
    for (const o of ov) body.push(`<figure>${embed(o.spec)}<figcaption>${esc(o.name)}: ${esc(o.runs.join(", "))}</figcaption></figure>`);
    body.push(`</div></section>`);
  }

  runs.forEach((r, k) => {
    body.push(`<section id="run-${k}" class="run"><h2>${esc(r.label)} <small>${esc(r.kind)} · <span class="status ${esc(r.status.split(" ")[0])}">${esc(r.status)}</span></small></h2>`);
    if (r.message) body.push(`<p>${esc(r.message)}</p>`);
    const desc = (r.model as { description?: string } | undefined)?.description;
    if (desc) body.push(`<p class="desc">${esc(desc)}</p>`);
    const warnings = r.result.warnings;
    if (Array.isArray(warnings) && warnings.length) body.push(`<ul class="warn">${warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>`);
    const kn = keyNumbers(r.result);
    if (kn.length) body.push(`<h3>Key numbers</h3>${table(kn)}`);
    if (r.plots.length) {
      body.push(`<h3>Plots</h3><div class="grid">`);
      for (const p of r.plots) {
        const links = [".svg", ".png", ".vl.json"].filter((ext) => r.files.some((f) => f.path === p.name + ext)).map((ext) => `<a href="${esc(fileUrl(r, p.name + ext))}">${ext.slice(1)}</a>`);
        body.push(`<figure>${embed(p.spec)}<figcaption>${esc(p.name)}${links.length ? ` · ${links.join(" ")}` : ""}</figcaption></figure>`);
      }
      body.push(`</div>`);
    }
    body.push(`<h3>Provenance</h3>${table(provenanceRows(r))}`);
    const rc = r.result.conventions;
    if (rc && typeof rc === "object") body.push(`<h3>Conventions of this result</h3>${table(Object.entries(rc as Record<string, unknown>).map(([a, b]) => [a, typeof b === "string" ? b : JSON.stringify(b)]))}`);
    body.push(`<details><summary>Model (as validated, stored in result.json)</summary><pre>${esc(JSON.stringify(r.model, null, 2))}</pre></details>`);
    if (r.modelFileText) body.push(`<details><summary>Model file ${esc(r.modelFileText.path)}</summary><pre>${esc(r.modelFileText.text)}</pre></details>`);
    body.push(`<details><summary>Files (${r.files.length})</summary><ul class="files">${r.files.map((f) => `<li><a href="${esc(fileUrl(r, f.path))}">${esc(f.path)}</a> <small>${f.bytes} B</small></li>`).join("")}</ul></details>`);
    body.push(`</section>`);
  });

  body.push(`<section id="conventions"><h2>Conventions</h2>${table(conv.common.map((c) => [c.term, c.text]), "conv")}`);
  for (const g of conv.byKind) body.push(`<h3>${esc(g.kind)}</h3>${table(g.items.map((c) => [c.term, c.text]), "conv")}`);
  body.push(`</section>`);

  const specs = JSON.stringify(Object.fromEntries(vis.map((v) => [v.id, v.spec]))).replace(/</g, "\\u003c");
  const lib = vegaScripts().map((s) => `<script data-lib="${s.name}">${scriptSafe(s.code)}</script>`).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
${lib}
</head><body>
${body.join("\n")}
<script type="application/json" id="rfdyn-specs">${specs}</script>
<script>${scriptSafe(BOOT)}</script>
</body></html>
`;
}

/** Whether a spec has at least one inline data row anywhere (empty plots are not drawn). */
export function hasData(s: Spec): boolean {
  const v = (s.data as { values?: unknown[] } | undefined)?.values;
  if (Array.isArray(v) && v.length > 0) return true;
  for (const k of ["layer", "hconcat", "vconcat", "concat"]) if (Array.isArray(s[k]) && (s[k] as Spec[]).some(hasData)) return true;
  return false;
}

/** URL of a run's file: `link` (writeReport: relative to the report), else an absolute file:// URL. */
function fileUrlWith(link: ReportOptions["link"], run: RunDir, path: string): string {
  if (link) return link(run, path).split("/").map(encodeURIComponent).join("/");
  return "file://" + join(run.dir, path).split("/").map(encodeURIComponent).join("/");
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1400px;padding:0 1.5em 3em;color:#222;line-height:1.4}
header h1{margin:.6em 0 .2em;font-size:1.6em} .meta{color:#555;font-size:.9em;margin-top:0}
nav{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #ddd;z-index:10;font-size:.95em}
h2{border-bottom:2px solid #4c78a8;padding-bottom:.15em;margin-top:1.6em} h2 small{font-weight:normal;color:#666;font-size:.6em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.9em} th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
table.kv th{background:#f6f6f6;font-weight:600;white-space:nowrap} table.conv td{max-width:70em}
.grid{display:flex;flex-wrap:wrap;gap:1em} figure{margin:0;border:1px solid #eee;padding:.5em;max-width:100%;overflow-x:auto}
figcaption{font-size:.85em;color:#555;margin-top:.3em}
.status.done,.status.steady,.status.event{color:#2a7d2a;font-weight:600} .status.interrupted,.status.diverged,.status.failed{color:#b22;font-weight:600}
pre{background:#f8f8f8;padding:.6em;overflow-x:auto;font-size:.85em;max-height:40em} details{margin:.4em 0}
.desc{color:#444;font-style:italic} ul.warn{color:#b22} ul.files{columns:2;font-size:.85em}
.vis-error{color:#b22;font-family:monospace;white-space:pre-wrap} .nodata{color:#888;font-style:italic;padding:2em}
`;

const BOOT = `
(function(){
  var specs = JSON.parse(document.getElementById('rfdyn-specs').textContent);
  var state = { views: {}, errors: [], ready: null };
  window.rfdynReport = state;
  var jobs = Object.keys(specs).map(function(id){
    var el = document.getElementById(id);
    return vegaEmbed(el, specs[id], { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } })
      .then(function(res){ state.views[id] = res.view; })
      .catch(function(e){ state.errors.push(id + ': ' + (e && e.message || e)); el.className += ' vis-error'; el.textContent = 'plot failed: ' + (e && e.message || e); console.error('rfdyn report: ' + id + ': ' + (e && e.message || e)); });
  });
  state.ready = Promise.all(jobs).then(function(){ return Object.keys(state.views).length; });
})();
`;
