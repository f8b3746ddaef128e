/**
 * The runner's mechanics on the local target with small bash "workloads": a record for success, a
 * failed record (exit code, timeout, unparsable output) with the stderr tail, the server stopped and
 * the work directories removed every time.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { Workload, RawRun, TrialContext } from "../../../workloads/contract.ts";
import { TRIAL_ENV } from "../../../workloads/runner/parity.ts";
import { ParseError } from "../../../lib/errors.ts";
import { connect } from "../../../workloads/runner/targets.ts";
import { runTrial } from "../../../workloads/runner/trial.ts";
import { trialRecordSchema } from "../../../model/record.ts";

const marker = `virtperf-test-${process.pid}`;

function fakeWorkload(run: string, opts: { server?: boolean; timeoutS?: number } = {}): Workload {
  return {
    name: "xz", title: "fake", paper: "-", group: "cpu", packages: [], clientPackages: [],
    tool: { name: "bash", versionCommand: "bash --version", on: "env" },
    requires: [{ command: "bash", package: "bash", on: "env" }],
    ports: opts.server ? 1 : 0, warmup: false,
    metrics: [{ name: "value", unit: "MB/s", better: "higher", description: "a number" }], cases: ["only"],
    params: () => ({ size: 1 }),
    dataBytes: () => 5,
    steps: (_p, ctx) => ({
      setup: { on: "env", script: `echo data > ${ctx.dataDir}/file`, timeoutS: 10 },
      ...(opts.server
        ? { server: { script: `exec -a ${marker} sleep 300`, readyCheck: `pgrep -f ${marker}`, readyTimeoutS: 10 } }
        : {}),
      run: { on: "client", script: run, timeoutS: opts.timeoutS ?? 10 },
      cleanup: { on: "env", script: `rm -f ${ctx.dataDir}/file`, timeoutS: 10 },
    }),
    parse: (raw: RawRun) => {
      const m = /value=([0-9.]+)/.exec(raw.stdout);
      if (!m) throw new ParseError("bash", "a line value=<number>", raw.stdout);
      return [{ case: "only", params: { size: 1 }, metrics: [{ name: "value", value: Number(m[1]), unit: "MB/s", better: "higher" }] }];
    },
  };
}

async function trial(w: Workload) {
  const out = await mkdtemp(join(tmpdir(), "virtperf-runner-"));
  const dataRoot = await mkdtemp(join(tmpdir(), "virtperf-data-"));
  const local = connect({ kind: "local" });
  const outcome = await runTrial({
    workload: w, profile: "smoke", client: local, stack: "t", run: "r", host: "h", rep: 1, order: 7, seed: 3,
    warmup: false, out, install: false,
    env: { name: "native", kind: "native", acceleration: "none", target: local, ports: [], dataDir: dataRoot, workRoot: tmpdir(), shape: { cpus: 2, memoryMiB: 1024 } },
  });
  const leftover = await readdir(dataRoot);
  await rm(dataRoot, { recursive: true });
  return { ...outcome, out, leftover };
}

async function serverRunning(): Promise<boolean> {
  return (await execa("pgrep", ["-f", marker], { reject: false })).exitCode === 0;
}

describe("runTrial on the local target", () => {
  it("yields an ok record with parsed metrics and keeps the raw output", async () => {
    const { record, out, leftover, timings } = await trial(fakeWorkload("echo value=42.5", { server: true }));
    assert.equal(record.status, "ok");
    assert.deepEqual(trialRecordSchema.parse(record), record);
    assert.equal(record.cases[0]!.metrics[0]!.value, 42.5);
    assert.equal(record.order, 7);
    assert.match(record.tool.version, /GNU bash/);
    assert.equal(await readFile(join(out, record.raw!), "utf8"), "value=42.5\n");
    assert.ok(timings.totalMs >= timings.scriptsMs);
    assert.deepEqual(leftover, []);
    assert.equal(await serverRunning(), false, "server process left running");
  });

  const failures = [
    { why: "a non-zero exit", run: "echo boom >&2; exit 3", expect: { exitCode: 3, timedOut: false, message: /exit code 3/, stderr: /boom/ } },
    { why: "a timeout", run: "sleep 30", timeoutS: 1, expect: { exitCode: 124, timedOut: true, message: /timed out/, stderr: /^$/ } },
    { why: "output the parser cannot read", run: "echo nonsense; echo warn >&2", expect: { exitCode: 0, timedOut: false, message: /cannot parse bash output/, stderr: /warn/ } },
  ];
  for (const f of failures) {
    it(`yields a failed record on ${f.why}, stops the server, removes the data`, async () => {
      const { record, leftover } = await trial(fakeWorkload(f.run, { server: true, ...(f.timeoutS ? { timeoutS: f.timeoutS } : {}) }));
      assert.equal(record.status, "failed");
      assert.deepEqual(record.cases, []);
      assert.equal(record.error!.exitCode, f.expect.exitCode);
      assert.equal(record.error!.timedOut, f.expect.timedOut);
      assert.match(record.error!.message, f.expect.message);
      assert.match(record.error!.stderrTail, f.expect.stderr);
      assert.deepEqual(leftover, []);
      assert.equal(await serverRunning(), false, "server process left running");
    });
  }

  it("probes the client side too (its context) and hands the server its bind address, its client's address and a fresh secret", async () => {
    const seen: TrialContext[] = [];
    const base = fakeWorkload("echo value=1", { server: true });
    const w: Workload = { ...base, steps: (p, ctx) => { seen.push(ctx); return base.steps(p, ctx); } };
    const { record } = await trial(w);
    assert.equal(record.status, "ok", JSON.stringify(record.error));
    const declared = Object.entries(TRIAL_ENV).map(([k, v]) => `${k}=${v}`).sort().join(" ");
    assert.equal(record.context?.env.env, declared);
    assert.equal(record.context?.client?.env, declared, "the client side's probe ran (its script parsed)");
    assert.equal(seen[0]!.bindHost, "127.0.0.1");
    assert.equal(seen[0]!.clientHost, "127.0.0.1");
    assert.match(seen[0]!.secret, /^[0-9a-f]{24}$/);
    await trial(w);
    assert.notEqual(seen[1]!.secret, seen[0]!.secret, "a new secret every trial");
  });

  it("names the Debian package of a missing tool", async () => {
    const w = { ...fakeWorkload("echo value=1"), requires: [{ command: "no-such-tool-virtperf", package: "virtperf-pkg", on: "env" as const }] };
    const { record } = await trial(w);
    assert.equal(record.status, "failed");
    assert.match(record.error!.message, /no-such-tool-virtperf.*virtperf-pkg/);
  });
});

