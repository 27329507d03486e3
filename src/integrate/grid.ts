/** Output-time grids for ODE integrations. */

/** 0 followed by `count − 1` log-spaced times from tMin to T. */
export function logTimes(T: number, count: number, tMin = T * 1e-4): number[] {
  if (!(T > 0)) throw new RangeError(`logTimes: T must be > 0 (got ${T})`);
  if (!(count >= 2)) throw new RangeError(`logTimes: count must be ≥ 2 (got ${count})`);
  if (!(tMin > 0 && tMin < T)) throw new RangeError(`logTimes: tMin must be in (0, T) (got ${tMin})`);
  const out = [0];
  const a = Math.log(tMin), b = Math.log(T), m = count - 1;
  for (let k = 0; k < m; k++) out.push(m === 1 ? T : Math.exp(a + ((b - a) * k) / (m - 1)));
  out[out.length - 1] = T;
  return out;
}
