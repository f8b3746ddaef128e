import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { parseExperiment } from "../../../stacks/config.ts";
import { environmentDescription, plan, VIRTPERF_BIN } from "../../../stacks/planner.ts";
import { environmentProblem } from "../../../model/environment.ts";
import { imageCommands } from "../../../stacks/plan.ts";
import { WORKLOADS } from "../../../workloads/registry.ts";
import { KVM_NOT_USABLE, KVM_PROVEN } from "../../helpers/kvm-proofs.ts";

const host = { cpus: [0, 1], memoryMiB: 24105 };
const probe = { cpus: [0, 1], memoryMiB: 24105, kvm: KVM_NOT_USABLE, threadsPerCore: 1 };
const x = parseExperiment({
  environments: ["native", "docker", "docker-host-volume", "kvm"], workloads: ["xz", "redis", "fio"],
  profile: "smoke", repetitions: 2, seed: 5, scratchDir: "/tmp/vp", memoryMiB: 1024,
}, "dev", host);
const p = plan(x, probe);

/** The words of a trial command's `virtperf trial` line, parsed back by bash itself. */
function runnerWords(command: string): string[] {
  const line = command.split("\n").find((l) => l.includes(`${VIRTPERF_BIN} trial`))!;
  const words = line.replace(/^rc=0; /, "").replace(/ \|\| rc=\$\?$/, "");
  return execFileSync("bash", ["-c", `for w in ${words}; do printf '%s\\0' "$w"; done`], { encoding: "utf8" }).split("\0").slice(0, -1);
}
function flag(words: string[], name: string): string | undefined {
  const i = words.indexOf(name);
  return i < 0 ? undefined : words[i + 1];
}

