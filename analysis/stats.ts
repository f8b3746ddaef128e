/**
 * Pure statistics for the report: one sample's summary (median with a distribution-free interval), and
 * ONE inference rule for an environment against native that gives the ratio, its interval, the verdict
 * and the printed p, so that they can never disagree.
 *
 * The rule (written in the report's methods note too):
 * - Model: on the log scale an environment's values are native's shifted by delta (a ratio exp(delta)),
 *   the two samples independent. Estimate: Hodges-Lehmann, the median of the n1 n2 pairwise differences
 *   d = ln a_i - ln b_j; the printed ratio is exp of it.
 * - Test of "shift = delta": the two-sample Wilcoxon-Mann-Whitney rank test, U(delta) = #{d > delta}.
 *   Null distribution: exact (every one of C(n1+n2, n1) arrangements, by recursion) while n1 n2 <=
 *   EXACT_LIMIT, else normal with continuity correction. Ties: a d equal to delta counts AGAINST
 *   rejection in each tail (#{d >= delta} for the low tail, #{d > delta} for the high one). That keeps the
 *   test exact or conservative under any tie pattern, and it keeps one null distribution for every delta:
 *   the conditional (mid-rank) permutation distribution changes with the tie pattern, so an interval
 *   inverted from it need not agree with its own p.
 * - Interval: every delta the test does not reject, which is [D(c+1), D(N-c)] (D sorted, N = n1 n2, c the
 *   largest count with 2 P(U <= c) <= alpha); its real coverage 1 - 2 P(U <= c) is returned and printed.
 *   The verdict rejects delta = 0 exactly when 0 is outside; p is the smallest alpha at which it would be.
 * - Resolution: quantised metrics (histogram buckets, printed digits) tie. When the pooled cell has a tie,
 *   its resolution r is the smallest ratio between neighbouring distinct values (log step). The null is
 *   then "|shift| <= r": p is the largest p over that band and the interval is widened by r on each side,
 *   so a difference within one step never gets a verdict and a zero-width interval never appears.
 * - Multiplicity: Benjamini-Hochberg over a report's headline cells (see `benjaminiHochberg`); with R of
 *   m rejected, every headline interval is taken at alpha R/m (Benjamini-Yekutieli FCR intervals), so
 *   "q <= alpha", "p <= alpha R/m" and "the interval excludes 1" are the same statement.
 * Coverage of the interval is checked by simulation in test/unit/analysis/coverage.test.ts.
 */
import binomialCdf from "@stdlib/stats-base-dists-binomial-cdf";
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import { medianSorted, mean, sampleStandardDeviation } from "simple-statistics";
import { kthDifference, countAbove, countAtLeast, smallestAbove } from "./pairwise.ts";

/** Mean of the two middle differences of an even count N: D(N/2) and the next one, from one selection. */
function middlePair(x: Float64Array, y: Float64Array, N: number): number {
  const a = kthDifference(x, y, N / 2);
  const b = N - countAbove(x, y, a) >= N / 2 + 1 ? a : smallestAbove(x, y, a);
  return (a + b) / 2;
}

/** The per-comparison level and the report's false-discovery rate. */
export const ALPHA = 0.05;
export const CONFIDENCE = 0.95;
/** Above this n1 * n2 the exact rank-sum distribution gives way to the normal one. */
export const EXACT_LIMIT = 2500;

/** Ascending copy of the values (the input is left alone). */
export function sorted(values: readonly number[]): Float64Array {
  const a = Float64Array.from(values);
  a.sort();
  return a;
}

export interface Interval {
  readonly low: number;
  readonly high: number;
  /** The interval's real coverage: the level asked for, or less when n is too small to reach it. */
  readonly level: number;
}

/** Order-statistic (binomial) confidence interval of the median of an ascending sample; null when n < 2. */
export function medianInterval(asc: Float64Array, level = CONFIDENCE): Interval | null {
  const n = asc.length;
  if (n < 2) return null;
  const alphaHalf = (1 - level) / 2;
  // Largest k with P(Bin(n, 1/2) <= k-1) <= alpha/2; k = 1 (min..max) when none reaches the level.
  let k = 1;
  while (k + 1 <= Math.ceil(n / 2) && binomialCdf(k, n, 0.5) <= alphaHalf) k++;
  const coverage = 1 - 2 * binomialCdf(k - 1, n, 0.5);
  return { low: asc[k - 1]!, high: asc[n - k]!, level: Math.min(coverage, 1) };
}

