import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { ParseError } from "../../../lib/errors.ts";
import type { RawRun, TrialContext } from "../../../workloads/contract.ts";
import { workload as randomaccess } from "../../../workloads/randomaccess/index.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");
const raw = (stdout: string, stderr = ""): RawRun => ({ stdout, stderr, exitCode: 0, signal: null, durationMs: 1000, timedOut: false });
const twoCpus = { cpus: 2, memoryMiB: 24105 };
const smoke = randomaccess.params("smoke", twoCpus);
const quick = randomaccess.params("quick", twoCpus);
const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe("randomaccess parser on real hpcc output", () => {
  // Read by eye from each fixture's Summary: MPIRandomAccess_GUPs, StarRandomAccess_GUPs x 2 processes,
  // SingleRandomAccess_GUPs, and the table sizes MPIRandomAccess_N and RandomAccess_N.
  const table = [
    { file: "hpcc-1.5.0-smoke-native-np2.txt", params: smoke, mpi: 0.0047174, star: 2 * 0.299059, single: 0.612079, mpiN: 524288, n: 262144 },
    { file: "hpcc-1.5.0-smoke-docker-np2.txt", params: smoke, mpi: 0.00121895, star: 2 * 0.448526, single: 0.0726832, mpiN: 524288, n: 262144 },
    { file: "hpcc-1.5.0-quick-native-np2.txt", params: quick, mpi: 0.000130238, star: 2 * 0.00723578, single: 0.00904708, mpiN: 16777216, n: 8388608 },
  ];
  for (const t of table) {
    it(`${t.file}: mpi ${t.mpi}, star ${t.star}, single ${t.single} GUPS`, () => {
      const cases = randomaccess.parse(raw(fixture(t.file)), t.params);
      assert.deepEqual(cases.map((c) => c.case), randomaccess.cases);
      const gups = (name: string) => cases.find((c) => c.case === name)!.metrics.find((m) => m.name === "gups")!;
      for (const [name, value] of [["mpi", t.mpi], ["star", t.star], ["single", t.single]] as const) {
        assert.ok(near(gups(name).value, value), `${name}: ${gups(name).value} vs ${value}`);
        assert.equal(gups(name).unit, "GUPS");
      }
      assert.equal(cases[0]!.params["tableWords"], t.mpiN);
      assert.equal(cases[1]!.params["tableWords"], t.n);
    });
  }
  it("emits only declared metrics with their declared unit and direction", () => {
    for (const m of randomaccess.parse(raw(fixture(table[0]!.file)), smoke).flatMap((c) => c.metrics)) {
      const spec = randomaccess.metrics.find((s) => s.name === m.name);
      assert.ok(spec, `${m.name} declared`);
      assert.equal(m.unit, spec.unit);
      assert.equal(m.better, spec.better);
    }
  });
});

describe("randomaccess parser rejects bad output", () => {
  const good = fixture("hpcc-1.5.0-smoke-native-np2.txt");
  const bad: [string, RawRun, RegExp][] = [
    ["a run cut short (no Summary)", raw(fixture("hpcc-1.5.0-truncated-np2.txt")), /Summary section/],
    ["hpcc's silent fallback to default sizes",
      raw(fixture("hpcc-1.5.0-grid-fallback-np2.txt"), fixture("hpcc-1.5.0-grid-fallback-np2.stderr.txt")), /requested/],
    ["a failed MPI verification", raw(good.replace("Found 0 errors in 524288 locations (passed).", "Found 9000 errors in 524288 locations (failed).")), /MPIRandomAccess/],
    ["MPIRandomAccess_GUPs=-1", raw(good.replace(/^MPIRandomAccess_GUPs=.*$/m, "MPIRandomAccess_GUPs=-1")), /positive MPIRandomAccess_GUPs/],
  ];
  for (const [what, r, message] of bad) {
    it(`throws ParseError on ${what}`, () => {
      assert.throws(() => randomaccess.parse(r, smoke), (e: unknown) => e instanceof ParseError && message.test(e.message));
    });
  }
});

describe("randomaccess params and steps", () => {
  for (const shape of [{ cpus: 1, memoryMiB: 2048 }, { cpus: 2, memoryMiB: 24105 }, { cpus: 32, memoryMiB: 262144 }]) {
    it(`${shape.cpus} CPUs: smoke < quick <= full, matrix within half the memory`, () => {
      const [s, q, f] = (["smoke", "quick", "full"] as const).map((p) => randomaccess.params(p, shape));
      assert.ok(s!.n < q!.n && q!.n <= f!.n);
      assert.ok(f!.n ** 2 * 8 <= 0.5 * shape.memoryMiB * 2 ** 20);
    });
  }
  it("scripts pass bash -n", () => {
    const ctx: TrialContext = { workDir: "/tmp/w", dataDir: "/tmp/d", ports: [], serverHost: "127.0.0.1", bindHost: "127.0.0.1", clientHost: "127.0.0.1", secret: "s3cret", shape: twoCpus };
    const r = spawnSync("bash", ["-n"], { input: randomaccess.steps(smoke, ctx).run.script, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });
});
