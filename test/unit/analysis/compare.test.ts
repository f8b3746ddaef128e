import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compare, type Row } from "../../../analysis/compare.ts";
import type { LocatedRecord } from "../../../analysis/load.ts";
import { loadInputs } from "../../../analysis/load.ts";
import { buildReport } from "../../../analysis/sections.ts";
import { drawRecord, seededRng, type CaseDraw, type RecordSpec } from "../../fixtures/records/generate.ts";
import type { TrialRecord } from "../../../model/record.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const FIX = join(HERE, "../../fixtures/records");

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

function records(reps: number, seed: number, extra: (rep: number, spec: RecordSpec) => RecordSpec = (_r, s) => s): TrialRecord[] {
  const rng = seededRng(seed);
  const recs: TrialRecord[] = [];
  let order = 0;
  for (let rep = 1; rep <= reps; rep++) for (const t of TRUTH) recs.push(drawRecord(rng, extra(rep, { environment: t.env, kind: t.kind, workload: "redis", rep, order: order++, cases: cases(t.tput, t.lat) })));
  return recs;
}
const build = (reps: number, seed: number, extra?: (rep: number, spec: RecordSpec) => RecordSpec): Row[] => [...compare(located(records(reps, seed, extra))).rows];
const find = (rows: Row[], env: string, metric: string) => rows.find((r) => r.environment === env && r.metric === metric)!;

/** The one-rule property of every row: interval, p, q, verdict and equivalence agree. */
export function assertAgreement(r: Row): void {
  const where = `${r.stack} ${r.workload} ${r.case} ${r.metric} ${r.environment}`;
  if (r.verdict === "baseline" || r.ratio === null) return;
  if (r.ratioLow === null) {
    assert.ok(r.p === null || r.alpha === null || r.p > r.alpha, `${where}: no interval but p ${r.p} <= ${r.alpha}`);
    assert.ok(r.verdict === null, `${where}: a verdict without an interval`);
    return;
  }
  const excludes = r.ratioLow > 1 || r.ratioHigh! < 1;
  assert.equal(r.p! <= r.alpha!, excludes, `${where}: p ${r.p} vs alpha ${r.alpha}, interval [${r.ratioLow}, ${r.ratioHigh}]`);
  assert.ok(r.ratioLow <= r.ratio && r.ratio <= r.ratioHigh!, `${where}: ratio outside its interval`);
  if (r.verdict === null) return;
  assert.equal(r.verdict !== "indistinguishable", excludes, `${where}: verdict ${r.verdict}`);
  if (excludes) assert.equal(r.verdict, (r.ratio > 1) === (r.better === "higher") ? "faster" : "slower", `${where}: direction`);
  assert.equal(r.q! <= 0.05, excludes, `${where}: q ${r.q}`);
  assert.equal(r.equivalent, r.ratioLow >= 1 / (1 + r.margin) && r.ratioHigh! <= 1 + r.margin, `${where}: equivalence`);
}

describe("compare: verdicts on known distributions (headline Redis GET rps, supporting latency)", () => {
  const rows = build(12, 1);
  const expected = [
    { env: "native", metric: "rps", verdict: "baseline", ratio: 1 },
    { env: "docker", metric: "rps", verdict: "indistinguishable", ratio: 1 },
    { env: "docker-host", metric: "rps", verdict: "faster", ratio: 1.15 },
    { env: "kvm", metric: "rps", verdict: "slower", ratio: 0.8 },
    // Supporting data: interval and p, no verdict.
    { env: "docker-host", metric: "latency_p50", verdict: null, ratio: 42 / 50 },
    { env: "kvm", metric: "latency_p50", verdict: null, ratio: 65 / 50 },
  ] as const;
  for (const e of expected) {
    it(`${e.env} ${e.metric}: ${e.verdict}, ratio near ${e.ratio.toFixed(2)}`, () => {
      const r = find(rows, e.env, e.metric);
      assert.equal(r.verdict, e.verdict);
      assert.equal(r.n, 12);
      assert.ok(Math.abs(r.ratio! - e.ratio) < 0.03, `ratio ${r.ratio}`);
      assert.equal(r.role, e.metric === "rps" ? "headline" : "supporting");
      assertAgreement(r);
    });
  }
  it("docker is equivalent within the application margin (5 %); the others are not", () => {
    assert.equal(find(rows, "docker", "rps").equivalent, true);
    assert.equal(find(rows, "docker-host", "rps").equivalent, false);
    assert.equal(find(rows, "docker", "rps").margin, 0.05);
  });
  it("the ratio is the Hodges-Lehmann estimate: exp of the median pairwise log difference", () => {
    const k = find(rows, "kvm", "rps"), n = find(rows, "native", "rps");
    const d = k.values.flatMap((a) => n.values.map((b) => Math.log(a) - Math.log(b))).sort((x, y) => x - y);
    assert.ok(Math.abs(Math.log(k.ratio!) - (d[71]! + d[72]!) / 2) < 1e-12);
  });
  it("the family: 3 headline cells tested, margins stated", () => {
    const c = compare(located(records(12, 1)));
    assert.deepEqual([c.family.tests, c.family.rejections], [3, 2]);
    assert.ok(Math.abs(c.family.alphaStar - (2 * 0.05) / 3) < 1e-15);
  });
});

