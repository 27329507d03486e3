/**
 * Golden numbers: every model kind, through a quick variant of each shipped model file
 * (test/fixtures/golden/<name>.model.json), must reproduce the numbers captured before the CLI →
 * src/experiments refactor (<name>.expected.json): integers and strings exactly, other numbers to a
 * relative 1e-12 (the refactor must reproduce the bits; the tolerance only forgives nothing real).
 * What is compared (result.json leaves, first/last row and column sums of every CSV, checksums of
 * every .npy) and what is excluded (wall times, version, paths, prose) is defined in
 * scripts/golden-extract.mjs.  Re-capture: npm run build && node scripts/golden-capture.mjs --check.
 */
import { describe, expect, it } from "vitest";
import { availableParallelism, tmpdir } from "node:os";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compareGolden, extractGolden, type GoldenMap } from "../scripts/golden-extract.mjs";
import { runModel } from "../src/experiments/index.js";
import { loadModel } from "../src/io/read-model.js";
import { writeResult } from "../src/io/results/index.js";
import { writeSweepResult } from "../src/io/results/sweep.js";

const root = join(__dirname, "..");
const fixtures = join(root, "test", "fixtures", "golden");

/**
 * Run one fixture model through the library, as `rfdyn run` does (read → inline referenced files →
 * run → write), into a fresh directory, and return the extracted golden map.
 */
async function runGolden(fixture: string): Promise<GoldenMap> {
  const out = mkdtempSync(join(tmpdir(), "rfdyn-golden-"));
  try {
    const result = await runModel(loadModel(join(root, fixture)));
    if (result.status !== "done" && result.status !== "steady" && result.status !== "event") throw new Error(`${fixture}: ${result.status}: ${result.message}`);
    if (result.kind === "sweep") await writeSweepResult(out, result, fixture);
    else await writeResult(out, result);
    return extractGolden(out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** At most `n` runs at a time (the tests below are concurrent; each run is one CPU-bound process). */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
const limit = limiter(Math.max(1, Math.min(4, availableParallelism())));

/**
 * RFDYN_GOLDEN_UPDATE=name,name… rewrites those fixtures' expected numbers from this run (after a
 * deliberate change of numbers: say why in the commit).  The comparison still runs against the old
 * numbers, so the run that updates also shows what changed.
 */
const update = new Set((process.env.RFDYN_GOLDEN_UPDATE ?? "").split(",").filter(Boolean));
function sortKeys(m: GoldenMap): GoldenMap {
  return Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]]));
}

const names = readdirSync(fixtures).filter((f) => f.endsWith(".model.json")).map((f) => f.slice(0, -".model.json".length)).sort();

describe("golden numbers of the quick model variants", () => {
  it("there is a quick variant with expected numbers for every shipped model file", () => {
    const shipped = readdirSync(join(root, "models")).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -".json".length)).sort();
    expect(names).toEqual(shipped);
    for (const n of names) expect(readdirSync(fixtures), n).toContain(`${n}.expected.json`);
  });

  for (const name of names) {
    it.concurrent(name, async () => {
      const expected = JSON.parse(readFileSync(join(fixtures, `${name}.expected.json`), "utf8")) as GoldenMap;
      const got = await limit(() => runGolden(join("test", "fixtures", "golden", `${name}.model.json`)));
      if (update.has(name)) writeFileSync(join(fixtures, `${name}.expected.json`), JSON.stringify(sortKeys(got), null, 1) + "\n");
      const problems = compareGolden(expected, got, 1e-12);
      if (problems.length > 0) {
        const shown = problems.slice(0, 25).join("\n  ");
        expect.fail(`${name}: ${problems.length} of ${Object.keys(expected).length} golden values differ${problems.length > 25 ? " (first 25)" : ""}:\n  ${shown}`);
      }
    }, 600_000);
  }
});
