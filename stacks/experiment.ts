/**
 * The typed Experiment that a validated stack config becomes (DESIGN.md, Data flow 1), and the
 * plan vocabulary every environment module speaks. Types only: validation lives in config.ts,
 * composition in planner.ts.
 */
import type { ProfileName, WorkloadId } from "../workloads/contract.ts";
import type { KindOptions } from "../model/kinds.ts";
import type { TargetSpec } from "../model/target.ts";

/** How the machine that runs `pulumi up` reaches the host under test. */
export type HostAddress =
  | { readonly kind: "local" }
  | {
      readonly kind: "ssh";
      readonly host: string;
      readonly user: string;
      /** Default 22. */
      readonly port: number;
      /**
       * Path of the private key file on the machine running virtperf: the user's `privateKeyFile`, or, for
       * a `privateKey` secret, `<keysDir>/<stack>-host`, written by index.ts (0600, atomically) and removed
       * by `pulumi destroy`.
       */
      readonly privateKeyFile: string;
      /** True when privateKeyFile is virtperf's copy of the `privateKey` secret (it writes and removes it). */
      readonly keyFromSecret: boolean;
      /** The host's public key line(s), pinned in knownHostsFile. */
      readonly hostPublicKey: string;
      /** `<keysDir>/<stack>-host.known_hosts`, written by the plan's first (local) step. */
      readonly knownHostsFile: string;
    };

export interface HostConfig {
  readonly address: HostAddress;
  /** CPU set every environment gets, cpuset syntax ("0-1", "2,4-7"). */
  readonly cpuset: string;
  /** CPUs in `cpuset`, derived. */
  readonly cpus: number;
  /** Memory every environment gets, MiB. */
  readonly memoryMiB: number;
  /** Scratch directory on the host for images, guest disks, workdirs. */
  readonly scratchDir: string;
  /** Directory on the disk under test for I/O workloads (native's data dir; Docker volumes and guest disks live beside it). */
  readonly ioDir: string;
}

/**
 * Where clients of network workloads run. A second machine's host key is always pinned: its own
 * `knownHostsFile`, or `hostPublicKey` written by a local step to `<keysDir>/<stack>-client.known_hosts`.
 */
export type ClientConfig =
  | { readonly kind: "host" }
  | { readonly kind: "ssh"; readonly target: TargetSpec & { kind: "ssh"; knownHostsFile: string }; readonly hostPublicKey?: string };

export type Acceleration = "auto" | "kvm" | "tcg";

/**
 * One environment of a stack: a name (used in records, resource and container names) and its options,
 * those of one kind (`O`, a kind's own options type; validated by that kind's schema in config.ts).
 */
export interface EnvironmentDef<O extends KindOptions = KindOptions> {
  readonly name: string;
  readonly options: O;
  /**
   * A/A calibration: this environment is an identical second copy of the named one (`<name>-aa`), so
   * the report can show the noise floor, the difference two identical environments measure.
   */
  readonly calibrationOf?: string;
}

export interface Experiment {
  readonly stack: string;
  readonly host: HostConfig;
  readonly environments: readonly EnvironmentDef[];
  readonly client: ClientConfig;
  readonly acceleration: Acceleration;
  readonly workloads: readonly WorkloadId[];
  readonly profile: ProfileName;
  readonly repetitions: number;
  readonly seed: number;
  /** Base image for the Docker image and the guest: a Debian suite, default "bookworm". */
  readonly debianSuite: string;
  /** Docker base image; default "debian:bookworm" (imported locally with mmdebstrap when no registry). */
  readonly dockerBaseImage: string;
  /** A user-supplied guest cloud image instead of the built one (path on the host), or undefined. */
  readonly guestImage?: string;
  /** Where results are written on the machine running virtperf; default "results" (relative: to the project root). */
  readonly resultsRoot: string;
  /**
   * The report's equivalence margins by workload group, percent (e.g. { cpu: 2, io: 5 }); the report's
   * defaults (cpu and memory 2 %, the others 5 %) where absent. Not part of the run id: they change how
   * the numbers are read, not what is measured.
   */
  readonly margins?: Readonly<Record<string, number>>;
  /**
   * How many times a trial that ran on a busy host (its contamination check flagged it) is run again at
   * once, 0..3 (default 0: flagged trials stay, marked). Every attempt is recorded; the report counts a
   * clean one. Not part of the run id.
   */
  readonly retryContaminated?: number;
}

/**
 * A command resource's scripts: `create` runs on `pulumi up` (and in `npm run e2e`), `delete` on
 * `pulumi destroy` (and at the end of e2e). Bash, run where `on` says.
 */
export interface CommandSpec {
  /** Resource name suffix, e.g. "image", "disk", "domain". */
  readonly role: string;
  readonly on: "local" | "host";
  readonly create: string;
  readonly delete?: string;
  /** Values whose change must re-run `create` (content hashes, options). */
  readonly triggers?: readonly string[];
}
