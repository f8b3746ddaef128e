import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { ParseError } from "../../../lib/errors.ts";
import type { RawRun, TrialContext } from "../../../workloads/contract.ts";
import { workload as stream } from "../../../workloads/stream/index.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");
const raw = (stdout: string, stderr = ""): RawRun => ({ stdout, stderr, exitCode: 0, signal: null, durationMs: 1000, timedOut: false });
const twoCpus = { cpus: 2, memoryMiB: 24105 };
const smoke = stream.params("smoke", twoCpus);
const quick = stream.params("quick", twoCpus);
const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe("stream parser on real hpcc output", () => {
  // Read by eye from each fixture's Summary. star = StarSTREAM_<kernel> (mean per process) x 2 processes;
  // single = SingleSTREAM_<kernel>.
  const table = [
    { file: "hpcc-1.5.0-smoke-native-np2.txt", params: smoke, vectorSize: 153600,
      star: { copy: 2 * 109.558, scale: 2 * 74.6923, add: 2 * 73.4855, triad: 2 * 74.9817 },
      single: { copy: 109.558, triad: 74.9817 } },
    { file: "hpcc-1.5.0-smoke-docker-np2.txt", params: smoke, vectorSize: 153600,
      star: { copy: 2 * 97.146, scale: 2 * 72.359, add: 2 * 66.176, triad: 2 * 67.4868 },
      single: { copy: 99.716, triad: 69.883 } },
    { file: "hpcc-1.5.0-quick-native-np2.txt", params: quick, vectorSize: 5529600,
      star: { copy: 2 * 32.4108, scale: 2 * 29.863, add: 2 * 3.43039, triad: 2 * 9.08609 },
      single: { copy: 32.4108, triad: 28.5988 } },
  ];
  for (const t of table) {
    it(`${t.file}: star and single kernels in GB/s`, () => {
      const cases = stream.parse(raw(fixture(t.file)), t.params);
      assert.deepEqual(cases.map((c) => c.case), stream.cases);
      for (const [name, expected] of [["star", t.star], ["single", t.single]] as const) {
        const c = cases.find((x) => x.case === name)!;
        assert.deepEqual(c.metrics.map((m) => m.name), ["copy", "scale", "add", "triad"]);
        for (const [kernel, value] of Object.entries(expected)) {
          const m = c.metrics.find((x) => x.name === kernel)!;
          assert.ok(near(m.value, value), `${name} ${kernel}: ${m.value} vs ${value}`);
          assert.equal(m.unit, "GB/s");
        }
        assert.equal(c.params["vectorSize"], t.vectorSize);
        assert.equal(c.params["n"], t.params.n);
      }
    });
  }
  it("emits only declared metrics with their declared unit and direction", () => {
    for (const m of stream.parse(raw(fixture(table[0]!.file)), smoke).flatMap((c) => c.metrics)) {
      const spec = stream.metrics.find((s) => s.name === m.name);
      assert.ok(spec, `${m.name} declared`);
      assert.equal(m.unit, spec.unit);
      assert.equal(m.better, spec.better);
    }
  });
});

describe("stream parser rejects bad output", () => {
  const good = fixture("hpcc-1.5.0-smoke-native-np2.txt");
  const bad: [string, RawRun, RegExp][] = [
    ["a run cut short (no Summary)", raw(fixture("hpcc-1.5.0-truncated-np2.txt")), /Summary section/],
    ["hpcc's silent fallback to default sizes",
      raw(fixture("hpcc-1.5.0-grid-fallback-np2.txt"), fixture("hpcc-1.5.0-grid-fallback-np2.stderr.txt")), /requested/],
    ["a failed validation", raw(good.replace("Solution Validates", "Failed Validation on array c[]")), /Solution Validates/],
    ["a process with errors", raw(good.replace(/(Begin of SingleSTREAM section\.\n)Node\(s\) with error 0/, "$1Node(s) with error 1")), /1 process/],
    ["StarSTREAM_Triad=-1", raw(good.replace(/^StarSTREAM_Triad=.*$/m, "StarSTREAM_Triad=-1")), /positive StarSTREAM_Triad/],
  ];
  for (const [what, r, message] of bad) {
    it(`throws ParseError on ${what}`, () => {
      assert.throws(() => stream.parse(r, smoke), (e: unknown) => e instanceof ParseError && message.test(e.message));
    });
  }
});

describe("stream params and steps", () => {
  const shapes = [{ cpus: 1, memoryMiB: 2048 }, { cpus: 2, memoryMiB: 24105 }, { cpus: 32, memoryMiB: 262144 }];
  for (const shape of shapes) {
    it(`${shape.cpus} CPUs: smoke < quick <= full; quick and full arrays beyond 32 MiB of cache`, () => {
      const [s, q, f] = (["smoke", "quick", "full"] as const).map((p) => stream.params(p, shape));
      assert.ok(s!.n < q!.n && q!.n <= f!.n);
      for (const p of [q!, f!]) {
        const bytesPerArray = (p.n ** 2 / (3 * shape.cpus)) * 8;
        assert.ok(bytesPerArray > 32 * 2 ** 20, `${bytesPerArray} B per array`);
      }
    });
  }
  it("scripts pass bash -n", () => {
    const ctx: TrialContext = { workDir: "/tmp/w", dataDir: "/tmp/d", ports: [], serverHost: "127.0.0.1", bindHost: "127.0.0.1", clientHost: "127.0.0.1", secret: "s3cret", shape: twoCpus };
    const r = spawnSync("bash", ["-n"], { input: stream.steps(smoke, ctx).run.script, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });
});