describe("compare: partial data", () => {
  it("failed and warm-up trials stay out of the statistics; failures are counted and flagged", () => {
    const rows = build(6, 2, (rep, s) => (s.environment === "kvm" && rep <= 2 ? { ...s, status: "failed" } : s.environment === "docker" && rep === 1 ? { ...s, warmup: true } : s));
    const kvm = find(rows, "kvm", "rps");
    assert.deepEqual([kvm.n, kvm.failed], [4, 2]);
    assert.ok(kvm.warnings.includes("failed-trials"));
    assert.equal(find(rows, "docker", "rps").n, 5);
  });
  it("an environment whose trials all failed is a marked gap, never a zero", () => {
    const kvm = find(build(5, 3, (_rep, s) => (s.environment === "kvm" ? { ...s, status: "failed" } : s)), "kvm", "rps");
    assert.deepEqual([kvm.median, kvm.ratio, kvm.verdict], [null, null, null]);
    assert.deepEqual(kvm.warnings, ["failed-trials", "missing"]);
  });
  it("no native: cells keep their statistics but get no ratio", () => {
    const kvm = find(build(5, 4, (_rep, s) => (s.environment === "native" ? { ...s, status: "failed" } : s)), "kvm", "rps");
    assert.notEqual(kvm.median, null);
    assert.equal(kvm.ratio, null);
    assert.ok(kvm.warnings.includes("no-baseline"));
  });
  it("a TCG guest is flagged on every cell and never judged", () => {
    const rows = build(6, 5, (_rep, s) => (s.environment === "kvm" ? { ...s, acceleration: "tcg" } : s));
    for (const r of rows.filter((x) => x.environment === "kvm")) {
      assert.ok(r.acceleration === "tcg" && r.warnings.includes("tcg-guest"));
      assert.equal(r.verdict, null);
    }
    assert.ok(!find(rows, "native", "rps").warnings.includes("tcg-guest"));
  });
  it("three trials: the point ratio, no interval, no verdict: too few trials (smallest p 0.1)", () => {
    const rows = build(3, 6);
    const kvm = find(rows, "kvm", "rps");
    assert.equal(kvm.n, 3);
    assert.deepEqual([kvm.ratioLow, kvm.verdict, kvm.minP], [null, null, 0.1]);
    assert.ok(kvm.warnings.includes("few-trials"));
  });
});

describe("compare: bad data is left out and listed, never thrown", () => {
  it("mixed units for one metric name the file and both lines; the other values stay", () => {
    const rng = seededRng(9);
    const a = drawRecord(rng, { environment: "native", kind: "native", workload: "redis", rep: 1, order: 0, cases: cases(1000, 50) });
    const b = drawRecord(rng, { environment: "docker", kind: "docker", workload: "redis", rep: 1, order: 1, cases: cases(1000, 50) });
    b.cases[0]!.metrics[1]!.unit = "us";
    const c = compare(located([a, b]));
    assert.match(c.problems[0]!, /mem\.jsonl:2: metric "latency_p50" of redis\/get-c10 has unit "us" but "ms" at mem\.jsonl:1; left out/);
    assert.equal(c.rows.find((r) => r.environment === "docker" && r.metric === "latency_p50")!.n, 0);
    assert.equal(c.rows.find((r) => r.environment === "docker" && r.metric === "rps")!.n, 1);
  });
});

describe("one rule on every cell: the committed fixtures and seeded synthetic runs", () => {
  const inputs = [[join(FIX, "real-smoke-2026-11-26")], [join(FIX, "generated-lab")], [join(FIX, "generated-marks")], [join(FIX, "real-smoke-2026-11-26"), join(FIX, "generated-lab"), join(FIX, "generated-marks")]];
  for (const paths of inputs) {
    it(paths.map((p) => p.split("/").pop()).join(" + "), () => {
      const model = buildReport(loadInputs(paths));
      assert.ok(model.comparison.rows.length >= 36, String(model.comparison.rows.length));
      for (const r of model.comparison.rows) assertAgreement(r);
    });
  }
  it("seeded synthetic runs of 4..12 trials, some tied", () => {
    for (let seed = 20; seed < 60; seed++) {
      const recs = records(4 + (seed % 9), seed).map((r) => (seed % 3 ? r : { ...r, cases: r.cases.map((c) => ({ ...c, metrics: c.metrics.map((m) => ({ ...m, value: Math.round(m.value / 5) * 5 })) })) }));
      for (const r of compare(located(recs)).rows) assertAgreement(r);
    }
  });
});

describe("layering", () => {
  it("analysis/ imports nothing from stacks/", () => {
    const dir = join(HERE, "../../../analysis");
    const files = [...readdirSync(dir).map((f) => join(dir, f)), ...readdirSync(join(dir, "render")).map((f) => join(dir, "render", f))].filter((f) => f.endsWith(".ts"));
    for (const f of files) assert.doesNotMatch(readFileSync(f, "utf8"), /from "(\.\.\/)+stacks\//, f);
  });
});
