/**
 * Comparisons against reference environments (records' `references`), on the generated-gvisor fixture
 * (see test/fixtures/records/README.md): each gVisor environment against the same container on runc, by
 * the one rule (ratio, interval, p, verdict, equivalence), headline ones in the one FDR family, shown in
 * the report (page one and each section) and in summary.json with `baseline` naming the reference; the
 * isolation label beside the environment's name; nothing changes for runs without references.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { writeReport } from "../../../cli/report.ts";
import { loadInputs } from "../../../analysis/load.ts";
import { buildReport } from "../../../analysis/sections.ts";
import type { Row } from "../../../analysis/compare.ts";
import { compareShift, sorted } from "../../../analysis/stats.ts";
import { environmentColumn } from "../../../analysis/render/tables.ts";
import type { SummaryRow } from "../../../analysis/render/summary.ts";
import { parseTrialsText, type TrialRecord } from "../../../model/record.ts";

const FIX = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/records");
const GV = join(FIX, "generated-gvisor");
const REAL = join(FIX, "real-smoke-2026-11-26");
const out = () => mkdtempSync(join(tmpdir(), "virtperf-against-"));
const { files, model } = writeReport([GV], { out: out() });
const md = readFileSync(files.markdown, "utf8");
const html = readFileSync(files.html, "utf8");
const summary = JSON.parse(readFileSync(files.summary, "utf8")) as SummaryRow[];
const records = parseTrialsText(readFileSync(join(GV, "trials.jsonl"), "utf8"), "trials.jsonl").records.map((l) => l.record);
const find = (rows: readonly Row[], env: string, workload: string, kase: string, metric: string) => rows.find((r) => r.environment === env && r.workload === workload && r.case === kase && r.metric === metric)!;
const valuesOf = (env: string, workload: string, kase: string, metric: string) => records.filter((r) => r.environment === env && r.workload === workload && r.status === "ok")
  .map((r) => r.cases.find((c) => c.case === kase)!.metrics.find((m) => m.name === metric)!.value);

/** The fixture with its records changed, in a temp folder beside its facts. */
function variant(change: (r: TrialRecord) => TrialRecord | null): string {
  const dir = out();
  cpSync(GV, dir, { recursive: true });
  writeFileSync(join(dir, "trials.jsonl"), records.map(change).filter((r) => r !== null).map((r) => JSON.stringify(r)).join("\n") + "\n");
  return dir;
}

