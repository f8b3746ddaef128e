/**
 * SSH targets with a wrapper and guests reached through a remote host: the pure renderings (remote
 * command line, guest lookup and hop scripts), run for real here with bash, a fake `ssh` that runs the
 * remote command locally and a fake `virsh` (see fake-ssh.ts).
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, containerExec, engineCommand, guestConnection, guestHopScript, guestLookupScript, sshRemoteCommand } from "../../../workloads/runner/targets.ts";
import { heredoc } from "../../../lib/shell.ts";
import { sshArgs } from "../../../lib/ssh.ts";
import type { SshTargetSpec, TargetSpec } from "../../../model/target.ts";
import { fakeBin } from "./fake-ssh.ts";
import { TRIAL_ENV, trialShell } from "../../../workloads/runner/parity.ts";
import { shJoin } from "../../../lib/shell.ts";

/** The words bash makes of a command line (what sshd's login shell runs on the far side). */
function bashWords(line: string): string[] {
  return execFileSync("bash", ["-c", `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: "utf8" }).split("\0").slice(0, -1);
}

function listen(host: string, port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once("error", reject);
    s.listen(port, host, () => resolve(s));
  });
}

const nativeLikeWrap = ["bash", "-c", `f='/s/a b.cgroup'; echo "$$" >/dev/null; exec "$@"`, "virtperf-native"];

describe("sshRemoteCommand", () => {
  const cases: { wrap?: string[]; timeoutS: number }[] = [{ timeoutS: 30 }, { wrap: [], timeoutS: 7.2 }, { wrap: nativeLikeWrap, timeoutS: 600 }];
  for (const c of cases) {
    it(`wrap ${JSON.stringify(c.wrap)}: the trial shell (env -i, the wrapper's words, timeout -k 5 ${Math.ceil(c.timeoutS)}, limits, bash -s)`, () => {
      assert.deepEqual(bashWords(sshRemoteCommand(c, c.timeoutS)), trialShell(c.timeoutS, c.wrap));
    });
  }

  it("the wrapper really runs the script (remote shell simulated with bash -c)", () => {
    const wrap = ["env", "W=it's $HOME `x`"];
    const out = execFileSync("bash", ["-c", sshRemoteCommand({ wrap }, 10)], { input: `echo "$W"`, encoding: "utf8" });
    assert.equal(out, "it's $HOME `x`\n");
  });
});

describe("sshArgs", () => {
  const cases: { spec: Omit<SshTargetSpec, "kind">; has: string[]; lacks: string[] }[] = [
    // No pinned file: the user's own known_hosts, still checked strictly (never StrictHostKeyChecking=no).
    { spec: { host: "h", user: "u" }, has: ["StrictHostKeyChecking=yes", "u@h"], lacks: ["-p", "-i", "GlobalKnownHostsFile=none"] },
    { spec: { host: "h", user: "u", port: 2222, identityFile: "/k", knownHostsFile: "/k.known_hosts" },
      has: ["UserKnownHostsFile=/k.known_hosts", "GlobalKnownHostsFile=none", "StrictHostKeyChecking=yes", "-p", "2222", "-i", "/k", "u@h"], lacks: [] },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.spec)}`, () => {
      const args = sshArgs(c.spec);
      for (const w of c.has) assert.ok(args.includes(w), `${w} in ${args.join(" ")}`);
      for (const w of [...c.lacks, "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"]) assert.ok(!args.includes(w), `${w} not in ${args.join(" ")}`);
      assert.deepEqual(args.slice(-2), ["--", `${c.spec.user}@${c.spec.host}`], "-- and the destination last: the remote command follows");
    });
  }
});

describe("heredoc", () => {
  const cases = [
    { body: "echo a", delim: "D" },
    { body: "echo a\nD\necho b", delim: "D_1" },
    { body: "D\nD_1\n", delim: "D_2" },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.body)} -> delimiter ${c.delim}, and bash reads the body back intact`, () => {
      const doc = heredoc(c.body, "D");
      assert.equal(doc.start, `<<'${c.delim}'`);
      const out = execFileSync("bash", ["-c", `cat ${doc.start}\n${doc.text}\n`], { encoding: "utf8" });
      assert.equal(out, c.body.endsWith("\n") ? c.body : `${c.body}\n`);
    });
  }
});

