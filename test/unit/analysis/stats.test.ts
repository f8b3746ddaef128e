import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { exactUCounts, mannWhitneyU, medianInterval, ratioOfMedians, sorted, summarize, countMadOutliers } from "../../../analysis/stats.ts";
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
      assert.equal(ci.low, t.low);
      assert.equal(ci.high, t.high);
      assert.ok(Math.abs(ci.level - t.level) < 1e-4, `level ${ci.level}`);
      assert.ok(ci.level >= 0.95);
    });
  }
  it("below n=6 gives min..max with its real, lower coverage", () => {
    const ci = medianInterval(ranks(4))!;
    assert.deepEqual([ci.low, ci.high], [1, 4]);
    assert.equal(ci.level, 1 - 2 / 16);
  });
  it("n=1 has no interval", () => assert.equal(medianInterval(ranks(1)), null));
});

describe("mannWhitneyU", () => {
  // scipy.stats.mannwhitneyu documentation example (Conover): U1 = 17, exact p = 0.1111, asymptotic 0.11134688653314041.
  const males = [19, 22, 16, 29, 24];
  const females = [20, 11, 17, 12];
  it("exact p matches scipy's example", () => {
    const r = mannWhitneyU(males, females)!;
    assert.equal(r.u, 17);
    assert.equal(r.method, "exact");
    assert.ok(Math.abs(r.p - 0.1111111111111111) < 1e-12, `p ${r.p}`);
  });
  it("normal approximation matches scipy's asymptotic p when ties force it", () => {
    // One tie in the pool forces the normal path; the tie term changes the variance slightly.
    const r = mannWhitneyU([19, 22, 16, 29, 20], [20, 11, 17, 12])!;
    assert.equal(r.method, "normal");
    // scipy 1.17: mannwhitneyu([19,22,16,29,20], [20,11,17,12], method="asymptotic") -> U 16.5, p 0.1399825237583975
    assert.equal(r.u, 16.5);
    assert.ok(Math.abs(r.p - 0.1399825237583975) < 1e-9, `p ${r.p}`);
  });
  it("exact p matches scipy on larger unequal samples", () => {
    // scipy 1.17: mannwhitneyu(range(1,13), [x+3.5 for x in range(1,11)], method="exact") -> U 36, p 0.12291114458297121
    const r = mannWhitneyU(Array.from({ length: 12 }, (_, i) => i + 1), Array.from({ length: 10 }, (_, i) => i + 4.5))!;
    assert.equal(r.u, 36);
    assert.ok(Math.abs(r.p - 0.12291114458297121) < 1e-12, `p ${r.p}`);
  });
  it("exact null distribution sums to C(n1+n2, n1) and is symmetric", () => {
    const c = exactUCounts(4, 6);
    assert.equal(c.reduce((s, v) => s + v, 0), 210);
    for (let u = 0; u < c.length; u++) assert.equal(c[u], c[c.length - 1 - u]);
  });
  it("identical samples give p = 1", () => assert.equal(mannWhitneyU([1, 2, 3], [1, 2, 3])!.p, 1));
});

describe("summarize", () => {
  it("median, min, max, cv of a known sample", () => {
    const s = summarize(sorted([4, 1, 3, 2, 10]));
    assert.deepEqual([s.n, s.median, s.min, s.max, s.mean], [5, 3, 1, 10, 4]);
    assert.ok(Math.abs(s.cv! - Math.sqrt(12.5) / 4) < 1e-12);
  });
  it("MAD outliers: one wild value among tight ones", () => {
    assert.equal(countMadOutliers([10, 10.1, 9.9, 10.2, 9.8, 30], 10.05), 1);
  });
});

describe("ratioOfMedians (Bonett-Price on the log scale)", () => {
  it("hand-computed small case", () => {
    // a = 2,4,8 ; b = 1,2,4: c = 1, z_c = Phi^-1(1 - 1/8) = 1.1503494, se(ln) = ln4 / (2 z_c) each.
    const r = ratioOfMedians(sorted([2, 4, 8]), sorted([1, 2, 4]));
    assert.ok(r.ok);
    const se = Math.hypot(Math.log(4) / (2 * 1.1503493803760079), Math.log(4) / (2 * 1.1503493803760079));
    assert.equal(r.ratio, 2);
    assert.ok(Math.abs(r.low - 2 * Math.exp(-1.959963984540054 * se)) < 1e-9);
    assert.ok(Math.abs(r.high - 2 * Math.exp(1.959963984540054 * se)) < 1e-9);
  });
  it("refuses non-positive values and single values", () => {
    assert.equal(ratioOfMedians(sorted([-1, 2, 3]), sorted([1, 2, 3])).ok, false);
    const one = ratioOfMedians(sorted([5]), sorted([1, 2, 3]));
    assert.equal(one.ok, false);
    assert.equal(one.ratio, 2.5);
  });
  // Coverage against known distributions: log-normal samples whose true medians differ by a known factor.
  for (const { n, trueRatio, sigma } of [
    { n: 10, trueRatio: 0.8, sigma: 0.05 },
    { n: 30, trueRatio: 1.0, sigma: 0.1 },
  ]) {
    it(`covers the true ratio ${trueRatio} about 95 % of the time (n=${n})`, () => {
      const rng = seededRng(7 + n);
      const trials = 2000;
      let covered = 0;
      for (let t = 0; t < trials; t++) {
        const a = sorted(Array.from({ length: n }, () => logNormal(rng, 100 * trueRatio, sigma)));
        const b = sorted(Array.from({ length: n }, () => logNormal(rng, 100, sigma)));
        const r = ratioOfMedians(a, b);
        if (r.ok && r.low <= trueRatio && trueRatio <= r.high) covered++;
      }
      const rate = covered / trials;
      assert.ok(rate > 0.92 && rate < 0.995, `coverage ${rate}`);
    });
  }
});
