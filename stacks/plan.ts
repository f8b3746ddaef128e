/**
 * The plan vocabulary: what the ONE planner (planner.ts) hands both the Pulumi program (index.ts) and
 * `npm run e2e`. Plain data, no Pulumi: every command either of them runs is in here.
 */
import type { EnvironmentDef, EnvironmentKind } from "./environments.ts";
import type { CommandSpec, Experiment } from "./experiment.ts";
import type { TargetSpec } from "../model/target.ts";
import type { WorkloadId } from "../workloads/contract.ts";
import type { DockerImagePlan } from "./docker/spec.ts";
import type { KvmProof } from "./preflight/acceleration.ts";

/** The common shape every environment module's plan function returns (envs.md). */
export interface EnvironmentPlan {
  readonly def: EnvironmentDef;
  /** "none" for native and Docker; "kvm" or "tcg" for guests (resolved from Experiment.acceleration and the host's KVM proof). */
  readonly acceleration: "none" | "kvm" | "tcg";
  /** For guests: why this acceleration (the proof passed, TCG was asked, or which KVM check failed). */
  readonly accelerationReason?: string;
  /** How the runner reaches it. */
  readonly target: TargetSpec;
  /** Fixed server ports (published 1:1 for Docker bridge); empty = the runner picks free ports. */
  readonly ports: readonly number[];
  /** Where workloads put data inside the environment (on the I/O path under test), and workdirs. */
  readonly dataDir: string;
  readonly workRoot: string;
  /** CPUs and memory it gets. */
  readonly shape: { cpus: number; memoryMiB: number };
  /** Bring-up in order (delete scripts run in reverse order on teardown). */
  readonly commands: readonly CommandSpec[];
  /** Bash that prints one JSON object of the environment's facts (what it REALLY got). */
  readonly facts: string;
}

/** What the planner knows about the host beyond the stack config (probed, or injected in tests). */
export interface HostProbe {
  /** Online CPU numbers. */
  readonly cpus: readonly number[];
  /** Total memory, MiB. */
  readonly memoryMiB: number;
  /** The KVM proof (stacks/preflight/acceleration.ts): acceleration "auto" uses KVM only when it passed. */
  readonly kvm: KvmProof;
  /** Hardware threads per core (guest topology that matches the host); 1 when unknown. */
  readonly threadsPerCore?: number;
}

/** One scheduled trial, before it becomes a command. `order` is its 0-based position in the schedule. */
export interface ScheduleEntry {
  readonly order: number;
  readonly environment: string;
  readonly workload: WorkloadId;
  /** 1..repetitions for measured trials; 0 for a warm-up trial. */
  readonly rep: number;
  readonly warmup: boolean;
}

export interface Schedule {
  readonly seed: number;
  readonly entries: readonly ScheduleEntry[];
}

/** One trial with the exact command that runs it (the same string in `pulumi up` and in e2e). */
export interface TrialPlan extends ScheduleEntry {
  /** Stable name: "017-docker-fio-r2" (also the Pulumi resource name suffix). */
  readonly id: string;
  readonly kind: EnvironmentKind;
  /** Estimated seconds of this trial, for "time left". */
  readonly estimateS: number;
  /** The `virtperf trial ...` command line; exits 0 whether the trial is ok or failed (recorded either way). */
  readonly command: string;
}

/** Everything to bring up, run and tear down one experiment on one stack. */
export interface Plan {
  readonly experiment: Experiment;
  /** Hash of the experiment's measuring content: a re-run of the same experiment lands in the same run. */
  readonly runId: string;
  /** `<resultsRoot>/<stack>/<runId>`, relative to the project root (where both `pulumi up` and e2e run). */
  readonly resultsDir: string;
  /**
   * Native's plan with the host preparation (packages, directories, cgroup) as its commands: run first,
   * deleted last, whether or not `native` is measured. Its facts are the host's facts.
   */
  readonly host: EnvironmentPlan;
  /**
   * Image builds, after the host preparation: the Docker tools image (when a Docker environment is listed) and the
   * guest base image (when a KVM one is). Content-addressed caches: `pulumi destroy` removes the Docker
   * image it built; `npm run e2e` keeps both for the next run unless asked (see imageCommands()).
   */
  readonly dockerImage?: DockerImagePlan;
  readonly guestImage?: CommandSpec;
  /**
   * Per environment, in stack order. Native's host preparation is in `host` (it runs whether or not
   * `native` is measured), so native's entry here has no commands of its own.
   */
  readonly environments: readonly EnvironmentPlan[];
  /** After bring-up, before the first trial: each writes one JSON file of facts to `<resultsDir>/facts/`. */
  readonly facts: readonly CommandSpec[];
  readonly schedule: Schedule;
  readonly trials: readonly TrialPlan[];
}

/** The image build commands in bring-up order (Docker image, then guest image). */
export function imageCommands(p: Pick<Plan, "dockerImage" | "guestImage">): CommandSpec[] {
  return [...(p.dockerImage?.commands ?? []), ...(p.guestImage ? [p.guestImage] : [])];
}
