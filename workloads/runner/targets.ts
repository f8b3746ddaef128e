/**
 * The four ways to reach a place that runs scripts. Every script is sent on stdin to
 * `timeout -k 5 <T> bash -s` on the far side, so a hung tool is killed where it runs (killing a local
 * `docker exec` or `ssh` client alone would leave it running); a local timeout is only the backstop.
 */
import { execa } from "execa";
import { createConnection } from "node:net";
import type { RawRun } from "../contract.ts";
import type { ExecOptions, Target, TargetSpec } from "./target.ts";
import { ProvisionError } from "../../lib/errors.ts";

const BACKSTOP_S = 20;

function remoteShell(timeoutS: number): string[] {
  return ["timeout", "-k", "5", String(Math.ceil(timeoutS)), "bash", "-s"];
}

async function run(file: string, args: readonly string[], script: string, opts: ExecOptions, env?: Record<string, string>): Promise<RawRun> {
  const started = performance.now();
  const r = await execa(file, args, {
    input: script, reject: false, timeout: (opts.timeoutS + BACKSTOP_S) * 1000, stripFinalNewline: false,
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  const durationMs = performance.now() - started;
  // `timeout` exits 124 (TERM) or 137 (KILL after -k) when the far side ran out of time.
  const timedOut = r.timedOut || r.exitCode === 124 || (r.exitCode === 137 && durationMs >= opts.timeoutS * 1000);
  return {
    stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? ""),
    exitCode: r.exitCode ?? null, signal: r.signal ?? null, durationMs, timedOut,
  };
}

function sshArgs(t: { host: string; user: string; port?: number; identityFile?: string; knownHostsFile?: string; jump?: string }): string[] {
  const args = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15", "-o", "LogLevel=ERROR"];
  if (t.knownHostsFile) args.push("-o", `UserKnownHostsFile=${t.knownHostsFile}`, "-o", "StrictHostKeyChecking=yes");
  else args.push("-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no");
  if (t.identityFile) args.push("-i", t.identityFile, "-o", "IdentitiesOnly=yes");
  if (t.port) args.push("-p", String(t.port));
  if (t.jump) args.push("-J", t.jump);
  args.push(`${t.user}@${t.host}`);
  return args;
}

/** Whether something accepts TCP connections at host:port within `ms`. */
function answers(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(ms, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * The guest's IPv4 address. libvirt lists stale addresses beside the live one (ARP entries and leases of
 * earlier boots of the same MAC), in no useful order: candidates come from ARP, then leases newest first,
 * and the first that answers SSH wins.
 */
export async function guestAddress(domain: string, uri = "qemu:///system"): Promise<string> {
  const candidates: string[] = [];
  for (const source of ["arp", "lease"]) {
    const r = await execa("virsh", ["-c", uri, "domifaddr", domain, "--source", source], { reject: false });
    const found = [...String(r.stdout).matchAll(/ipv4\s+([0-9.]+)\/\d+/g)].map((m) => m[1]!);
    for (const a of source === "lease" ? found.reverse() : found) if (!candidates.includes(a)) candidates.push(a);
  }
  for (const a of candidates) if (await answers(a, 22, 3000)) return a;
  throw new ProvisionError(`guest ${domain} has no address that answers SSH (candidates: ${candidates.join(", ") || "none"})`, {
    suggestions: [`virsh -c ${uri} domstate ${domain}`, "is the libvirt network 'default' started? virsh net-start default"],
  });
}

export function connect(spec: TargetSpec): Target {
  switch (spec.kind) {
    case "local": {
      const wrap = spec.wrap ?? [];
      return {
        description: wrap.length ? `local (${wrap.join(" ")})` : "local",
        serverHost: async () => "127.0.0.1",
        exec: (script, opts) =>
          wrap.length
            ? run(wrap[0]!, [...wrap.slice(1), ...remoteShell(opts.timeoutS)], script, opts)
            : run("timeout", remoteShell(opts.timeoutS).slice(1), script, opts),
      };
    }
    case "ssh":
      return {
        description: `ssh ${spec.user}@${spec.host}`,
        serverHost: async () => spec.host,
        exec: (script, opts) => run("ssh", [...sshArgs(spec), remoteShell(opts.timeoutS).join(" ")], script, opts),
      };
    case "docker": {
      const env = spec.dockerHost ? { DOCKER_HOST: spec.dockerHost } : undefined;
      return {
        description: `docker exec ${spec.container}`,
        // Bridge containers publish their ports 1:1 on the host; host-network ones listen there directly.
        serverHost: async () => "127.0.0.1",
        exec: (script, opts) => run("docker", ["exec", "-i", spec.container, ...remoteShell(opts.timeoutS)], script, opts, env),
      };
    }
    case "guest": {
      let address: Promise<string> | undefined;
      const host = () => (address ??= guestAddress(spec.domain, spec.libvirtUri));
      return {
        description: `guest ${spec.domain}`,
        serverHost: host,
        exec: async (script, opts) =>
          run("ssh", [...sshArgs({ host: await host(), user: spec.user, identityFile: spec.identityFile }), remoteShell(opts.timeoutS).join(" ")], script, opts),
      };
    }
  }
}
