/**
 * Servers listen only where their client connects, for real (issue 10): in a Docker bridge container
 * (its port published on the host's loopback, reached through NAT), redis and MariaDB trials run while
 * the test looks inside: each server's listening socket is on the container's own address, never
 * 0.0.0.0; redis refuses a client without the trial's password; MariaDB's benchmark account admits only
 * the bridge's gateway (where a client on the host's loopback comes from). Both trials are ok.
 *
 * Real infrastructure (Docker): run under `flock /work/realtest.lock`. Stack faultc5.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { PRESETS } from "../../stacks/kinds.ts";
import { environmentDescription } from "../../stacks/planner.ts";
import type { Experiment } from "../../stacks/experiment.ts";
import { planDocker, planDockerImage, renderDockerRemove, renderDockerRun, type DockerEnvironmentPlan } from "../../stacks/docker/spec.ts";
import { allPackages } from "../../workloads/registry.ts";
import { parseRecord } from "../../model/record.ts";
import { until } from "../helpers/faults.ts";

const STACK = "faultc5";
const sh = (cmd: string) => execFileSync("bash", ["-c", cmd], { encoding: "utf8" }).trim();
/** /proc/net/tcp's address of an IPv4 (little-endian hex) as a dotted quad. */
const dotted = (hex: string) => hex.match(/../g)!.map((b) => parseInt(b, 16)).reverse().join(".");

describe(`servers bound to the client's address, in a bridge container (stack ${STACK})`, { timeout: 15 * 60_000 }, () => {
  let scratch: string;
  let p: DockerEnvironmentPlan;
  let x: Experiment;
  let ip: string, gateway: string;

  before(async () => {
    sh("bash scripts/services.sh docker");
    scratch = await mkdtemp(join(tmpdir(), "virtperf-bound-"));
    const n = cpus().length;
    x = {
      stack: STACK,
      host: { address: { kind: "local" }, cpuset: n > 1 ? `0-${n - 1}` : "0", cpus: n, memoryMiB: 1024, scratchDir: scratch, ioDir: join(scratch, "io") },
      environments: [{ name: "docker", options: PRESETS.docker }], client: { kind: "host" },
      acceleration: "auto", workloads: ["redis", "mysql"], profile: "smoke", repetitions: 1, seed: 1,
      debianSuite: "bookworm", dockerBaseImage: "debian:bookworm", resultsRoot: join(scratch, "results"),
    };
    const image = planDockerImage(x, allPackages());
    for (const c of image.commands) sh(c.create);
    p = planDocker(x, x.environments[0]!, 0, image.tag);
    for (const argv of renderDockerRemove(p.spec)) await execa(argv[0]!, argv.slice(1), { reject: false });
    await execa(renderDockerRun(p.spec)[0]!, renderDockerRun(p.spec).slice(1));
    [ip, gateway] = sh(`docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{.Gateway}}{{end}}' ${p.spec.name}`).split(" ") as [string, string];
  });

  after(async () => {
    if (p) for (const argv of renderDockerRemove(p.spec)) await execa(argv[0]!, argv.slice(1), { reject: false });
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** The local addresses of the container's TCP listeners on `port`. */
  function listeners(port: number): string[] {
    const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
    const table = sh(`docker exec ${p.spec.name} cat /proc/net/tcp`);
    return [...table.matchAll(/^\s*\d+: ([0-9A-F]{8}):([0-9A-F]{4}) [0-9A-F]{8}:[0-9A-F]{4} 0A /gm)].filter((m) => m[2] === hexPort).map((m) => dotted(m[1]!));
  }

  function trial(workload: string) {
    return execa("bin/virtperf", [
      "trial", "--environment", JSON.stringify(environmentDescription(x, p)), "--workload", workload, "--profile", "smoke",
      "--stack", STACK, "--out", join(scratch, "results"),
    ], { reject: false });
  }

  it("redis: listens on the container's address only, and refuses a client without the trial's password", async () => {
    const port = p.ports[0]!;
    const running = trial("redis");
    const seen = (await until(() => { const l = listeners(port); return l.length ? l : undefined; }, 60_000, 200)) ?? [];
    assert.deepEqual(seen, [ip], `listening on ${seen.join(", ")}`);
    const anonymous = sh(`redis-cli -h 127.0.0.1 -p ${port} ping 2>&1 || true`);
    assert.match(anonymous, /NOAUTH|Authentication required/);
    const r = await running;
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(parseRecord(r.stdout.trim(), { file: "stdout", line: 1 }).status, "ok");
  });

  it("MariaDB: listens on the container's address only; the benchmark account admits only the bridge's gateway", async () => {
    const port = p.ports[0]!;
    const running = trial("mysql");
    const seen = (await until(() => { const l = listeners(port); return l.length ? l : undefined; }, 120_000, 200)) ?? [];
    assert.deepEqual(seen, [ip], `listening on ${seen.join(", ")}`);
    const hosts = sh(`docker exec ${p.spec.name} bash -c 'for s in ${p.workRoot}/*/mysqld.sock; do mariadb --no-defaults --socket="$s" -u root -N -B -e "SELECT Host FROM mysql.user WHERE User = \\"virtperf\\""; done'`);
    assert.equal(hosts, gateway);
    const r = await running;
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(parseRecord(r.stdout.trim(), { file: "stdout", line: 1 }).status, "ok");
  });
});
