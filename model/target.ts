/**
 * How the runner reaches a place to run scripts: one interface, four ways (local process, SSH with an
 * optional jump host, `docker exec`, SSH into a libvirt guest found by its domain name).
 * A TargetSpec is plain data: the planner writes it into the environment description a trial gets
 * (model/environment.ts); workloads/runner/targets.ts connects to it.
 */
import type { RawRun } from "./vocabulary.ts";

/** SSH to a machine (a remote host under test, or a client machine). */
export interface SshTargetSpec {
  readonly kind: "ssh";
  readonly host: string;
  readonly user: string;
  readonly port?: number;
  /** Private key file. */
  readonly identityFile?: string;
  /** known_hosts file holding the host's pinned public key; when absent, the user's own known_hosts (always checked). */
  readonly knownHostsFile?: string;
  /** `[user@]host[:port]` of a jump host; its host key must be in `knownHostsFile` too. */
  readonly jump?: string;
  /** Command words prefixed, on the far side, to `timeout ... bash -s` (same meaning as local's wrap). */
  readonly wrap?: readonly string[];
}

/**
 * A container, reached with its engine's `exec` (Docker, or Podman as a rootless user), run where the
 * engine is: this machine, an SSH host (`via` ssh), or inside a guest (`via` guest: a container in a VM).
 */
export interface ContainerTargetSpec {
  readonly kind: "docker";
  readonly container: string;
  /** The engine whose `exec` reaches it; default docker. */
  readonly engine?: "docker" | "podman";
  /**
   * Run the engine as this user (rootless Podman): `env -i PATH=... runuser -u <user> -- <engine>`, so the
   * engine sees the user's own HOME and nothing of the caller's environment (a root shell's
   * XDG_RUNTIME_DIR would point it at another runtime directory). Default: the engine as the runner runs.
   */
  readonly user?: string;
  /**
   * Command words placed before the engine where it runs (a cgroup join, `taskset`): limits the engine
   * cannot set itself (rootless Podman on cgroup v1) reach the exec'd processes, which inherit them.
   * Same meaning as local's wrap, but on the engine's side of the container boundary. Default: none.
   */
  readonly wrap?: readonly string[];
  /** Where the engine runs when not here: an SSH host, or a guest (the container lives inside it). */
  readonly via?: Omit<SshTargetSpec, "wrap"> | GuestTargetSpec;
}

export type TargetSpec =
  | {
      readonly kind: "local";
      /** Command words prefixed to `bash -s` (e.g. a cgroup or taskset wrapper that gives native the same CPU set and memory). */
      readonly wrap?: readonly string[];
    }
  | SshTargetSpec
  | ContainerTargetSpec
  | GuestTargetSpec;

/** A libvirt guest, reached over SSH at the address libvirt leased it. */
export interface GuestTargetSpec {
  readonly kind: "guest";
  /** libvirt domain name; its address is looked up with `virsh domifaddr` at connect time. */
  readonly domain: string;
  readonly user: string;
  /** Key for the guest: a path on this machine, or on `via`'s host when `via` is set. */
  readonly identityFile: string;
  /**
   * The guest's known_hosts file (same machine as identityFile), its host key recorded under the
   * domain's name (HostKeyAlias), since the guest's address is a DHCP lease. Absent: ~/.ssh/known_hosts.
   */
  readonly knownHostsFile?: string;
  /** A user image's guest: its host key is recorded at the first contact (accept-new), then pinned. */
  readonly firstUse?: boolean;
  /** libvirt URI (qemu:///system when absent). */
  readonly libvirtUri?: string;
  /**
   * The host the domain runs on when that is not this machine: the address lookup and the SSH hop
   * into the guest run there (the domain, its NAT network and the key are all on that host).
   */
  readonly via?: Omit<SshTargetSpec, "wrap">;
}

export interface ExecOptions {
  readonly timeoutS: number;
  /** Aborting closes the lifeline (lifeline.ts): the far side stops the script and all it started. */
  readonly signal?: AbortSignal;
}

/** A script running on a target: see Target.start. */
export interface Running {
  /** Resolves when the far side has ended, on its own or after close(); never rejects. */
  readonly done: Promise<RawRun>;
  /** Resolves true once a stdout line equals `line`, false when the script ended first. */
  waitForLine(line: string): Promise<boolean>;
  /** Closes the lifeline: the far side stops the script and everything it started (TERM, 5 s, KILL). */
  close(): void;
}

/** Where servers of a target listen (see Target.listenAddress). */
export interface ListenAddress {
  /** The address a server binds to: the one its clients connect to, seen from inside the target. */
  readonly bind: string;
  /** Where a client on the host's loopback appears from to the server, when NAT is on the way (a Docker bridge's gateway). */
  readonly loopbackPeer?: string;
}

export interface Target {
  /** Human-readable, for messages: "local", "docker exec virtperf-dev-docker"... */
  readonly description: string;
  /** Address a client elsewhere on the host uses to reach servers in this target. */
  serverHost(): Promise<string>;
  /** Where servers in this target listen: the address its clients reach (never every interface, when that can be known). */
  listenAddress(): Promise<ListenAddress>;
  /** Runs a bash script (`bash -s` with the script on stdin). Never throws for a non-zero exit. */
  exec(script: string, opts: ExecOptions): Promise<RawRun>;
  /**
   * Starts a bash script that runs until it ends or is closed (a server): its lifeline stays open
   * meanwhile, so it is stopped, with all it started, when closed or when this runner dies.
   */
  start(script: string, opts: ExecOptions): Promise<Running>;
}
