/**
 * The four ways to reach a place that runs scripts. Every script is sent on stdin to the trial shell on
 * the far side (parity.ts: `env -i <declared env> [wrap] timeout -k 5 <T> bash ... -s` with the same
 * limits everywhere), so nothing of the caller's, sshd's or the image's environment reaches a workload,
 * and a hung tool is killed where it runs (killing a local `docker exec` or `ssh` client alone would
 * leave it running); a local timeout is only the backstop.
 */
import { spawn } from "node:child_process";
import type { RawRun } from "../contract.ts";
import type { ContainerTargetSpec, ExecOptions, SshTargetSpec, Target, TargetSpec } from "../../model/target.ts";
import { ProvisionError } from "../../lib/errors.ts";
import { heredoc, shJoin, shq } from "../../lib/shell.ts";
import { sshArgs, sshOptions, type SshConnection } from "../../lib/ssh.ts";
import { TRIAL_ENV, trialShell } from "./parity.ts";

const BACKSTOP_S = 20;
/** Extra seconds the host side of a guest hop gets, so the guest's own timeout fires first. */
const HOP_MARGIN_S = 10;
const DEFAULT_LIBVIRT_URI = "qemu:///system";

/** The command line an SSH target runs on the far side: the trial shell around its wrapper. */
export function sshRemoteCommand(spec: Pick<SshTargetSpec, "wrap">, timeoutS: number): string {
  return shJoin(trialShell(timeoutS, spec.wrap));
}

/**
 * Runs `file args` with the script on stdin and collects its output; never rejects. The local timeout
 * is a backstop (TERM, then KILL 5 s later): the far side's own `timeout` should fire first. Plain
 * child_process, not execa: it runs several times a trial, and execa alone costs 35 ms to load.
 */
function run(file: string, args: readonly string[], script: string, opts: ExecOptions): Promise<RawRun> {
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [], err: Buffer[] = [];
    let backstop = false, spawnError: Error | undefined;
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.stdin.on("error", () => {}); // the far side may exit without reading all of the script
    child.stdin.end(script);
    const term = setTimeout(() => { backstop = true; child.kill("SIGTERM"); }, (opts.timeoutS + BACKSTOP_S) * 1000);
    const kill = setTimeout(() => child.kill("SIGKILL"), (opts.timeoutS + BACKSTOP_S + 5) * 1000);
    child.on("error", (e) => { spawnError = e; });
    child.on("close", (code, signal) => {
      clearTimeout(term); clearTimeout(kill);
      const durationMs = performance.now() - started;
      // `timeout` exits 124 (TERM) or 137 (KILL after -k) when the far side ran out of time.
      const timedOut = backstop || code === 124 || (code === 137 && durationMs >= opts.timeoutS * 1000);
      const stderr = Buffer.concat(err).toString() + (spawnError ? `${file}: ${spawnError.message}\n` : "");
      done({ stdout: Buffer.concat(out).toString(), stderr, exitCode: code, signal: signal ?? null, durationMs, timedOut });
    });
  });
}

/** How to reach a guest at `address`: root (or the spec's user) with its key, its host key pinned under the domain's name. */
export function guestConnection(spec: TargetSpec & { kind: "guest" }, address: string): SshConnection {
  return {
    host: address, user: spec.user, identityFile: spec.identityFile, hostKeyAlias: spec.domain,
    ...(spec.knownHostsFile ? { knownHostsFile: spec.knownHostsFile } : {}), ...(spec.firstUse ? { firstUse: true } : {}),
  };
}

/**
 * The guest's live IPv4 address, looked up where the guest lives (`host`: this machine, or its SSH host)
 * with guestLookupScript. libvirt lists stale addresses beside the live one (ARP entries and leases of
 * earlier boots of the same MAC), so the first candidate where SSH answers with the pinned key wins.
 */
async function findGuest(host: Target, spec: TargetSpec & { kind: "guest" }, where: string): Promise<string> {
  const r = await host.exec(guestLookupScript(spec), { timeoutS: 90 });
  const found = r.stdout.trim();
  if (r.exitCode === 0 && /^[0-9.]+$/.test(found)) return found;
  throw new ProvisionError(`guest ${spec.domain}${where} has no address where SSH answers with its pinned host key (${r.stderr.trim() || `exit ${r.exitCode}`})`, {
    suggestions: [`virsh -c ${spec.libvirtUri ?? DEFAULT_LIBVIRT_URI} domstate ${spec.domain}`, "is the libvirt network 'default' started? virsh net-start default"],
  });
}

/**
 * Bash that prints the guest's live address, run where the guest lives: ARP candidates, then leases
 * newest first; the first that accepts TCP on `port` (22) AND lets ssh in with the guest's pinned host
 * key wins (a stale lease's address may now be another machine: its key fails the check). Pure.
 */
export function guestLookupScript(spec: TargetSpec & { kind: "guest" }, port = 22): string {
  const uri = spec.libvirtUri ?? DEFAULT_LIBVIRT_URI;
  const list = (source: string) =>
    `virsh -c ${shJoin([uri, "domifaddr", spec.domain, "--source", source])} 2>/dev/null | sed -nE 's|.*ipv4[[:space:]]+([0-9.]+)/[0-9]+.*|\\1|p'`;
  const { host: _h, user, ...conn } = guestConnection(spec, "ADDR");
  return `set -uo pipefail
candidates=$( { ${list("arp")}; ${list("lease")} | tac; } | awk 'NF && !seen[$0]++')
for a in $candidates; do
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$a" ${port} 2>/dev/null || continue
  if ssh ${shJoin(sshOptions({ ...conn, ...(port === 22 ? {} : { port }) }))} -- ${shq(`${user}@`)}"$a" true </dev/null >/dev/null 2>&1; then echo "$a"; exit 0; fi
  echo "$a answers on ${port} but not with the pinned host key of ${spec.domain} (a stale lease?)" >&2
done
echo "candidates: $(echo $candidates)" >&2
exit 1
`;
}

