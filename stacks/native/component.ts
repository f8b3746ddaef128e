/**
 * The native environment as a Pulumi component, thin: host preparation (packages, directories, the
 * cgroup that limits native like the containers) as `command` resources, `local.Command` for a local
 * host and `remote.Command` over SSH, then the host's facts as one more command whose stdout is the
 * facts JSON. The scripts are the plan's (native-spec.ts), the same ones e2e runs here.
 */
import * as pulumi from "@pulumi/pulumi";
import type { local, remote } from "@pulumi/command";
import type { HostAddress } from "../experiment.ts";
import type { EnvironmentPlan } from "../plan.ts";
import { commandArgs } from "../kvm/component.ts";
import { commandChild } from "../docker/component.ts";

export interface NativeHostArgs {
  /** Native's plan from `planNative(x, def, allPackages())`. Required. */
  readonly plan: EnvironmentPlan;
  /** How the host is reached: `local`, or SSH (then every script runs there). Required. */
  readonly address: HostAddress;
  /** Private key text for an SSH host (a Pulumi secret). Default for an SSH host: the file `address.privateKeyFile`. */
  readonly privateKey?: pulumi.Input<string>;
  /** Run the plan's facts script as a child `${name}-facts` and expose its JSON. Default: true. */
  readonly collectFacts?: boolean;
  /**
   * A resource the first command comes after (its id in that command's triggers): the key file's, so
   * `pulumi destroy` removes the key only after everything that connects with it. Default: none.
   */
  readonly after?: pulumi.CustomResource;
}

export class NativeHost extends pulumi.ComponentResource {
  /** The runner's target as JSON (local with the cgroup/taskset wrapper, or ssh). */
  public readonly target: pulumi.Output<string>;
  /** The host's facts JSON (CPU, topology, NUMA, kernel, governor, /dev/kvm, memory, native's limits); "" when not collected. */
  public readonly facts: pulumi.Output<string>;
  /** The last preparation command, for resources that must wait for the host (images, environments). */
  public readonly ready: pulumi.Output<string>;

  constructor(name: string, args: NativeHostArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("virtperf:stacks:NativeHost", name, {}, opts);
    if (args.plan.def.options.kind !== "native") throw new Error(`NativeHost ${name}: plan is ${args.plan.def.options.kind}, not native`);
    const collect = args.collectFacts ?? true;
    const specs = collect
      ? [...args.plan.commands, { role: "facts", on: "host" as const, create: args.plan.facts, triggers: [] }]
      : args.plan.commands;
    let previous: local.Command | remote.Command | undefined;
    let prepared: local.Command | remote.Command | undefined;
    for (const child of commandArgs(specs, args.address)) {
      previous = commandChild(name, child, args.address, previous ?? args.after, args.privateKey, { parent: this });
      if (child.role !== "facts") prepared = previous;
    }
    this.target = pulumi.output(JSON.stringify(args.plan.target));
    this.facts = collect && previous ? previous.stdout : pulumi.output("");
    this.ready = prepared ? prepared.id : pulumi.output("");
    this.registerOutputs({ target: this.target, facts: this.facts, ready: this.ready });
  }
}
