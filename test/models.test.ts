/**
 * Every model file shipped in models/ validates against the schema of its kind (sweeps: every grid
 * point's model), carries a description, and names only known fields — so `rfdyn run models/X.json`
 * never fails on input for a file we ship.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { enumerateGrid, pointModel, runSeed } from "../src/experiments/sweep-grid.js";
import { experiment, kinds, type Kind } from "../src/experiments/index.js";
import { inlineReferences } from "../src/io/read-model.js";
import type { SweepRunModel } from "../src/experiments/sweep.js";

const dir = join(__dirname, "..", "models");
const parse = async (m: Record<string, unknown>) => (await experiment(m.kind as Kind)).parse(m);

describe("shipped model files", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  it("there are model files for every kind", () => {
    const shipped = new Set(files.map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")).kind));
    for (const k of kinds) expect(shipped.has(k), k).toBe(true);
  });
  for (const f of files) {
    it(`${f} validates (with its referenced files loaded) and describes itself`, async () => {
      const raw = inlineReferences(JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>, dir);
      expect(String(raw.description ?? "").length, "description").toBeGreaterThan(80);
      const model = await parse(raw);
      if (raw.kind === "sweep") {
        const sw = model as SweepRunModel;
        const pts = enumerateGrid(sw);
        expect(pts.length).toBeGreaterThan(0);
        for (let p = 0; p < pts.length; p++) await parse(pointModel(sw, sw.base, pts[p], runSeed(sw, p, 0)));
      }
    });
  }
});