/** One sample's summary; `asc` must be ascending and non-empty. */
export interface SampleSummary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Coefficient of variation (sample sd / mean); undefined when n < 2 or the mean is 0. */
  readonly cv: number | undefined;
  readonly ci: Interval | null;
  /** Values farther than 3.5 modified z-scores from the median (Iglewicz & Hoaglin). */
  readonly outliers: number;
}

export function summarize(asc: Float64Array): SampleSummary {
  const n = asc.length;
  if (n === 0) throw new RangeError("summarize: empty sample");
  const values = Array.from(asc);
  const median = medianSorted(values);
  const m = mean(values);
  const cv = n >= 2 && m !== 0 ? sampleStandardDeviation(values) / Math.abs(m) : undefined;
  return { n, median, min: asc[0]!, max: asc[n - 1]!, mean: m, cv, ci: medianInterval(asc), outliers: countMadOutliers(values, median) };
}

/** Number of values whose modified z-score 0.6745 |x - median| / MAD exceeds 3.5. */
export function countMadOutliers(values: readonly number[], median: number): number {
  if (values.length < 3) return 0;
  const deviations = sorted(values.map((v) => Math.abs(v - median)));
  const mad = medianSorted(Array.from(deviations));
  if (mad === 0) return 0;
  return values.filter((v) => (0.6745 * Math.abs(v - median)) / mad > 3.5).length;
}

const exactCountsCache = new Map<string, Float64Array>();

/** Counts of arrangements of n1 + n2 items giving each U = 0..n1 n2 (the exact null distribution); memoized. */
export function exactUCounts(n1: number, n2: number): Float64Array {
  const key = `${n1},${n2}`;
  const cached = exactCountsCache.get(key);
  if (cached) return cached;
  // f[i][j][u] = f[i-1][j][u-j] + f[i][j-1][u]: the largest item is from sample 1 (beating all j) or not.
  let prev: Float64Array[] = [];
  for (let i = 0; i <= n1; i++) {
    const row: Float64Array[] = [];
    for (let j = 0; j <= n2; j++) {
      const cur = new Float64Array(i * j + 1);
      if (i === 0 || j === 0) cur[0] = 1;
      else {
        const fromA = prev[j]!;
        const fromB = row[j - 1]!;
        for (let u = 0; u < cur.length; u++) cur[u] = (u >= j && u - j < fromA.length ? fromA[u - j]! : 0) + (u < fromB.length ? fromB[u]! : 0);
      }
      row.push(cur);
    }
    prev = row;
  }
  exactCountsCache.set(key, prev[n2]!);
  return prev[n2]!;
}

/** The null distribution of U for sizes n1, n2: P(U <= c) for whole c, symmetric about n1 n2 / 2. */
export interface RankNull {
  readonly n1: number;
  readonly n2: number;
  readonly method: "exact" | "normal";
  /** P(U <= c); 0 below 0, 1 from n1 n2 on. */
  tail(c: number): number;
}

const nullCache = new Map<string, RankNull>();

export function rankNull(n1: number, n2: number): RankNull {
  const key = `${n1},${n2}`;
  const hit = nullCache.get(key);
  if (hit) return hit;
  const N = n1 * n2;
  let made: RankNull;
  if (N <= EXACT_LIMIT) {
    const counts = exactUCounts(n1, n2);
    const cum = new Float64Array(counts.length);
    let s = 0;
    for (let u = 0; u < counts.length; u++) cum[u] = s += counts[u]!;
    made = { n1, n2, method: "exact", tail: (c) => (c < 0 ? 0 : c >= N ? 1 : cum[c]! / s) };
  } else {
    const sd = Math.sqrt((N * (n1 + n2 + 1)) / 12);
    made = { n1, n2, method: "normal", tail: (c) => (c < 0 ? 0 : c >= N ? 1 : normalCdf((c + 0.5 - N / 2) / sd, 0, 1)) };
  }
  nullCache.set(key, made);
  return made;
}

const criticalCache = new Map<string, number>();

/** Largest count c with 2 P(U <= c) <= alpha, or -1 when none (too few trials for this alpha); memoized. */
export function criticalCount(nul: RankNull, alpha: number): number {
  const key = `${nul.n1},${nul.n2},${alpha}`;
  const hit = criticalCache.get(key);
  if (hit !== undefined) return hit;
  // tail is non-decreasing: binary search the last c below the middle with 2 tail(c) <= alpha.
  let lo = -1;
  let hi = Math.ceil((nul.n1 * nul.n2) / 2) - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (2 * nul.tail(mid) <= alpha) lo = mid;
    else hi = mid - 1;
  }
  criticalCache.set(key, lo);
  return lo;
}

