/**
 * The SSH host address, in one place: how the runner, facts, clients and the Pulumi command resources
 * reach a remote host under test (its key, its pinned host key), and the local steps that pin host keys.
 * ssh's own options are built by lib/ssh.ts.
 */
import { readFileSync } from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import type { CommandSpec, HostAddress } from "./experiment.ts";
import type { SshTargetSpec } from "../model/target.ts";
import { shJoin, shq } from "../lib/shell.ts";
import { knownHostsPattern } from "../lib/ssh.ts";

export type SshAddress = HostAddress & { kind: "ssh" };

/** How the runner, the facts and clients reach an SSH host: its key, its pinned host key. */
export function hostSshTarget(a: SshAddress): SshTargetSpec {
  return { kind: "ssh", host: a.host, user: a.user, port: a.port, identityFile: a.privateKeyFile, knownHostsFile: a.knownHostsFile };
}

/**
 * A local step that writes `file` (a known_hosts file in the 0700 keys directory) pinning `publicKey`'s
 * lines for host:port (`[host]:port key` when the port is not 22); delete removes it. `role` names it.
 */
/** known_hosts lines pinning `publicKey`'s keys for host:port. */
export function knownHostsLines(host: string, port: number, publicKey: string): string[] {
  return publicKey.split("\n").map((l) => l.trim()).filter(Boolean).map((key) => `${knownHostsPattern(host, port)} ${key}`);
}

export function knownHostsStep(role: string, file: string, host: string, port: number, publicKey: string): CommandSpec {
  const lines = knownHostsLines(host, port, publicKey);
  const dir = file.replace(/\/[^/]*$/, "") || "/";
  return {
    role, on: "local", triggers: lines,
    create: `mkdir -p -m 700 ${shq(dir)}\nprintf '%s\\n' ${shJoin(lines)} > ${shq(`${file}.tmp`)} && mv ${shq(`${file}.tmp`)} ${shq(file)}`,
    delete: `rm -f ${shq(file)}`,
  };
}

/** The SSH host's pinned key, written to its knownHostsFile by the plan's first (local) step. */
export function knownHostsCommand(a: SshAddress): CommandSpec {
  return knownHostsStep("known-hosts", a.knownHostsFile, a.host, a.port, a.hostPublicKey);
}


/** The connection a Pulumi `remote.Command` uses for the SSH host: its key (a secret) and its pinned host key. */
export function remoteConnection(a: SshAddress, privateKey: pulumi.Input<string> | undefined, secret: (key: string) => pulumi.Input<string>) {
  return { host: a.host, user: a.user, port: a.port, hostKey: a.hostPublicKey, privateKey: privateKey ?? secret(readFileSync(a.privateKeyFile, "utf8")) };
}
