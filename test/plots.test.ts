/**
 * Publication figures: the axis policy (src/plot/axes.ts) and PNG output (src/plot/png.ts,
 * src/io/plots.ts).  Scale domains are read back from a compiled Vega view, so the tests see what a
 * reader sees, not only the spec.
 */
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { decideAxis, tidyAxes } from "../src/plot/axes.js";
import { lineChart, type VlSpec } from "../src/plot/render.js";
import { pngDpi, pngHasFonts, pngSize, svgToPng, withDpi } from "../src/plot/png.js";
import { plotOutput, setPlotOutput, writePlot } from "../src/io/plots.js";

async function domains(spec: VlSpec): Promise<{ x: number[]; y: number[]; yType: string }> {
  const [vl, vega] = await Promise.all([import("vega-lite"), import("vega")]);
  const view = new vega.View(vega.parse(vl.compile(tidyAxes(spec) as never).spec), { renderer: "none" });
  await view.runAsync();
  const x = view.scale("x"), y = view.scale("y");
  const out = { x: x.domain() as number[], y: y.domain() as number[], yType: (y as { type?: string }).type ?? "" };
  view.finalize();
  return out;
}

describe("axis policy", () => {
  it("a flat curve is drawn flat: the IG22 Fig. 4B Gaussian-only IPR-vs-gain case keeps 0 on the y axis and says it is flat", async () => {
    const g = [0.1, 0.3, 1, 2, 3, 5, 10, 30, 100];
    const ipr = g.map((_, k) => 0.01 + 1.2e-6 * (k % 3) / 2);
    const spec = lineChart([{ name: "IPR", x: g, y: ipr }, { name: "1/D", x: g, y: g.map(() => 0.01) }], { title: "IPR vs gain", xLabel: "gain g", yLabel: "IPR", logX: true });
    const d = await domains(spec);
    // Before: zero: false zoomed the axis to 0.0100000–0.0100012.
    expect(d.y[0]).toBe(0);
    expect(d.y[1]).toBeGreaterThanOrEqual(0.0100012);
    expect(d.y[1]).toBeLessThan(0.02);
    const t = tidyAxes(spec).title as { text: string; subtitle: string[] };
    expect(t.text).toBe("IPR vs gain");
    expect(t.subtitle.join(" ")).toMatch(/y constant to a relative 1\.2e-4/);
  });

  it("data filling most of the 0-including range keeps 0; a narrow band away from 0 is zoomed and the subtitle says so", async () => {
    const x = [0, 1, 2, 3];
    expect((await domains(lineChart([{ name: "a", x, y: [0.2, 0.5, 0.7, 0.9] }], { xLabel: "t", yLabel: "IPR" }))).y[0]).toBe(0);
    const zoomed = lineChart([{ name: "a", x, y: [0.95, 0.96, 0.97, 0.99] }], { title: "accuracy", xLabel: "t", yLabel: "acc" });
    const d = await domains(zoomed);
    expect(d.y[0]).toBeGreaterThan(0.9);
    expect(d.y[1]).toBeLessThanOrEqual(1);
    expect((tidyAxes(zoomed).title as { subtitle: string[] }).subtitle).toEqual(["y axis does not start at 0"]);
    // Mixed signs: 0 is inside anyway, no note.
    const mixed = tidyAxes(lineChart([{ name: "a", x, y: [-1, 2, 3, 1] }], { title: "z", xLabel: "t", yLabel: "z" }));
    expect(mixed.title).toBe("z");
  });

  it("positive data spanning ≥ 2 decades in y (≥ 3 in x) gets log axes; explicit scales are left alone", async () => {
    const x = [1, 10, 100, 1000, 10000];
    const spec = lineChart([{ name: "err", x, y: [1, 0.3, 0.05, 0.01, 0.004] }], { xLabel: "t", yLabel: "ε" });
    const t = tidyAxes(spec) as { encoding: { x: { scale: { type?: string } }; y: { scale: { type?: string } } } };
    expect(t.encoding.x.scale.type).toBe("log");
    expect(t.encoding.y.scale.type).toBe("log");
    expect((await domains(spec)).yType).toBe("log");
    // One decade: linear, with 0.
    expect(decideAxis([0.1, 0.5, 1], "y")).toEqual({ scale: { zero: true } });
    // A negative value forbids log.
    expect(decideAxis([-1, 1, 1000], "y").scale?.type).toBeUndefined();
    const fixed = { mark: "line", data: { values: [{ x: 1, y: 5 }, { x: 2, y: 5 }] }, encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative", scale: { domain: [4, 6] } } } };
    expect((tidyAxes(fixed) as typeof fixed).encoding.y).toEqual(fixed.encoding.y);
    expect(tidyAxes(fixed).title).toBeUndefined();
  });

  it("error-bar ends do not switch a layered chart to log, but do count for the baseline", () => {
    const values = [{ x: 1, y: 0.5, lo: 0.004, hi: 1 }, { x: 2, y: 0.2, lo: 0.1, hi: 0.3 }];
    const xs = { field: "x", type: "quantitative" };
    const spec = { data: { values }, layer: [{ mark: "line", encoding: { x: xs, y: { field: "y", type: "quantitative" } } }, { mark: "rule", encoding: { x: xs, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } }] };
    const t = tidyAxes(spec) as { layer: { encoding: { y: { scale: unknown } } }[] };
    expect(t.layer[0].encoding.y.scale).toEqual({ zero: true });
    expect(t.layer[1].encoding.y.scale).toEqual({ zero: true });
  });
});

describe("PNG output", () => {
  it("has fonts: text renders to visible pixels (without a font resvg draws no text)", async () => {
    expect(await pngHasFonts(), "no system font found by resvg: install fonts-dejavu-core (Debian) so PNG plots have text").toBe(true);
  });

  it("renders at the requested DPI (size W·dpi/96, pHYs chunk) and draws the axis labels", async () => {
    const spec = lineChart([{ name: "a", x: [0, 1, 2], y: [0, 1, 4] }], { title: "Title", xLabel: "xlabel", yLabel: "ylabel", width: 300, height: 200 });
    const { renderSvg } = await import("../src/plot/render.js");
    const svg = await renderSvg(spec);
    const w = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
    for (const dpi of [96, 200]) {
      const png = await svgToPng(svg, { dpi });
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      expect(pngSize(png).width).toBe(Math.round((w * dpi) / 96));
      expect(pngDpi(png)).toBeCloseTo(dpi, 1);
    }
    // The same SVG with its text removed has fewer dark pixels: text is drawn.
    const dark = (s: string) => {
      const px = new Resvg(s, { background: "white", font: { loadSystemFonts: true, sansSerifFamily: "DejaVu Sans", defaultFontFamily: "DejaVu Sans" } }).render().pixels;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] < 100 && px[i + 1] < 100 && px[i + 2] < 100) n++;
      return n;
    };
    expect(dark(svg)).toBeGreaterThan(dark(svg.replace(/<text[^>]*>[^<]*<\/text>/g, "")) + 200);
    await expect(svgToPng(svg, { dpi: 5 })).rejects.toThrow(/dpi/);
  });

  it("withDpi replaces an existing pHYs chunk and keeps a valid PNG", async () => {
    const png = await svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>', { dpi: 300 });
    const again = withDpi(png, 72);
    expect(pngDpi(again)).toBeCloseTo(72, 1);
    expect(again.length).toBe(png.length);
    expect(again.subarray(-8, -4).toString()).toBe("IEND");
  });

  it("writePlot writes .vl.json, .svg and .png (with the axis policy in the spec); --no-png and bad --dpi", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rfdyn-plots-"));
    const saved = plotOutput();
    try {
      const spec = lineChart([{ name: "a", x: [1, 2, 3], y: [0.0100000, 0.0100012, 0.0100006] }], { title: "flat", xLabel: "g", yLabel: "IPR" });
      setPlotOutput({ png: true, dpi: 120 });
      await writePlot(join(dir, "a"), spec);
      const vl = JSON.parse(readFileSync(join(dir, "a.vl.json"), "utf8"));
      expect(vl.encoding.y.scale).toEqual({ zero: true });
      expect(pngDpi(readFileSync(join(dir, "a.png")))).toBeCloseTo(120, 1);
      setPlotOutput({ png: false });
      await writePlot(join(dir, "b"), spec);
      expect(existsSync(join(dir, "b.svg"))).toBe(true);
      expect(existsSync(join(dir, "b.png"))).toBe(false);
      expect(() => setPlotOutput({ dpi: 0 })).toThrow(/--dpi: must be a number in \[36, 1200\]/);
    } finally {
      setPlotOutput(saved);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
