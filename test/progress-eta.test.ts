import { describe, expect, it } from "vitest";
import { EtaEstimator, formatEta } from "../src/run/progress.js";

describe("progress ETA", () => {
  it("is unknown until progress is seen, then (1 − f)/rate for a steady run", () => {
    const e = new EtaEstimator(20);
    expect(e.update(0, 0)).toBeNaN();
    expect(e.update(1, 0)).toBeNaN(); // no progress yet: rate 0 → unknown, not Infinity
    // 1 % per second from t = 1 on: after many updates the ETA is the remaining percentage in s.
    let eta = NaN;
    for (let t = 2; t <= 60; t++) eta = e.update(t, (t - 1) / 100);
    expect(eta).toBeCloseTo(41, 6);
  });

  it("follows a change of speed smoothly (no jump from 54 to 4 minutes on one fast update)", () => {
    const e = new EtaEstimator(20);
    let f = 0;
    for (let t = 0; t <= 100; t++) { e.update(t, f); f += 0.001; } // 0.1 %/s: ETA ≈ 900 s
    const before = e.update(101, f);
    f += 0.02; // one update 20× faster than usual
    const after = e.update(102, f);
    expect(before).toBeGreaterThan(800);
    expect(after).toBeGreaterThan(0.5 * before); // the average moves by a fraction, not to 1/20
    expect(after).toBeLessThan(before);
  });

  it("formats seconds as s, m:s or h:m and unknown/negative as --", () => {
    expect(formatEta(NaN)).toBe("--");
    expect(formatEta(Infinity)).toBe("--");
    expect(formatEta(-3)).toBe("--");
    expect(formatEta(42.4)).toBe("42s");
    expect(formatEta(185)).toBe("3m05s");
    expect(formatEta(3720)).toBe("1h02m");
  });
});
