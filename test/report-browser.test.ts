/**
 * The HTML report in a real browser: Debian's chromium, headless, driven by playwright-core with the
 * system executable.  The report of five quick runs (LSG24 ODE and SGD — overlaid —, the IG22
 * Fig. 4B Gaussian-only flow, IG22 Fig. 1 simulate, an LSG24 kurtosis sweep) is loaded from
 * file://, and:
 *   - every plot renders marks (SVG line/symbol/rect/rule elements counted per plot),
 *   - the console shows no error and no page error, no request leaves file:// (offline),
 *   - hovering a data point of one plot shows a tooltip with its values,
 *   - a screenshot is kept as test-artifacts/report.png.
 * Without /usr/bin/chromium the test is skipped with a message — except in CI (CI set), where .ci/run
 * installs chromium and a missing browser is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeReport } from "../src/report/index.js";
import { makeReportFixture, type ReportFixture } from "./report-fixtures.js";

const CHROMIUM = process.env.RFDYN_CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const inCI = Boolean(process.env.CI);
if (!haveChromium && !inCI) {
  process.stderr.write(`report-browser.test.ts: skipped — no chromium at ${CHROMIUM} (apt-get install -y chromium, or set RFDYN_CHROMIUM)\n`);
}
const artifacts = join(__dirname, "..", "test-artifacts");

describe.skipIf(!haveChromium && !inCI)("report in headless chromium", () => {
  let fx: ReportFixture;
  let report: string;
  let profile: string;
  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI: chromium missing at ${CHROMIUM} (.ci/run should have installed it)`);
    fx = await makeReportFixture();
    report = join(fx.base, "report.html");
    writeReport(Object.values(fx.dirs), report, { title: "rfdyn browser test report" });
    profile = mkdtempSync(join(tmpdir(), "rfdyn-chromium-profile-"));
  }, 300_000);
  afterAll(() => {
    if (fx) rmSync(fx.base, { recursive: true, force: true });
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("loads from file://, draws marks in every plot, no console errors, offline, tooltips on hover; screenshot kept", async () => {
    const { chromium } = await import("playwright-core");
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1400, height: 1000 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const consoleErrors: string[] = [];
      const external: string[] = [];
      page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
      page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
      page.on("request", (r) => { if (!/^(file|data|blob|about):/.test(r.url())) external.push(r.url()); });
      await page.goto(pathToFileURL(report).href, { waitUntil: "load" });
      // Code in page.evaluate runs in the page (the test's tsconfig has no DOM types: `any` there).
      const drawn = await page.evaluate(() => (globalThis as any).rfdynReport.ready as Promise<number>);
      const state = await page.evaluate(() => {
        const g = globalThis as any;
        const r = g.rfdynReport as { errors: string[] };
        const vis = [...g.document.querySelectorAll("[data-vis]")] as any[];
        return {
          errors: r.errors,
          total: vis.length,
          marks: vis.map((el) => ({
            id: el.id,
            n: el.querySelectorAll("svg .mark-line path, svg .mark-symbol path, svg .mark-rect path, svg .mark-rule line, svg .mark-area path").length,
          })),
        };
      });
      expect(state.errors).toEqual([]);
      expect(state.total).toBeGreaterThanOrEqual(15);
      expect(drawn).toBe(state.total);
      const empty = state.marks.filter((m) => m.n === 0);
      expect(empty, `plots without marks: ${empty.map((m) => m.id).join(", ")}`).toEqual([]);

      // Tooltip: hover the middle data point of the first plot that has tooltip points.
      const points = page.locator("[data-vis] svg .mark-symbol path");
      expect(await points.count()).toBeGreaterThan(0);
      const target = points.nth(Math.floor((await page.locator("[data-vis]").first().locator("svg .mark-symbol path").count()) / 2));
      await target.scrollIntoViewIfNeeded();
      const box = (await target.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const tip = page.locator("#vg-tooltip-element.visible");
      await tip.waitFor({ state: "visible", timeout: 10_000 });
      const text = await tip.innerText();
      expect(text).toMatch(/series/);
      expect(text).toMatch(/\d/);

      mkdirSync(artifacts, { recursive: true });
      await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
      await page.mouse.move(5, 5);
      await page.screenshot({ path: join(artifacts, "report.png"), fullPage: false });
      expect(existsSync(join(artifacts, "report.png"))).toBe(true);
      expect(consoleErrors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await context.close();
    }
  }, 300_000);
});