/** Bash run ON a remote host that sends `script` to the guest at `address` (key paths on that host). Pure. */
export function guestHopScript(spec: TargetSpec & { kind: "guest" }, address: string, script: string, timeoutS: number): string {
  const doc = heredoc(script, "VIRTPERF_GUEST");
  const ssh = shJoin(["ssh", ...sshArgs(guestConnection(spec, address)), shJoin(trialShell(timeoutS))]);
  return `${ssh} ${doc.start}\n${doc.text}\n`;
}

/**
 * The words that run a container's engine: the engine itself, or, for a rootless engine, the engine as
 * its user (its containers exist only for that user) with a declared environment: `env -i` before
 * `runuser`, which then sets the user's HOME, USER and LOGNAME, so the engine finds the user's storage and
 * picks the user's runtime directory by its own rule, whatever the caller exported; and from `/`, since
 * rootless Podman refuses to start in a directory its user cannot enter (a project under /root). Pure.
 */
export function engineCommand(spec: Pick<ContainerTargetSpec, "engine" | "user">): string[] {
  const engine = spec.engine ?? "docker";
  return spec.user ? ["env", "-i", "-C", "/", `PATH=${TRIAL_ENV.PATH}`, "runuser", "-u", spec.user, "--", engine] : [engine];
}

/** The engine's `exec` command line for a container: its wrap, the engine (as its user when rootless), the trial shell. Pure. */
export function containerExec(spec: ContainerTargetSpec, timeoutS: number): string[] {
  return [...(spec.wrap ?? []), ...engineCommand(spec), "exec", "-i", spec.container, ...trialShell(timeoutS)];
}

/** Bash run where the engine is (an SSH host, a guest) that sends `script` into the container. Pure. */
export function containerHopScript(spec: ContainerTargetSpec, script: string, timeoutS: number): string {
  const doc = heredoc(script, "VIRTPERF_CONTAINER");
  return `${shJoin(containerExec(spec, timeoutS))} ${doc.start}\n${doc.text}\n`;
}

/** A guest on a remote host: found and reached from that host, over the `via` SSH target. */
function guestViaTarget(spec: TargetSpec & { kind: "guest" }, via: Omit<SshTargetSpec, "wrap">): Target {
  const { wrap: _ignored, ...hopSpec } = via as SshTargetSpec;
  const hop = connect(hopSpec);
  let address: Promise<string> | undefined;
  const host = () => (address ??= findGuest(hop, spec, ` on ${via.host}`));
  return {
    description: `guest ${spec.domain} via ${hop.description}`,
    serverHost: host,
    exec: async (script, opts) =>
      hop.exec(guestHopScript(spec, await host(), script, opts.timeoutS), { timeoutS: opts.timeoutS + HOP_MARGIN_S }),
  };
}

export function connect(spec: TargetSpec): Target {
  switch (spec.kind) {
    case "local": {
      const wrap = spec.wrap ?? [];
      return {
        description: wrap.length ? `local (${wrap.join(" ")})` : "local",
        serverHost: async () => "127.0.0.1",
        exec: (script, opts) => {
          const [file, ...args] = trialShell(opts.timeoutS, wrap);
          return run(file!, args, script, opts);
        },
      };
    }
    case "ssh":
      return {
        description: `ssh ${spec.user}@${spec.host}${spec.wrap?.length ? ` (${spec.wrap.join(" ")})` : ""}`,
        serverHost: async () => spec.host,
        exec: (script, opts) => run("ssh", [...sshArgs(spec), sshRemoteCommand(spec, opts.timeoutS)], script, opts),
      };
    case "docker": {
      // The engine is used where it runs: this machine, an SSH host (over its pinned SSH), or a guest.
      const hop = spec.via ? connect(spec.via) : undefined;
      const engine = spec.engine ?? "docker";
      return {
        description: `${engine} exec ${spec.container}${spec.user ? ` as ${spec.user}` : ""}${hop ? ` via ${hop.description}` : ""}`,
        // Ports are published 1:1 where the engine runs (host-network containers listen there directly):
        // on this host's loopback, or on the guest's address for a container inside a guest.
        serverHost: async () => (hop && spec.via?.kind === "guest" ? hop.serverHost() : "127.0.0.1"),
        exec: (script, opts) => {
          if (hop) return hop.exec(containerHopScript(spec, script, opts.timeoutS), { timeoutS: opts.timeoutS + HOP_MARGIN_S });
          const [file, ...args] = containerExec(spec, opts.timeoutS);
          return run(file!, args, script, opts);
        },
      };
    }
    case "guest": {
      if (spec.via) return guestViaTarget(spec, spec.via);
      let address: Promise<string> | undefined;
      const host = () => (address ??= findGuest(connect({ kind: "local" }), spec, ""));
      return {
        description: `guest ${spec.domain}`,
        serverHost: host,
        exec: async (script, opts) =>
          run("ssh", [...sshArgs(guestConnection(spec, await host())), shJoin(trialShell(opts.timeoutS))], script, opts),
      };
    }
  }
}
