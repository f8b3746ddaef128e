import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { writeReport } from "../../../cli/report.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { RecordError } from "../../../workloads/record.ts";
import { CSV_COLUMNS } from "../../../analysis/render/csv.ts";
import type { SummaryRow } from "../../../analysis/render/summary.ts";

const FIX = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/records");
const out = () => mkdtempSync(join(tmpdir(), "virtperf-report-"));
const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n");
const SUMMARY_FIELDS = ["stack", "workload", "case", "metric", "unit", "better", "environment", "n", "median", "ciLow", "ciHigh", "ratio", "ratioLow", "ratioHigh", "p", "verdict"];

describe("writeReport on the committed run fixtures", () => {
  const dir = out();
  const { files, model } = writeReport([join(FIX, "dev")], { out: dir });
  const summary = JSON.parse(readFileSync(files.summary, "utf8")) as SummaryRow[];
  const md = readFileSync(files.markdown, "utf8");

  it("summary.json has one row per cell with the named fields", () => {
    assert.equal(summary.length, model.comparison.rows.length);
    for (const f of SUMMARY_FIELDS) assert.ok(f in summary[0]!, `field ${f}`);
    const keys = new Set(summary.map((r) => [r.stack, r.workload, r.case, r.metric, r.environment].join("|")));
    assert.equal(keys.size, summary.length);
  });
  it("results.csv has one row per metric value of each trial (and one per failed trial)", () => {
    const records = lines(join(FIX, "dev/trials.jsonl")).map((l) => JSON.parse(l) as { status: string; cases: { metrics: unknown[] }[] });
    const expected = records.reduce((n, r) => n + Math.max(1, r.cases.reduce((m, c) => m + c.metrics.length, 0)), 0);
    const csv = lines(files.csv);
    assert.equal(csv[0], CSV_COLUMNS.join(","));
    assert.equal(csv.length - 1, expected);
  });
  it("report.md has the study's sections, the reference column, the TCG warning and what differs", () => {
    for (const heading of ["## CPU and memory", "## Block I/O (fio)", "## Redis", "## MySQL"]) assert.ok(md.includes(heading), heading);
    assert.match(md, /Warning: kvm ran under QEMU TCG, without KVM/);
    assert.match(md, /\| 73\.5 \(x0\.96\) \|/); // PXZ, Docker, from Table I
    assert.match(md, /- network: native = host network stack; docker = bridge; docker-host-volume = host/);
    assert.match(md, /no significant difference \(p = /);
    assert.doesNotMatch(md, /\bsame\b/);
    assert.match(md, /fio on kvm: 1/); // the failed fio trial is reported
  });
  it("the kvm fio cell counts the failed trial out, and the TCG guest is flagged", () => {
    const cell = summary.find((r) => r.workload === "fio" && r.case === "seq-read" && r.metric === "bw" && r.environment === "kvm")!;
    assert.equal(cell.n, 4);
    assert.equal(cell.failed, 1);
    assert.equal(cell.acceleration, "tcg");
    assert.ok(cell.warnings.includes("tcg-guest"));
  });
});

describe("writeReport inputs", () => {
  it("several stacks: each environment's ratio per host side by side", () => {
    const { files, model } = writeReport([join(FIX, "dev"), join(FIX, "lab")], { out: out() });
    assert.deepEqual(model.stackColumns, ["dev", "lab"]);
    const md = readFileSync(files.markdown, "utf8");
    assert.match(md, /## Across hosts: ratio to each host's own native\n\n\| measure \| environment \| dev \| lab \|/);
    // lab ran no docker-host-volume: its column says so rather than showing a number.
    assert.match(md, /\| docker-host-volume \| [^|]+ \| not run \|/);
    assert.ok(model.factsProblems.some((p) => p.includes("kvm.json")), "unreadable facts file is reported");
  });
  it("--stack keeps one stack; an unknown one is a ConfigError listing those found", () => {
    const { model } = writeReport([join(FIX, "dev"), join(FIX, "lab")], { out: out(), stacks: ["lab"] });
    assert.deepEqual(model.comparison.stacks.map((s) => s.stack), ["lab"]);
    assert.throws(() => writeReport([join(FIX, "dev")], { out: out(), stacks: ["nope"] }), (e: unknown) => e instanceof ConfigError && /found: dev/.test(e.message));
  });
  it("reads the JSON of `pulumi stack output --json` and a bare trials.jsonl alike", () => {
    const dir = out();
    const trials = lines(join(FIX, "lab/trials.jsonl")).map((l) => JSON.parse(l) as unknown);
    const stackOut = join(dir, "outputs.json");
    writeFileSync(stackOut, JSON.stringify({ stack: "lab", runId: "lab-r1", resultsDir: join(FIX, "lab"), trials }));
    const a = writeReport([stackOut], { out: join(dir, "a") });
    const b = writeReport([join(FIX, "lab/trials.jsonl")], { out: join(dir, "b") });
    assert.deepEqual(readFileSync(a.files.summary, "utf8"), readFileSync(b.files.summary, "utf8"));
  });
  const bad = [
    { file: "malformed.jsonl", message: /malformed\.jsonl:2: not valid JSON/ },
    { file: "unknown-schema.jsonl", message: /unknown-schema\.jsonl:2: unknown schema "virtperf\.trial\/9"/ },
    { file: "mixed-units.jsonl", message: /mixed-units\.jsonl:2: metric "throughput" of xz\/compress has unit "MiB\/s" but "MB\/s" at .*mixed-units\.jsonl:1/ },
  ];
  for (const b of bad) {
    it(`${b.file}: RecordError naming the file and line`, () => {
      assert.throws(() => writeReport([join(FIX, b.file)], { out: out() }), (e: unknown) => e instanceof RecordError && b.message.test(e.message));
    });
  }
  it("a path that does not exist is a ConfigError", () => {
    assert.throws(() => writeReport([join(FIX, "nowhere")], { out: out() }), ConfigError);
  });
});
