import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { ParseError } from "../../../lib/errors.ts";
import { PROFILES, type RawRun, type TrialContext } from "../../../workloads/contract.ts";
import { workload as nuttcp } from "../../../workloads/nuttcp/index.ts";
import { listeningCheck } from "../../../workloads/listening.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");
const raw = (stdout: string, stderr = "", exitCode = 0): RawRun =>
  ({ stdout, stderr, exitCode, signal: null, durationMs: 1000, timedOut: false });
const shape = { cpus: 2, memoryMiB: 4096 };
const ctx: TrialContext = { workDir: "/tmp/vp-work", dataDir: "/var/lib/virtperf/data", ports: [21000, 21001], serverHost: "192.168.122.5", bindHost: "192.168.122.5", clientHost: "192.168.122.1", secret: "s3cret", shape };
const smoke = nuttcp.params("smoke", shape);
const quick = nuttcp.params("quick", shape);

// [fixture, params, case, throughput Gbit/s (rate_Mbps / 1000), retransmits], read from the fixtures by eye.
const expected: [string, typeof smoke, string, number, number][] = [
  ["nuttcp-6.1.2-smoke.txt", smoke, "client-to-server", 4.1362962, 0],
  ["nuttcp-6.1.2-smoke.txt", smoke, "server-to-client", 3.7038452, 0],
  ["nuttcp-6.1.2-quick.txt", quick, "client-to-server", 4.2763498, 0],
  ["nuttcp-6.1.2-quick.txt", quick, "server-to-client", 5.5372265, 0],
];

describe("nuttcp parser on real -fparse output", () => {
  for (const [file, params, name, gbit, retrans] of expected) {
    it(`${file} ${name}`, () => {
      const c = nuttcp.parse(raw(fixture(file)), params).find((x) => x.case === name);
      assert.ok(c, `${name} present`);
      const got = Object.fromEntries(c.metrics.map((m) => [m.name, m.value]));
      assert.ok(Math.abs(got["throughput"]! - gbit) < 1e-9, `throughput ${got["throughput"]} vs ${gbit}`);
      assert.equal(got["retransmits"], retrans);
      assert.equal(c.params["direction"], name);
      assert.equal(c.params["durationS"], params.durationS);
    });
  }
  it("yields both directions, in order, with declared metrics only", () => {
    const cases = nuttcp.parse(raw(fixture("nuttcp-6.1.2-smoke.txt")), smoke);
    assert.deepEqual(cases.map((c) => c.case), [...nuttcp.cases]);
    for (const m of cases.flatMap((c) => c.metrics)) {
      const spec = nuttcp.metrics.find((s) => s.name === m.name);
      assert.ok(spec, `${m.name} declared`);
      assert.equal(m.unit, spec.unit);
      assert.equal(m.better, spec.better);
    }
  });
});

describe("nuttcp parser refuses bad output", () => {
  const ok = fixture("nuttcp-6.1.2-smoke.txt");
  const bad: [string, RawRun, RegExp][] = [
    ["connection refused (nothing on stdout)", raw("", fixture("nuttcp-6.1.2-refused.stderr"), 1), /exactly one 'client_to_server: .*got 0/],
    ["server killed in the second transfer (exit 0, short line)", raw(fixture("nuttcp-6.1.2-server-killed.txt")), /server-to-client transfer of about 2 s \(got real_seconds=0.83\)/],
    ["rate missing", raw(ok.replace(/rate_Mbps=4136\.2962 /, "")), /rate_Mbps=<number> on the client-to-server line/],
    ["retrans missing", raw(ok.replace(/retrans=0 rtt_ms=0\.19/, "rtt_ms=0.19")), /retrans=<number> on the server-to-client line/],
    ["zero bytes moved", raw(ok.replace("megabytes=985.8750", "megabytes=0.0000")), /data moved client-to-server/],
    ["a direction twice", raw(`${ok}${ok}`), /exactly one 'client_to_server: .*got 2/],
  ];
  for (const [what, r, message] of bad) {
    it(what, () => assert.throws(() => nuttcp.parse(r, smoke), (e: unknown) => e instanceof ParseError && message.test(e.message)));
  }
});

describe("nuttcp params and steps", () => {
  it("profiles are positive and grow smoke < quick < full (the paper's 10 s)", () => {
    const all = PROFILES.map((p) => nuttcp.params(p, shape));
    assert.ok(all.every((p) => p.durationS > 0));
    for (let i = 1; i < all.length; i++) assert.ok(all[i]!.durationS > all[i - 1]!.durationS);
    assert.equal(nuttcp.params("full", shape).durationS, 10);
  });
  for (const profile of PROFILES) {
    it(`${profile}: scripts pass bash -n; both data connections are opened by the client`, () => {
      const p = nuttcp.params(profile, shape);
      const s = nuttcp.steps(p, ctx);
      for (const script of [s.server!.script, s.server!.readyCheck, s.run.script]) {
        const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
      }
      assert.equal(s.run.on, "client");
      assert.match(s.server!.script, /^exec nuttcp -S --nofork --no3rdparty -P 21000 -p 21001$/m);
      assert.match(s.run.script, new RegExp(`^nuttcp -fparse -t -I client_to_server -T ${p.durationS} -P 21000 -p 21001 192\\.168\\.122\\.5$`, "m"));
      assert.match(s.run.script, new RegExp(`^nuttcp -fparse -r -F -I server_to_client -T ${p.durationS} -P 21000 -p 21001 192\\.168\\.122\\.5$`, "m"));
      assert.ok(s.run.timeoutS > 2 * p.durationS);
    });
  }
  it("needs two ports", () => assert.throws(() => nuttcp.steps(smoke, { ...ctx, ports: [21000] }), /two ports/));
});

describe("listeningCheck reads /proc/net for real", () => {
  // Table: the row of /proc/net/tcp or udp it must or must not accept, for port 15001 (0x3A99).
  const rows: [string, "tcp" | "udp", string, boolean][] = [
    ["tcp listener on 0.0.0.0", "tcp", "   1: 00000000:3A99 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 15624 1", true],
    ["tcp connection (TIME_WAIT) on the port", "tcp", "   2: 0100007F:3A99 0100007F:8143 06 00000000:00000000 03:000005BD 00000000     0        0 0 3", false],
    ["tcp client whose remote port is it", "tcp", "   3: 0100007F:8143 0100007F:3A99 0A 00000000:00000000 00:00000000 00000000     0        0 1 1", false],
    ["udp bound socket", "udp", " 812: 00000000:3A99 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2", true],
  ];
  for (const [what, proto, row, accepted] of rows) {
    it(`${what}: ${accepted ? "ready" : "not ready"}`, () => {
      // Run the real check with /proc/net swapped for a file holding the row.
      const check = listeningCheck(15001, proto).replace(`/proc/net/${proto} /proc/net/${proto}6`, "-");
      assert.notEqual(check, listeningCheck(15001, proto), "the check reads /proc/net/<proto> and <proto>6");
      const r = spawnSync("bash", ["-c", check], { input: `  sl  local_address rem_address   st\n${row}\n`, encoding: "utf8" });
      assert.equal(r.status === 0, accepted);
    });
  }
  it("rejects a port out of range", () => assert.throws(() => listeningCheck(70000, "tcp"), RangeError));
});
