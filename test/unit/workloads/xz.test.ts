import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { ParseError } from "../../../lib/errors.ts";
import type { RawRun, TrialContext } from "../../../workloads/contract.ts";
import { workload as xz } from "../../../workloads/xz/index.ts";
import { CORPUS_AWK, corpusScript } from "../../../workloads/xz/corpus.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");
const raw = (stdout: string, stderr = "", exitCode = 0): RawRun => ({ stdout, stderr, exitCode, signal: null, durationMs: 1000, timedOut: false });
const twoCpus = { cpus: 2, memoryMiB: 24105 };
const smoke = xz.params("smoke", twoCpus);
const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe("xz parser on real output", () => {
  // Read by eye from each fixture's virtperf-xz line: input_bytes / elapsed_us = MB/s; input / output.
  const table = [
    { file: "xz-5.4.1-smoke-native.txt", input: 4194304, output: 1337416, us: 6554328 },
    { file: "xz-5.4.1-smoke-docker.txt", input: 4194304, output: 1337416, us: 7861363 },
  ];
  for (const t of table) {
    it(`${t.file}: ${t.input} B in ${t.us} us`, () => {
      const cases = xz.parse(raw(fixture(t.file)), smoke);
      assert.deepEqual(cases.map((c) => c.case), xz.cases);
      const value = (name: string) => cases[0]!.metrics.find((m) => m.name === name)!.value;
      assert.ok(near(value("throughput"), t.input / t.us));
      assert.ok(near(value("ratio"), t.input / t.output));
      assert.ok(near(value("time"), t.us / 1e6));
      assert.deepEqual(cases[0]!.params, { level: 2, threads: 2, corpusBytes: t.input });
    });
  }
  it("emits only declared metrics with their declared unit and direction", () => {
    for (const m of xz.parse(raw(fixture(table[0]!.file)), smoke)[0]!.metrics) {
      const spec = xz.metrics.find((s) => s.name === m.name);
      assert.ok(spec, `${m.name} declared`);
      assert.equal(m.unit, spec.unit);
      assert.equal(m.better, spec.better);
    }
  });
  const bad: [string, RawRun, RegExp][] = [
    ["a corpus shorter than the profile's", raw(fixture("xz-5.4.1-short-corpus.txt")), /4194304 input bytes/],
    ["a missing corpus (nothing on stdout)", raw(fixture("xz-5.4.1-missing-corpus.txt"), fixture("xz-5.4.1-missing-corpus.stderr.txt"), 1), /virtperf-xz/],
    ["another thread count", raw(fixture("xz-5.4.1-smoke-native.txt").replace("threads=2", "threads=1")), /2 threads/],
  ];
  for (const [what, r, message] of bad) {
    it(`throws ParseError on ${what}`, () => {
      assert.throws(() => xz.parse(r, smoke), (e: unknown) => e instanceof ParseError && message.test(e.message));
    });
  }
});

describe("xz params and steps", () => {
  for (const shape of [{ cpus: 1, memoryMiB: 2048 }, { cpus: 2, memoryMiB: 24105 }, { cpus: 32, memoryMiB: 262144 }]) {
    it(`${shape.cpus} CPUs, ${shape.memoryMiB} MiB: smoke < quick < full, threads = CPUs, corpus within a quarter of memory`, () => {
      const [s, q, f] = (["smoke", "quick", "full"] as const).map((p) => xz.params(p, shape));
      assert.ok(s!.corpusBytes > 0 && s!.corpusBytes < q!.corpusBytes && q!.corpusBytes < f!.corpusBytes);
      for (const p of [s!, q!, f!]) {
        assert.equal(p.threads, shape.cpus);
        assert.equal(p.level, 2);
      }
      assert.ok(f!.corpusBytes <= (shape.memoryMiB / 4) * 2 ** 20);
    });
  }
  it("full is enwik9's 10^9 bytes on the paper's host", () => {
    assert.equal(xz.params("full", { cpus: 32, memoryMiB: 262144 }).corpusBytes, 1e9);
  });
  it("every step passes bash -n and uses the data directory", () => {
    const ctx: TrialContext = { workDir: "/tmp/w", dataDir: "/var/lib/virtperf data", ports: [], serverHost: "127.0.0.1", bindHost: "127.0.0.1", clientHost: "127.0.0.1", secret: "s3cret", shape: twoCpus };
    const steps = xz.steps(smoke, ctx);
    for (const step of [steps.setup!, steps.run, steps.cleanup!]) {
      const r = spawnSync("bash", ["-n"], { input: step.script, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(step.script.includes("'/var/lib/virtperf data/virtperf-xz-corpus.txt'"));
    }
    assert.match(steps.run.script, /xz -2 -T2 /);
  });
});

describe("xz corpus", () => {
  it("is written at the exact size, the block repeated, and the same bytes from every awk here", () => {
    const dir = mkdtempSync(join(tmpdir(), "virtperf-xz-test-"));
    try {
      const outputs: Buffer[] = [];
      for (const awk of ["mawk", "gawk"]) {
        if (spawnSync("sh", ["-c", `command -v ${awk}`]).status !== 0) continue;
        const file = join(dir, `corpus-${awk}.txt`);
        const script = `awk() { ${awk} "$@"; }\n${corpusScript({ file, bytes: 100_000, blockBytes: 40_000, seed: 7 })}`;
        const r = spawnSync("bash", ["-c", `set -euo pipefail\ncd ${JSON.stringify(dir)}\n${script}`], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(statSync(file).size, 100_000);
        const bytes = readFileSync(file);
        assert.ok(bytes.subarray(0, 40_000).equals(bytes.subarray(40_000, 80_000)), "block repeats");
        assert.match(bytes.subarray(0, 200).toString("latin1"), /^[A-Z][a-z]+( [a-z\[\],]+)*/);
        outputs.push(bytes);
      }
      assert.ok(outputs.length > 0, "an awk is installed");
      for (const o of outputs) assert.ok(o.equals(outputs[0]!), "mawk and gawk agree");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("keeps its generator exact in doubles (Park-Miller's multiplier)", () => {
    assert.match(CORPUS_AWK, /seed \* 16807\) % 2147483647/);
  });
});