describe("plan", () => {
  it("one trial per schedule entry, in schedule order, with unique ids", () => {
    const warm = x.workloads.filter((w) => WORKLOADS[w].warmup).length * x.environments.length;
    assert.equal(p.trials.length, x.environments.length * x.workloads.length * x.repetitions + warm);
    assert.deepEqual(p.trials.map((t) => t.order), p.schedule.entries.map((e) => e.order));
    assert.equal(new Set(p.trials.map((t) => t.id)).size, p.trials.length);
  });

  it("brings up host, Docker image and guest image before the environments", () => {
    assert.ok(p.host.commands.some((c) => c.role === "host-dirs"), p.host.commands.map((c) => c.role).join(","));
    const roles = imageCommands(p).map((c) => c.role);
    assert.ok(roles.includes("docker-image") && roles.includes("guest-image"), roles.join(","));
    assert.ok(roles.indexOf("docker-image") < roles.indexOf("guest-image"));
    assert.deepEqual(p.environments.map((e) => e.def.name), ["native", "docker", "docker-host-volume", "kvm"]);
    assert.equal(p.environments[0]!.commands.length, 0, "native's preparation is in prepare, not twice");
  });

  it("resolves acceleration auto to TCG when KVM is not usable, and KVM when it is", () => {
    assert.equal(p.environments.find((e) => e.def.name === "kvm")!.acceleration, "tcg");
    assert.equal(plan(x, { ...probe, kvm: KVM_PROVEN }).environments.find((e) => e.def.name === "kvm")!.acceleration, "kvm");
  });

  it("each trial command is valid bash and runs `virtperf trial` with the environment's plan", () => {
    for (const t of p.trials) {
      execFileSync("bash", ["-n", "-c", t.command]);
      const env = p.environments.find((e) => e.def.name === t.environment)!;
      const w = runnerWords(t.command);
      assert.equal(w[0], VIRTPERF_BIN);
      // The environment travels as one description, exactly the planner's (model/environment.ts).
      const d = JSON.parse(flag(w, "--environment")!);
      assert.deepEqual(d, environmentDescription(x, env));
      assert.equal(environmentProblem(d), undefined);
      assert.deepEqual(d.target, env.target);
      assert.equal(flag(w, "--workload"), t.workload);
      assert.equal(flag(w, "--order"), String(t.order));
      assert.equal(flag(w, "--rep"), String(t.rep));
      assert.equal(flag(w, "--run"), p.runId);
      assert.equal(flag(w, "--out"), p.resultsDir);
      assert.equal(d.acceleration, env.acceleration);
      assert.deepEqual(d.ports, env.ports);
      assert.equal(d.shape.memoryMiB, 1024);
      assert.equal(w.includes("--warmup"), t.warmup);
    }
  });

  it("each trial logs its progress and its attempt, and exits 0 even when the runner fails", () => {
    const t = p.trials[0]!;
    assert.match(t.command, new RegExp(`^echo 'trial 1/${p.trials.length} ${t.environment} ${t.workload} (warm-up|rep 1), ~\\d+ min left' >&2`));
    const fake = t.command.replace(`${VIRTPERF_BIN} trial`, "false");
    const out = execFileSync("bash", ["-c", fake.replaceAll(p.resultsDir, "/tmp/vp-planner-test")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.equal(out, "");
    const log = execFileSync("cat", ["/tmp/vp-planner-test/attempts.log"], { encoding: "utf8" });
    assert.ok(log.trim().split("\n").includes(`${t.id} 1`), log);
  });

  it("results go to <resultsRoot>/<stack>/<runId>, the same for the same experiment", () => {
    assert.equal(p.resultsDir, `results/dev/${p.runId}`);
    assert.equal(plan(x, probe).runId, p.runId);
  });

  it("a client machine's hostPublicKey is pinned by a first local step; trials reach it with that known_hosts file", () => {
    const xc = parseExperiment({ environments: ["native"], workloads: ["rr"], profile: "smoke", repetitions: 1, memoryMiB: 1024,
      client: { host: "client.example", user: "c", hostPublicKey: "ssh-ed25519 AAAAC3Nza client" } }, "dev", host, { keysDir: "/kd" });
    const pc = plan(xc, probe);
    const first = pc.host.commands[0]!;
    assert.deepEqual([first.role, first.on, first.delete], ["client-known-hosts", "local", "rm -f /kd/dev-client.known_hosts"]);
    assert.match(first.create, /printf '%s\\n' 'client\.example ssh-ed25519 AAAAC3Nza client' > \/kd\/dev-client\.known_hosts\.tmp/);
    const client = JSON.parse(flag(runnerWords(pc.trials.at(-1)!.command), "--environment")!).client;
    assert.deepEqual(client, { kind: "ssh", host: "client.example", user: "c", knownHostsFile: "/kd/dev-client.known_hosts" });
  });

  it("records facts of the host and every non-native environment", () => {
    assert.deepEqual(p.facts.map((f) => f.role), ["facts-host", "facts-docker", "facts-docker-host-volume", "facts-kvm"]);
    for (const f of p.facts) execFileSync("bash", ["-n", "-c", f.create]);
  });
});

describe("plan with A/A calibration", () => {
  const xc = parseExperiment({
    environments: ["native", "docker"], calibration: ["native", "docker"], workloads: ["xz"], profile: "smoke", repetitions: 2,
    scratchDir: "/tmp/vp", memoryMiB: 1024,
  }, "dev", host);
  const pc = plan(xc, probe);
  it("each copy is an environment of its own, interleaved in the schedule like the others", () => {
    assert.deepEqual(pc.environments.map((e) => e.def.name), ["native", "docker", "native-aa", "docker-aa"]);
    assert.deepEqual(new Set(pc.schedule.entries.map((e) => e.environment)), new Set(["native", "docker", "native-aa", "docker-aa"]));
    const docker = pc.environments.filter((e) => e.def.options.kind === "docker").map((e) => (e.target as { container: string }).container);
    assert.deepEqual(docker, ["virtperf-dev-docker", "virtperf-dev-docker-aa"]);
  });
  it("the copy's trials say which environment they copy", () => {
    const t = pc.trials.find((tr) => tr.environment === "native-aa")!;
    const described = (tr: { command: string }) => JSON.parse(flag(runnerWords(tr.command), "--environment")!);
    assert.equal(described(t).calibrationOf, "native");
    assert.equal(described(pc.trials.find((tr) => tr.environment === "native")!).calibrationOf, undefined);
  });
});
