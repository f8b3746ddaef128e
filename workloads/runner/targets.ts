/**
 * The four ways to reach a place that runs scripts. Every script is sent on stdin to the trial shell on
 * the far side (parity.ts: `env -i <declared env> [wrap] timeout -k 5 <T> bash ... -s` with the same
 * limits everywhere), so nothing of the caller's, sshd's or the image's environment reaches a workload,
 * and a hung tool is killed where it runs (killing a local `docker exec` or `ssh` client alone would
 * leave it running); a local timeout is only the backstop.
 */
import { execFile, spawn } from "node:child_process";
import type { RawRun } from "../contract.ts";
import type { ContainerTargetSpec, ExecOptions, ListenAddress, Running, SshTargetSpec, Target, TargetSpec } from "../../model/target.ts";
import { FRAME, frame } from "./lifeline.ts";
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
 * Starts `file args` with the script framed on stdin (lifeline.ts) and keeps stdin open until the far
 * side ends or `close()` is called: closing it, or this process dying, makes the far side stop the
 * script and everything it started. Detached (its own session), so a signal to the runner's process
 * group reaches only the runner, which decides. The local timeout is a backstop: at the limit plus
 * BACKSTOP_S it closes the lifeline, 10 s later it kills the local process; the far side's own `timeout`
 * should fire first. Plain child_process, not execa: it runs several times a trial, and execa alone
 * costs 35 ms to load.
 */
function launch(file: string, args: readonly string[], script: string, opts: ExecOptions): Running {
  const started = performance.now();
  const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
  const out: Buffer[] = [], err: Buffer[] = [];
  let backstop = false, spawnError: Error | undefined, ended = false;
  const waits: { line: string; resolve: (seen: boolean) => void }[] = [];
  const hasLine = (line: string) => Buffer.concat(out).toString().split("\n").slice(0, -1).includes(line);
  const close = () => { if (!child.stdin.writableEnded) child.stdin.end(); };
  child.stdout.on("data", (b: Buffer) => {
    out.push(b);
    for (const w of waits.filter((x) => hasLine(x.line))) { waits.splice(waits.indexOf(w), 1); w.resolve(true); }
  });
  child.stderr.on("data", (b: Buffer) => err.push(b));
  child.stdin.on("error", () => {}); // the far side may exit without reading all of the script
  child.stdin.write(frame(script));
  const term = setTimeout(() => { backstop = true; close(); }, (opts.timeoutS + BACKSTOP_S) * 1000);
  const kill = setTimeout(() => child.kill("SIGKILL"), (opts.timeoutS + BACKSTOP_S + 10) * 1000);
  opts.signal?.addEventListener("abort", close, { once: true });
  if (opts.signal?.aborted) close();
  child.on("error", (e) => { spawnError = e; });
  // The far side is done: end the lifeline here too (an orphaned reader of it on a hop then ends).
  child.on("exit", close);
  const done = new Promise<RawRun>((resolve) => {
    child.on("close", (code, signal) => {
      ended = true;
      clearTimeout(term); clearTimeout(kill);
      opts.signal?.removeEventListener("abort", close);
      close();
      for (const w of waits.splice(0)) w.resolve(false);
      const durationMs = performance.now() - started;
      // `timeout` exits 124 (TERM) or 137 (KILL after -k) when the far side ran out of time.
      const timedOut = backstop || code === 124 || (code === 137 && durationMs >= opts.timeoutS * 1000);
      const stderr = Buffer.concat(err).toString() + (spawnError ? `${file}: ${spawnError.message}\n` : "");
      resolve({ stdout: Buffer.concat(out).toString(), stderr, exitCode: code, signal: signal ?? null, durationMs, timedOut });
    });
  });
  return {
    done, close,
    waitForLine: (line) => (hasLine(line) ? Promise.resolve(true) : ended ? Promise.resolve(false) : new Promise((resolve) => waits.push({ line, resolve }))),
  };
}

