/**
 * How the runner reaches a place to run scripts: one interface, four ways (local process, SSH with an
 * optional jump host, `docker exec`, SSH into a libvirt guest found by its domain name).
 * A TargetSpec is plain data (it travels on the `virtperf trial --target` command line as JSON).
 */
import type { RawRun } from "../contract.ts";

export type TargetSpec =
  | {
      readonly kind: "local";
      /** Command words prefixed to `bash -s` (e.g. a cgroup or taskset wrapper that gives native the same CPU set and memory). */
      readonly wrap?: readonly string[];
    }
  | {
      readonly kind: "ssh";
      readonly host: string;
      readonly user: string;
      readonly port?: number;
      /** Private key file. */
      readonly identityFile?: string;
      /** known_hosts file holding the host's public key; when absent, host keys are not checked. */
      readonly knownHostsFile?: string;
      /** `user@host:port` of a jump host (ssh -J). */
      readonly jump?: string;
    }
  | {
      readonly kind: "docker";
      readonly container: string;
      /** DOCKER_HOST, e.g. `ssh://user@host` for a remote host; local socket when absent. */
      readonly dockerHost?: string;
    }
  | {
      readonly kind: "guest";
      /** libvirt domain name; its address is looked up with `virsh domifaddr` at connect time. */
      readonly domain: string;
      readonly user: string;
      readonly identityFile: string;
      /** libvirt URI (qemu:///system when absent). */
      readonly libvirtUri?: string;
    };

export interface ExecOptions {
  readonly timeoutS: number;
}

export interface Target {
  /** Human-readable, for messages: "local", "docker exec virtperf-dev-docker"... */
  readonly description: string;
  /** Address a client elsewhere on the host uses to reach servers in this target. */
  serverHost(): Promise<string>;
  /** Runs a bash script (`bash -s` with the script on stdin). Never throws for a non-zero exit. */
  exec(script: string, opts: ExecOptions): Promise<RawRun>;
}
