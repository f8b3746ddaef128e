import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { writeReport } from "../../../cli/report.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { CSV_COLUMNS } from "../../../analysis/render/csv.ts";
import type { SummaryRow } from "../../../analysis/render/summary.ts";

const FIX = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/records");
const out = () => mkdtempSync(join(tmpdir(), "virtperf-report-"));
const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n");
const SUMMARY_FIELDS = ["stack", "workload", "case", "metric", "unit", "better", "environment", "n", "median", "ciLow", "ciHigh", "ratio", "ratioLow", "ratioHigh", "p", "verdict", "equivalent", "margin"];

const REAL = join(FIX, "real-smoke-2026-11-26");
const LAB = join(FIX, "generated-lab");

/** The rows of report.md's first "What differs" table, by aspect: environment -> value. */
function differsTable(md: string): Map<string, Map<string, string>> {
  const block = md.split("_What differs between these environments:_")[1]!.split("\n\n")[1]!.split("\n");
  const split = (l: string) => l.slice(2, -2).split(" | ");
  const envs = split(block[0]!).slice(1);
  return new Map(block.slice(2).map((l) => { const [k, ...vs] = split(l); return [k!, new Map(vs.map((v, i) => [envs[i]!, v]))]; }));
}

describe("writeReport on the real smoke run (native, docker, docker-host-volume, kvm under TCG)", () => {
  const dir = out();
  const { files, model } = writeReport([REAL], { out: dir });
  const summary = JSON.parse(readFileSync(files.summary, "utf8")) as SummaryRow[];
  const md = readFileSync(files.markdown, "utf8");
  const html = readFileSync(files.html, "utf8");
  const records = lines(join(REAL, "trials.jsonl")).map((l) => JSON.parse(l) as { environment: string; workload: string; warmup?: boolean; status: string; cases: { metrics: unknown[] }[] });

  it("writes the four files, none empty", () => {
    for (const f of Object.values(files)) assert.ok(statSync(f).size > 100, f);
  });
  it("summary.json has one row per cell with the named fields", () => {
    assert.equal(summary.length, model.comparison.rows.length);
    for (const f of SUMMARY_FIELDS) assert.ok(f in summary[0]!, `field ${f}`);
    const keys = new Set(summary.map((r) => [r.stack, r.workload, r.case, r.metric, r.environment].join("|")));
    assert.equal(keys.size, summary.length);
  });
  it("every (workload, environment) of the run is in summary.json and report.md", () => {
    const pairs = (list: { workload: string; environment: string }[]) => [...new Set(list.map((r) => `${r.workload}|${r.environment}`))].sort();
    const ran = pairs(records.filter((r) => !r.warmup && r.status === "ok"));
    assert.equal(ran.length, 36); // nine workloads on four environments
    assert.deepEqual(pairs(summary), ran);
    for (const w of new Set(records.map((r) => r.workload))) assert.match(md, new RegExp(`(\\| |\\*\\*)${w} `), w);
  });
  it("results.csv has one row per metric value of each trial", () => {
    const expected = records.reduce((n, r) => n + Math.max(1, r.cases.reduce((m, c) => m + c.metrics.length, 0)), 0);
    const csv = lines(files.csv);
    assert.equal(csv[0], CSV_COLUMNS.join(","));
    assert.equal(csv.length - 1, expected);
  });
  it("flags the TCG guest in report.md, report.html and every kvm cell; records this old say no reason", () => {
    assert.match(md, /Warning: kvm ran under QEMU TCG, not KVM: no reason recorded/);
    assert.match(html, /kvm ran under QEMU TCG, not KVM: no reason recorded/);
    const kvm = summary.filter((r) => r.environment === "kvm");
    assert.ok(kvm.length > 0 && kvm.every((r) => r.acceleration === "tcg" && r.warnings.includes("tcg-guest")));
  });
  it("what differs: the CPU set reads the facts' 0-1 for native and docker, and how each got it", () => {
    const t = differsTable(md);
    const cpu = t.get("CPU set")!;
    assert.ok(cpu, [...t.keys()].join(", "));
    for (const env of ["native", "docker", "docker-host-volume", "kvm"]) assert.match(cpu.get(env)!, /^0-1 \(/, env);
    assert.match(cpu.get("native")!, /cgroup v1 cpuset/);
    assert.match(cpu.get("kvm")!, /2 vCPUs floating over them, not pinned/);
    assert.match(t.get("network")!.get("kvm")!, /^libvirt NAT network 'default', virtio-net/);
    assert.match(t.get("network")!.get("docker")!, /^Docker bridge with NAT, 4 ports/);
    assert.equal(t.get("storage")!.get("docker"), "container filesystem (overlay2)");
    assert.match(md, /_Same in all:_\n\n- tool binaries \(version, sha256\): .*xz \(XZ Utils\) 5\.4\.1/);
  });
  it("says the smoke profile is for the pipeline, and why the study column stays", () => {
    assert.match(md, /> \*\*Smoke profile: these runs check the pipeline, not performance\./);
    assert.match(md, /\| 73\.5 \(x0\.96\) \|/); // PXZ, Docker, from Table I
    assert.match(md, /_Study column: the paper's full-size figures on its hardware/);
    assert.match(html, /class="warn smoke"/);
    assert.doesNotMatch(md, /\bsame\b/);
  });
});

describe("writeReport inputs", () => {
  it("several stacks: each environment's ratio per host side by side; the generated second host is not smoke", () => {
    const { files, model } = writeReport([REAL, LAB], { out: out() });
    assert.deepEqual(model.stackColumns, ["dev", "lab"]);
    const md = readFileSync(files.markdown, "utf8");
    assert.match(md, /## Across hosts: ratio to each host's own native\n\n\| measure \| environment \| dev \| lab \|/);
    // lab ran no docker-host-volume: its column says so rather than showing a number.
    assert.match(md, /\| docker-host-volume \| [^|]+ \| not run \|/);
    assert.match(md, /Smoke profile \(dev\):/);
    assert.ok(model.factsProblems.some((p) => p.includes("kvm.json")), "unreadable facts file is reported");
  });
  it("a failed trial is counted out of its cell and reported", () => {
    const { files, model } = writeReport([LAB], { out: out() });
    const recs = lines(join(LAB, "trials.jsonl")).map((l) => JSON.parse(l) as { environment: string; workload: string; status: string });
    const fioKvm = recs.filter((r) => r.workload === "fio" && r.environment === "kvm");
    const failed = fioKvm.filter((r) => r.status === "failed").length;
    assert.ok(failed > 0);
    const cell = model.comparison.rows.find((r) => r.workload === "fio" && r.case === "seq-read" && r.metric === "bw" && r.environment === "kvm")!;
    assert.deepEqual([cell.n, cell.failed], [fioKvm.length - failed, failed]);
    assert.ok(cell.warnings.includes("failed-trials"));
    assert.match(readFileSync(files.markdown, "utf8"), new RegExp(`fio on kvm: ${failed}`));
    // Some trials failed, not all: neither page may say that every trial failed.
    for (const f of [files.markdown, files.html]) assert.doesNotMatch(readFileSync(f, "utf8"), /every trial failed/, f);
  });
  it("--stack keeps one stack; an unknown one is a ConfigError listing those found", () => {
    const { model } = writeReport([REAL, LAB], { out: out(), stacks: ["lab"] });
    assert.deepEqual(model.comparison.stacks.map((s) => s.stack), ["lab"]);
    assert.throws(() => writeReport([REAL], { out: out(), stacks: ["nope"] }), (e: unknown) => e instanceof ConfigError && /found: dev/.test(e.message));
  });
  it("reads the JSON of `pulumi stack output --json` and a bare trials.jsonl alike", () => {
    const dir = out();
    const trials = lines(join(LAB, "trials.jsonl")).map((l) => JSON.parse(l) as unknown);
    const stackOut = join(dir, "outputs.json");
    // The Pulumi program's outputs: records, runId, resultsDir, seed, counts, ok, failed, pending.
    writeFileSync(stackOut, JSON.stringify({ records: trials, runId: "lab-r1", resultsDir: LAB, seed: 12, counts: { ok: 53, failed: 1, pending: 0 }, ok: 53, failed: 1, pending: 0 }));
    const a = writeReport([stackOut], { out: join(dir, "a") });
    const b = writeReport([join(LAB, "trials.jsonl")], { out: join(dir, "b") });
    assert.deepEqual(readFileSync(a.files.summary, "utf8"), readFileSync(b.files.summary, "utf8"));
  });
  const bad = [
    { file: "malformed.jsonl", message: /malformed\.jsonl:2: not valid JSON/ },
    { file: "unknown-schema.jsonl", message: /unknown-schema\.jsonl:2: unknown schema "virtperf\.trial\/9"/ },
    { file: "mixed-units.jsonl", message: /mixed-units\.jsonl:2: metric "throughput" of xz\/compress has unit "MiB\/s" but "MB\/s" at .*mixed-units\.jsonl:1; left out/ },
  ];
  for (const b of bad) {
    it(`${b.file}: the bad line is left out and named (file:line) in the warnings and report.md; the good line is reported`, () => {
      const { files, warnings, model } = writeReport([join(FIX, b.file)], { out: out() });
      assert.ok(warnings.some((w) => b.message.test(w)), warnings.join("\n"));
      assert.match(readFileSync(files.markdown, "utf8"), b.message);
      assert.ok(model.comparison.rows.some((r) => r.n === 1));
    });
  }
  it("a duplicated record (a resumed run appended it twice) counts once, with a warning", () => {
    const dir = out();
    const text = readFileSync(join(LAB, "trials.jsonl"), "utf8");
    writeFileSync(join(dir, "trials.jsonl"), text + text.split("\n")[3] + "\n");
    const a = writeReport([join(dir, "trials.jsonl")], { out: join(dir, "a") });
    const b = writeReport([LAB], { out: join(dir, "b") });
    assert.equal(a.warnings.filter((w) => /^duplicate .*trials\.jsonl:55: the same trial as .*trials\.jsonl:4, counted once/.test(w)).length, 1, a.warnings.join("\n"));
    assert.deepEqual(a.model.comparison.rows.map((r) => r.n), b.model.comparison.rows.map((r) => r.n));
  });
  it("report.md escapes | and HTML in every cell; results.csv guards cells against spreadsheet formulas", () => {
    const dir = out();
    const text = readFileSync(join(LAB, "trials.jsonl"), "utf8").replaceAll('"environment":"docker"', '"environment":"dock|er<img src=x>"').replaceAll('"case":"compress"', '"case":"=HYPERLINK(1)"');
    writeFileSync(join(dir, "trials.jsonl"), text);
    const { files } = writeReport([join(dir, "trials.jsonl")], { out: join(dir, "r") });
    const md = readFileSync(files.markdown, "utf8");
    assert.match(md, /\| dock\\\|er&lt;img src=x&gt; \|/);
    assert.doesNotMatch(md, /<img/);
    assert.doesNotMatch(readFileSync(files.html, "utf8"), /<img/);
    const csv = readFileSync(files.csv, "utf8");
    assert.match(csv, /,'=HYPERLINK\(1\),/);
    assert.doesNotMatch(csv, /,=HYPERLINK/);
  });
  it("a path that does not exist is a ConfigError when nothing else is usable, a warning beside usable input", () => {
    assert.throws(() => writeReport([join(FIX, "nowhere")], { out: out() }), ConfigError);
    const { warnings } = writeReport([join(FIX, "nowhere"), LAB], { out: out() });
    assert.ok(warnings.some((w) => /nowhere: no such file or folder/.test(w)), warnings.join("\n"));
  });
});
