import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compare, type Row } from "../../../analysis/compare.ts";
import type { LocatedRecord } from "../../../analysis/load.ts";
import { drawRecord, seededRng, type CaseDraw, type RecordSpec } from "../../fixtures/records/generate.ts";
import type { TrialRecord } from "../../../workloads/record.ts";

/** Environments with known true medians: throughput (higher is better) and latency (lower is better). */
const TRUTH = [
  { env: "native", kind: "native", tput: 1000, lat: 50 },
  { env: "docker", kind: "docker", tput: 1000, lat: 50 }, // no difference
  { env: "docker-host", kind: "docker", tput: 1150, lat: 42 }, // better on both
  { env: "kvm", kind: "kvm", tput: 800, lat: 65 }, // worse on both
] as const;

function cases(tput: number, lat: number): CaseDraw[] {
  return [{ case: "get-c10", params: { op: "get", clients: 10 }, metrics: [
    { name: "rps", unit: "requests/s", better: "higher", median: tput, sigma: 0.02 },
    { name: "latency_p50", unit: "ms", better: "lower", median: lat, sigma: 0.02 },
  ] }];
}

function located(records: TrialRecord[]): LocatedRecord[] {
  return records.map((record, i) => ({ record, file: "mem.jsonl", line: i + 1 }));
}

function build(reps: number, seed: number, extra: (rep: number, spec: RecordSpec) => RecordSpec = (_r, s) => s): Row[] {
  const rng = seededRng(seed);
  const recs: TrialRecord[] = [];
  let order = 0;
  for (let rep = 1; rep <= reps; rep++) {
    for (const t of TRUTH) {
      recs.push(drawRecord(rng, extra(rep, { environment: t.env, kind: t.kind, workload: "redis", rep, order: order++, cases: cases(t.tput, t.lat) })));
    }
  }
  return [...compare(located(recs)).rows];
}

const find = (rows: Row[], env: string, metric: string) => rows.find((r) => r.environment === env && r.metric === metric)!;

describe("compare: verdicts on known distributions", () => {
  const rows = build(12, 1);
  const expected = [
    { env: "native", metric: "rps", verdict: "baseline", ratio: 1 },
    { env: "docker", metric: "rps", verdict: "indistinguishable", ratio: 1 },
    { env: "docker-host", metric: "rps", verdict: "faster", ratio: 1.15 },
    { env: "kvm", metric: "rps", verdict: "slower", ratio: 0.8 },
    // Lower is better: a larger latency ratio is "slower", a smaller one "faster".
    { env: "docker", metric: "latency_p50", verdict: "indistinguishable", ratio: 1 },
    { env: "docker-host", metric: "latency_p50", verdict: "faster", ratio: 42 / 50 },
    { env: "kvm", metric: "latency_p50", verdict: "slower", ratio: 65 / 50 },
  ] as const;
  for (const e of expected) {
    it(`${e.env} ${e.metric}: ${e.verdict}, ratio near ${e.ratio.toFixed(2)}`, () => {
      const r = find(rows, e.env, e.metric);
      assert.equal(r.verdict, e.verdict);
      assert.equal(r.n, 12);
      assert.ok(Math.abs(r.ratio! - e.ratio) < 0.03, `ratio ${r.ratio}`);
      assert.ok(r.ratioLow! <= r.ratio! && r.ratio! <= r.ratioHigh!);
      assert.ok(r.ciLow! <= r.median! && r.median! <= r.ciHigh!);
      if (e.verdict !== "baseline") assert.ok(e.verdict === "indistinguishable" ? r.ratioLow! <= 1 && r.ratioHigh! >= 1 : r.p! < 0.01);
    });
  }
  it("ratio is the environment's median over native's", () => {
    const k = find(rows, "kvm", "rps");
    const n = find(rows, "native", "rps");
    assert.equal(k.ratio, k.median! / n.median!);
  });
});

describe("compare: partial data", () => {
  it("failed and warm-up trials stay out of the statistics; failures are counted and flagged", () => {
    const rows = build(6, 2, (rep, s) => (s.environment === "kvm" && rep <= 2 ? { ...s, status: "failed" } : s.environment === "docker" && rep === 1 ? { ...s, warmup: true } : s));
    const kvm = find(rows, "kvm", "rps");
    assert.equal(kvm.n, 4);
    assert.equal(kvm.failed, 2);
    assert.ok(kvm.warnings.includes("failed-trials"));
    assert.equal(find(rows, "docker", "rps").n, 5);
  });
  it("an environment whose trials all failed is a marked gap, never a zero", () => {
    const rows = build(5, 3, (_rep, s) => (s.environment === "kvm" ? { ...s, status: "failed" } : s));
    const kvm = find(rows, "kvm", "rps");
    assert.equal(kvm.median, null);
    assert.equal(kvm.ratio, null);
    assert.equal(kvm.verdict, null);
    assert.deepEqual(kvm.warnings, ["failed-trials", "missing"]);
  });
  it("no native: cells keep their statistics but get no ratio", () => {
    const rows = build(5, 4, (_rep, s) => (s.environment === "native" ? { ...s, status: "failed" } : s));
    const kvm = find(rows, "kvm", "rps");
    assert.notEqual(kvm.median, null);
    assert.equal(kvm.ratio, null);
    assert.ok(kvm.warnings.includes("no-baseline"));
  });
  it("a TCG guest is flagged on every one of its cells", () => {
    const rows = build(5, 5, (_rep, s) => (s.environment === "kvm" ? { ...s, acceleration: "tcg" } : s));
    for (const r of rows.filter((x) => x.environment === "kvm")) {
      assert.equal(r.acceleration, "tcg");
      assert.ok(r.warnings.includes("tcg-guest"));
    }
    assert.ok(!find(rows, "native", "rps").warnings.includes("tcg-guest"));
  });
  it("two trials: the point ratio, no interval, no verdict, a few-trials warning", () => {
    const rows = build(2, 6);
    const kvm = find(rows, "kvm", "rps");
    assert.equal(kvm.n, 2);
    assert.equal(kvm.ratio, kvm.median! / find(rows, "native", "rps").median!);
    assert.equal(kvm.ratioLow, null);
    assert.equal(kvm.verdict, null);
    assert.ok(kvm.warnings.includes("few-trials"));
  });
});

describe("compare: bad input", () => {
  it("mixed units for one metric name the file and both lines", () => {
    const rng = seededRng(9);
    const a = drawRecord(rng, { environment: "native", kind: "native", workload: "redis", rep: 1, order: 0, cases: cases(1000, 50) });
    const b = drawRecord(rng, { environment: "docker", kind: "docker", workload: "redis", rep: 1, order: 1, cases: cases(1000, 50) });
    b.cases[0]!.metrics[1]!.unit = "us";
    assert.throws(() => compare(located([a, b])), /mem\.jsonl:2: metric "latency_p50" of redis\/get-c10 has unit "us" but "ms" at mem\.jsonl:1/);
  });
});
