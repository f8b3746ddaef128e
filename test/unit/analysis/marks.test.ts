/**
 * The report's marks (issues 8, 9) on the generated-marks fixture (see test/fixtures/records/README.md):
 * why a guest ran under TCG, trials on a busy host, the A/A noise floor, and what differs from the
 * records' trial contexts and tool checksums.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { writeReport } from "../../../cli/report.ts";
import { loadInputs, type LocatedRecord } from "../../../analysis/load.ts";
import { buildReport } from "../../../analysis/sections.ts";
import type { Row } from "../../../analysis/compare.ts";
import { environmentAspects } from "../../../analysis/facts.ts";
import { blasText, processEnvDelta } from "../../../analysis/facts-context.ts";
import { ratioText, tcgReasonText, tcgShort, warningsText } from "../../../analysis/format.ts";
import type { SummaryRow } from "../../../analysis/render/summary.ts";
import { parseTrialsText, type TrialRecord } from "../../../model/record.ts";

const FIX = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/records");
const MARKS = join(FIX, "generated-marks");
const REAL = join(FIX, "real-smoke-2026-11-26");
const REASON = "KVM not usable, so QEMU TCG: cpu-virt: the CPU (AuthenticAMD) advertises neither vmx nor svm";
const out = () => mkdtempSync(join(tmpdir(), "virtperf-marks-"));
const { files, model, warnings } = writeReport([MARKS], { out: out() });
const md = readFileSync(files.markdown, "utf8");
const summary = JSON.parse(readFileSync(files.summary, "utf8")) as SummaryRow[];
const row = (env: string, workload: string, metric: string, rows: readonly Row[] = model.comparison.rows) => rows.find((r) => r.environment === env && r.workload === workload && r.metric === metric)!;
const marksRecords = parseTrialsText(readFileSync(join(MARKS, "trials.jsonl"), "utf8"), "trials.jsonl").records;

/** The generated-marks run with its records changed, written to a temp folder beside its facts. */
function variant(change: (r: TrialRecord, i: number) => TrialRecord | null): string {
  const dir = out();
  cpSync(MARKS, dir, { recursive: true });
  writeFileSync(join(dir, "trials.jsonl"), marksRecords.map((l, i) => change(l.record, i)).filter((r) => r !== null).map((r) => JSON.stringify(r)).join("\n") + "\n");
  return dir;
}

describe("TCG and why (issue 8)", () => {
  it("every kvm cell carries the reason; summary.json too; KVM cells stay unjudged", () => {
    const kvm = model.comparison.rows.filter((r) => r.environment === "kvm");
    assert.ok(kvm.length === 16);
    for (const r of kvm) assert.deepEqual([r.acceleration, r.accelerationReason, r.verdict, r.warnings.includes("tcg-guest")], ["tcg", REASON, null, true]);
    assert.ok(summary.filter((r) => r.environment === "kvm").every((r) => r.accelerationReason === REASON));
    assert.ok(summary.filter((r) => r.environment !== "kvm").every((r) => r.accelerationReason === null && !r.warnings.includes("tcg-guest")));
  });
  it("says why in the page's warning, each section's warning, page one's column, the warnings column and what differs", () => {
    const why = "kvm ran under QEMU TCG, not KVM: cpu-virt: the CPU (AuthenticAMD) advertises neither vmx nor svm";
    assert.ok(md.includes(`> **${why}.** Not KVM numbers`));
    assert.equal(md.split(`> **Warning: ${why}.**`).length - 1, model.sections.length);
    assert.match(md, /\| kvm \(TCG, not KVM: cpu-virt\): performance vs native \|/);
    assert.equal(warningsText(row("kvm", "xz", "throughput")).split("; ")[0], "TCG guest, not KVM (cpu-virt)");
    const accel = model.sections[0]!.differences.find((d) => d.label === "acceleration")!;
    assert.equal(new Map(accel.values).get("kvm"), "QEMU TCG: software emulation, not KVM (cpu-virt: the CPU (AuthenticAMD) advertises neither vmx nor svm)");
  });
  it("records without a reason fall back to the guest's facts file", () => {
    const dir = variant((r) => { const { accelerationReason: _drop, ...rest } = r; return rest; });
    const m = buildReport(loadInputs([dir]));
    assert.ok(m.comparison.rows.filter((r) => r.environment === "kvm").every((r) => r.accelerationReason === REASON));
    assert.equal(m.sections[0]!.tcg[0]!.reason, REASON);
  });
  const reasons = [
    { reason: REASON, short: "cpu-virt", text: "cpu-virt: the CPU (AuthenticAMD) advertises neither vmx nor svm" },
    { reason: "KVM not usable, so QEMU TCG: kvm-boot: kernel: no console line within 20 s: the guest started but did not boot", short: "kvm-boot", text: "kvm-boot: kernel: no console line within 20 s: the guest started but did not boot" },
    { reason: "TCG requested (virtperf:acceleration tcg)", short: "requested", text: "TCG requested (virtperf:acceleration tcg)" },
    { reason: null, short: "", text: "no reason recorded (records and facts from before accelerationReason)" },
  ];
  for (const c of reasons) {
    it(`reason ${JSON.stringify(c.reason)}: label "${c.short}"`, () => assert.deepEqual([tcgShort(c.reason), tcgReasonText(c.reason)], [c.short, c.text]));
  }
  it("a KVM guest with its proof is KVM, never labelled TCG", () => {
    const dir = variant((r) => (r.kind === "kvm" ? { ...r, acceleration: "kvm", accelerationReason: 'KVM proven: kernel: "Linux version 6.1" after 0.41 s' } : r));
    const m = buildReport(loadInputs([dir]));
    const kvm = m.comparison.rows.filter((r) => r.environment === "kvm");
    assert.ok(kvm.every((r) => !r.warnings.includes("tcg-guest")) && kvm.some((r) => r.verdict !== null));
    assert.deepEqual(m.sections.map((s) => s.tcg.length), m.sections.map(() => 0));
    assert.equal(new Map(m.sections[0]!.differences.find((d) => d.label === "acceleration")!.values).get("kvm"), "KVM (proven: a guest kernel booted under it)");
  });
});