describe("cells against reference environments", () => {
  const c = model.comparison;

  it("one row per (measure, environment, reference), only where records name a reference of the stack, never among the rows against native", () => {
    const pairs = [...new Set(c.against.map((r) => `${r.environment}>${r.against}`))].sort();
    assert.deepEqual(pairs, ["gvisor-host-volume>docker-host-volume", "gvisor>docker"]);
    assert.ok(c.rows.every((r) => r.against === null));
    assert.deepEqual(c.stacks[0]!.references, [{ environment: "gvisor", reference: "docker" }, { environment: "gvisor-host-volume", reference: "docker-host-volume" }]);
    const measures = new Set(c.rows.map((r) => `${r.workload}/${r.case}/${r.metric}`));
    assert.equal(c.against.length, 2 * measures.size);
  });

  it("the ratio is the same rule's, against the reference's values", () => {
    const r = find(c.against, "gvisor", "xz", "compress", "throughput");
    const s = compareShift(sorted(valuesOf("gvisor", "xz", "compress", "throughput")), sorted(valuesOf("docker", "xz", "compress", "throughput")));
    assert.equal(r.ratio, Math.exp(s.estimate));
    assert.equal(r.p, s.p);
    assert.equal(r.verdict, "slower");
    assert.ok(r.ratioHigh! < 1);
    // Against native the same cell has its own, different ratio.
    assert.notEqual(find(c.rows, "gvisor", "xz", "compress", "throughput").ratio, r.ratio);
  });

  it("headline comparisons are in the one family: their verdicts are at its level, with q", () => {
    const heads = c.against.filter((r) => r.role === "headline" && r.verdict !== null);
    assert.ok(heads.length >= 6, `${heads.length} headline comparisons`);
    assert.equal(c.family.againstTests, heads.length);
    for (const r of heads) { assert.equal(r.alpha, c.family.alphaStar); assert.notEqual(r.q, null); }
    const supporting = c.against.filter((r) => r.role === "supporting" && r.ratioLow !== null);
    assert.ok(supporting.length > 0 && supporting.every((r) => r.verdict === null && r.q === null));
    assert.match(md, /headline tests in this report \(\d+ of them against a reference environment, the rest against native\)/);
  });

  it("no study figure and no noise floor beside a comparison that is not against native", () => {
    assert.ok(c.against.every((r) => r.reference === null && r.noiseFloorLow === null && r.insideNoiseFloor === null));
  });

  it("a failed environment's comparisons are gaps, said so", () => {
    const r = find(c.against, "gvisor", "nuttcp", "client-to-server", "throughput");
    assert.equal(r.median, null);
    assert.ok(r.warnings.includes("missing"));
  });

  it("page one: the isolation label beside the name, and a table and a forest against the reference", () => {
    const ov = model.overviews[0]!;
    assert.equal(environmentColumn(ov, "gvisor"), "gvisor (runsc ptrace, host network passthrough)");
    assert.equal(environmentColumn(ov, "docker"), "docker");
    assert.deepEqual(ov.against.map((a) => `${a.environment}>${a.reference}`), ["gvisor>docker", "gvisor-host-volume>docker-host-volume"]);
    assert.match(md, /### Against a reference environment[\s\S]*\| PXZ \(xz\) compression \(MB\/s, higher is better\) \| x0\.\d+ \[0\.\d+, 0\.\d+\] \([\d.]+ %\) slower/);
    assert.match(html, /<svg[^>]*id="against-gv"/);
    assert.match(html, /gvisor \(runsc ptrace, host network passthrough\) vs docker/);
  });

  it("each section: the comparisons beside the cells, and why the environment runs under gVisor", () => {
    const cpu = model.sections.find((s) => s.key === "cpu")!;
    assert.deepEqual(cpu.against.flatMap((m) => m.rows.map((r) => `${r.environment}>${r.against}`)), ["gvisor>docker", "gvisor-host-volume>docker-host-volume"]);
    assert.deepEqual(cpu.isolation.map((i) => [i.environment, i.label]), [["gvisor", "runsc ptrace, host network passthrough"], ["gvisor-host-volume", "runsc ptrace, host network passthrough"]]);
    assert.match(cpu.isolation[0]!.reason!, /^probed: systrap: unknown platform/);
    assert.match(md, /_gvisor runs under runsc ptrace, host network passthrough \(probed: /);
    assert.match(html, /data-against="cpu"/);
    assert.match(html, /data-isolation="gvisor"/);
  });

  it("what differs: the runtime, gVisor's kernel, sockets passed through, files through the gofer and O_DIRECT not reaching the host", () => {
    const io = model.sections.find((s) => s.key === "io")!;
    const get = (label: string) => new Map(io.differences.find((d) => d.label === label)!.values);
    assert.equal(get("isolation (what runs the workload)").get("docker"), "runc: Linux namespaces and cgroups, the host's kernel");
    assert.match(get("isolation (what runs the workload)").get("gvisor")!, /^gVisor: runsc 0\.0~20221219\.0, ptrace platform \(Docker runtime runsc-ptrace-host\)$/);
    assert.match(get("kernel").get("gvisor")!, /^gVisor's own \(reports 4\.4\.0\)/);
    assert.match(get("storage").get("gvisor")!, /O_DIRECT not passed to the host/);
    assert.match(get("storage").get("gvisor")!, /io_uring fails in the sandbox \(fio exits 134\): MariaDB.s InnoDB runs with simulated AIO/);
    assert.match(get("network").get("gvisor")!, /passed through to the host kernel's TCP\/IP/);
  });

  it("summary.json: the rows against native first, then the comparisons, each naming its baseline", () => {
    assert.equal(summary.length, c.rows.length + c.against.length);
    const keys = new Set(summary.map((r) => [r.stack, r.workload, r.case, r.metric, r.environment, r.baseline].join("|")));
    assert.equal(keys.size, summary.length);
    const xz = summary.filter((r) => r.environment === "gvisor" && r.workload === "xz" && r.metric === "throughput");
    assert.deepEqual(xz.map((r) => r.baseline), ["native", "docker"]);
    assert.equal(xz[1]!.isolation, "runsc ptrace, host network passthrough");
    assert.equal(summary.find((r) => r.environment === "native")!.baseline, "native");
  });
});

describe("references that cannot be compared", () => {
  it("a reference not in the stack gives no comparison", () => {
    const dir = variant((r) => (r.environment === "gvisor-host-volume" ? { ...r, references: ["docker-nowhere"] } : r.environment === "docker" ? null : r));
    const m = buildReport(loadInputs([dir]));
    assert.deepEqual(m.comparison.against, []);
    assert.equal(m.comparison.family.againstTests, 0);
  });
  it("an A/A copy is compared with its original only, never with its original's references", () => {
    const dir = variant((r) => (r.environment === "gvisor" ? { ...r, environment: "gvisor-aa", calibrationOf: "gvisor", order: r.order + 1000 } : r));
    writeFileSync(join(dir, "trials.jsonl"), readFileSync(join(dir, "trials.jsonl"), "utf8") + readFileSync(join(GV, "trials.jsonl"), "utf8"));
    const m = buildReport(loadInputs([dir]));
    assert.ok(m.comparison.against.length > 0);
    assert.ok(m.comparison.against.every((r) => r.environment !== "gvisor-aa"));
  });
  it("a run without references: nothing new (no comparisons, the family as before)", () => {
    const m = buildReport(loadInputs([REAL]));
    assert.deepEqual(m.comparison.against, []);
    assert.equal(m.comparison.family.againstTests, 0);
    assert.ok(m.overviews.every((o) => o.against.length === 0));
  });
});

describe("pairs left out of the schedule (experiment.json's notMeasured)", () => {
  it("are said in their section, bad entries ignored, never a cell", () => {
    const dir = variant((r) => (r.environment === "gvisor" && r.workload === "nuttcp" ? null : r));
    const experiment = JSON.parse(readFileSync(join(GV, "experiment.json"), "utf8"));
    writeFileSync(join(dir, "experiment.json"), JSON.stringify({ ...experiment, notMeasured: [
      { environment: "gvisor", workload: "nuttcp", reason: "its server dies in this sandbox" }, { environment: 3, workload: "xz" }, "junk",
    ] }));
    const m = buildReport(loadInputs([dir]));
    const network = m.sections.find((s) => s.key === "network")!;
    assert.ok(network.notes.includes("Not measured: nuttcp on gvisor, left out of the schedule: its server dies in this sandbox."), network.notes.join("\n"));
    assert.ok(m.sections.filter((s) => s.key !== "network").every((s) => s.notes.every((n) => !n.startsWith("Not measured"))));
    assert.ok(m.comparison.rows.every((r) => !(r.environment === "gvisor" && r.workload === "nuttcp")));
    assert.ok(m.comparison.against.every((r) => !(r.environment === "gvisor" && r.workload === "nuttcp")));
    const written = writeReport([dir], { out: out() }).files;
    assert.match(readFileSync(written.markdown, "utf8"), /_Not measured: nuttcp on gvisor, left out of the schedule: its server dies in this sandbox\._/);
  });
});
