import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { ParseError } from "../../../lib/errors.ts";
import { PROFILES, type RawRun, type TrialContext } from "../../../workloads/contract.ts";
import { workload as redis } from "../../../workloads/redis/index.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");
const raw = (stdout: string, stderr = "", exitCode = 0): RawRun =>
  ({ stdout, stderr, exitCode, signal: null, durationMs: 1000, timedOut: false });
const shape = { cpus: 2, memoryMiB: 4096 };
const ctx: TrialContext = { workDir: "/tmp/vp-work", dataDir: "/var/lib/virtperf/data", ports: [21003], serverHost: "192.168.122.5", bindHost: "192.168.122.5", clientHost: "192.168.122.1", secret: "s3cret", shape };
const smoke = redis.params("smoke", shape);
const quick = redis.params("quick", shape);

// [fixture, params, case, rps, latency_avg, latency_p50, latency_p99 (ms)], read from the fixtures by eye.
const expected: [string, typeof smoke, string, number, number, number, number][] = [
  ["redis-benchmark-7.0.15-smoke.csv", smoke, "set-c1", 9090.91, 0.099, 0.031, 2.071],
  ["redis-benchmark-7.0.15-smoke.csv", smoke, "get-c1", 10810.81, 0.082, 0.031, 1.959],
  ["redis-benchmark-7.0.15-smoke.csv", smoke, "get-c50", 12658.23, 2.59, 2.159, 8.927],
  ["redis-benchmark-7.0.15-quick.csv", quick, "set-c10", 9478.67, 0.868, 0.271, 7.823],
  ["redis-benchmark-7.0.15-quick.csv", quick, "get-c100", 8440.24, 9.303, 7.215, 50.143],
];

describe("redis-benchmark parser on real --csv output", () => {
  for (const [file, params, name, rps, avg, p50, p99] of expected) {
    it(`${file} ${name}`, () => {
      const c = redis.parse(raw(fixture(file)), params).find((x) => x.case === name);
      assert.ok(c, `${name} present`);
      const got = Object.fromEntries(c.metrics.map((m) => [m.name, m.value]));
      assert.deepEqual(got, { rps, latency_avg: avg, latency_p50: p50, latency_p99: p99 });
      const [op, clients] = name.split("-c");
      assert.deepEqual(c.params, { op, clients: Number(clients), requests: params.requests, keys: 100_000, valueBytes: 50 });
    });
  }
  it("yields SET then GET per client count, in order, with declared metrics only", () => {
    const cases = redis.parse(raw(fixture("redis-benchmark-7.0.15-smoke.csv")), smoke);
    assert.deepEqual(cases.map((c) => c.case), ["set-c1", "get-c1", "set-c10", "get-c10", "set-c50", "get-c50"]);
    for (const m of cases.flatMap((c) => c.metrics)) {
      const spec = redis.metrics.find((s) => s.name === m.name);
      assert.ok(spec, `${m.name} declared`);
      assert.equal(m.unit, spec.unit);
      assert.equal(m.better, spec.better);
    }
  });
});

describe("redis-benchmark parser refuses bad output", () => {
  const ok = fixture("redis-benchmark-7.0.15-smoke.csv");
  const bad: [string, RawRun, RegExp][] = [
    ["connection refused (FLUSHALL failed, loop stopped)",
      raw(fixture("redis-benchmark-7.0.15-refused.csv"), fixture("redis-benchmark-7.0.15-refused.stderr"), 1), /one CSV block per client count \[1,10,50\]/],
    ["server killed: header, no rows", raw(fixture("redis-benchmark-7.0.15-server-killed.csv"), fixture("redis-benchmark-7.0.15-server-killed.stderr"), 1), /one CSV block per client count/],
    ["server killed, as a one-count run", raw(fixture("redis-benchmark-7.0.15-server-killed.csv")), /exactly one "SET" row \(got 0\) \(clients=1\)/],
    ["p99 column missing", raw(ok.replace(/"p99_latency_ms",/g, "")), /a "p99_latency_ms" column in the header \(clients=1\)/],
    ["a value not a number", raw(ok.replace('"GET","12658.23"', '"GET","-nan"')), /a number in "rps" of the GET row \(clients=50\)/],
    ["no requests served", raw(ok.replace('"SET","12500.00"', '"SET","0.00"')), /requests served in the SET row \(rps > 0\) \(clients=10\)/],
    ["client counts other than asked", raw(fixture("redis-benchmark-7.0.15-quick.csv")), /one CSV block per client count \[1,10,50\]/],
    ["empty output", raw(""), /one CSV block per client count/],
  ];
  for (const [what, r, message] of bad) {
    const params = what.includes("one-count") ? { ...smoke, clients: [1] } : smoke;
    it(what, () => assert.throws(() => redis.parse(r, params), (e: unknown) => e instanceof ParseError && message.test(e.message)));
  }
});

