import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  benjaminiHochberg, compareShift, criticalCount, exactUCounts, logResolution, medianInterval, pAt, rankNull, rejects,
  shiftInterval, smallestP, sorted, summarize, countMadOutliers,
} from "../../../analysis/stats.ts";
import { countAbove, countAtLeast, kthDifference } from "../../../analysis/pairwise.ts";
import { logNormal, seededRng } from "../../fixtures/records/generate.ts";

const ranks = (n: number) => sorted(Array.from({ length: n }, (_, i) => i + 1));

describe("medianInterval (order-statistic binomial interval)", () => {
  // Published ranks for the 95 % distribution-free interval of a median (e.g. Conover, Practical
  // Nonparametric Statistics, table A3): n=6 -> (1,6), n=10 -> (2,9), n=20 -> (6,15), n=50 -> (18,33).
  const table = [
    { n: 6, low: 1, high: 6, level: 1 - 2 / 64 },
    { n: 10, low: 2, high: 9, level: 1 - (2 * 11) / 1024 },
    { n: 20, low: 6, high: 15, level: 0.9586105346679688 },
    { n: 50, low: 18, high: 33, level: 0.9671 },
  ];
  for (const t of table) {
    it(`n=${t.n}: ranks ${t.low}..${t.high}`, () => {
      const ci = medianInterval(ranks(t.n))!;
      assert.deepEqual([ci.low, ci.high], [t.low, t.high]);
      assert.ok(Math.abs(ci.level - t.level) < 1e-4 && ci.level >= 0.95, `level ${ci.level}`);
    });
  }
  it("below n=6 gives min..max with its real, lower coverage", () => {
    const ci = medianInterval(ranks(4))!;
    assert.deepEqual([ci.low, ci.high, ci.level], [1, 4, 1 - 2 / 16]);
  });
  it("n=1 has no interval", () => assert.equal(medianInterval(ranks(1)), null));
});

describe("the rank test's null distribution", () => {
  it("exact counts sum to C(n1+n2, n1) and are symmetric", () => {
    const c = exactUCounts(4, 6);
    assert.equal(c.reduce((s, v) => s + v, 0), 210);
    for (let u = 0; u < c.length; u++) assert.equal(c[u], c[c.length - 1 - u]);
  });
  it("smallest attainable p is 2 / C(n1+n2, n1): 3 vs 3 cannot go below 0.1", () => {
    assert.equal(smallestP(3, 3), 0.1);
    assert.equal(smallestP(5, 5), 2 / 252);
    assert.equal(smallestP(6, 6), 2 / 924);
  });
  it("n1 = n2 = 10 at 5 %: the published critical U of 23, so the interval is [D(24), D(77)]", () => {
    assert.equal(criticalCount(rankNull(10, 10), 0.05), 23);
  });
  it("the normal approximation is symmetric like the exact one", () => {
    const nul = rankNull(60, 60);
    assert.equal(nul.method, "normal");
    assert.ok(Math.abs(nul.tail(1000) - (1 - nul.tail(3600 - 1000 - 1))) < 1e-12);
  });
});

describe("compareShift: Hodges-Lehmann ratio, p and interval from one rank test", () => {
  // scipy.stats.mannwhitneyu documentation example (Conover): U1 = 17, exact two-sided p = 0.1111.
  it("without ties p is the exact Mann-Whitney p (scipy's example)", () => {
    const s = compareShift(sorted([19, 22, 16, 29, 24]), sorted([20, 11, 17, 12]));
    assert.equal(s.resolution, 0);
    assert.ok(Math.abs(s.p - 0.1111111111111111) < 1e-12, `p ${s.p}`);
    assert.equal(s.nul.method, "exact");
  });
  it("3 vs 3 with ties: p = 0.1, the smallest possible, never the normal approximation's 0.047", () => {
    const s = compareShift(sorted([2, 2, 3]), sorted([1, 1, 1]));
    assert.equal(s.p, 0.1);
    assert.equal(shiftInterval(s, 0.05), null);
  });
  it("the ratio is exp of the median pairwise log difference", () => {
    const rng = seededRng(4);
    const a = sorted(Array.from({ length: 7 }, () => logNormal(rng, 90, 0.05)));
    const b = sorted(Array.from({ length: 8 }, () => logNormal(rng, 100, 0.05)));
    const d = [...a].flatMap((x) => [...b].map((y) => Math.log(x) - Math.log(y))).sort((p, q) => p - q);
    assert.ok(Math.abs(compareShift(a, b).estimate - (d[27]! + d[28]!) / 2) < 1e-15);
  });
  it("the interval is exactly the shifts the test does not reject (test inversion, checked on a grid)", () => {
    const rng = seededRng(11);
    for (let k = 0; k < 30; k++) {
      const n1 = 4 + (k % 7), n2 = 5 + (k % 4);
      const a = sorted(Array.from({ length: n1 }, () => logNormal(rng, 100 * (0.9 + 0.02 * k), 0.03)));
      const b = sorted(Array.from({ length: n2 }, () => logNormal(rng, 100, 0.03)));
      const s = compareShift(a, b);
      const ci = shiftInterval(s, 0.05)!;
      for (let t = ci.low - 0.05; t <= ci.high + 0.05; t += 0.0007) assert.equal(pAt(s, t) <= 0.05, t < ci.low || t > ci.high, `n ${n1}x${n2} shift ${t}`);
    }
  });
  it("quantised data: the resolution widens the interval, a difference within one step gets no verdict", () => {
    const s = compareShift(sorted([1000, 1000, 1000, 1000, 1000, 1000]), sorted([1016, 1016, 1016, 1016, 1016, 1016]));
    assert.equal(s.resolution, Math.log(1016) - Math.log(1000));
    const ci = shiftInterval(s, 0.05)!;
    assert.ok(ci.low < 0 && ci.high >= 0, "never the zero-width [0.984, 0.984]");
    assert.equal(rejects(s, 0.05), false);
    const far = compareShift(sorted([1000, 1000, 1016, 1000, 1000, 1000]), sorted([1100, 1116, 1100, 1100, 1116, 1100]));
    assert.equal(rejects(far, 0.05), true, "a difference of several steps still gets one");
  });
  it("resolution is 0 for continuous data and the smallest log step for tied data", () => {
    assert.equal(logResolution(sorted([1, 2, 3]), sorted([4, 5])), 0);
    assert.equal(logResolution(sorted([1, 2, 2]), sorted([4, 5])), Math.log(5) - Math.log(4));
  });
});

