/**
 * The ONE place ssh command lines are built: the runner's targets, the planner's facts and guest hops,
 * the domain script's guest probe and the Docker provider's `sshOpts` all take their options from here.
 *
 * Host keys are always checked (StrictHostKeyChecking=yes): against the pinned `knownHostsFile` only
 * (no user or global file) when one is given, else against the user's own known_hosts. A guest built by
 * virtperf gets its own host key at disk creation, pinned under `hostKeyAlias` (its domain name, since
 * its DHCP address changes). Only a user-supplied guest image, whose key virtperf cannot know, is trusted
 * on first use (`firstUse`: accept-new into that guest's own known_hosts file; a changed key is refused).
 */
import { shJoin } from "./shell.ts";

export interface SshConnection {
  readonly host: string;
  readonly user: string;
  readonly port?: number;
  /** Private key file (with IdentitiesOnly, so the agent's keys are not offered). */
  readonly identityFile?: string;
  /** known_hosts file holding the host's pinned key; absent: the user's own known_hosts. */
  readonly knownHostsFile?: string;
  /** Name the host key is recorded under in knownHostsFile (a guest's domain), instead of its address. */
  readonly hostKeyAlias?: string;
  /** Trust the first key seen and record it (accept-new), for guests whose key virtperf cannot know. */
  readonly firstUse?: boolean;
  /** `[user@]host[:port]` of a jump host; its key must be in the same knownHostsFile. */
  readonly jump?: string;
}

/** ssh's options for a connection (everything before `--` and the destination). Pure. */
export function sshOptions(t: Omit<SshConnection, "host" | "user">): string[] {
  const args = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15", "-o", "LogLevel=ERROR",
    "-o", `StrictHostKeyChecking=${t.firstUse ? "accept-new" : "yes"}`];
  if (t.knownHostsFile) args.push("-o", `UserKnownHostsFile=${t.knownHostsFile}`, "-o", "GlobalKnownHostsFile=none");
  if (t.hostKeyAlias) args.push("-o", `HostKeyAlias=${t.hostKeyAlias}`);
  if (t.identityFile) args.push("-i", t.identityFile, "-o", "IdentitiesOnly=yes");
  if (t.port) args.push("-p", String(t.port));
  if (t.jump) {
    // Not -J: options given on the command line do not reach the jump connection (ssh(1)), so the jump
    // is a ProxyCommand built with the same options, its host key checked in the same file.
    const m = /^(?:([^@]+)@)?(.+?)(?::(\d+))?$/.exec(t.jump)!;
    const hop = { ...(m[3] ? { port: Number(m[3]) } : {}), ...(t.identityFile ? { identityFile: t.identityFile } : {}),
      ...(t.knownHostsFile ? { knownHostsFile: t.knownHostsFile } : {}) };
    const dest = m[1] ? `${m[1]}@${m[2]}` : m[2]!;
    args.push("-o", `ProxyCommand=${shJoin(["ssh", ...sshOptions(hop), "-W", "%h:%p", "--", dest])}`);
  }
  return args;
}

/** ssh's options, `--` and the destination (the remote command follows). Pure. */
export function sshArgs(t: SshConnection): string[] {
  return [...sshOptions(t), "--", `${t.user}@${t.host}`];
}

/** The known_hosts host pattern of a host: `host` on port 22, else `[host]:port`. */
export function knownHostsPattern(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
