import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { ParseError } from "../../../lib/errors.ts";
import type { RawRun, TrialContext } from "../../../workloads/contract.ts";
import { workload as linpack } from "../../../workloads/linpack/index.ts";
import { processGrid } from "../../../workloads/hpcc.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");
const raw = (stdout: string, stderr = ""): RawRun => ({ stdout, stderr, exitCode: 0, signal: null, durationMs: 1000, timedOut: false });
const twoCpus = { cpus: 2, memoryMiB: 24105 };
const smoke = linpack.params("smoke", twoCpus);
const quick = linpack.params("quick", twoCpus);
const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe("linpack parser on real hpcc output", () => {
  // Read by eye from each fixture's Summary: HPL_Tflops * 1000, HPL_time.
  const table = [
    { file: "hpcc-1.5.0-smoke-native-np2.txt", params: smoke, gflops: 2.65632, time: 0.222566 },
    { file: "hpcc-1.5.0-smoke-docker-np2.txt", params: smoke, gflops: 8.20677, time: 0.0720388 },
    { file: "hpcc-1.5.0-quick-native-np2.txt", params: quick, gflops: 12.6381, time: 10.0848 },
  ];
  for (const t of table) {
    it(`${t.file}: ${t.gflops} GFLOPS in ${t.time} s`, () => {
      const cases = linpack.parse(raw(fixture(t.file)), t.params);
      assert.equal(cases.length, 1);
      const c = cases[0]!;
      assert.equal(c.case, "hpl");
      const gflops = c.metrics.find((m) => m.name === "gflops")!;
      assert.ok(near(gflops.value, t.gflops), `${gflops.value} vs ${t.gflops}`);
      assert.equal(gflops.unit, "GFLOPS");
      assert.ok(near(c.metrics.find((m) => m.name === "time")!.value, t.time));
      assert.deepEqual(c.params, { n: t.params.n, nb: t.params.nb, p: 1, q: 2, procs: 2 });
    });
  }
  it("emits only declared metrics with their declared unit and direction", () => {
    for (const m of linpack.parse(raw(fixture(table[0]!.file)), smoke)[0]!.metrics) {
      const spec = linpack.metrics.find((s) => s.name === m.name);
      assert.ok(spec, `${m.name} declared`);
      assert.equal(m.unit, spec.unit);
      assert.equal(m.better, spec.better);
    }
  });
});

describe("linpack parser rejects bad output", () => {
  const good = fixture("hpcc-1.5.0-smoke-native-np2.txt");
  const failedResidual = good
    .replace("1 tests completed and passed residual checks,", "0 tests completed and passed residual checks,")
    .replace("0 tests completed and failed residual checks,", "1 tests completed and failed residual checks,")
    .replace("...... PASSED", "...... FAILED");
  const bad: [string, RawRun, RegExp][] = [
    ["a run cut short (no End of HPL section)", raw(fixture("hpcc-1.5.0-truncated-np2.txt")), /complete HPL section/],
    ["hpcc's silent fallback to default sizes after 'HPL ERROR'",
      raw(fixture("hpcc-1.5.0-grid-fallback-np2.txt"), fixture("hpcc-1.5.0-grid-fallback-np2.stderr.txt")), /requested/],
    ["a failed residual check", raw(failedResidual), /residual/],
    ["HPL_Tflops=-1 (test did not complete)", raw(good.replace(/^HPL_Tflops=.*$/m, "HPL_Tflops=-1")), /positive HPL_Tflops/],
    ["empty stdout", raw("", "mpirun: command not found"), /hpccoutf/],
  ];
  for (const [what, r, message] of bad) {
    it(`throws ParseError on ${what}`, () => {
      assert.throws(() => linpack.parse(r, smoke), (e: unknown) => e instanceof ParseError && message.test(e.message));
    });
  }
});

describe("linpack params", () => {
  const shapes = [
    { cpus: 1, memoryMiB: 2048 }, { cpus: 2, memoryMiB: 24105 }, { cpus: 6, memoryMiB: 16384 },
    { cpus: 7, memoryMiB: 65536 }, { cpus: 32, memoryMiB: 262144 },
  ];
  for (const shape of shapes) {
    it(`${shape.cpus} CPUs, ${shape.memoryMiB} MiB: smoke < quick <= full, P x Q = CPUs, N a multiple of NB`, () => {
      const [s, q, f] = (["smoke", "quick", "full"] as const).map((p) => linpack.params(p, shape));
      assert.ok(s!.n > 0 && s!.n < q!.n && q!.n <= f!.n, `${s!.n} < ${q!.n} <= ${f!.n}`);
      for (const p of [s!, q!, f!]) {
        assert.equal(p.p * p.q, shape.cpus);
        assert.ok(p.p <= p.q);
        assert.equal(p.n % p.nb, 0);
        // The matrix must fit in the environment's memory with room to spare.
        assert.ok(p.n ** 2 * 8 <= 0.25 * shape.memoryMiB * 2 ** 20 || p === s, `N=${p.n} fits ${shape.memoryMiB} MiB`);
      }
    });
  }
  it("full is the paper's N = 45000 (to a multiple of NB) on the paper's 32 CPUs and 256 GiB", () => {
    const f = linpack.params("full", { cpus: 32, memoryMiB: 262144 });
    assert.ok(f.n <= 45000 && f.n > 45000 - f.nb, String(f.n));
    assert.deepEqual([f.p, f.q], [4, 8]);
  });
  it("processGrid picks the squarest P <= Q", () => {
    const table: [number, [number, number]][] = [[1, [1, 1]], [2, [1, 2]], [4, [2, 2]], [6, [2, 3]], [7, [1, 7]], [12, [3, 4]], [32, [4, 8]]];
    for (const [procs, [p, q]] of table) assert.deepEqual(processGrid(procs), { p, q }, `procs ${procs}`);
  });
});

describe("linpack steps", () => {
  const ctx: TrialContext = { workDir: "/tmp/w", dataDir: "/tmp/d", ports: [], serverHost: "127.0.0.1", bindHost: "127.0.0.1", clientHost: "127.0.0.1", secret: "s3cret", shape: twoCpus };
  for (const profile of ["smoke", "quick", "full"] as const) {
    it(`${profile}: scripts pass bash -n and run hpcc on P x Q processes`, () => {
      const p = linpack.params(profile, twoCpus);
      const steps = linpack.steps(p, ctx);
      for (const step of [steps.setup, steps.prepare, steps.run, steps.cleanup]) {
        if (!step) continue;
        const r = spawnSync("bash", ["-n"], { input: step.script, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.ok(step.timeoutS > 0);
      }
      assert.match(steps.run.script, new RegExp(`-np ${p.p * p.q} hpcc`));
      assert.match(steps.run.script, new RegExp(`6s/\\^\\[0-9\\]\\*/${p.n}/`));
      assert.match(steps.run.script, /cat hpccoutf.txt/);
      // The runner feeds the script on stdin; mpirun would forward (swallow) the rest of it.
      assert.match(steps.run.script, /hpcc < \/dev\/null/);
    });
  }
});
