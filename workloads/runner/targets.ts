/**
 * The four ways to reach a place that runs scripts. Every script is sent on stdin to the trial shell on
 * the far side (parity.ts: `env -i <declared env> [wrap] timeout -k 5 <T> bash ... -s` with the same
 * limits everywhere), so nothing of the caller's, sshd's or the image's environment reaches a workload,
 * and a hung tool is killed where it runs (killing a local `docker exec` or `ssh` client alone would
 * leave it running); a local timeout is only the backstop.
 */
import { spawn } from "node:child_process";
import type { RawRun } from "../contract.ts";
import type { ExecOptions, SshTargetSpec, Target, TargetSpec } from "./target.ts";
import { ProvisionError } from "../../lib/errors.ts";
import { shJoin } from "../../lib/shell.ts";
import { trialShell } from "./parity.ts";

const BACKSTOP_S = 20;
/** Extra seconds the host side of a guest hop gets, so the guest's own timeout fires first. */
const HOP_MARGIN_S = 10;
const DEFAULT_LIBVIRT_URI = "qemu:///system";

/** The command line an SSH target runs on the far side: the trial shell around its wrapper. */
export function sshRemoteCommand(spec: Pick<SshTargetSpec, "wrap">, timeoutS: number): string {
  return shJoin(trialShell(timeoutS, spec.wrap));
}

/** `<<'DELIM'` heredoc of `body`, with a delimiter that no line of `body` equals (so it cannot end early). */
export function heredoc(body: string, base: string): { start: string; text: string } {
  const lines = new Set(body.split("\n"));
  let delim = base;
  for (let i = 1; lines.has(delim); i++) delim = `${base}_${i}`;
  return { start: `<<'${delim}'`, text: `${body.endsWith("\n") ? body : `${body}\n`}${delim}` };
}

/**
 * Runs `file args` with the script on stdin and collects its output; never rejects. The local timeout
 * is a backstop (TERM, then KILL 5 s later): the far side's own `timeout` should fire first. Plain
 * child_process, not execa: it runs several times a trial, and execa alone costs 35 ms to load.
 */
function run(file: string, args: readonly string[], script: string, opts: ExecOptions, env?: Record<string, string>): Promise<RawRun> {
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], ...(env ? { env: { ...process.env, ...env } } : {}) });
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

/** ssh's options and destination for a target (everything before the remote command). Pure. */
export function sshArgs(t: Omit<SshTargetSpec, "kind" | "wrap">): string[] {
  const args = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15", "-o", "LogLevel=ERROR"];
  if (t.knownHostsFile) args.push("-o", `UserKnownHostsFile=${t.knownHostsFile}`, "-o", "StrictHostKeyChecking=yes");
  else args.push("-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no");
  if (t.identityFile) args.push("-i", t.identityFile, "-o", "IdentitiesOnly=yes");
  if (t.port) args.push("-p", String(t.port));
  if (t.jump) args.push("-J", t.jump);
  args.push(`${t.user}@${t.host}`);
  return args;
}

/**
 * The guest's live IPv4 address, looked up where the guest lives (`host`: this machine, or its SSH host)
 * with guestLookupScript. libvirt lists stale addresses beside the live one (ARP entries and leases of
 * earlier boots of the same MAC), so the first candidate that answers SSH wins.
 */
async function findGuest(host: Target, spec: TargetSpec & { kind: "guest" }, where: string): Promise<string> {
  const r = await host.exec(guestLookupScript(spec.domain, spec.libvirtUri), { timeoutS: 60 });
  const found = r.stdout.trim();
  if (r.exitCode === 0 && /^[0-9.]+$/.test(found)) return found;
  throw new ProvisionError(`guest ${spec.domain}${where} has no address that answers SSH (${r.stderr.trim() || `exit ${r.exitCode}`})`, {
    suggestions: [`virsh -c ${spec.libvirtUri ?? DEFAULT_LIBVIRT_URI} domstate ${spec.domain}`, "is the libvirt network 'default' started? virsh net-start default"],
  });
}

/**
 * Bash that prints the guest's live address, run where the guest lives:
 * ARP candidates, then leases newest first, the first that accepts TCP on `port` (22) wins. Pure.
 */
export function guestLookupScript(domain: string, uri = DEFAULT_LIBVIRT_URI, port = 22): string {
  const list = (source: string) =>
    `virsh -c ${shJoin([uri, "domifaddr", domain, "--source", source])} 2>/dev/null | sed -nE 's|.*ipv4[[:space:]]+([0-9.]+)/[0-9]+.*|\\1|p'`;
  return `set -uo pipefail
candidates=$( { ${list("arp")}; ${list("lease")} | tac; } | awk 'NF && !seen[$0]++')
for a in $candidates; do
  if timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$a" ${port} 2>/dev/null; then echo "$a"; exit 0; fi
done
echo "candidates: $(echo $candidates)" >&2
exit 1
`;
}

/** Bash run ON a remote host that sends `script` to the guest at `address` (key path on that host). Pure. */
export function guestHopScript(spec: { user: string; identityFile: string }, address: string, script: string, timeoutS: number): string {
  const doc = heredoc(script, "VIRTPERF_GUEST");
  const ssh = shJoin(["ssh", ...sshArgs({ host: address, user: spec.user, identityFile: spec.identityFile }), shJoin(trialShell(timeoutS))]);
  return `${ssh} ${doc.start}\n${doc.text}\n`;
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
      const env = spec.dockerHost ? { DOCKER_HOST: spec.dockerHost } : undefined;
      return {
        description: `docker exec ${spec.container}`,
        // Bridge containers publish their ports 1:1 on the host; host-network ones listen there directly.
        serverHost: async () => "127.0.0.1",
        exec: (script, opts) => run("docker", ["exec", "-i", spec.container, ...trialShell(opts.timeoutS)], script, opts, env),
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
          run("ssh", [...sshArgs({ host: await host(), user: spec.user, identityFile: spec.identityFile }), shJoin(trialShell(opts.timeoutS))], script, opts),
      };
    }
  }
}
