import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { ParseError } from "../../../lib/errors.ts";
import { PROFILES, type RawRun, type TrialContext } from "../../../workloads/contract.ts";
import { workload as mysql } from "../../../workloads/mysql/index.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");
const raw = (stdout: string, exitCode = 0): RawRun =>
  ({ stdout, stderr: "", exitCode, signal: null, durationMs: 1000, timedOut: false });
const shape = { cpus: 2, memoryMiB: 4096 };
const ctx: TrialContext = { workDir: "/tmp/vp-work", dataDir: "/var/lib/virtperf/data", ports: [40001], serverHost: "192.168.122.5", bindHost: "192.168.122.5", clientHost: "192.168.122.1", secret: "s3cret", shape };
const smoke = mysql.params("smoke", shape);
const quick = mysql.params("quick", shape);

// [fixture, params, case, tps, qps, latency_avg, latency_p95], read from the fixtures by eye.
const expected: [string, typeof smoke, string, number, number, number, number][] = [
  ["sysbench-1.0.20-oltp-ro-smoke.txt", smoke, "oltp-ro-t1", 298.8, 4780.77, 3.33, 9.91],
  ["sysbench-1.0.20-oltp-ro-smoke.txt", smoke, "oltp-ro-t4", 842.56, 13480.98, 4.73, 16.41],
  ["sysbench-1.0.20-oltp-ro-quick.txt", quick, "oltp-ro-t1", 381.24, 6099.84, 2.62, 7.7],
  ["sysbench-1.0.20-oltp-ro-quick.txt", quick, "oltp-ro-t2", 421.28, 6740.47, 4.74, 12.98],
  ["sysbench-1.0.20-oltp-ro-quick.txt", quick, "oltp-ro-t8", 2394.8, 38316.76, 3.34, 4.49],
];

describe("sysbench parser on real reports", () => {
  for (const [file, params, name, tps, qps, avg, p95] of expected) {
    it(`${file} ${name}`, () => {
      const c = mysql.parse(raw(fixture(file)), params).find((x) => x.case === name);
      assert.ok(c, `${name} present`);
      const got = Object.fromEntries(c.metrics.map((m) => [m.name, m.value]));
      assert.deepEqual(got, { tps, qps, latency_avg: avg, latency_p95: p95 });
      assert.equal(c.params["threads"], Number(name.replace("oltp-ro-t", "")));
      assert.equal(c.params["tableSize"], params.tableSize);
      assert.equal(c.params["durationS"], params.durationS);
    });
  }
  it("splits one case per thread count, in order", () => {
    assert.deepEqual(mysql.parse(raw(fixture("sysbench-1.0.20-oltp-ro-quick.txt")), quick).map((c) => c.case),
      ["oltp-ro-t1", "oltp-ro-t2", "oltp-ro-t8"]);
  });
  it("emits only declared metrics, with the declared unit and direction", () => {
    const metrics = mysql.parse(raw(fixture("sysbench-1.0.20-oltp-ro-smoke.txt")), smoke).flatMap((c) => c.metrics);
    for (const m of metrics) {
      const spec = mysql.metrics.find((s) => s.name === m.name);
      assert.ok(spec, `${m.name} declared`);
      assert.equal(m.unit, spec.unit);
      assert.equal(m.better, spec.better);
    }
  });
});

describe("sysbench parser refuses bad output", () => {
  const smokeOut = fixture("sysbench-1.0.20-oltp-ro-smoke.txt");
  const bad: [string, string, typeof smoke, RegExp][] = [
    ["connection refused (FATAL, loop stopped)", fixture("sysbench-1.0.20-oltp-ro-refused.txt"), smoke, /one report per thread count/],
    ["truncated in the second report", fixture("sysbench-1.0.20-oltp-ro-truncated.txt"), smoke, /total number of events at 4 threads/],
    ["thread counts other than asked", smokeOut, quick, /one report per thread count \[1,2,8\]/],
    ["FATAL inside a report", smokeOut.replace("Threads started!", "FATAL: mysql_stmt_execute() returned error 1047"), smoke, /without errors at 1 threads/],
    ["p95 missing (no --percentile)", smokeOut.replace(/95th percentile:.*\n/g, ""), smoke, /95th percentile latency at 1 threads/],
    ["empty output", "", smoke, /one report per thread count/],
  ];
  for (const [what, stdout, params, message] of bad) {
    it(what, () => assert.throws(() => mysql.parse(raw(stdout, 1), params), (e: unknown) => e instanceof ParseError && message.test(e.message)));
  }
});