/** The smallest two-sided p the test can give at these sizes: 2 / C(n1 + n2, n1) when exact. */
export function smallestP(n1: number, n2: number): number {
  return Math.min(1, 2 * rankNull(n1, n2).tail(0));
}

/**
 * Resolution of a cell on the log scale: 0 without ties, else the smallest step between distinct values.
 * Steps are differences of the same logs the comparison uses (ln b - ln a, never ln(b / a)), so a
 * difference of exactly one step compares equal to the step.
 */
export function logResolution(a: Float64Array, b: Float64Array): number {
  const pooled = sorted([...a, ...b]);
  let tie = false;
  let step = Infinity;
  for (let i = 1; i < pooled.length; i++) {
    if (pooled[i] === pooled[i - 1]) tie = true;
    else step = Math.min(step, Math.log(pooled[i]!) - Math.log(pooled[i - 1]!));
  }
  return tie && Number.isFinite(step) ? step : 0;
}

/** One environment against native on the log scale, ready for an interval at any alpha. */
export interface ShiftComparison {
  /** ln of the environment's values and of native's, ascending. */
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly nul: RankNull;
  /** Hodges-Lehmann estimate of the log shift. */
  readonly estimate: number;
  /** Log step of the metric in this cell (0 for continuous data). */
  readonly resolution: number;
  /** Two-sided p of "the shift is within one resolution step of 0" (of "shift = 0" when r = 0). */
  readonly p: number;
  readonly minP: number;
}

/** Counts of the differences against a shift: #{d >= t} and #{d > t}. */
function countsAt(x: Float64Array, y: Float64Array, t: number): { atLeast: number; above: number } {
  return { atLeast: countAtLeast(x, y, t), above: countAbove(x, y, t) };
}

/** p of the rank test of "shift = t" (on the log scale) with the tie rule above. */
export function pAt(s: Pick<ShiftComparison, "x" | "y" | "nul">, t: number): number {
  const N = s.x.length * s.y.length;
  const { atLeast, above } = countsAt(s.x, s.y, t);
  return Math.min(1, 2 * Math.min(s.nul.tail(atLeast), s.nul.tail(N - above)));
}

/** Environment values `a` against native values `b`, both ascending, positive, n >= 1 each. */
export function compareShift(a: Float64Array, b: Float64Array): ShiftComparison {
  const x = a.map(Math.log);
  const y = b.map(Math.log);
  const N = x.length * y.length;
  const estimate = N % 2 === 1 ? kthDifference(x, y, (N + 1) / 2) : middlePair(x, y, N);
  const resolution = logResolution(a, b);
  const nul = rankNull(x.length, y.length);
  // p is unimodal in the shift tested, largest (1) at the estimate: its largest over [-r, r] is at the
  // point of the band nearest the estimate.
  const p = pAt({ x, y, nul }, Math.min(resolution, Math.max(-resolution, estimate)));
  return { x, y, nul, estimate, resolution, p, minP: smallestP(x.length, y.length) };
}

/** The interval at `alpha` on the log scale (widened by the resolution), or null when no count reaches it. */
export function shiftInterval(s: ShiftComparison, alpha: number): Interval | null {
  const c = criticalCount(s.nul, alpha);
  if (c < 0) return null;
  const N = s.x.length * s.y.length;
  const low = kthDifference(s.x, s.y, c + 1) - s.resolution;
  const high = kthDifference(s.x, s.y, N - c) + s.resolution;
  return { low, high, level: 1 - 2 * s.nul.tail(c) };
}

/** Whether the rule rejects "no difference" at `alpha`: the same as `shiftInterval(s, alpha)` excluding 0. */
export function rejects(s: ShiftComparison, alpha: number): boolean {
  return s.p <= alpha;
}

/**
 * Benjamini-Hochberg at level `alpha`: the number R of rejections (the largest k with p(k) <= k alpha / m)
 * and each p's adjusted q (q <= alpha exactly for the rejected ones).
 */
export function benjaminiHochberg(ps: readonly number[], alpha: number): { rejections: number; q: number[] } {
  const m = ps.length;
  const idx = ps.map((_, i) => i).sort((i, j) => ps[i]! - ps[j]!);
  let rejections = 0;
  idx.forEach((i, rank) => { if (ps[i]! <= ((rank + 1) * alpha) / m) rejections = rank + 1; });
  const q = new Array<number>(m);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const i = idx[rank]!;
    running = Math.min(running, (ps[i]! * m) / (rank + 1));
    q[i] = running;
  }
  return { rejections, q };
}