describe("guestLookupScript (on the host: fake virsh, real TCP probes)", async () => {
  const live = await listen("127.0.0.1");
  const port = (live.address() as { port: number }).port;
  const live2 = await listen("127.0.0.3", port);
  after(() => { live.close(); live2.close(); });
  // 127.0.0.1 and 127.0.0.3 answer on the port, 127.0.0.5 and 127.0.0.6 refuse it. virsh lists leases oldest first.
  // `refuse`: addresses that answer TCP but whose SSH host key is not the guest's pinned one (a stale lease).
  const cases = [
    { name: "ARP before leases", arp: "127.0.0.3", lease: "127.0.0.1", want: "127.0.0.3" },
    { name: "leases newest first", arp: "", lease: "127.0.0.3\n127.0.0.1", want: "127.0.0.1" },
    { name: "addresses that do not answer are skipped", arp: "127.0.0.5", lease: "127.0.0.1\n127.0.0.6", want: "127.0.0.1" },
    { name: "an address that answers with another host key is skipped", arp: "127.0.0.3", lease: "127.0.0.1", refuse: "127.0.0.3", want: "127.0.0.1" },
    { name: "nothing answers: exit 1, candidates named", arp: "127.0.0.5", lease: "127.0.0.6", want: undefined },
  ];
  const spec: TargetSpec & { kind: "guest" } = { kind: "guest", domain: "virtperf-t-kvm", user: "root", identityFile: "/g/id", knownHostsFile: "/g/known_hosts" };
  for (const c of cases) {
    it(c.name, async () => {
      const line = (a: string) => ` vnet0      52:54:00:aa:bb:cc    ipv4         ${a}/24`;
      const fakes = await fakeBin({
        arp: [" Name       MAC address          Protocol     Address", "-".repeat(60), ...c.arp.split("\n").filter(Boolean).map(line)].join("\n"),
        lease: c.lease.split("\n").map(line).join("\n"),
      });
      try {
        const undo = fakes.activate();
        const r = spawnSync("bash", ["-s"], { input: guestLookupScript(spec, port), encoding: "utf8", env: { ...process.env, FAKE_SSH_REFUSE: c.refuse ?? "" } });
        undo();
        if (c.want) {
          assert.equal(r.status, 0, r.stderr);
          assert.equal(r.stdout, `${c.want}\n`);
          // The probe is ssh with the guest's key and pinned host key, to the winner (and any refused before it).
          const calls = await fakes.sshCalls();
          assert.deepEqual(calls.at(-1), [...sshArgs({ ...guestConnection(spec, c.want), port }), "true"]);
          if (c.refuse) assert.match(r.stderr, new RegExp(`${c.refuse.replace(/\./g, "\\.")} answers on \\d+ but not with the pinned host key`));
        } else {
          assert.equal(r.status, 1);
          assert.equal(r.stdout, "");
          assert.match(r.stderr, /candidates: 127\.0\.0\.5 127\.0\.0\.6/);
        }
      } finally {
        await fakes.remove();
      }
    });
  }
});

