import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExperiment } from "../../../stacks/config.ts";
import { runId, readTrials, readTrialsChecked, readAttempts, trialStates, countStates, retryToken } from "../../../stacks/results.ts";
import type { TrialPlan } from "../../../stacks/plan.ts";
import { TRIAL_SCHEMA, type TrialRecord } from "../../../model/record.ts";

const host = { cpus: [0, 1], memoryMiB: 8192 };
const base = { environments: ["native", "docker"], workloads: ["xz", "fio"], profile: "smoke", repetitions: 2, seed: 7 };
const sshHost = { host: "bench.example", user: "bench", port: 2222, privateKeyFile: "/keys/bench", hostPublicKey: "ssh-ed25519 AAAAC3Nza host-key" };

describe("runId", () => {
  const id = runId(parseExperiment(base, "dev", host));
  it("is the same for the same experiment, whatever the key order or the results root", () => {
    const reordered = { seed: 7, repetitions: 2, profile: "smoke", workloads: ["xz", "fio"], environments: ["native", "docker"], resultsRoot: "elsewhere" };
    assert.equal(runId(parseExperiment(reordered, "dev", host)), id);
    assert.match(id, /^run-[0-9a-f]{12}$/);
  });
  const changes: [string, Record<string, unknown>, string][] = [
    ["seed", { ...base, seed: 8 }, "dev"], ["repetitions", { ...base, repetitions: 3 }, "dev"], ["profile", { ...base, profile: "quick" }, "dev"],
    ["workloads", { ...base, workloads: ["xz"] }, "dev"], ["stack", base, "other"],
    ["an environment's options", { ...base, environments: ["native", { name: "docker", preset: "docker", storage: "volume" }] }, "dev"],
    ["memory", { ...base, memoryMiB: 1024 }, "dev"],
    // The seven setups the review found hashed to one id (issue 10): host, disks, images, client.
    ["the host under test (an SSH host)", { ...base, host: sshHost }, "dev"],
    ["the ioDir (the disk under test)", { ...base, ioDir: "/mnt/nvme/virtperf" }, "dev"],
    ["the scratchDir (guest disks)", { ...base, scratchDir: "/mnt/ssd/virtperf" }, "dev"],
    ["the Docker base image", { ...base, dockerBaseImage: "debian:trixie" }, "dev"],
    ["the Debian suite", { ...base, debianSuite: "trixie" }, "dev"],
    ["a user's guest image", { ...base, guestImage: "/images/ubuntu.qcow2" }, "dev"],
    ["the client machine", { ...base, client: { host: "client.example", user: "u", hostPublicKey: "ssh-ed25519 AAAAC3Nza client" } }, "dev"],
  ];
  const idOf = (raw: Record<string, unknown>, stack: string) => runId(parseExperiment(raw, stack, host, { keysDir: "/kd" }));
  for (const [what, raw, stack] of changes) {
    it(`changes with ${what}`, () => assert.notEqual(idOf(raw, stack), id));
  }
  it("every one of those setups has a run id of its own", () => {
    assert.equal(new Set([id, ...changes.map(([, raw, stack]) => idOf(raw, stack))]).size, changes.length + 1);
  });
  it("an SSH host rebuilt at the same address (a new host key) is another host", () => {
    assert.notEqual(idOf({ ...base, host: sshHost }, "dev"), idOf({ ...base, host: { ...sshHost, hostPublicKey: "ssh-ed25519 AAAAC3Nza rebuilt" } }, "dev"));
  });
});

function trial(order: number, environment: string, rep: number): TrialPlan {
  return { order, environment, workload: "xz", rep, warmup: false, id: `${String(order).padStart(3, "0")}-${environment}-xz-r${rep}`, kind: "native", estimateS: 10, command: "true" };
}
function record(t: TrialPlan, status: "ok" | "failed"): TrialRecord {
  return {
    schema: TRIAL_SCHEMA, stack: "dev", run: "r", host: "h", environment: t.environment, kind: "native", acceleration: "none",
    workload: t.workload, profile: "smoke", rep: t.rep, order: t.order, seed: 7, warmup: false, startedAt: "2026-01-01T00:00:00Z",
    durationS: 1, toolS: 1, status, tool: { name: "xz", version: "5.4.1" }, raw: null,
    cases: status === "ok" ? [{ case: "c", params: {}, metrics: [{ name: "m", value: 1, unit: "MB/s", better: "higher" }] }] : [],
    error: status === "ok" ? null : { message: "boom", exitCode: 1, signal: null, timedOut: false, stderrTail: "" },
  };
}

describe("trial states and resume", () => {
  const trials = [trial(0, "native", 1), trial(1, "docker", 1), trial(2, "native", 2), trial(3, "docker", 2)];
  const dir = mkdtempSync(join(tmpdir(), "virtperf-results-"));
  const lines = [record(trials[0]!, "ok"), record(trials[1]!, "failed"), record(trials[1]!, "failed"), record(trials[2]!, "failed"), record(trials[2]!, "ok")];
  writeFileSync(join(dir, "trials.jsonl"), lines.map((r) => JSON.stringify(r)).join("\n") + "\n" + '{"schema":"virtperf.trial/1","st');
  // trial 3: the runner died without a record (exit 137), once.
  appendFileSync(join(dir, "attempts.log"), `${trials[3]!.id} 137\n${trials[0]!.id} 0\n`);

  const records = readTrials(dir);
  const states = trialStates(trials, records, readAttempts(dir));

  it("skips a torn last line but reads the others", () => assert.equal(records.length, 5));
  it("ok if any record is ok; failed when attempted without ok; counts failures", () => {
    assert.deepEqual(states.map((s) => [s.status, s.failures]), [["ok", 0], ["failed", 2], ["ok", 1], ["failed", 1]]);
    assert.deepEqual(countStates(states), { ok: 2, failed: 2, pending: 0 });
  });
  it("pending when never attempted", () => {
    assert.deepEqual(trialStates([trial(9, "kvm", 1)], records, new Map()).map((s) => s.status), ["pending"]);
  });
  it("retry token changes when a trial fails again, not after it succeeds", () => {
    assert.deepEqual(states.map(retryToken), ["attempt-0", "attempt-2", "attempt-1", "attempt-1"]);
  });
  it("a bad line in the middle is skipped, never thrown, and named with its line", () => {
    const d = mkdtempSync(join(tmpdir(), "virtperf-results-"));
    writeFileSync(join(d, "trials.jsonl"), "{oops\n" + JSON.stringify(lines[0]) + "\n");
    assert.equal(readTrials(d).length, 1);
    const { skipped } = readTrialsChecked(d);
    assert.equal(skipped.length, 1);
    assert.match(`${skipped[0]!.file}:${skipped[0]!.line}: ${skipped[0]!.reason}`, /trials\.jsonl:1: not valid JSON/);
  });
});
