/**
 * Seeded, bit-reproducible pseudo-random numbers for hot loops.
 *
 * Generator: xoshiro128** (Blackman & Vigna), four 32-bit words, seeded by SplitMix32 so that any
 * integer seed (and any (seed, stream) pair) gives a well-mixed state.  Uniform doubles carry 53
 * random bits (two outputs).  Normals use the Marsaglia–Tsang ziggurat (128 layers) with the exact
 * tail algorithm, so every normal is exact in distribution and the stream depends only on the seed.
 */

function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) | 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

// Ziggurat tables (Marsaglia & Tsang 2000, N = 128, R = 3.442619855899, V = 9.91256303526217e-3).
const ZIG_N = 128;
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const KN = new Uint32Array(ZIG_N);
const WN = new Float64Array(ZIG_N);
const FN = new Float64Array(ZIG_N);
(function buildZiggurat() {
  const m1 = 16777216.0; // 2^24: magnitudes use the top 25 bits, the layer index the low 7
  let dn = ZIG_R;
  let tn = dn;
  const q = ZIG_V / Math.exp(-0.5 * dn * dn);
  KN[0] = Math.floor((dn / q) * m1);
  KN[1] = 0;
  WN[0] = q / m1;
  WN[ZIG_N - 1] = dn / m1;
  FN[0] = 1.0;
  FN[ZIG_N - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = ZIG_N - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = Math.floor((dn / tn) * m1);
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / m1;
  }
})();

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seed with any integer (safe-integer range); equal seeds give identical streams. */
  constructor(seed = 0, stream = 0) {
    const st = { x: (seed | 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x27d4eb2d) };
    const s2 = { x: Math.imul(stream | 0, 0x632be5ab) ^ 0x5bd1e995 };
    this.a = splitmix32(st) ^ splitmix32(s2);
    this.b = splitmix32(st) ^ splitmix32(s2);
    this.c = splitmix32(st) ^ splitmix32(s2);
    this.d = splitmix32(st) ^ splitmix32(s2);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Independent generator for stream `k` of a seed (e.g. one per SGD seed or per worker). */
  static stream(seed: number, k: number): Rng {
    return new Rng(seed, k + 1);
  }

  /** Exact copy of the current state. */
  clone(): Rng {
    const r = new Rng(0);
    r.a = this.a; r.b = this.b; r.c = this.c; r.d = this.d;
    return r;
  }

  /** Current state (for checkpointing). */
  getState(): [number, number, number, number] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  setState(s: readonly number[]): void {
    // The all-zero state is a fixed point of xoshiro (it would emit 0 forever).
    if (s.length !== 4 || (s[0] | s[1] | s[2] | s[3]) === 0) throw new RangeError(`Rng.setState: need four 32-bit words, not all zero (got [${s.join(", ")}])`);
    [this.a, this.b, this.c, this.d] = s as [number, number, number, number];
  }

  /** Next raw 32-bit unsigned output (xoshiro128**). */
  nextUint32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform double in (0, 1). */
  uniformOpen(): number {
    // P(u = 0) = 2^−53 per draw: 64 zeros in a row mean a broken generator, not bad luck.
    for (let it = 0; it < 64; it++) {
      const u = this.uniform();
      if (u !== 0) return u;
    }
    throw new Error("Rng.uniformOpen: 64 consecutive draws of exactly 0 (degenerate generator state?)");
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal by the ziggurat method. */
  normal(): number {
    // Each pass is rejected with probability ≈ 1.2 %; 1000 rejections in a row mean a broken generator.
    for (let pass = 0; pass < 1000; pass++) {
      const bits = this.nextUint32() | 0;
      const iz = bits & 127;
      const hz = bits >> 7; // signed 25-bit, independent of the layer index
      if (Math.abs(hz) < KN[iz]) return hz * WN[iz];
      const x = this.zigguratSlow(iz, hz);
      if (x === x) return x;
    }
    throw new Error("Rng.normal: ziggurat rejected 1000 times in a row (degenerate generator?)");
  }

  /**
   * Slow path of the ziggurat for a draw (layer iz, signed magnitude hz) that failed the fast test:
   * the exact tail beyond R (layer 0) or the wedge test; NaN means "rejected, draw again".
   */
  private zigguratSlow(iz: number, hz: number): number {
    if (iz === 0) {
      // Marsaglia's tail algorithm: acceptance probability > 0.9 per try.
      for (let tries = 0; tries < 1000; tries++) {
        const x = -Math.log(this.uniformOpen()) / ZIG_R;
        const y = -Math.log(this.uniformOpen());
        if (y + y >= x * x) return hz > 0 ? ZIG_R + x : -ZIG_R - x;
      }
      throw new Error("Rng.normal: ziggurat tail sampler rejected 1000 times in a row (degenerate generator?)");
    }
    const x = hz * WN[iz];
    if (FN[iz] + this.uniform() * (FN[iz - 1] - FN[iz]) < Math.exp(-0.5 * x * x)) return x;
    return NaN;
  }

  /**
   * Fill out[start … end−1] with i.i.d. N(0, sd²) values: exactly the values of end − start
   * successive `normal()` calls (times sd), but with the generator state kept in locals and the
   * xoshiro step inlined in the ziggurat's fast path (≈ 3× faster than calling `normal()`).
   */
  fillNormal(out: Float64Array, sd = 1, start = 0, end = out.length): Float64Array {
    let a = this.a | 0, b = this.b | 0, c = this.c | 0, d = this.d | 0;
    for (let i = start; i < end; i++) {
      // xoshiro128** step (as nextUint32), the output as a signed 32-bit integer.
      const b5 = Math.imul(b, 5);
      const bits = Math.imul((b5 << 7) | (b5 >>> 25), 9);
      const t = b << 9;
      c ^= a; d ^= b; b ^= c; a ^= d; c ^= t;
      d = (d << 11) | (d >>> 21);
      const iz = bits & 127;
      const hz = bits >> 7;
      // Math.abs, not `hz < 0 ? −hz : hz`: V8 types −hz as a possible −0 and leaves the integer
      // path (that conditional alone made this loop 5× slower).
      if (Math.abs(hz) < KN[iz]) {
        out[i] = hz * WN[iz];
      } else {
        this.a = a; this.b = b; this.c = c; this.d = d;
        out[i] = this.normalAfterReject(iz, hz);
        a = this.a | 0; b = this.b | 0; c = this.c | 0; d = this.d | 0;
      }
    }
    this.a = a; this.b = b; this.c = c; this.d = d;
    if (sd !== 1) for (let i = start; i < end; i++) out[i] *= sd;
    return out;
  }

  /** What `normal()` returns after its first draw (iz, hz) failed the fast test. */
  private normalAfterReject(iz: number, hz: number): number {
    const x = this.zigguratSlow(iz, hz);
    return x === x ? x : this.normal();
  }

  /** Random sign ±1. */
  sign(): number {
    return (this.nextUint32() & 1) === 0 ? -1 : 1;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
