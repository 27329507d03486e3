/** Types for scripts/golden-extract.mjs (plain Node ESM, imported by test/models-golden.test.ts). */
export type GoldenMap = Record<string, number | string>;
export function isExcludedKey(key: string): boolean;
export function parseCsv(text: string): string[][];
export function decodeNpy(buf: Buffer): { descr: string; shape: number[]; data: ArrayLike<number> };
export function extractGolden(outDir: string): GoldenMap;
export function compareGolden(expected: GoldenMap, got: GoldenMap, relTol?: number): string[];