describe("guestHopScript", () => {
  const scripts = ["echo one; echo \"$((1+2))\" 'q'", "cat <<'VIRTPERF_GUEST'\ninner\nVIRTPERF_GUEST\necho after"];
  for (const script of scripts) {
    it(`sends ${JSON.stringify(script)} to the guest intact, with its key and timeout`, async () => {
      const fakes = await fakeBin();
      const undo = fakes.activate();
      try {
        const guest = { kind: "guest" as const, domain: "virtperf-t-kvm", user: "root", identityFile: "/scratch/guests/t-kvm.ssh/id_ed25519", knownHostsFile: "/scratch/guests/t-kvm.ssh/known_hosts" };
        const hop = guestHopScript(guest, "192.168.122.9", script, 42);
        const direct = execFileSync("bash", ["-s"], { input: script, encoding: "utf8" });
        assert.equal(execFileSync("bash", ["-s"], { input: hop, encoding: "utf8" }), direct);
        const [call] = await fakes.sshCalls();
        assert.deepEqual(call, [...sshArgs(guestConnection(guest, "192.168.122.9")), shJoin(trialShell(42))]);
        assert.ok(call!.includes("HostKeyAlias=virtperf-t-kvm") && call!.includes("UserKnownHostsFile=/scratch/guests/t-kvm.ssh/known_hosts") && call!.includes("StrictHostKeyChecking=yes"));
      } finally {
        undo();
        await fakes.remove();
      }
    });
  }
});

describe("connect: ssh with wrap, guest via the host (fake ssh runs the remote side here)", () => {
  it("ssh: the wrapper runs on the far side, before timeout ... bash -s", async () => {
    const fakes = await fakeBin();
    const undo = fakes.activate();
    try {
      const spec: SshTargetSpec = { kind: "ssh", host: "bench", user: "u", port: 2222, knownHostsFile: "/k.kh", wrap: ["env", "VIRTPERF_WRAPPED=yes"] };
      const r = await connect(spec).exec("echo \"$VIRTPERF_WRAPPED\"", { timeoutS: 10 });
      assert.equal(r.stdout, "yes\n");
      const [call] = await fakes.sshCalls();
      assert.deepEqual(call, [...sshArgs(spec), shJoin(trialShell(10, ["env", "VIRTPERF_WRAPPED=yes"]))]);
    } finally {
      undo();
      await fakes.remove();
    }
  });

  it("docker via: docker exec runs on the host over its pinned ssh, the script reaches the container intact", async () => {
    const fakes = await fakeBin();
    // A fake docker on the "host": runs `docker exec -i <c> <cmd...>` as <cmd...> here.
    await writeFile(join(fakes.dir, "docker"), '#!/bin/bash\n[ "$1 $2" = "exec -i" ] || exit 9\nshift 3\nexec "$@"\n');
    await chmod(join(fakes.dir, "docker"), 0o755);
    const undo = fakes.activate();
    try {
      const via = { kind: "ssh" as const, host: "bench", user: "u", port: 2222, identityFile: "/k", knownHostsFile: "/k.known_hosts" };
      const r = await connect({ kind: "docker", container: "virtperf-t-docker", via }).exec("echo \"in $((6*7))\" 'q'", { timeoutS: 30 });
      assert.equal(r.stdout, "in 42 q\n", r.stderr);
      const calls = await fakes.sshCalls();
      assert.deepEqual(calls, [[...sshArgs(via), shJoin(trialShell(40))]]);
    } finally {
      undo();
      await fakes.remove();
    }
  });

  it("guest via: the address is looked up on the host, scripts hop from there; a guest timeout is reported", async (t) => {
    // The lookup probes port 22: a listener on 127.0.0.2:22 plays the live guest (needs root; skipped otherwise).
    let guest: Server;
    try {
      guest = await listen("127.0.0.2", 22);
    } catch (e) {
      t.skip(`cannot listen on 127.0.0.2:22 here (${(e as Error).message})`);
      return;
    }
    const fakes = await fakeBin({ arp: "", lease: " vnet0  52:54:00:aa:bb:cc  ipv4  127.0.0.2/24\n vnet0  52:54:00:aa:bb:cc  ipv4  127.0.0.7/24" });
    const undo = fakes.activate();
    try {
      const via = { kind: "ssh" as const, host: "bench", user: "u", port: 2222, identityFile: "/k", knownHostsFile: "/k.known_hosts" };
      const spec = { kind: "guest" as const, domain: "virtperf-t-kvm", user: "root", identityFile: "/g/id", knownHostsFile: "/g/known_hosts", via };
      const target = connect(spec);
      assert.equal(await target.serverHost(), "127.0.0.2");
      const r = await target.exec("echo in-guest", { timeoutS: 30 });
      assert.equal(r.stdout, "in-guest\n");
      const calls = await fakes.sshCalls();
      assert.equal(calls.length, 4, "lookup on the host (with its pinned-key probe of the guest), then host hop and guest ssh");
      assert.deepEqual(calls[0], [...sshArgs(via), shJoin(trialShell(90))]);
      assert.deepEqual(calls[1], [...sshArgs(guestConnection(spec, "127.0.0.2")), "true"]);
      assert.deepEqual(calls[2], [...sshArgs(via), shJoin(trialShell(40))]);
      assert.deepEqual(calls[3], [...sshArgs(guestConnection(spec, "127.0.0.2")), shJoin(trialShell(30))]);
      const slow = await target.exec("sleep 20", { timeoutS: 1 });
      assert.equal(slow.timedOut, true);
      assert.equal(slow.exitCode, 124);
    } finally {
      undo();
      guest.close();
      await fakes.remove();
    }
  });
});