describe("mysql params and steps", () => {
  it("profiles are positive and grow smoke < quick < full", () => {
    const all = PROFILES.map((p) => mysql.params(p, shape));
    for (const p of all) {
      assert.ok(p.threads.length > 0 && p.threads.every((t) => Number.isInteger(t) && t > 0));
      assert.ok(p.tableSize > 0 && p.durationS > 0 && p.bufferPoolMiB > 0 && p.tables === 1);
    }
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i]!.tableSize > all[i - 1]!.tableSize);
      assert.ok(all[i]!.durationS > all[i - 1]!.durationS);
      assert.ok(Math.max(...all[i]!.threads) > Math.max(...all[i - 1]!.threads));
    }
  });
  const fullThreads: [number, number[]][] = [
    [32, [10, 50, 90, 130, 170, 210, 250, 290]],
    [2, [1, 3, 6, 8, 11, 13, 16, 18]],
    [1, [1, 2, 3, 4, 5, 7, 8, 9]],
  ];
  for (const [cpus, threads] of fullThreads) {
    it(`full on ${cpus} CPUs keeps the paper's threads per CPU: ${threads.join(",")}`, () => {
      assert.deepEqual(mysql.params("full", { cpus, memoryMiB: 8192 }).threads, threads);
    });
  }
  it("full holds the 2 M row table in a buffer pool bounded by memory", () => {
    assert.equal(mysql.params("full", { cpus: 2, memoryMiB: 8192 }).bufferPoolMiB, 1024);
    assert.equal(mysql.params("full", { cpus: 2, memoryMiB: 1024 }).bufferPoolMiB, 512);
  });
  for (const profile of PROFILES) {
    it(`${profile}: every script passes bash -n and uses the context`, () => {
      const s = mysql.steps(mysql.params(profile, shape), ctx);
      const scripts = [s.setup!.script, s.server!.script, s.server!.readyCheck, s.prepare!.script, s.run.script, s.cleanup!.script];
      for (const script of scripts) {
        const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
      }
      assert.equal(s.setup!.on, "env");
      assert.equal(s.prepare!.on, "client");
      assert.equal(s.run.on, "client");
      assert.match(s.setup!.script, /--datadir=\/var\/lib\/virtperf\/data\/mariadb/);
      // Listens on the address its client uses only; the account is the client's address, the password the trial's.
      assert.match(s.server!.script, /--port=40001 --bind-address=192\.168\.122\.5 --socket=\/tmp\/vp-work\/mysqld\.sock/);
      assert.match(s.setup!.script, /CREATE USER IF NOT EXISTS 'virtperf'@'192\.168\.122\.1' IDENTIFIED BY 's3cret';/);
      assert.doesNotMatch(s.setup!.script, /'%'/);
      assert.match(s.run.script, /--mysql-password=s3cret/);
      assert.doesNotMatch(s.prepare!.script, /-ps3cret/);
      assert.match(s.run.script, /--mysql-host=192\.168\.122\.5 --mysql-port=40001/);
      assert.match(s.cleanup!.script, /rm -rf \/var\/lib\/virtperf\/data\/mariadb/);
      // The ready check really queries, is bounded in time, and accepts only our datadir's answer.
      assert.match(s.server!.readyCheck, /^test "\$\(timeout \d+ mariadb .*--protocol=SOCKET .*SELECT @@datadir/s);
      assert.match(s.server!.readyCheck, /= \/var\/lib\/virtperf\/data\/mariadb\/ && grep -qsE/);
    });
  }
});

describe("mysql setup where io_uring fails (gVisor)", () => {
  /** Runs the setup script against a stand-in mariadb-install-db in a fresh directory; returns what it saw. */
  function setupWith(fake: string): { code: number | null; stderr: string; aio: string; calls: string } {
    const dir = spawnSync("mktemp", ["-d"], { encoding: "utf8" }).stdout.trim();
    spawnSync("bash", ["-c", `mkdir -p ${dir}/bin && cat > ${dir}/bin/mariadb-install-db && chmod +x ${dir}/bin/mariadb-install-db`], { input: fake });
    const c: TrialContext = { ...ctx, workDir: dir, dataDir: `${dir}/data` };
    const steps = mysql.steps(smoke, c);
    const r = spawnSync("bash", ["-c", steps.setup!.script], { cwd: dir, encoding: "utf8", env: { PATH: `${dir}/bin:/usr/bin:/bin`, FAKE_LOG: `${dir}/calls` } });
    const read = (f: string) => spawnSync("cat", [f], { encoding: "utf8" }).stdout.trim();
    const out = { code: r.status, stderr: r.stderr, aio: read(`${dir}/innodb-aio`), calls: read(`${dir}/calls`) };
    spawnSync("rm", ["-rf", dir]);
    return out;
  }

  it("retries with simulated AIO, says so, and the server then starts with it", () => {
    const r = setupWith(`#!/bin/bash\necho "$*" >> "$FAKE_LOG"\ncase " $* " in *" --innodb-use-native-aio=0 "*) exit 0;; esac\necho "[ERROR] mariadbd: io_uring_wait_cqe() returned -1"\nexit 1\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.aio, "simulated");
    assert.equal(r.calls.split("\n").length, 2);
    assert.match(r.stderr, /io_uring fails here .*innodb_use_native_aio=0/);
    assert.match(mysql.steps(smoke, ctx).server!.script, /if \[ "\$\(cat innodb-aio 2>\/dev\/null\)" = simulated \]; then aio=\(--innodb-use-native-aio=0\)/);
  });

  it("keeps native AIO where the first install works, and fails with the log on any other error", () => {
    const ok = setupWith(`#!/bin/bash\necho "$*" >> "$FAKE_LOG"\nexit 0\n`);
    assert.deepEqual([ok.code, ok.aio, ok.calls.split("\n").length], [0, "native", 1]);
    const bad = setupWith(`#!/bin/bash\necho "$*" >> "$FAKE_LOG"\necho "[ERROR] Can't create directory"\nexit 1\n`);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Can't create directory/);
    assert.equal(bad.calls.split("\n").length, 1);
  });
});