/** A target's exec and start from one way of launching its trial shell. */
function runner(launchOne: (script: string, opts: ExecOptions) => Promise<Running>): Pick<Target, "exec" | "start"> {
  return { start: launchOne, exec: async (script, opts) => (await launchOne(script, opts)).done };
}

/**
 * `command` with the script framed on its stdin, then this trial shell's own lifeline (fd 3): run on a
 * hop, it hands the lifeline on, so the next trial shell stops when the runner goes away. Without a
 * lifeline here (the script run by hand), the script goes unframed and the next shell has none either.
 */
function handOn(command: string, script: string, tag: string): string {
  const doc = heredoc(script, tag);
  return `${command} < <(if { true <&3; } 2>/dev/null; then echo ${shq(`${FRAME} ${Buffer.byteLength(script)}`)}; fi
cat ${doc.start}
${doc.text}
{ cat <&3; } 2>/dev/null)
`;
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
  return handOn(shJoin(["ssh", ...sshArgs(guestConnection(spec, address)), shJoin(trialShell(timeoutS))]), script, "VIRTPERF_GUEST");
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
  return handOn(shJoin(containerExec(spec, timeoutS)), script, "VIRTPERF_CONTAINER");
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
    listenAddress: async () => ({ bind: await host() }),
    ...runner(async (script, opts) => hop.start(guestHopScript(spec, await host(), script, opts.timeoutS), { ...opts, timeoutS: opts.timeoutS + HOP_MARGIN_S })),
  };
}

/**
 * Bash for where the daemon runs: a container's network mode, its address and its gateway (one line).
 * A bridge container's server listens on its own address (the NAT of a published port reaches it
 * there, never on its loopback); a client on the host's loopback reaches it from the gateway.
 */
export function containerAddressScript(spec: Pick<ContainerTargetSpec, "engine" | "user" | "container">): string {
  return `${shJoin([...engineCommand(spec), "inspect", "--format", "{{.HostConfig.NetworkMode}}{{range .NetworkSettings.Networks}} {{.IPAddress}} {{.Gateway}}{{end}}", spec.container])}`;
}

/**
 * A container's listen address from containerAddressScript's line. A host-network container (or one
 * whose address is unknown, as rootless Podman's slirp4netns reports none) listens where its engine's
 * host does: `hostBind`, this machine's loopback or the guest's address for a container in a guest.
 */
export function parseContainerAddress(line: string, hostBind = "127.0.0.1"): ListenAddress | "own-address" {
  const [mode, ip, gateway] = line.trim().split(/\s+/);
  // Rootless Podman's slirp4netns reports no address; its port relay (rootlessport) connects from inside
  // the container's namespace to the container's own tap address: bind there, let that address in.
  if (mode === "slirp4netns") return "own-address";
  if (mode === "host" || !ip || !/^[0-9.]+$/.test(ip)) return { bind: hostBind };
  return { bind: ip, ...(gateway && /^[0-9.]+$/.test(gateway) ? { loopbackPeer: gateway } : {}) };
}

/** Bash run in a container: its first global IPv4 address (slirp4netns's tap0 address). */
export const OWN_ADDRESS_SCRIPT = `ip -4 -o addr show scope global | awk 'NR == 1 { sub("/.*", "", $4); print $4 }'`;

/**
 * Bash run on an SSH host: its own IPv4 address for `host` (a name is resolved there), or 0.0.0.0 when
 * that address is not one of the host's (a NAT or floating address in front of it).
 */
export function sshListenScript(host: string): string {
  return `a=${shq(host)}
case $a in *[!0-9.]*) a=$(getent ahostsv4 "$a" 2>/dev/null | awk 'NR == 1 { print $1 }');; esac
mine=" $(ip -o -4 addr show 2>/dev/null | awk '{ print $4 }' | tr '\n' ' ')"
if [ -n "$a" ] && [[ $mine == *" $a/"* ]]; then echo "$a"; else echo 0.0.0.0; fi`;
}

