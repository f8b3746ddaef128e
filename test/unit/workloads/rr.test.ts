import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { ParseError } from "../../../lib/errors.ts";
import { PROFILES, type RawRun, type TrialContext } from "../../../workloads/contract.ts";
import { workload as rr } from "../../../workloads/rr/index.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");
const raw = (stdout: string, exitCode = 0): RawRun =>
  ({ stdout, stderr: "", exitCode, signal: null, durationMs: 1000, timedOut: false });
const shape = { cpus: 2, memoryMiB: 4096 };
const ctx: TrialContext = { workDir: "/tmp/vp-work", dataDir: "/var/lib/virtperf/data", ports: [21002], serverHost: "192.168.122.5", bindHost: "192.168.122.5", clientHost: "192.168.122.1", secret: "s3cret", shape };
const smoke = rr.params("smoke", shape);
const quick = rr.params("quick", shape);

// [fixture, params, case, rtt_avg, rtt_p50, rtt_p99 (us), ReceivedMessages, valid RunTime (s)], read by eye.
// The one-way fixture (no --full-rtt) holds sockperf's RTT/2 figures: the parser doubles them.
const expected: [string, typeof smoke, string, number, number, number, number, number][] = [
  ["sockperf-3.7-smoke.txt", smoke, "tcp", 75.202, 23.805, 2124.645, 20574, 1.548],
  ["sockperf-3.7-smoke.txt", smoke, "udp", 83.9, 22.913, 1226.753, 18480, 1.551],
  ["sockperf-3.7-one-way.txt", smoke, "tcp", 2 * 35.549, 2 * 11.872, 2 * 759.085, 21874, 1.556],
  ["sockperf-3.7-one-way.txt", smoke, "udp", 2 * 34.729, 2 * 11.416, 2 * 832.805, 22343, 1.552],
  ["sockperf-3.7-quick.txt", quick, "tcp", 76.132, 23.935, 1923.52, 256675, 19.55],
  ["sockperf-3.7-quick.txt", quick, "udp", 66.398, 22.793, 1507.859, 294230, 19.546],
];

describe("sockperf parser on real ping-pong reports", () => {
  for (const [file, params, name, avg, p50, p99, received, seconds] of expected) {
    it(`${file} ${name}`, () => {
      const c = rr.parse(raw(fixture(file)), params).find((x) => x.case === name);
      assert.ok(c, `${name} present`);
      const got = Object.fromEntries(c.metrics.map((m) => [m.name, m.value]));
      assert.deepEqual(got, { rtt_avg: avg, rtt_p50: p50, rtt_p99: p99, transactions: received / seconds });
      assert.deepEqual(c.params, { protocol: name, messageBytes: 100, durationS: params.durationS });
    });
  }
  it("yields tcp then udp, with declared metrics only", () => {
    const cases = rr.parse(raw(fixture("sockperf-3.7-smoke.txt")), smoke);
    assert.deepEqual(cases.map((c) => c.case), ["tcp", "udp"]);
    for (const m of cases.flatMap((c) => c.metrics)) {
      const spec = rr.metrics.find((s) => s.name === m.name);
      assert.ok(spec, `${m.name} declared`);
      assert.equal(m.unit, spec.unit);
      assert.equal(m.better, spec.better);
    }
  });
});

describe("sockperf parser refuses bad output", () => {
  const ok = fixture("sockperf-3.7-smoke.txt");
  const bad: [string, string, RegExp][] = [
    ["connection refused (sockperf exits 0)", fixture("sockperf-3.7-refused.txt"), /without errors, got "ERROR: Can`t connect socket.*\(case tcp\)/],
    ["server killed mid-test", fixture("sockperf-3.7-server-killed.txt"), /one report per case \["tcp","udp"\]/],
    ["no UDP replies (sockperf exits 0)", fixture("sockperf-3.7-refused.txt").replace(/^[^]*?(?=# virtperf rr case=udp)/, ok.slice(0, ok.indexOf("# virtperf rr case=udp"))), /No messages were received.*\(case udp\)/],
    ["protocol other than the marker says", ok.replace("PORT = 15401 # UDP", "PORT = 15401 # TCP"), /a UDP connection line, got tcp \(case udp\)/],
    ["p99 missing", ok.replace("percentile 99.000 = 2124.645", ""), /'percentile 99\.000' line \(case tcp\)/],
    ["no replies in the valid duration", ok.replace("ReceivedMessages=18480", "ReceivedMessages=0"), /replies in the valid duration.*\(case udp\)/],
    ["empty output", "", /one report per case/],
  ];
  for (const [what, stdout, message] of bad) {
    it(what, () => assert.throws(() => rr.parse(raw(stdout), smoke), (e: unknown) => e instanceof ParseError && message.test(e.message)));
  }
});

describe("rr params and steps", () => {
  it("profiles are positive and grow smoke < quick < full (the paper's 60 s)", () => {
    const all = PROFILES.map((p) => rr.params(p, shape));
    assert.ok(all.every((p) => p.durationS > 0 && p.messageBytes === 100));
    for (let i = 1; i < all.length; i++) assert.ok(all[i]!.durationS > all[i - 1]!.durationS);
    assert.equal(rr.params("full", shape).durationS, 60);
  });
  for (const profile of PROFILES) {
    it(`${profile}: scripts pass bash -n; one server serves TCP and UDP on ctx.ports[0]`, () => {
      const p = rr.params(profile, shape);
      const s = rr.steps(p, ctx);
      for (const script of [s.server!.script, s.server!.readyCheck, s.run.script]) {
        const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
      }
      assert.equal(s.run.on, "client");
      assert.match(s.server!.script, /T:192\.168\.122\.5:21002 U:192\.168\.122\.5:21002 >/);
      assert.match(s.server!.script, /^exec sockperf server -f sockperf-servers\.txt --uc-reuseaddr$/m);
      assert.match(s.server!.readyCheck, /:520A .* \/proc\/net\/tcp .*:520A .* \/proc\/net\/udp /);
      for (const [proto, flag] of [["tcp", " --tcp"], ["udp", ""]] as const) {
        assert.match(s.run.script, new RegExp(`^echo '# virtperf rr case=${proto}'\\nsockperf ping-pong -i 192\\.168\\.122\\.5 -p 21002${flag} -m 100 -t ${p.durationS} --full-rtt$`, "m"));
      }
    });
  }
  it("the server script writes the feed file sockperf reads", () => {
    const dir = mkdtempSync(join(tmpdir(), "vp-rr-"));
    try {
      const r = spawnSync("bash", ["-c", rr.steps(smoke, ctx).server!.script.replace(/^exec sockperf .*$/m, "cat sockperf-servers.txt")],
        { cwd: dir, encoding: "utf8" });
      assert.equal(r.stdout, "T:192.168.122.5:21002\nU:192.168.122.5:21002\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
