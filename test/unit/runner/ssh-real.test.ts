/**
 * An SSH host for real: our own sshd on 127.0.0.1 (free port, throwaway keys, own config, `-D`), and the
 * plan of an experiment on it. The plan's local known-hosts step pins the host key, native's ssh target
 * runs scripts under its wrapper with StrictHostKeyChecking=yes, the host facts come over ssh, and a
 * wrong pinned key is refused. Skipped where sshd cannot run (not root, no /usr/sbin/sshd).
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { freePort, sshdUsable, startSshd } from "../../helpers/sshd.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExperiment } from "../../../stacks/config.ts";
import { plan } from "../../../stacks/planner.ts";
import { connect } from "../../../workloads/runner/targets.ts";
import { KVM_NOT_USABLE } from "../../helpers/kvm-proofs.ts";

const usable = sshdUsable;


describe("an SSH host for real (own sshd on 127.0.0.1)", { skip: usable ? false : "needs root and /usr/sbin/sshd" }, () => {
  let dir: string;
  let sshd: ChildProcess | undefined;
  let p: ReturnType<typeof plan>;
  const cpu = execFileSync("bash", ["-c", "taskset -cp $$ | sed 's/.*: //'"], { encoding: "utf8" }).trim().split(/[,-]/)[0]!;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "virtperf-sshd-"));
    for (const k of ["host_key", "client_key"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, k)]);
    const port = await freePort();
    sshd = await startSshd(dir, port);
    const x = parseExperiment({
      host: { host: "127.0.0.1", user: "root", port, privateKeyFile: join(dir, "client_key"), hostPublicKey: readFileSync(join(dir, "host_key.pub"), "utf8") },
      environments: ["native"], workloads: ["xz"], profile: "smoke", repetitions: 1, cpuset: cpu, memoryMiB: 512,
      scratchDir: join(dir, "scratch-absent"), resultsRoot: join(dir, "results"),
    }, "sshtest", { cpus: [Number(cpu)], memoryMiB: 24105 }, { keysDir: join(dir, "keys") });
    p = plan(x, { cpus: [Number(cpu)], memoryMiB: 24105, kvm: KVM_NOT_USABLE });
    execFileSync("bash", ["-c", p.host.commands.find((c) => c.role === "known-hosts")!.create]);
  });

  after(() => {
    sshd?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("native's ssh target runs a script on the host under its wrapper, with the host key checked", async () => {
    const t = p.environments[0]!.target;
    assert.equal(t.kind, "ssh");
    const r = await connect(t).exec("sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status", { timeoutS: 20 });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, `${cpu}\n`);
  });

  it("the host facts come over ssh into the local results folder", () => {
    execFileSync("bash", ["-c", p.facts.find((f) => f.role === "facts-host")!.create], { stdio: ["ignore", "pipe", "pipe"] });
    const facts = JSON.parse(readFileSync(join(p.resultsDir, "facts", "host.json"), "utf8"));
    assert.equal(facts.kind, "native");
    assert.equal(facts.limits.probe.cpusAllowed, cpu);
  });

  it("a host whose key is not the pinned one is refused", async () => {
    const t = p.environments[0]!.target;
    assert.equal(t.kind, "ssh");
    if (t.kind !== "ssh") return;
    const wrongKeys = join(dir, "wrong.known_hosts");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "other_key")]);
    writeFileSync(wrongKeys, `[127.0.0.1]:${t.port} ${readFileSync(join(dir, "other_key.pub"), "utf8")}`);
    const r = await connect({ ...t, knownHostsFile: wrongKeys }).exec("echo reached", { timeoutS: 20 });
    assert.equal(r.exitCode, 255);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /host key/i);
  });
});
