/**
 * Every workload for real on this machine ("native"), smoke profile, through the CLI a user types:
 * a valid ok record with positive values in declared units, raw output kept, and nothing left behind
 * (no server process, no data directory).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { WORKLOAD_IDS } from "../../workloads/contract.ts";
import { WORKLOADS } from "../../workloads/registry.ts";
import { parseRecord } from "../../model/record.ts";
import { nativeDescription } from "../helpers/environments.ts";

const SERVERS = ["redis-server", "mariadbd", "nuttcp", "sockperf", "hpcc", "xz", "fio", "sysbench"];

/**
 * "pid name" of every live process with one of these names. Zombies are dead already: a killed server
 * waits there until this sandbox's PID 1 reaps it, about a second later.
 */
async function running(names: readonly string[]): Promise<Set<string>> {
  const r = await execa("ps", ["-C", names.join(","), "-o", "pid=,stat=,comm="], { reject: false });
  const live = r.stdout.split("\n").map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3 && !f[1]!.startsWith("Z"));
  return new Set(live.map(([pid, , comm]) => `${pid} ${comm}`));
}

describe("virtperf trial --env native, every workload at smoke", () => {
  for (const id of WORKLOAD_IDS) {
    it(id, { timeout: 300_000 }, async () => {
      const out = await mkdtemp(join(tmpdir(), `virtperf-native-${id}-`));
      const dataDir = await mkdtemp(join(tmpdir(), `virtperf-data-${id}-`));
      const before = await running(SERVERS);
      const r = await execa("bin/virtperf", ["trial", "--environment", nativeDescription({ dataDir }), "--workload", id, "--profile", "smoke", "--out", out], { reject: false });
      assert.equal(r.exitCode, 0, `trial failed:\n${r.stdout}\n${r.stderr}`);
      const record = parseRecord(r.stdout.trim(), { file: "stdout", line: 1 });
      assert.equal(record.status, "ok");
      assert.equal(record.workload, id);
      assert.notEqual(record.tool.version, "unknown");
      const declared = new Map(WORKLOADS[id].metrics.map((m) => [m.name, m]));
      const metrics = record.cases.flatMap((c) => c.metrics);
      assert.ok(metrics.length > 0, "no metrics");
      for (const c of record.cases) assert.ok(c.metrics.some((m) => m.value > 0), `case ${c.case} has no positive value`);
      for (const m of metrics) {
        // Counts such as retransmits may be 0; a throughput, rate or latency never is.
        assert.ok(Number.isFinite(m.value) && m.value >= 0, `${m.name} = ${m.value}`);
        if (m.better === "higher" || /latency|rtt|clat/.test(m.name)) assert.ok(m.value > 0, `${m.name} = ${m.value}`);
        const spec = declared.get(m.name);
        assert.ok(spec, `metric ${m.name} is not declared by ${id}`);
        assert.equal(m.unit, spec.unit);
        assert.equal(m.better, spec.better);
      }
      assert.ok((await readFile(join(out, record.raw!), "utf8")).length > 0, "raw output is empty");
      assert.equal((await readFile(join(out, "trials.jsonl"), "utf8")).trim(), r.stdout.trim());
      assert.deepEqual(await readdir(dataDir), [], "data left behind");
      // Processes of these names that the trial started and left behind (others on the machine are not ours).
      const left = [...(await running(SERVERS))].filter((p) => !before.has(p));
      assert.deepEqual(left, [], "a process was left running");
    });
  }
});
