/**
 * The environment-kind contract: what a folder under stacks/ exports to be a kind (native, docker,
 * kvm, ...). Registered in stacks/kinds.ts, typed over model/kinds.ts's list, so a kind without a
 * module does not compile. Everything here is plain data and pure functions, but `component()`, which
 * loads the kind's Pulumi component on demand (the planner, e2e and the pre-flight never load Pulumi).
 *
 * One environment goes through: config (options on top of a preset) -> plan (pure: its commands, its
 * spec, its target) -> either e2e's `steps` or the Pulumi program's `component`, both from the same plan.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { KindName, KindOptions } from "../model/kinds.ts";
import type { EnvironmentDef, Experiment, HostAddress } from "./experiment.ts";
import type { EnvironmentPlan, HostProbe, ImagePlan, Step } from "./plan.ts";
import type { Check, DiskNeed, Envs, Observations, ToolNeed } from "./preflight/check.ts";

/** What the Pulumi side of a kind gets besides its plan. */
export interface ResourceContext {
  readonly address: HostAddress;
  /** The SSH host's private key text as a secret (remote hosts). */
  readonly privateKey?: pulumi.Input<string>;
  /** The host preparation: every environment comes after it. */
  readonly host: pulumi.Resource;
  /** Image resources by ImagePlan id (a Docker image's `tag` output where it has one). */
  readonly images: ReadonlyMap<string, { readonly resource: pulumi.Resource; readonly tag?: pulumi.Output<string> }>;
}

/** A kind's Pulumi side: the resources of one environment (a component with children parented to it). */
export interface KindComponent<S> {
  resources(name: string, plan: EnvironmentPlan<S>, ctx: ResourceContext): pulumi.Resource[];
}

/**
 * Pre-flight of a kind (stacks/preflight/ gathers them): the host tools it needs, the bash that observes
 * what its checks judge, the checks, and its share of disk and memory. `envs`: the stack's environments
 * of this kind.
 */
export interface KindPreflight {
  /** Commands the host needs for environments of this kind (each is run, not just looked up, when it has a probe). */
  readonly tools: readonly ToolNeed[];
  /** Commands the host needs that depend on the stack's workloads (native runs them on the host itself). */
  workloadTools?(x: Experiment): ToolNeed[];
  /** Its environments are guests: the stack's KVM proof (stacks/kvm/acceleration.ts) decides their acceleration. */
  readonly guests?: boolean;
  /** Bash functions the observe calls use (the kind's observe.sh; or several, another kind's among them: each is sent once). */
  readonly library?: string | readonly string[];
  /** Bash calls that observe, printing `<key>=<value>` lines (a line another kind also makes runs once). */
  observe?(x: Experiment, envs: Envs): string[];
  /** Checks of this kind from the observations. */
  checks?(x: Experiment, o: Observations, envs: Envs): Check[];
  /** Bytes this kind's environments need on each disk, given the most one trial writes. */
  disk?(x: Experiment, o: Observations, envs: Envs, trialDataBytes: number): DiskNeed[];
  /** Memory the environments hold for the whole run (guests are all up at once), MiB, with what for. */
  heldMemory?(x: Experiment, envs: Envs): { mib: number; what: string };
}

/** What the planner hands a kind besides the experiment: the probed host and the environment's position. */
export interface PlanContext {
  readonly probe: HostProbe;
  /** Position of the environment in the stack (port blocks, MACs). */
  readonly index: number;
}

export interface KindModule<K extends KindName, O extends KindOptions<K>, S> {
  readonly kind: K;
  /** One line: what an environment of this kind is. */
  readonly title: string;
  /** The kind's presets (the study's configurations and those that follow): name -> options. */
  readonly presets: Readonly<Record<string, O>>;
  /**
   * Its presets are in a stack that lists no environments (the study's kinds); a kind beyond the study
   * (it may create a user, register a runtime) is only run when a stack names it.
   */
  readonly inDefaultStack: boolean;
  /** The options a custom environment may set on top of a preset (every field optional). */
  readonly optionsSchema: z.ZodObject;
  /** Images the kind's environments are made from (built once per stack, shared between kinds by id). */
  images?(x: Experiment): ImagePlan[];
  /** One environment's plan. Pure. */
  plan(x: Experiment, def: EnvironmentDef, ctx: PlanContext): EnvironmentPlan<S>;
  /**
   * Other environments of the stack this one is also compared with in the report, beside native (the
   * same container on runc for gVisor; the guest alone and the container on bare metal for a container
   * in a guest). Default: none.
   */
  references?(x: Experiment, def: EnvironmentDef): string[];
  /** e2e: the steps that bring the planned environment up and tear it down (what `component` does, as commands). */
  steps(plan: EnvironmentPlan<S>): Step[];
  readonly preflight: KindPreflight;
  /** The kind's Pulumi component, loaded on demand. */
  component(): Promise<KindComponent<S>>;
}
