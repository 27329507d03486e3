/**
 * The HTML report without a browser: reading run directories, overlays, interactive specs, the page
 * being self-contained (no external URL is loaded), provenance and conventions shown; bad input.
 * The page in a real browser: test/report-browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeInteractive, overlays, readRunDirs, reportHtml, writeReport, keyNumbers } from "../src/report/index.js";
import { makeProvenance, writeProvenance } from "../src/io/provenance.js";
import { makeReportFixture, type ReportFixture } from "./report-fixtures.js";

let fx: ReportFixture;
beforeAll(async () => {
  fx = await makeReportFixture();
}, 300_000);
afterAll(() => rmSync(fx.base, { recursive: true, force: true }));

describe("report", () => {
  it("reads run directories: kind, status, every plot spec, the files; labels stay unique", () => {
    const runs = readRunDirs([fx.dirs.lsgOde, fx.dirs.flow, fx.dirs.sweep]);
    expect(runs.map((r) => r.kind)).toEqual(["lsg", "flow", "sweep"]);
    expect(runs.map((r) => r.status)).toEqual(["done", "done", "done"]);
    expect(runs[0].plots.map((p) => p.name).sort()).toEqual(["ipr", "rf"]);
    expect(runs[1].plots.map((p) => p.name).sort()).toEqual(["ipr_gain", "ipr_t", "w_final"]);
    expect(runs[0].files.map((f) => f.path)).toContain("trajectory.csv");
    const two = readRunDirs([fx.dirs.flow, fx.dirs.flow]);
    expect(new Set(two.map((r) => r.label)).size).toBe(2);
  });

  it("rejects a directory that is not a run, with a one-line message", () => {
    const empty = mkdtempSync(join(tmpdir(), "rfdyn-report-empty-"));
    try {
      expect(() => readRunDirs([empty])).toThrow(/report: .* holds no result\.json/);
      expect(() => readRunDirs([join(empty, "nope")])).toThrow(/report: .* is not a directory/);
      expect(() => readRunDirs([])).toThrow(/at least one/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("overlays the plots two runs share (LSG24 ODE next to SGD), series named run: series", () => {
    const runs = readRunDirs([fx.dirs.lsgOde, fx.dirs.lsgSgd, fx.dirs.flow]);
    const ov = overlays(runs);
    expect(ov.map((o) => o.name).sort()).toEqual(["ipr", "rf"]);
    const ipr = ov.find((o) => o.name === "ipr")!;
    const series = new Set((ipr.spec.data as { values: { series: string }[] }).values.map((v) => v.series));
    expect([...series].sort()).toEqual(["lsg-ode: IPR", "lsg-sgd: IPR"]);
    // Every row of both runs is there.
    const n = runs.slice(0, 2).reduce((a, r) => a + (r.plots.find((p) => p.name === "ipr")!.spec.data as { values: unknown[] }).values.length, 0);
    expect((ipr.spec.data as { values: unknown[] }).values.length).toBe(n);
    expect(overlays(runs.slice(0, 1))).toEqual([]);
  });

  it("makes line charts interactive: tooltip points (thinned), zoom bound to scales, legend toggle", () => {
    const values = Array.from({ length: 1000 }, (_, i) => ({ series: i < 500 ? "a" : "b", x: i, y: i * i }));
    const spec = { data: { values }, mark: { type: "line" }, encoding: { x: { field: "x", type: "quantitative", title: "t" }, y: { field: "y", type: "quantitative" }, color: { field: "series", type: "nominal" } } };
    const out = makeInteractive(spec) as { layer: { params?: { bind: unknown; select: unknown }[]; encoding?: { tooltip?: { field: string; title: string }[] } }[]; data: { values: { __tip: boolean }[] } };
    expect(out.layer).toHaveLength(2);
    expect(out.layer[0].params!.map((p) => p.bind)).toEqual(["scales", "legend"]);
    expect(out.layer[1].encoding!.tooltip!.map((t) => t.title)).toEqual(["series", "t", "y"]);
    const tips = out.data.values.filter((v) => v.__tip).length;
    expect(tips).toBeGreaterThan(300);
    expect(tips).toBeLessThanOrEqual(2 * 400);
    // A heat map keeps its marks and gets data tooltips only.
    const heat = makeInteractive({ data: { values: [{ r: 0, c: 0, v: 1 }] }, mark: "rect", encoding: { x: { field: "c", type: "ordinal" }, y: { field: "r", type: "ordinal" }, color: { field: "v", type: "quantitative" } } });
    expect(heat.mark).toEqual({ type: "rect", tooltip: { content: "data" } });
    expect(heat.params).toBeUndefined();
  });

  it("writes one self-contained page: Vega inlined, no external script, stylesheet or font; provenance, model and conventions shown", () => {
    const p = makeProvenance({ modelFile: join(__dirname, "fixtures", "golden", "lsg24-single-ode.model.json"), kind: "lsg", seed: 1, started: new Date(Date.now() - 1500), status: "done", message: "ok", exitCode: 0, threads: 1, plots: { png: true, dpi: 150 } });
    writeProvenance(fx.dirs.lsgOde, p);
    const out = join(fx.base, "report.html");
    const runs = writeReport([fx.dirs.lsgOde, fx.dirs.lsgSgd], out);
    const html = readFileSync(out, "utf8");
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=["']?https?:/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    for (const lib of ["vega", "vega-lite", "vega-embed"]) expect(html).toContain(`<script data-lib="${lib}">`);
    // Exactly one </script> per opened <script>: nothing inlined closes its element early.
    expect(html.match(/<script\b/g)!.length).toBe(html.match(/<\/script>/g)!.length);
    const specs = JSON.parse(/<script type="application\/json" id="rfdyn-specs">([\s\S]*?)<\/script>/.exec(html)![1]) as Record<string, unknown>;
    // Summary (2 headline) + overlays (2) + every plot of both runs (2 + 2).
    expect(Object.keys(specs)).toHaveLength(2 + 2 + runs.reduce((a, r) => a + r.plots.length, 0));
    expect(html).toContain(p.git ? p.git.commit : "not a git checkout");
    expect(html).toContain(process.version);
    expect(html).toContain("9afee5d0"); // sha256 prefix of the model file
    expect(html).toContain("Golden-test quick variant of models/lsg24-single-ode.json");
    expect(html).toContain("not recorded (run not made by `rfdyn run`)"); // lsg-sgd has no provenance
    expect(html).toMatch(/IPR\(w\) = Σ w_i⁴/);
    expect(html).toMatch(/t = η·steps\/2/);
    expect(html).toContain('href="lsg-ode/trajectory.csv"');
  });

  it("key numbers are the scalar leaves of summary/final", () => {
    expect(keyNumbers({ summary: { ipr: 0.123456789, n: 3, nested: { a: [1, 2], s: "x" }, symbolic: { c2: "..." } } })).toEqual([["summary.ipr", "0.123457"], ["summary.n", "3"], ["summary.nested.a", "[1, 2]"], ["summary.nested.s", "x"]]);
  });

  it("an interrupted run still reports (status shown)", () => {
    const res = JSON.parse(readFileSync(join(fx.dirs.flow, "result.json"), "utf8"));
    const dir = mkdtempSync(join(tmpdir(), "rfdyn-report-int-"));
    try {
      writeFileSync(join(dir, "result.json"), JSON.stringify({ ...res, status: "interrupted", message: "interrupted at t = 3" }));
      const html = reportHtml(readRunDirs([dir]));
      expect(html).toContain('class="status interrupted"');
      expect(html).toContain("interrupted at t = 3");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("rfdyn report (CLI)", () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "src/cli/index.ts", ...args], { cwd: join(__dirname, ".."), encoding: "utf8" });
  it("writes the page for several directories; a directory that is not a run exits 2 with one line", () => {
    const out = join(fx.base, "cli-report.html");
    const ok = cli(["report", fx.dirs.flow, fx.dirs.sweep, "-o", out, "--title", "two runs"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/report: 2 run\(s\), \d+ plot\(s\) →/);
    expect(readFileSync(out, "utf8")).toContain("<title>two runs</title>");
    const bad = cli(["report", join(fx.base, "missing")]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/^rfdyn: report: .* is not a directory/);
  }, 120_000);
});

describe("reproduction gallery entries", () => {
  it("every entry names shipped models that have golden quick variants (so npm test keeps their numbers put)", async () => {
    const { ENTRIES } = await import("../scripts/reproduce-entries.js");
    const root = join(__dirname, "..");
    const names = ENTRIES.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const want of ["ig22-fig1", "ig22-fig3", "ig22-fig4b", "ig22-fig4c", "ig22-fig4e", "ig22-figS2", "lsg24-ode", "lsg24-nlgp-sgd", "lsg24-kur-sgd", "saad-solla-plateau"]) expect(names).toContain(want);
    for (const e of ENTRIES) {
      for (const m of e.models) {
        expect(existsSync(join(root, "models", `${m}.json`)), m).toBe(true);
        expect(existsSync(join(root, "test", "fixtures", "golden", `${m}.model.json`)), m).toBe(true);
      }
      for (const m of Object.keys(e.figures)) expect(e.models).toContain(m);
    }
  });
});
