/**
 * The plan vocabulary: what the ONE planner (planner.ts) hands both the Pulumi program (index.ts) and
 * `npm run e2e`. Plain data, no Pulumi: every command either of them runs is in here.
 */
import type { KindName } from "../model/kinds.ts";
import type { CommandSpec, EnvironmentDef, Experiment } from "./experiment.ts";
import type { TargetSpec } from "../model/target.ts";
import type { WorkloadId } from "../workloads/contract.ts";
import type { KvmProof } from "./kvm/acceleration.ts";
import type { GvisorProbe } from "./gvisor/runtime.ts";
import type { NativePaths } from "./native/spec.ts";

/**
 * One environment's plan, as its kind's module makes it (stacks/kind.ts): the common shape the planner,
 * the Pulumi program and e2e read, and `spec`, the kind's own (a container spec, a domain spec), which
 * only that kind's steps and component read.
 */
export interface EnvironmentPlan<S = unknown> {
  readonly kind: KindName;
  readonly def: EnvironmentDef;
  /** "none" for native and Docker; "kvm" or "tcg" for guests (resolved from Experiment.acceleration and the host's KVM proof). */
  readonly acceleration: "none" | "kvm" | "tcg";
  /** For guests: why this acceleration (the proof passed, TCG was asked, or which KVM check failed). */
  readonly accelerationReason?: string;
  /** What isolates it beyond its kind, resolved at plan time, one label (gVisor: "runsc ptrace, host network passthrough"). */
  readonly isolation?: string;
  /** Why that isolation (asked for, or the probe's story), as accelerationReason says it for guests. */
  readonly isolationReason?: string;
  /** Other environments of the stack the report also compares this one with (its kind's `references`). */
  readonly references?: readonly string[];
  /**
   * Workloads this environment is proved unable to run here, with why (a tool that dies under gVisor):
   * left out of the schedule and said in the plan, the run's experiment.json and the report, never run to
   * fail or, worse, to measure nothing.
   */
  readonly notRun?: Readonly<Partial<Record<WorkloadId, string>>>;
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
  /** Bash that prints one JSON object of the environment's facts (what it REALLY got); run on the host. */
  readonly facts: string;
  readonly spec: S;
}

/**
 * A cache shared by the environments of a stack (the Docker tools image, a guest image), built once
 * after the host preparation and before any environment. Identified by `id`: two kinds needing the same
 * image plan it once. Content-addressed: `pulumi destroy` removes what it built; `npm run e2e` keeps
 * images for the next run unless asked (--remove-images).
 */
export interface ImagePlan {
  readonly id: string;
  readonly commands: readonly CommandSpec[];
  /** "docker-image": the DockerImage component (its `tag` output is what containers wait for); "commands": a command chain. */
  readonly resource: "docker-image" | "commands";
  /** Pulumi resource name: `virtperf-<stack>-<name>`. */
  readonly name: string;
  /** For "docker-image": the tag it builds. */
  readonly tag?: string;
  /**
   * Ids of images this one is made from (a kind's copy of another kind's image: rootless Podman loads
   * the Docker tools image into its user's storage). They are planned first and built before it.
   * Default: none (only the host preparation comes before it).
   */
  readonly after?: readonly string[];
}

/** One bring-up step as `npm run e2e` runs it (bash here; its delete runs on teardown, in reverse). */
export interface Step {
  /** "prepare", "image", "environment", "facts": teardown and pre-clean treat them differently. */
  readonly phase: "prepare" | "image" | "environment" | "facts";
  /** "<environment or host>/<role>", for progress and errors. */
  readonly label: string;
  readonly create: string;
  readonly delete?: string;
}

/** What the planner knows about the host beyond the stack config (probed, or injected in tests). */
export interface HostProbe {
  /** Online CPU numbers. */
  readonly cpus: readonly number[];
  /** Total memory, MiB. */
  readonly memoryMiB: number;
  /** The KVM proof (stacks/preflight/acceleration.ts): acceleration "auto" uses KVM only when it passed. */
  readonly kvm: KvmProof;
  /** The gVisor probe (stacks/gvisor/runtime.ts): which runsc runtimes start a container; absent when not probed. */
  readonly gvisor?: GvisorProbe;
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
  readonly kind: KindName;
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
  readonly host: EnvironmentPlan<NativePaths>;
  /** Images the stack's kinds need, each once, in build order, after the host preparation. */
  readonly images: readonly ImagePlan[];
  /**
   * Per environment, in stack order. Native's host preparation is in `host` (it runs whether or not
   * `native` is measured), so native's entry here has no commands of its own.
   */
  readonly environments: readonly EnvironmentPlan[];
  /** After bring-up, before the first trial: each writes one JSON file of facts to `<resultsDir>/facts/`. */
  readonly facts: readonly CommandSpec[];
  readonly schedule: Schedule;
  readonly trials: readonly TrialPlan[];
  /** (environment, workload) pairs of the experiment left out of the schedule, with why (EnvironmentPlan.notRun). */
  readonly notMeasured: readonly NotMeasured[];
}

export interface NotMeasured {
  readonly environment: string;
  readonly workload: WorkloadId;
  readonly reason: string;
}

/** A command spec as one of e2e's steps. */
export function commandStep(phase: Step["phase"], owner: string, c: CommandSpec): Step {
  return { phase, label: `${owner}/${c.role}`, create: c.create, ...(c.delete ? { delete: c.delete } : {}) };
}

/** The image build commands in bring-up order. */
export function imageCommands(p: Pick<Plan, "images">): CommandSpec[] {
  return p.images.flatMap((i) => i.commands);
}
