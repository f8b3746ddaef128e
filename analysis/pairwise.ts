/**
 * Order statistics and counts of the pairwise differences d(i, j) = x[i] - y[j] of two ascending samples,
 * without forming all n1 n2 of them for large samples (the 100,000-record report has cells of 120 x 120).
 *
 * Every comparison uses the difference exactly as computed, `x[i] - y[j]` (never rearranged to
 * `x[i] - t >= y[j]`, which rounds differently), so counts and order statistics agree to the last bit:
 * floating-point subtraction is monotone, so the matrix of computed differences is non-decreasing in i and
 * non-increasing in j, and a staircase walk counts it in O(n1 + n2).
 */

/** #{(i, j): x[i] - y[j] >= t}. */
export function countAtLeast(x: Float64Array, y: Float64Array, t: number): number {
  let j = 0;
  let count = 0;
  for (let i = 0; i < x.length; i++) {
    while (j < y.length && x[i]! - y[j]! >= t) j++;
    count += j;
  }
  return count;
}

/** #{(i, j): x[i] - y[j] > t}. */
export function countAbove(x: Float64Array, y: Float64Array, t: number): number {
  let j = 0;
  let count = 0;
  for (let i = 0; i < x.length; i++) {
    while (j < y.length && x[i]! - y[j]! > t) j++;
    count += j;
  }
  return count;
}

/** Below this many differences they are simply listed and sorted. */
const LIST_LIMIT = 1024;
let buffer = new Float64Array(LIST_LIMIT);

function listed(size: number): Float64Array {
  if (buffer.length < size) buffer = new Float64Array(size);
  return buffer.subarray(0, size);
}

/** First j with x[i] - y[j] <= hi (the row is non-increasing in j), by binary search. */
function firstAtMost(xi: number, y: Float64Array, hi: number): number {
  let a = 0;
  let b = y.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (xi - y[m]! <= hi) b = m;
    else a = m + 1;
  }
  return a;
}

/** The smallest difference above v (there must be one). */
export function smallestAbove(x: Float64Array, y: Float64Array, v: number): number {
  let best = Infinity;
  for (let i = 0; i < x.length; i++) {
    // The row is non-increasing in j: its last difference above v sits just before the first one <= v.
    const j = firstAtMost(x[i]!, y, v) - 1;
    if (j >= 0) best = Math.min(best, x[i]! - y[j]!);
  }
  return best;
}

/** The differences in (lo, hi], ascending; `from[i]` is the first j of row i with a difference <= hi. */
function between(x: Float64Array, y: Float64Array, lo: number, from: Int32Array, size: number): Float64Array {
  const out = listed(size);
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = from[i]!; j < y.length; j++) {
      const d = x[i]! - y[j]!;
      if (d <= lo) break; // non-increasing in j: the rest of the row is lower still
      out[n++] = d;
    }
  }
  return out.subarray(0, n).sort();
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

/** The largest double below v (v finite). */
function nextDown(v: number): number {
  if (v === 0) return -Number.MIN_VALUE;
  f64[0] = v;
  i64[0] = v > 0 ? i64[0]! - 1n : i64[0]! + 1n;
  return f64[0]!;
}

/**
 * The k-th smallest (1-based) of the n1 n2 differences. First bisection on the value (each step one
 * O(n1 + n2) count), which is quick for continuous data; where ties stall it, selection in the sorted
 * matrix, pivoting on the weighted median of the rows' middle candidates (Johnson & Mizoguchi 1978),
 * which drops a quarter of the candidates at least; the last few candidates are listed and sorted.
 */
export function kthDifference(x: Float64Array, y: Float64Array, k: number): number {
  const N = x.length * y.length;
  if (k < 1 || k > N) throw new RangeError(`kthDifference: k = ${k} outside 1..${N}`);
  let hi = x[x.length - 1]! - y[0]!;
  const min = x[0]! - y[y.length - 1]!;
  let lo = min - Math.max(1, Math.abs(min));
  let below = 0; // #{d <= lo}
  let atHi = N; // #{d <= hi}
  const limit = Math.max(64, 2 * (x.length + y.length));
  if (N > LIST_LIMIT) {
    for (let step = 0, stalled = 0; step < 60 && atHi - below > limit && stalled < 4; step++) {
      const mid = lo + (hi - lo) / 2;
      if (mid <= lo || mid >= hi) break;
      const m = N - countAbove(x, y, mid);
      const before = atHi - below;
      if (m >= k) { hi = mid; atHi = m; } else { lo = mid; below = m; }
      stalled = atHi - below > 0.9 * before ? stalled + 1 : 0;
    }
  }
  const from = new Int32Array(x.length);
  const to = new Int32Array(x.length);
  for (;;) {
    let total = 0;
    for (let i = 0; i < x.length; i++) {
      from[i] = firstAtMost(x[i]!, y, hi);
      to[i] = firstAtMost(x[i]!, y, lo);
      total += to[i]! - from[i]!;
    }
    if (total <= limit || N <= LIST_LIMIT) return between(x, y, lo, from, total)[k - below - 1]!;
    const v = weightedMiddle(x, y, from, to, total);
    const atMost = N - countAbove(x, y, v);
    const less = N - countAtLeast(x, y, v);
    if (less < k && k <= atMost) return v;
    if (k <= less) hi = nextDown(v);
    else { lo = v; below = atMost; }
  }
}

/** Weighted median of each row's middle candidate, weighted by the row's number of candidates. */
function weightedMiddle(x: Float64Array, y: Float64Array, from: Int32Array, to: Int32Array, total: number): number {
  const mids: { v: number; w: number }[] = [];
  for (let i = 0; i < x.length; i++) {
    const w = to[i]! - from[i]!;
    if (w > 0) mids.push({ v: x[i]! - y[(from[i]! + to[i]! - 1) >> 1]!, w });
  }
  mids.sort((a, b) => a.v - b.v);
  let acc = 0;
  for (const m of mids) if ((acc += m.w) * 2 >= total) return m.v;
  return mids[mids.length - 1]!.v;
}
