/**
 * Summaries of a list of numbers: quantiles (linear interpolation between order statistics, as
 * numpy's default), median and quartiles, mean and standard error.  Non-finite values are dropped.
 */

/** The q-quantile (0 ≤ q ≤ 1) of an ascending list, interpolating linearly; NaN if empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The finite values of a list, ascending. */
export function sortedFinite(xs: Iterable<number>): number[] {
  return Array.from(xs).filter(Number.isFinite).sort((a, b) => a - b);
}

/** Median and quartiles of the finite values (NaN if there are none). */
export function quartiles(xs: Iterable<number>): { median: number; q25: number; q75: number } {
  const s = sortedFinite(xs);
  return { median: quantileSorted(s, 0.5), q25: quantileSorted(s, 0.25), q75: quantileSorted(s, 0.75) };
}

export interface Summary {
  /** Number of finite values. */
  n: number;
  median: number;
  q25: number;
  q75: number;
  mean: number;
  /** Standard error of the mean, √(s²/n) with the unbiased s² (NaN for n < 2). */
  stderr: number;
}

/**
 * Mean, standard error of the mean √(s²/n) (unbiased s²; NaN for n < 2) and count of the finite
 * values, summed in the given order (NaN mean if there are none).
 */
export function meanSe(xs: readonly number[]): { mean: number; se: number; n: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: NaN, se: NaN, n };
  const m = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean: m, se: NaN, n };
  const s2 = v.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1);
  return { mean: m, se: Math.sqrt(s2 / n), n };
}

/** Median, quartiles, mean and standard error of the finite values (mean summed in ascending order). */
export function summarise(xs: Iterable<number>): Summary {
  const s = sortedFinite(xs);
  const { n, mean, se } = meanSe(s);
  return { n, median: quantileSorted(s, 0.5), q25: quantileSorted(s, 0.25), q75: quantileSorted(s, 0.75), mean, stderr: se };
}
