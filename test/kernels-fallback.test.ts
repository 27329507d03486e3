/**
 * Fallback when the SIMD binary is absent (e.g. an install without AssemblyScript, where
 * scripts/build-wasm.mjs writes `WASM_KERNELS_BASE64 = null`): the kernels select the TS backend,
 * still compute correctly, and forcing wasm fails with a message naming the cause.
 */
import { describe, expect, it, vi } from "vitest";

vi.mock("../src/kernels/wasm-binary.js", () => ({ WASM_KERNELS_HASH: "none", WASM_KERNELS_BASE64: null }));

describe("kernels without the wasm binary", () => {
  it("select the TS backend, compute, and refuse wasm-simd with the reason", async () => {
    const k = await import("../src/kernels/index.js");
    if (process.env.RFDYN_KERNELS === "wasm") return; // forcing wasm would (rightly) throw at first use
    expect(k.simdAvailable()).toBe(false);
    expect(k.kernelBackend()).toBe("ts");
    expect(k.simdKernels()).toBe(null);
    const C = new Float64Array(4);
    k.gemm(false, false, 2, 2, 2, 1, Float64Array.of(1, 2, 3, 4), Float64Array.of(5, 6, 7, 8), 0, C);
    expect(Array.from(C)).toEqual([19, 22, 43, 50]);
    expect(() => k.setKernelBackend("wasm-simd")).toThrow(/unavailable: the kernels binary was not built/);
    expect(k.pin(new Float64Array(3))).toBe(false);
  });
});