describe("redis params and steps", () => {
  it("profiles are positive and grow smoke < quick < full (the paper's 500k requests, 1..120 clients)", () => {
    const all = PROFILES.map((p) => redis.params(p, shape));
    for (const p of all) {
      assert.ok(p.clients.length >= 2 && p.clients.every((c) => Number.isInteger(c) && c > 0));
      assert.equal(p.keys, 100_000);
      assert.equal(p.valueBytes, 50);
    }
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i]!.requests > all[i - 1]!.requests);
      assert.ok(Math.max(...all[i]!.clients) >= Math.max(...all[i - 1]!.clients));
    }
    const full = redis.params("full", shape);
    assert.equal(full.requests, 500_000);
    assert.deepEqual([full.clients[0], full.clients.at(-1)], [1, 120]);
    assert.deepEqual(redis.cases, full.clients.flatMap((c) => [`set-c${c}`, `get-c${c}`]));
  });
  for (const profile of PROFILES) {
    it(`${profile}: scripts pass bash -n and use the context`, () => {
      const p = redis.params(profile, shape);
      const s = redis.steps(p, ctx);
      for (const script of [s.server!.script, s.server!.readyCheck, s.run.script]) {
        const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
      }
      assert.equal(s.run.on, "client");
      // Only the client's address, a password from a 0600 file (never on a command line), protected mode on.
      assert.match(s.server!.script, /^exec redis-server \.\/redis-auth\.conf --port 21003 --bind 192\.168\.122\.5 --save '' --appendonly no/m);
      assert.match(s.server!.script, /^umask 077\nprintf 'requirepass %s\\n' s3cret > redis-auth\.conf$/m);
      assert.doesNotMatch(s.server!.script, /protected-mode|0\.0\.0\.0/);
      assert.match(s.server!.readyCheck, /REDISCLI_AUTH=s3cret redis-cli -h 192\.168\.122\.5 -p 21003 ping/);
      assert.match(s.run.script, /^export REDISCLI_AUTH=s3cret$/m);
      assert.match(s.server!.script, /--dir \/tmp\/vp-work /);
      assert.match(s.run.script, new RegExp(`^for clients in ${p.clients.join(" ")}; do$`, "m"));
      assert.match(s.run.script, /redis-cli -h 192\.168\.122\.5 -p 21003 flushall/);
      assert.match(s.run.script, new RegExp(`timeout \\d+ redis-benchmark -h 192\\.168\\.122\\.5 -p 21003 -a "\\$REDISCLI_AUTH" -c "\\$clients" -n ${p.requests} \\\\\\n\\s+-d 50 -r 100000 -t set,get --csv`));
      assert.ok(s.run.timeoutS > p.clients.length * 30);
    });
  }
  it("the run script prints the marker the parser splits on", () => {
    const script = redis.steps(smoke, ctx).run.script.replace(/^ {2}(flushed|\[|#|timeout|\s+-d).*$/gm, "");
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
    assert.equal(r.stdout, "# virtperf redis clients=1\n# virtperf redis clients=10\n# virtperf redis clients=50\n");
  });
});