describe("one rule: interval, verdict and p never disagree (seeded synthetic cells)", () => {
  const rng = seededRng(2025);
  const draw = (n: number, median: number, kind: number) => sorted(Array.from({ length: n }, () => {
    const v = logNormal(rng, median, 0.02);
    return kind === 0 ? v : kind === 1 ? Math.round(v) : 2 ** (Math.round(Math.log2(v) * 64) / 64);
  }));
  it("for 3000 cells (n 2..30, continuous, rounded and bucketed) at several alphas", () => {
    for (let k = 0; k < 3000; k++) {
      const kind = k % 3, n1 = 2 + (k % 29), n2 = 2 + ((k * 7) % 29);
      const s = compareShift(draw(n1, 100 * (1 + ((k % 11) - 5) * 0.01), kind), draw(n2, 100, kind));
      for (const alpha of [0.05, 0.01, 0.002]) {
        const ci = shiftInterval(s, alpha);
        const excludes = ci !== null && (ci.low > 0 || ci.high < 0);
        assert.equal(rejects(s, alpha), excludes, `cell ${k} alpha ${alpha}: p ${s.p}, ci ${JSON.stringify(ci)}`);
        if (ci === null) assert.ok(s.minP > alpha && s.p > alpha);
      }
    }
  });
});

describe("Benjamini-Hochberg", () => {
  it("matches R's p.adjust(method = 'BH')", () => {
    const { rejections, q } = benjaminiHochberg([0.01, 0.04, 0.03, 0.005], 0.05);
    assert.equal(rejections, 4);
    [0.02, 0.04, 0.04, 0.02].forEach((want, i) => assert.ok(Math.abs(q[i]! - want) < 1e-15));
  });
  it("rejects the largest k with p(k) <= k alpha / m, and q <= alpha exactly for those", () => {
    const ps = [0.001, 0.025, 0.035, 0.2, 0.5];
    const { rejections, q } = benjaminiHochberg(ps, 0.05);
    assert.equal(rejections, 1);
    assert.deepEqual(q.map((v) => v <= 0.05), [true, false, false, false, false]);
  });
});

describe("pairwise differences without forming them all", () => {
  const rng = seededRng(5);
  for (const [n1, n2, kind] of [[3, 4, 0], [70, 80, 0], [120, 119, 0], [120, 120, 1], [100, 90, 2]] as const) {
    it(`${n1} x ${n2} ${["continuous", "heavily tied", "rounded"][kind]}: order statistics and counts equal brute force`, () => {
      const mk = (n: number) => sorted(Array.from({ length: n }, () => (kind === 0 ? rng() : kind === 1 ? Math.round(rng() * 5) : Math.round(rng() * 100) / 100)));
      const x = mk(n1), y = mk(n2);
      const all = sorted([...x].flatMap((a) => [...y].map((b) => a - b)));
      for (const k of [1, 2, 17, Math.floor(all.length / 2), all.length - 1, all.length].filter((k) => k <= all.length)) assert.equal(kthDifference(x, y, k), all[k - 1], `k ${k}`);
      const t = all[Math.floor(all.length / 3)]!;
      assert.equal(countAtLeast(x, y, t), all.filter((d) => d >= t).length);
      assert.equal(countAbove(x, y, t), all.filter((d) => d > t).length);
    });
  }
});

describe("summarize", () => {
  it("median, min, max, cv of a known sample", () => {
    const s = summarize(sorted([4, 1, 3, 2, 10]));
    assert.deepEqual([s.n, s.median, s.min, s.max, s.mean], [5, 3, 1, 10, 4]);
    assert.ok(Math.abs(s.cv! - Math.sqrt(12.5) / 4) < 1e-12);
  });
  it("MAD outliers: one wild value among tight ones", () => assert.equal(countMadOutliers([10, 10.1, 9.9, 10.2, 9.8, 30], 10.05), 1));
});
