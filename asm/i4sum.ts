// AssemblyScript source of the Saad–Solla I4 pair sums (src/theory/i4-wasm-bytes.ts holds the compiled
// module, base64): `npm run build:wasm-i4` regenerates it.  Mirrors SaadSollaOde.i4Sum (the TS path),
// with the off-diagonal b-loop two lanes at a time (f64x2) and a branch-free arcsine:
//   t = |x| < ½ ? x² : (1 − |x|)/2,  s = |x| < ½ ? |x| : √t,  a = s + s R(t)  (fdlibm's rational R),
//   asin|x| = |x| < ½ ? a : π/2 − 2a,  sign restored (≤ ~2 ulp against Math.asin).
// Memory (f64 offsets in bytes, set by the host): C (n×n, plus 2 padding), w (n + 2, zero padded),
// scratch s, X, Y (n + 2 each, zero padded), out (K(K+1)/2 sums, pairs i ≤ k row by row).

const pS0: f64 = 1.66666666666666657415e-01;
const pS1: f64 = -3.25565818622400915405e-01;
const pS2: f64 = 2.01212532134862925881e-01;
const pS3: f64 = -4.00555345006794114027e-02;
const pS4: f64 = 7.91534994289814532176e-04;
const pS5: f64 = 3.47933107596021167570e-05;
const qS1: f64 = -2.40339491173441421878e+00;
const qS2: f64 = 2.02094576023350569471e+00;
const qS3: f64 = -6.88283971605453293030e-01;
const qS4: f64 = 7.70381505559019352791e-02;
const PIO2: f64 = 1.57079632679489661923;

@inline function asinV(x: v128): v128 {
  const ax = f64x2.abs(x);
  const big = f64x2.ge(ax, f64x2.splat(0.5));
  const t = v128.bitselect(f64x2.mul(f64x2.sub(f64x2.splat(1.0), ax), f64x2.splat(0.5)), f64x2.mul(ax, ax), big);
  const s = v128.bitselect(f64x2.sqrt(t), ax, big);
  let p = f64x2.add(f64x2.splat(pS4), f64x2.mul(t, f64x2.splat(pS5)));
  p = f64x2.add(f64x2.splat(pS3), f64x2.mul(t, p));
  p = f64x2.add(f64x2.splat(pS2), f64x2.mul(t, p));
  p = f64x2.add(f64x2.splat(pS1), f64x2.mul(t, p));
  p = f64x2.add(f64x2.splat(pS0), f64x2.mul(t, p));
  p = f64x2.mul(t, p);
  let q = f64x2.add(f64x2.splat(qS3), f64x2.mul(t, f64x2.splat(qS4)));
  q = f64x2.add(f64x2.splat(qS2), f64x2.mul(t, q));
  q = f64x2.add(f64x2.splat(qS1), f64x2.mul(t, q));
  q = f64x2.add(f64x2.splat(1.0), f64x2.mul(t, q));
  const a = f64x2.add(s, f64x2.mul(s, f64x2.div(p, q)));
  const r = v128.bitselect(f64x2.sub(f64x2.splat(PIO2), f64x2.add(a, a)), a, big);
  // copysign(r, x)
  const sign = i64x2.splat(0x8000000000000000);
  return v128.or(v128.andnot(r, sign), v128.and(x, sign));
}

export function i4Sums(n: i32, K: i32, cOff: usize, wOff: usize, sOff: usize, xOff: usize, yOff: usize, outOff: usize): void {
  let o: i32 = 0;
  const one = f64x2.splat(1.0), mone = f64x2.splat(-1.0);
  for (let i = 0; i < K; i++) {
    for (let k = i; k < K; k++) {
      const io = <usize>(i * n), ko = <usize>(k * n);
      const c11 = 1.0 + load<f64>(cOff + ((io + <usize>i) << 3));
      const c22 = 1.0 + load<f64>(cOff + ((ko + <usize>k) << 3));
      const c12 = load<f64>(cOff + ((io + <usize>k) << 3));
      const l4 = c11 * c22 - c12 * c12;
      for (let b = 0; b < n; b++) {
        const al = load<f64>(cOff + ((io + <usize>b) << 3)), be = load<f64>(cOff + ((ko + <usize>b) << 3));
        const X = c22 * al - c12 * be, Y = c11 * be - c12 * al;
        const l1 = l4 * (1.0 + load<f64>(cOff + ((<usize>(b * n + b)) << 3))) - al * X - be * Y;
        const s = 1.0 / Math.sqrt(l1);
        store<f64>(sOff + (<usize>b << 3), s);
        store<f64>(xOff + (<usize>b << 3), X * s);
        store<f64>(yOff + (<usize>b << 3), Y * s);
      }
      let s4: f64 = 0;
      for (let a = 0; a < n; a++) {
        const wa = load<f64>(wOff + (<usize>a << 3));
        if (wa == 0) continue;
        const sa = load<f64>(sOff + (<usize>a << 3));
        const al = load<f64>(cOff + ((io + <usize>a) << 3)), be = load<f64>(cOff + ((ko + <usize>a) << 3));
        const ao = <usize>(a * n);
        const f = l4 * sa, ga = al * sa, ha = be * sa;
        let r = f * load<f64>(cOff + ((ao + <usize>a) << 3)) * sa - ga * load<f64>(xOff + (<usize>a << 3)) - ha * load<f64>(yOff + (<usize>a << 3));
        r = r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
        const diag = wa * Math.asin(r);
        const fv = f64x2.splat(f), gv = f64x2.splat(ga), hv = f64x2.splat(ha);
        let acc = f64x2.splat(0.0);
        // b = a+1 … n−1 in pairs; an odd count reads one padded lane (w = s = X = Y = 0 → adds 0).
        for (let b = a + 1; b < n; b += 2) {
          const bo = <usize>b << 3;
          const cv = v128.load(cOff + ((ao + <usize>b) << 3));
          let x = f64x2.sub(f64x2.sub(f64x2.mul(f64x2.mul(fv, cv), v128.load(sOff + bo)), f64x2.mul(gv, v128.load(xOff + bo))), f64x2.mul(hv, v128.load(yOff + bo)));
          x = f64x2.min(f64x2.max(x, mone), one);
          acc = f64x2.add(acc, f64x2.mul(v128.load(wOff + bo), asinV(x)));
        }
        const off = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
        s4 += wa * (diag + 2.0 * off);
      }
      store<f64>(outOff + (<usize>o << 3), s4);
      o++;
    }
  }
}