describe("containerExec: docker, rootless podman as its user, a host-side wrap", () => {
  const shell = trialShell(30);
  const cases: [string, Parameters<typeof containerExec>[0], string[]][] = [
    ["docker", { kind: "docker", container: "c" }, ["docker", "exec", "-i", "c", ...shell]],
    // The rootless engine as its user, with a declared environment: nothing of the caller's (XDG_RUNTIME_DIR) reaches it.
    ["podman as its user", { kind: "docker", container: "c", engine: "podman", user: "virtperf-podman" },
      ["env", "-i", "-C", "/", `PATH=${TRIAL_ENV.PATH}`, "runuser", "-u", "virtperf-podman", "--", "podman", "exec", "-i", "c", ...shell]],
    ["podman with a wrap: the wrap comes first, where the engine runs", { kind: "docker", container: "c", engine: "podman", user: "u", wrap: nativeLikeWrap },
      [...nativeLikeWrap, "env", "-i", "-C", "/", `PATH=${TRIAL_ENV.PATH}`, "runuser", "-u", "u", "--", "podman", "exec", "-i", "c", ...shell]],
  ];
  for (const [what, spec, words] of cases) it(what, () => assert.deepEqual(containerExec(spec, 30), words));

  it("engineCommand: the same words for every podman call of the user (exec, inspect, the kind's own scripts)", () => {
    assert.deepEqual(engineCommand({ engine: "podman", user: "u" }), ["env", "-i", "-C", "/", `PATH=${TRIAL_ENV.PATH}`, "runuser", "-u", "u", "--", "podman"]);
    assert.deepEqual(engineCommand({}), ["docker"]);
  });

  it("the wrap and the declared environment really apply: the engine sees PATH, not the caller's variables", async () => {
    // A run with `runuser` and the engine replaced by fakes on the declared PATH is not possible (env -i resets PATH);
    // instead the words before the engine run for real with the engine swapped for `env`.
    const words = containerExec({ kind: "docker", container: "c", wrap: ["env", "WRAPPED=yes"] }, 30);
    assert.deepEqual(words.slice(0, 3), ["env", "WRAPPED=yes", "docker"]);
    const seen = execFileSync(words[0]!, [...words.slice(1, 2), "bash", "--norc", "-c", 'echo "$WRAPPED"'], { encoding: "utf8", env: { ...process.env, XDG_RUNTIME_DIR: "/run/user/0" } });
    assert.equal(seen, "yes\n");
    const clean = engineCommand({ engine: "podman", user: "u" });
    const env = execFileSync(clean[0]!, [...clean.slice(1, 5), "bash", "--norc", "-c", "pwd; env | grep -v -E '^(PWD|SHLVL|_)=' | sort"], { encoding: "utf8", env: { ...process.env, XDG_RUNTIME_DIR: "/run/user/0" } });
    assert.equal(env, `/\nPATH=${TRIAL_ENV.PATH}\n`, "from /, with PATH alone");
  });
});
