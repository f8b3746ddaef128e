/**
 * Secrets, for real: a smoke run on an SSH host (our own sshd on 127.0.0.1) whose key is given as the
 * `virtperf:host.privateKey` secret. The Pulumi program (under mocks) writes the key outside the project
 * (keys directory 0700, file 0600); the plan's steps then run as the engine would run them (local steps
 * with bash, host steps over ssh as remote.Command sends them), native smoke trials go through the SSH
 * host, the program runs again to export the records, and teardown runs the delete scripts, the key
 * resource's last. Then every file the run wrote, the run's log and the stack outputs are scanned for the
 * key's text and its base64 body: none has it, and the key file is gone.
 *
 * Real infrastructure (sshd): run under `flock /work/realtest.lock`. Skipped where sshd cannot run.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { freePort, sshdUsable, startSshd } from "../helpers/sshd.ts";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { allResources, promiseOf, runProgram } from "../pulumi-mocks.ts";
import { PROBE_ENV } from "../../stacks/host-probe.ts";
import { KEYS_DIR_ENV } from "../../stacks/keys.ts";
import { parseExperiment } from "../../stacks/config.ts";
import { plan } from "../../stacks/planner.ts";
import { commandArgs } from "../../stacks/command-chain.ts";
import { hostSshTarget } from "../../stacks/host-address.ts";
import { sshArgs } from "../../lib/ssh.ts";
import { KVM_NOT_USABLE } from "../helpers/kvm-proofs.ts";

const usable = sshdUsable;
const STACK = "secbssh";
const ROOT = resolve(import.meta.dirname, "../..");


function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

async function resolveAll(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs)) out[k] = await promiseOf(v as never);
  return out;
}

/** Untracked files of the project: the run must add none (and no .virtperf/ or results/<stack>/, which are ignored or were). */
function untracked(): string[] {
  const files = execFileSync("git", ["ls-files", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
  return [...files, ...[".virtperf", `results/${STACK}`].filter((f) => existsSync(join(ROOT, f)))].sort();
}

describe("a smoke run on an SSH host with privateKey as a secret leaves the key nowhere", { skip: usable ? false : "needs root and /usr/sbin/sshd", timeout: 10 * 60_000 }, () => {
  let dir: string, keysDir: string, log: string, keyText: string, keyBody: string[];
  let sshd: ChildProcess | undefined;
  let p: ReturnType<typeof plan>;
  let config: Record<string, unknown>;
  const scanned: { what: string; text: string }[] = [];
  const cpu = execFileSync("bash", ["-c", "taskset -cp $$ | sed 's/.*: //'"], { encoding: "utf8" }).trim().split(/[,-]/)[0]!;
  const probe = { cpus: [Number(cpu)], memoryMiB: 24105, kvm: KVM_NOT_USABLE, threadsPerCore: 1 };
  const saved = { keys: process.env[KEYS_DIR_ENV], probe: process.env[PROBE_ENV] };
  let untrackedBefore: string[];

  before(async () => {
    untrackedBefore = untracked();
    dir = mkdtempSync(join(tmpdir(), "virtperf-secb-secrets-"));
    keysDir = join(dir, "home", ".cache", "virtperf", "keys");
    log = join(dir, "run.log");
    for (const k of ["host_key", "client_key"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, k)]);
    keyText = readFileSync(join(dir, "client_key"), "utf8");
    // The key's base64 body, line by line and joined: neither may appear anywhere.
    keyBody = keyText.split("\n").filter((l) => l && !l.startsWith("-----"));
    keyBody.push(keyBody.join(""));
    // The key file is deleted after the program wrote its copy: only the secret carries the key.
    rmSync(join(dir, "client_key"));
    const port = await freePort();
    sshd = await startSshd(dir, port);
    process.env[KEYS_DIR_ENV] = keysDir;
    process.env[PROBE_ENV] = JSON.stringify(probe);
    config = {
      host: { host: "127.0.0.1", user: "root", port, privateKey: keyText, hostPublicKey: readFileSync(join(dir, "host_key.pub"), "utf8").trim() },
      environments: ["native"], workloads: ["xz"], profile: "smoke", repetitions: 1, cpuset: cpu, memoryMiB: 512,
      scratchDir: join(dir, "scratch"), resultsRoot: join(dir, "results"),
    };
    p = plan(parseExperiment(config, STACK, probe, { keysDir }), probe);
  });

  after(() => {
    sshd?.kill();
    for (const [k, v] of [[KEYS_DIR_ENV, saved.keys], [PROBE_ENV, saved.probe]] as const) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    rmSync(dir, { recursive: true, force: true });
  });

  it("the program writes the key outside the project: keys directory 0700, file 0600, and a resource that removes it", async () => {
    const outputs = await resolveAll(await runProgram(config, STACK));
    scanned.push({ what: "stack outputs (first up)", text: JSON.stringify(outputs) });
    const file = join(keysDir, `${STACK}-host`);
    assert.equal(readFileSync(file, "utf8"), keyText);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(keysDir).mode & 0o777, 0o700);
    assert.ok(!file.startsWith(ROOT));
    assert.deepEqual(readdirSync(keysDir).filter((f) => f.endsWith(".tmp")), [], "no temporary file left");
    const keyResource = allResources().find((r) => r.name === `virtperf-${STACK}-host-key`);
    assert.ok(keyResource, "no key resource");
    assert.equal(keyResource.inputs.delete, `rm -f ${file}`);
    // The host's first step comes after it (its URN in the triggers: mocks drop dependsOn), so destroy removes the key last.
    const first = allResources().find((r) => r.name === `virtperf-${STACK}-host-known-hosts`)!;
    assert.ok((first.inputs.triggers as string[]).some((t) => t.endsWith(`::virtperf-${STACK}-host-key`)));
  });

  it("the planned steps and native smoke trials run through the SSH host with the written key and the pinned host key", async () => {
    const a = p.experiment.host.address;
    assert.equal(a.kind, "ssh");
    if (a.kind !== "ssh") return;
    const step = async (what: string, file: string, args: string[]) => {
      const r = await execa(file, args, { cwd: ROOT, reject: false, all: true, timeout: 300_000 });
      appendFileSync(log, `== ${what} (exit ${r.exitCode})\n${r.all}\n`);
      assert.equal(r.exitCode, 0, `${what}: ${r.all}`);
    };
    // What the engine runs: local.Command with bash here; remote.Command sends its command string over ssh.
    for (const c of commandArgs(p.host.commands, a)) {
      if (c.via === "local") await step(c.role, "bash", ["-c", c.create]);
      else await step(c.role, "ssh", [...sshArgs(hostSshTarget(a)), c.create]);
    }
    for (const f of p.facts) await step(f.role, "bash", ["-c", f.create]);
    for (const t of p.trials) await step(t.id, "bash", ["-c", t.command]);
    const records = readFileSync(join(p.resultsDir, "trials.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(records.length >= 1);
    for (const r of records) assert.equal(r.status, "ok", JSON.stringify(r.error));
    const host = JSON.parse(readFileSync(join(p.resultsDir, "facts", "host.json"), "utf8"));
    assert.equal(host.limits.probe.cpusAllowed, cpu, "host facts came over ssh, through native's wrapper");
  });

  it("a second up exports the records; destroy's delete scripts remove the known_hosts file and, last, the key", async () => {
    const outputs = await resolveAll(await runProgram(config, STACK));
    assert.ok((outputs.records as unknown[]).length >= 1);
    scanned.push({ what: "stack outputs (second up)", text: JSON.stringify(outputs) });
    const a = p.experiment.host.address;
    if (a.kind !== "ssh") return;
    for (const c of [...commandArgs(p.host.commands, a)].reverse()) {
      if (!c.delete) continue;
      const del: string = c.delete;
      const cmd: [string, string[]] = c.via === "local" ? ["bash", ["-c", del]] : ["ssh", [...sshArgs(hostSshTarget(a)), del]];
      const r = await execa(cmd[0], cmd[1], { reject: false, all: true });
      appendFileSync(log, `== delete ${c.role} (exit ${r.exitCode})\n${r.all}\n`);
      assert.equal(r.exitCode, 0, `delete ${c.role}: ${r.all}`);
    }
    const keyResource = allResources().find((r) => r.name === `virtperf-${STACK}-host-key`)!;
    execFileSync("bash", ["-c", keyResource.inputs.delete as string]);
    assert.deepEqual(readdirSync(keysDir), [], "the key and the known_hosts file are gone");
  });

  it("no file the run wrote, no log, no stack output contains the key or its base64 body", () => {
    const files = filesUnder(dir).filter((f) => !f.startsWith(join(dir, "host_key")) && !f.endsWith("sshd_config") && !f.endsWith("client_key.pub"));
    assert.ok(files.some((f) => f.endsWith("trials.jsonl")) && files.some((f) => f.endsWith("run.log")) && files.some((f) => f.includes("/raw/")), files.join("\n"));
    const added = untracked().filter((f) => !untrackedBefore.includes(f));
    assert.deepEqual(added, [], "the run wrote nothing into the project");
    const all = [...files.map((f) => ({ what: f, text: readFileSync(f, "latin1") })), ...scanned];
    console.log(`# scanned ${all.length} files and outputs for the key (${keyBody.length - 1} base64 lines and their concatenation)`);
    for (const { what, text } of all) {
      assert.ok(!text.includes("PRIVATE KEY"), `${what} has a private key`);
      for (const b of keyBody) assert.ok(!text.includes(b), `${what} has the key's base64 body`);
    }
  });
});