describe("trials on a busy host (issue 9 item 4)", () => {
  it("flagged trials are in the statistics; their cell is warned and names them", () => {
    const r = row("docker", "linpack", "gflops");
    assert.equal(r.n, 6);
    assert.deepEqual(r.contaminated.map((c) => c.order), [22, 70]);
    // The flagged values are the two slow ones (drawn at 62 %), counted among the six.
    const slow = [...r.values].sort((a, b) => a - b).slice(0, 2);
    assert.deepEqual(r.contaminated.map((c) => r.values[c.index]!).sort((a, b) => a - b), slow);
    assert.ok(r.warnings.includes("contaminated"));
    assert.match(warningsText(r), /2 of 6 trials ran on a busy host: busy processes not ours: yes \(pid 4711\) 98 % of a CPU \(#22, #70\)/);
    assert.deepEqual(summary.find((s) => s.environment === "docker" && s.metric === "gflops")!.contaminated, [22, 70]);
  });
  it("a clean retry replaces the flagged record of its trial, which is listed as superseded", () => {
    const r = row("docker", "xz", "throughput");
    assert.deepEqual([r.n, r.contaminated.length, r.warnings.includes("contaminated")], [6, 0, false]);
    const retry = marksRecords[marksRecords.length - 1]!.record;
    assert.equal(retry.order, 34);
    assert.ok(r.values.includes(retry.cases[0]!.metrics[0]!.value));
    const listed = model.contaminated.map((c) => [c.order, c.environment, c.workload, c.counted, c.supersededBy?.clean ?? null]);
    assert.deepEqual(listed, [[22, "docker", "linpack", true, null], [34, "docker", "xz", false, true], [70, "docker", "linpack", true, null]]);
    assert.match(md, /\| #34 \([^)]*trials\.jsonl:35\) \| docker \| xz \| 3 \| busy processes not ours: yes \(pid 4711\) 98 % of a CPU \| no: superseded by a clean retry \([^)]*trials\.jsonl:97\) \|/);
    assert.match(md, /> \*\*3 trials ran on a busy host: 2 in the statistics \(their cells are warned\), 1 superseded by another attempt of their trial\./);
    assert.ok(warnings.some((w) => /^trial #34 .* superseded by .*trials\.jsonl:97, not counted$/.test(w)), warnings.join("\n"));
  });
  it("a flagged retry of a flagged trial: the later one is counted and warned", () => {
    const dir = variant((r, i) => (i === marksRecords.length - 1 ? { ...r, contamination: { ...r.contamination!, flagged: true, reasons: ["the hypervisor stole 7.5 % of the CPU time"] } } : r));
    const m = buildReport(loadInputs([dir]));
    const r = row("docker", "xz", "throughput", m.comparison.rows);
    assert.deepEqual(r.contaminated.map((c) => [c.order, c.reasons.join()]), [[34, "the hypervisor stole 7.5 % of the CPU time"]]);
    assert.deepEqual(m.contaminated.filter((c) => c.order === 34).map((c) => c.counted), [true, false]);
  });
  it("results.csv says which rows ran on a busy host", () => {
    const csv = readFileSync(files.csv, "utf8").trim().split("\n");
    const header = csv[0]!.split(",");
    const at = header.indexOf("contaminated");
    assert.ok(at > 0 && header.includes("calibrationOf") && header.includes("accelerationReason"));
    assert.equal(csv.filter((l) => l.includes(",true,busy processes not ours: yes (pid 4711) 98 % of a CPU")).length, 2);
  });
});

describe("A/A noise floor (issue 9 item 2)", () => {
  const rows = model.comparison.rows;
  it("the copy is calibration: compared with native, no verdict, in no family, not a page-one column", () => {
    const copies = rows.filter((r) => r.environment === "native-aa");
    assert.ok(copies.length === 16 && copies.every((r) => r.role === "calibration" && r.calibrationOf === "native" && r.verdict === null && r.q === null && r.ratioLow !== null));
    assert.equal(model.comparison.family.tests, 5); // docker's five headline cells; kvm is TCG
    assert.deepEqual(model.overviews[0]!.environments, ["docker", "kvm"]);
    assert.deepEqual(model.comparison.stacks[0]!.calibration, [{ copy: "native-aa", of: "native" }]);
  });
  it("each measure's noise floor is its copy's interval; inside means the cell's whole interval is inside it", () => {
    const copyOf = new Map(rows.filter((r) => r.calibrationOf).map((r) => [`${r.case}/${r.metric}`, r]));
    let inside = 0;
    for (const r of rows) {
      const c = copyOf.get(`${r.case}/${r.metric}`)!;
      assert.deepEqual([r.noiseFloorLow, r.noiseFloorHigh], [c.ratioLow, c.ratioHigh], `${r.environment} ${r.metric}`);
      const expected = r.verdict === "baseline" || r.calibrationOf ? null : r.ratioLow! >= c.ratioLow! && r.ratioHigh! <= c.ratioHigh!;
      assert.equal(r.insideNoiseFloor, expected, `${r.environment} ${r.metric}`);
      if (r.insideNoiseFloor) inside++;
    }
    assert.ok(inside >= 1);
    assert.equal(row("docker", "stream", "add").insideNoiseFloor, true);
    assert.equal(row("docker", "fio", "iops").insideNoiseFloor, false);
  });
  it("the noise floor is a statement beside the verdict, in summary.json, the page-one table and the detail tables", () => {
    const s = summary.find((x) => x.environment === "docker" && x.metric === "add")!;
    assert.deepEqual([s.insideNoiseFloor, s.noiseFloorLow !== null, s.calibrationOf], [true, true, null]);
    assert.match(md, /\| headline metric \| native median \| noise floor \(A\/A: native-aa vs native\) \|/);
    assert.match(md, /\| docker \| [^|]+ \| 6 \| [^|]+ \| x0\.996 \[0\.97, 1\.02\] \(95\.8 %\), p = 1; supporting data, no verdict \| inside the noise floor \(A\/A x0\.96\.\.x1\.03\) \|/);
    assert.match(md, /\| native-aa \| [^|]+ \| 6 \| [^|]+ \| A\/A against native: x0\.99 \[0\.97, 1\.02\] \(95\.8 %\), p = 0\.59; the noise floor, no verdict \| this is the noise floor \|/);
    // The verdict stays: docker's headline xz is inconclusive, whatever the noise floor says.
    assert.equal(row("docker", "xz", "throughput").verdict, "indistinguishable");
  });
  it("a copy whose interval excludes 1 is warned: identical environments measured apart", () => {
    const copy = row("native-aa", "stream", "copy");
    assert.ok(copy.ratioLow! > 1 && copy.warnings.includes("aa-apart"));
    assert.match(md, /identical environments measured apart, no verdict/);
  });
  it("without native's trials of a workload the copy has no A/A ratio and the cells no noise floor", () => {
    const m = buildReport(loadInputs([variant((r) => (r.environment === "native" && r.workload === "linpack" ? null : r))]));
    const copy = row("native-aa", "linpack", "gflops", m.comparison.rows);
    assert.deepEqual([copy.ratio, ratioText(copy)], [null, "no successful trial of native, the original: no A/A ratio"]);
    assert.equal(row("docker", "linpack", "gflops", m.comparison.rows).noiseFloorLow, null);
  });
  it("without calibration every row says null", () => {
    const real = buildReport(loadInputs([REAL])).comparison.rows;
    assert.ok(real.every((r) => r.noiseFloorLow === null && r.noiseFloorHigh === null && r.insideNoiseFloor === null && r.calibrationOf === null));
  });
});

describe("what differs, from the records (issue 9 item 1)", () => {
  const cpu = model.sections.find((s) => s.key === "cpu")!;
  it("the guest's OpenBLAS kernel is the one difference of the trial contexts; the rest is the same in all", () => {
    const blas = new Map(cpu.differences.find((d) => d.label === "BLAS kernel (OpenBLAS core)")!.values);
    assert.deepEqual([...blas.values()].map((v) => v.split(" (")[0]), ["OpenBLAS core Haswell", "OpenBLAS core Haswell", "OpenBLAS core Haswell", "OpenBLAS core Nehalem"]);
    const same = new Map(cpu.sameEverywhere.map((x) => [x.label, x.value]));
    assert.equal(same.get("process environment (trial shell)"), "HOME=/tmp LANG=C LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TZ=UTC");
    assert.equal(same.get("limits (ulimit, trial shell)"), "nofile=4096 stack=8192 memlock=64 core=0 nproc=16384");
    assert.deepEqual(["niceness (trial shell)", "CPUs allowed (trial shell)", "/dev/shm size", "transparent hugepages"].map((k) => same.get(k)), ["0", "0-1", "1024 MiB", "madvise"]);
    assert.match(same.get("tool binaries (version, sha256)")!, /^hpcc 1\.5\.0 sha256:[0-9a-f]{12}; xz \(XZ Utils\) 5\.4\.1 sha256:[0-9a-f]{12}$/);
  });
  const docker = (change: (r: TrialRecord, i: number) => TrialRecord): LocatedRecord[] =>
    marksRecords.filter((r) => r.record.environment === "docker").map((r, i) => ({ ...r, record: change(r.record, i) }));
  it("trials of one environment that disagree say so, with how many had each", () => {
    const recs = docker((r, i) => (i === 0 ? { ...r, context: { env: { ...r.context!.env, env: `${r.context!.env.env} OPENBLAS_CORETYPE=Haswell`, shm: "67108864" } }, tool: { ...r.tool, sha256: "f".repeat(64) } } : r));
    const a = environmentAspects("docker", undefined, recs.filter((r) => r.record.workload === "xz"));
    assert.match(a.processEnv!, /^differs between trials: HOME=\/tmp .* TZ=UTC \(6 trials\); HOME=\/tmp .* TZ=UTC OPENBLAS_CORETYPE=Haswell \(1 trial\)$/);
    assert.equal(a.shm, "differs between trials: 1024 MiB (6 trials); 64 MiB (1 trial)");
    assert.match(a.tools!, /^xz \(XZ Utils\) 5\.4\.1 sha256 differs between trials: [0-9a-f]{12} \(6 trials\); ffffffffffff \(1 trial\)$/);
  });
  it("a process environment that differs between environments shows each one's extra variables; the shared ones go to the same-in-all list", () => {
    const base = "HOME=/tmp LANG=C TZ=UTC";
    const d = processEnvDelta(new Map([["native", `${base} OPENBLAS_CORETYPE=Haswell`], ["docker", base], ["kvm", "unknown"]]));
    assert.deepEqual([...d.values], [["native", "3 shared + OPENBLAS_CORETYPE=Haswell"], ["docker", "3 shared only"], ["kvm", "unknown"]]);
    assert.equal(d.shared, base);
    const dir = variant((r) => (r.environment === "native" ? { ...r, context: { env: { ...r.context!.env, env: `${r.context!.env.env} OPENBLAS_CORETYPE=Haswell` } } } : r));
    const section = buildReport(loadInputs([dir])).sections.find((s) => s.key === "cpu")!;
    assert.equal(new Map(section.differences.find((d) => d.label === "process environment (trial shell)")!.values).get("native"), "5 shared + OPENBLAS_CORETYPE=Haswell");
    assert.ok(section.sameEverywhere.some((x) => x.label === "process environment (trial shell), shared" && x.value.startsWith("HOME=/tmp")));
  });
  const blas = [
    { in: "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 core=Haswell", out: "OpenBLAS core Haswell (/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3)" },
    { in: "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0 core=", out: "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0 (no OpenBLAS core reported: not OpenBLAS?)" },
    { in: "", out: "no libblas.so.3 found" },
  ];
  for (const b of blas) it(`BLAS ${JSON.stringify(b.in)}`, () => assert.equal(blasText(b.in), b.out));
  it("records without a context (the real smoke run) add no aspect", () => {
    const real = buildReport(loadInputs([REAL])).sections;
    const labels = real.flatMap((s) => [...s.differences.map((d) => d.label), ...s.sameEverywhere.map((x) => x.label)]);
    assert.ok(!labels.some((l) => /trial shell|shm|hugepages|BLAS/.test(l)), labels.join(", "));
  });
});