export function connect(spec: TargetSpec): Target {
  switch (spec.kind) {
    case "local": {
      const wrap = spec.wrap ?? [];
      return {
        description: wrap.length ? `local (${wrap.join(" ")})` : "local",
        serverHost: async () => "127.0.0.1",
        listenAddress: async () => ({ bind: "127.0.0.1" }),
        ...runner(async (script, opts) => {
          const [file, ...args] = trialShell(opts.timeoutS, wrap);
          return launch(file!, args, script, opts);
        }),
      };
    }
    case "ssh": {
      let listen: Promise<ListenAddress> | undefined;
      const target: Target = {
        description: `ssh ${spec.user}@${spec.host}${spec.wrap?.length ? ` (${spec.wrap.join(" ")})` : ""}`,
        serverHost: async () => spec.host,
        listenAddress: () => (listen ??= target.exec(sshListenScript(spec.host), { timeoutS: 20 }).then((r) => {
          const a = r.stdout.trim();
          return { bind: r.exitCode === 0 && /^[0-9.]+$/.test(a) ? a : "0.0.0.0" };
        })),
        ...runner(async (script, opts) => launch("ssh", [...sshArgs(spec), sshRemoteCommand(spec, opts.timeoutS)], script, opts)),
      };
      return target;
    }
    case "docker": {
      // The engine is used where it runs: this machine, an SSH host (over its pinned SSH), or a guest.
      const hop = spec.via ? connect(spec.via) : undefined;
      const engine = spec.engine ?? "docker";
      let listen: Promise<ListenAddress> | undefined;
      const inspect = async (): Promise<ListenAddress> => {
        const script = containerAddressScript(spec);
        const r = hop ? await hop.exec(script, { timeoutS: 20 }) : await new Promise<{ exitCode: number; stdout: string }>((resolve) =>
          execFile("bash", ["-c", script], { timeout: 20_000 }, (e, stdout) => resolve({ exitCode: e ? 1 : 0, stdout })));
        const hostBind = hop && spec.via?.kind === "guest" ? (await hop.listenAddress()).bind : "127.0.0.1";
        const parsed = parseContainerAddress(r.exitCode === 0 ? r.stdout : "", hostBind);
        if (parsed !== "own-address") return parsed;
        const own = await target.exec(OWN_ADDRESS_SCRIPT, { timeoutS: 20 });
        const a = own.stdout.trim();
        return own.exitCode === 0 && /^[0-9.]+$/.test(a) ? { bind: a, loopbackPeer: a } : { bind: "127.0.0.1" };
      };
      const target: Target = {
        description: `${engine} exec ${spec.container}${spec.user ? ` as ${spec.user}` : ""}${hop ? ` via ${hop.description}` : ""}`,
        // Ports are published 1:1 where the engine runs (host-network containers listen there directly):
        // on this host's loopback, or on the guest's address for a container inside a guest.
        serverHost: async () => (hop && spec.via?.kind === "guest" ? hop.serverHost() : "127.0.0.1"),
        listenAddress: () => (listen ??= inspect()),
        ...runner(async (script, opts) => {
          if (hop) return hop.start(containerHopScript(spec, script, opts.timeoutS), { ...opts, timeoutS: opts.timeoutS + HOP_MARGIN_S });
          const [file, ...args] = containerExec(spec, opts.timeoutS);
          return launch(file!, args, script, opts);
        }),
      };
      return target;
    }
    case "guest": {
      if (spec.via) return guestViaTarget(spec, spec.via);
      let address: Promise<string> | undefined;
      const host = () => (address ??= findGuest(connect({ kind: "local" }), spec, ""));
      return {
        description: `guest ${spec.domain}`,
        serverHost: host,
        listenAddress: async () => ({ bind: await host() }),
        ...runner(async (script, opts) =>
          launch("ssh", [...sshArgs(guestConnection(spec, await host())), shJoin(trialShell(opts.timeoutS))], script, opts)),
      };
    }
  }
}
