/**
 * Every model file shipped in models/ validates against the schema of its kind (sweeps: every grid
 * point's model), carries a description, and names only known fields — so `rfdyn run models/X.json`
 * never fails on input for a file we ship.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseWith } from "../src/io/schema/common.js";
import { simulateSchema } from "../src/io/schema/simulate.js";
import { flowSchema } from "../src/io/schema/flow.js";
import { parseCpModel } from "../src/io/schema/cp.js";
import { parseAttractorsModel } from "../src/io/schema/attractors.js";
import { parseLsgModel } from "../src/io/schema/lsg.js";
import { parseCompareModel, parseOdeModel } from "../src/io/schema/ode.js";
import { sweepSchema } from "../src/io/schema/sweep.js";
import { enumerateGrid, pointModel, runSeed } from "../src/io/sweep.js";

const dir = join(__dirname, "..", "models");
const parsers: Record<string, (m: unknown) => unknown> = {
  simulate: (m) => parseWith(simulateSchema, m),
  flow: (m) => parseWith(flowSchema, m),
  cp: parseCpModel,
  attractors: parseAttractorsModel,
  lsg: parseLsgModel,
  ode: parseOdeModel,
  compare: parseCompareModel,
};

describe("shipped model files", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  it("there are model files for every kind", () => {
    const kinds = new Set(files.map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")).kind));
    for (const k of [...Object.keys(parsers), "sweep"]) expect(kinds.has(k), k).toBe(true);
  });
  for (const f of files) {
    it(`${f} validates and describes itself`, () => {
      const raw = JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>;
      expect(String(raw.description ?? "").length, "description").toBeGreaterThan(80);
      if (raw.kind === "sweep") {
        const sw = parseWith(sweepSchema, raw);
        expect(typeof sw.base).toBe("object");
        const base = sw.base as Record<string, unknown>;
        const parse = parsers[String(base.kind)];
        expect(parse, `base kind ${String(base.kind)}`).toBeDefined();
        const pts = enumerateGrid(sw);
        expect(pts.length).toBeGreaterThan(0);
        for (let p = 0; p < pts.length; p++) expect(() => parse(pointModel(sw, base, pts[p], runSeed(sw, p, 0)))).not.toThrow();
      } else {
        const parse = parsers[String(raw.kind)];
        expect(parse, `kind ${String(raw.kind)}`).toBeDefined();
        expect(() => parse(raw)).not.toThrow();
      }
    });
  }
});
