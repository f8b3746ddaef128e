import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { ConfigError, ParseError } from "../../../lib/errors.ts";
import { PROFILES, type RawRun, type TrialContext } from "../../../workloads/contract.ts";
import { workload as fio } from "../../../workloads/fio/index.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");
const raw = (stdout: string, stderr = "", exitCode = 0): RawRun =>
  ({ stdout, stderr, exitCode, signal: null, durationMs: 1000, timedOut: false });
const shape = { cpus: 2, memoryMiB: 4096 };
const ctx: TrialContext = { workDir: "/tmp/w", dataDir: "/var/lib/virtperf/data", ports: [], serverHost: "127.0.0.1", bindHost: "127.0.0.1", clientHost: "127.0.0.1", secret: "s3cret", shape };
const smoke = fio.params("smoke", shape);

describe("fio parser on fio-3.33-smoke.json", () => {
  const cases = fio.parse(raw(fixture("fio-3.33-smoke.json")), smoke);
  const value = (c: string, m: string) => {
    const found = cases.find((x) => x.case === c)?.metrics.find((x) => x.name === m);
    assert.ok(found, `${c} ${m} present`);
    return found.value;
  };
  // Values read from the fixture by eye: bw_bytes / 1e6, iops, clat_ns percentiles / 1000.
  const expected: [string, string, number][] = [
    ["seq-read", "bw", 1176.273869],
    ["seq-read", "iops", 1121.782178],
    ["seq-read", "clat_p50", 897.024],
    ["seq-read", "clat_p99", 24248.32],
    ["seq-read", "clat_p99_9", 31064.064],
    ["seq-write", "bw", 3602.58514],
    ["seq-write", "clat_p50", 2834.432],
    ["rand-read-qd128", "iops", 89174.47657],
    ["rand-read-qd128", "clat_p99_9", 45350.912],
    ["rand-write-qd128", "iops", 72353.174603],
    ["rand-write-qd128", "clat_p99", 23986.176],
    ["rand-mixed-70-30", "bw", 379.890832],
    ["rand-mixed-70-30", "iops", 92746.785361],
    ["rand-mixed-70-30", "read_iops", 64999.01088],
    ["rand-mixed-70-30", "write_iops", 27747.774481],
    ["rand-mixed-70-30", "read_clat_p99", 32636.928],
    ["rand-mixed-70-30", "write_clat_p99_9", 89653.248],
  ];
  for (const [c, m, v] of expected) {
    it(`${c} ${m} = ${v}`, () => assert.ok(Math.abs(value(c, m) - v) < 1e-6, `${value(c, m)} vs ${v}`));
  }
  it("yields the five cases in order with their params", () => {
    assert.deepEqual(cases.map((c) => c.case), fio.cases);
    const q128 = cases.find((c) => c.case === "rand-read-qd128")!;
    assert.equal(q128.params["queueDepth"], 128);
    assert.equal(q128.params["direct"], true);
    assert.equal(cases.find((c) => c.case === "rand-mixed-70-30")!.params["rwmixread"], 70);
  });
  it("single-direction cases carry no mixed-case metric", () => {
    const names = cases.find((c) => c.case === "seq-read")!.metrics.map((m) => m.name);
    assert.deepEqual(names, ["bw", "iops", "clat_p50", "clat_p99", "clat_p99_9"]);
  });
  it("emits only declared metrics, with the declared unit and direction", () => {
    for (const m of cases.flatMap((c) => c.metrics)) {
      const spec = fio.metrics.find((s) => s.name === m.name);
      assert.ok(spec, `${m.name} declared`);
      assert.equal(m.unit, spec.unit);
      assert.equal(m.better, spec.better);
    }
  });
});

describe("fio parser refuses bad output", () => {
  const good = fixture("fio-3.33-smoke.json");
  const bad: [string, RawRun, RegExp][] = [
    ["no O_DIRECT (ramfs, job error 22)",
      raw(fixture("fio-3.33-ramfs-no-odirect.out"), fixture("fio-3.33-ramfs-no-odirect.stderr"), 26), /error 0, got errno 22/],
    ["truncated JSON", raw(fixture("fio-3.33-smoke-truncated.json")), /complete JSON/],
    ["empty output", raw("", "fio: command not found"), /a JSON document/],
    ["a job missing", raw(dropJob(good, "seq-write")), /5 job entries/],
    ["a percentile missing", raw(good.replace(`"99.900000"`, `"99.950000"`)), /clat_ns\.percentile\.99\.900000/],
    ["no I/O done", raw(setReadIos(good, "seq-read", 0)), /to have done read I\/O/],
  ];
  for (const [what, input, message] of bad) {
    it(what, () => assert.throws(() => fio.parse(input, smoke), (e: unknown) => e instanceof ParseError && message.test(e.message)));
  }
});

function dropJob(json: string, name: string): string {
  const doc = JSON.parse(json);
  doc.jobs = doc.jobs.filter((j: { jobname: string }) => j.jobname !== name);
  return JSON.stringify(doc, null, 2);
}
function setReadIos(json: string, name: string, ios: number): string {
  const doc = JSON.parse(json);
  doc.jobs.find((j: { jobname: string }) => j.jobname === name).read.total_ios = ios;
  return JSON.stringify(doc, null, 2);
}

describe("fio params and steps", () => {
  const all = PROFILES.map((p) => fio.params(p, shape));
  it("profiles are positive, direct, and grow smoke < quick < full", () => {
    for (const p of all) {
      assert.ok(p.fileSizeMiB > 0 && p.runtimeS > 0 && p.rampS >= 0);
      assert.equal(p.direct, true);
    }
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i]!.fileSizeMiB > all[i - 1]!.fileSizeMiB);
      assert.ok(all[i]!.runtimeS > all[i - 1]!.runtimeS);
    }
  });
  for (const profile of PROFILES) {
    it(`${profile}: every script passes bash -n and keeps data under dataDir`, () => {
      const s = fio.steps(fio.params(profile, shape), ctx);
      for (const step of [s.setup, s.run, s.cleanup]) {
        assert.ok(step);
        const r = spawnSync("bash", ["-n"], { input: step.script, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(step.script, /\/var\/lib\/virtperf\/data\/virtperf-fio\.dat/);
        assert.ok(step.timeoutS > 0);
      }
      assert.match(s.run.script, /direct=1/);
      assert.match(s.cleanup!.script, /^rm -f /);
    });
  }
  it("refuses a data directory fio would misread", () => {
    assert.throws(() => fio.steps(smoke, { ...ctx, dataDir: "/data:/other" }), ConfigError);
  });
});
