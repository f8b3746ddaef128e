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
import { parseRecord } from "../../workloads/record.ts";

const SERVERS = ["redis-server", "mariadbd", "nuttcp", "sockperf", "hpcc", "xz", "fio", "sysbench"];

async function running(names: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const n of names) if ((await execa("pgrep", ["-x", n], { reject: false })).exitCode === 0) found.push(n);
  return found;
}

describe("virtperf trial --env native, every workload at smoke", () => {
  for (const id of WORKLOAD_IDS) {
    it(id, { timeout: 300_000 }, async () => {
      const out = await mkdtemp(join(tmpdir(), `virtperf-native-${id}-`));
      const dataDir = await mkdtemp(join(tmpdir(), `virtperf-data-${id}-`));
      const before = await running(SERVERS);
      const r = await execa("bin/virtperf", ["trial", "--env", "native", "--workload", id, "--profile", "smoke", "--out", out, "--data-dir", dataDir], { reject: false });
      assert.equal(r.exitCode, 0, `trial failed:\n${r.stdout}\n${r.stderr}`);
      const record = parseRecord(r.stdout.trim(), { file: "stdout", line: 1 });
      assert.equal(record.status, "ok");
      assert.equal(record.workload, id);
      assert.notEqual(record.tool.version, "unknown");
      const declared = new Map(WORKLOADS[id].metrics.map((m) => [m.name, m]));
      const metrics = record.cases.flatMap((c) => c.metrics);
      assert.ok(metrics.length > 0, "no metrics");
      for (const m of metrics) {
        assert.ok(m.value > 0 && Number.isFinite(m.value), `${m.name} = ${m.value}`);
        const spec = declared.get(m.name);
        assert.ok(spec, `metric ${m.name} is not declared by ${id}`);
        assert.equal(m.unit, spec.unit);
        assert.equal(m.better, spec.better);
      }
      assert.ok((await readFile(join(out, record.raw!), "utf8")).length > 0, "raw output is empty");
      assert.equal((await readFile(join(out, "trials.jsonl"), "utf8")).trim(), r.stdout.trim());
      assert.deepEqual(await readdir(dataDir), [], "data left behind");
      assert.deepEqual(await running(SERVERS), before, "a process was left running");
    });
  }
});
