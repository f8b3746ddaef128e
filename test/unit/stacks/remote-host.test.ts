/**
 * The plan of an experiment on an SSH host: the host key pinned in a local known_hosts file (in the keys
 * directory, outside the project) by the first (local) preparation step, native's ssh target with the
 * cgroup/taskset wrapper, guests and containers reached via the host, clients on the host, and host-side
 * facts run on the host over ssh (a fake ssh runs them here).
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExperiment } from "../../../stacks/config.ts";
import { plan, VIRTPERF_BIN } from "../../../stacks/planner.ts";
import { knownHostsCommand } from "../../../stacks/host-address.ts";
import { sshArgs } from "../../../lib/ssh.ts";
import type { TargetSpec } from "../../../model/target.ts";
import { fakeBin } from "../runner/fake-ssh.ts";
import { KVM_NOT_USABLE } from "../../helpers/kvm-proofs.ts";

const tmp = mkdtempSync(join(tmpdir(), "virtperf-remote-host-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const keysDir = join(tmp, "keys");
const keyFile = join(tmp, "user-keys", "id_ed25519");
const knownHosts = join(keysDir, "dev-host.known_hosts");
const cpu = execFileSync("bash", ["-c", "taskset -cp $$ | sed 's/.*: //'"], { encoding: "utf8" }).trim().split(/[,-]/)[0]!;
const probe = { cpus: [0, 1], memoryMiB: 24105, kvm: KVM_NOT_USABLE, threadsPerCore: 1 };

function experimentOn(host: unknown) {
  return parseExperiment({
    host, environments: ["native", "docker", "kvm"], workloads: ["xz", "redis"], profile: "smoke", repetitions: 1,
    cpuset: cpu, memoryMiB: 1024, scratchDir: "/nonexistent-virtperf", resultsRoot: join(tmp, "results"),
  }, "dev", { cpus: [0, 1, Number(cpu)], memoryMiB: 24105 }, { keysDir });
}

const sshHost = { host: "bench.example", user: "bench", port: 2222, privateKeyFile: keyFile, hostPublicKey: "ssh-ed25519 AAAAC3Nza host-key" };
const remote = plan(experimentOn(sshHost), probe);
const local = plan(experimentOn("local"), probe);
const hostTarget = { kind: "ssh", host: "bench.example", user: "bench", port: 2222, identityFile: keyFile, knownHostsFile: knownHosts };

function env(p: typeof remote, name: string) {
  return p.environments.find((e) => e.def.name === name)!;
}
function trialFlag(p: typeof remote, environment: string, name: string): string | undefined {
  const line = p.trials.find((t) => t.environment === environment)!.command.split("\n").find((l) => l.includes(`${VIRTPERF_BIN} trial`))!;
  const words = execFileSync("bash", ["-c", `for w in ${line.replace(/^rc=0; /, "").replace(/ \|\| rc=\$\?$/, "")}; do printf '%s\\0' "$w"; done`], { encoding: "utf8" }).split("\0");
  const i = words.indexOf(name);
  return i < 0 ? undefined : words[i + 1];
}

describe("plan for an SSH host", () => {
  it("pins the host key first, in a local step; the rest of the preparation runs on the host", () => {
    assert.deepEqual(remote.host.commands.map((c) => [c.role, c.on]), [["known-hosts", "local"], ["host-packages", "host"], ["host-dirs", "host"], ["native-cgroup", "host"]]);
    assert.ok(!local.host.commands.some((c) => c.role === "known-hosts"));
  });

  const pins = [
    { port: 2222, line: "[bench.example]:2222 ssh-ed25519 AAAAC3Nza host-key" },
    { port: 22, line: "bench.example ssh-ed25519 AAAAC3Nza host-key" },
  ];
  for (const pin of pins) {
    it(`known_hosts step writes "${pin.line}" in the keys directory (0700), never beside the user's key, and its delete removes it`, () => {
      const a = { kind: "ssh" as const, ...sshHost, port: pin.port, keyFromSecret: false, knownHostsFile: join(tmp, `k${pin.port}`, "dev-host.known_hosts") };
      const c = knownHostsCommand(a);
      execFileSync("bash", ["-c", c.create]);
      assert.equal(readFileSync(a.knownHostsFile, "utf8"), `${pin.line}\n`);
      assert.equal(statSync(join(tmp, `k${pin.port}`)).mode & 0o777, 0o700);
      assert.equal(existsSync(`${keyFile}.known_hosts`), false);
      execFileSync("bash", ["-c", c.delete!]);
      assert.equal(existsSync(a.knownHostsFile), false);
    });
  }

  it("native: an ssh target with the pinned key and the same wrapper as on a local host", () => {
    const t = env(local, "native").target;
    const wrap = t.kind === "local" ? t.wrap : undefined;
    assert.ok(wrap?.length);
    assert.deepEqual(env(remote, "native").target, { ...hostTarget, wrap });
    assert.deepEqual(JSON.parse(trialFlag(remote, "native", "--environment")!).target, { ...hostTarget, wrap });
  });

  it("kvm: the guest is reached via the host (no wrapper on the hop) with its own key and pinned host key; locally there is no via", () => {
    const t = env(remote, "kvm").target as TargetSpec & { kind: "guest" };
    assert.equal(t.identityFile, "/nonexistent-virtperf/guests/dev-kvm.ssh/id_ed25519");
    assert.equal(t.knownHostsFile, "/nonexistent-virtperf/guests/dev-kvm.ssh/known_hosts");
    assert.deepEqual(t.via, hostTarget);
    assert.equal((env(local, "kvm").target as { via?: unknown }).via, undefined);
  });

  it("docker: docker exec via the host's pinned ssh (no DOCKER_HOST); locally the socket", () => {
    assert.deepEqual(env(remote, "docker").target, { kind: "docker", container: "virtperf-dev-docker", via: hostTarget });
    assert.deepEqual(env(local, "docker").target, { kind: "docker", container: "virtperf-dev-docker" });
  });

  it("clients run on the host, over ssh with the pinned key", () => {
    assert.deepEqual(JSON.parse(trialFlag(remote, "docker", "--environment")!).client, hostTarget);
    assert.deepEqual(JSON.parse(trialFlag(local, "docker", "--environment")!).client, { kind: "local" });
    assert.deepEqual(JSON.parse(trialFlag(remote, "docker", "--environment")!).host, hostTarget);
  });

  it("host, docker and kvm facts run on the host over its pinned ssh", () => {
    const viaSsh = `ssh ${[...sshArgs(hostTarget), "bash", "-s"].join(" ")} <<'VIRTPERF_FACTS'`;
    const onHost = remote.facts.map((f) => [f.role, f.on, f.create.includes(viaSsh)]);
    assert.deepEqual(onHost, [["facts-host", "local", true], ["facts-docker", "local", true], ["facts-kvm", "local", true]]);
    for (const f of [...remote.facts, ...local.facts]) execFileSync("bash", ["-n", "-c", f.create]);
    assert.ok(local.facts.every((f) => !f.create.includes("VIRTPERF_FACTS")));
  });

  it("host facts for real through the (fake) ssh: JSON written here, probe run through native's wrapper", async () => {
    const fakes = await fakeBin();
    const undo = fakes.activate();
    try {
      const f = remote.facts.find((c) => c.role === "facts-host")!;
      execFileSync("bash", ["-c", f.create], { stdio: ["ignore", "pipe", "pipe"] });
      const facts = JSON.parse(readFileSync(join(remote.resultsDir, "facts", "host.json"), "utf8"));
      assert.equal(facts.kind, "native");
      assert.equal(facts.limits.probe.cpusAllowed, cpu, "the facts' probe ran under native's taskset");
      assert.deepEqual(await fakes.sshCalls(), [[...sshArgs(hostTarget), "bash", "-s"]]);
    } finally {
      undo();
      await fakes.remove();
    }
  });
});
