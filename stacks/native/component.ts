/**
 * Native as Pulumi resources, thin. `NativeHost`: the host preparation (packages, directories, the
 * cgroup that limits native like the containers), the first thing every stack creates whether or not
 * native is measured; its facts optionally as one more command whose stdout is the facts JSON.
 * `nativeComponent`: a native environment with commands of its own (an A/A copy's cgroup and
 * directories) as a command chain after the host. The scripts are the plan's (spec.ts), as e2e runs them.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostAddress } from "../experiment.ts";
import type { EnvironmentPlan } from "../plan.ts";
import type { KindComponent } from "../kind.ts";
import { chainCommands, CommandChain } from "../command-chain.ts";
import type { NativePaths } from "./spec.ts";

export interface NativeHostArgs {
  /** Native's plan from `planNative(x, def, allPackages())`. Required. */
  readonly plan: EnvironmentPlan<NativePaths>;
  /** How the host is reached: `local`, or SSH (then every script runs there). Required. */
  readonly address: HostAddress;
  /** Private key text for an SSH host (a Pulumi secret). Default for an SSH host: the file `address.privateKeyFile`. */
  readonly privateKey?: pulumi.Input<string>;
  /** Run the plan's facts script as a child `${name}-facts` and expose its JSON. Default: true. */
  readonly collectFacts?: boolean;
  /**
   * A resource the first command comes after: the key file's, so `pulumi destroy` removes the key only
   * after everything that connects with it. Default: none.
   */
  readonly after?: pulumi.Resource;
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
    if (args.plan.kind !== "native") throw new Error(`NativeHost ${name}: plan is ${args.plan.kind}, not native`);
    const collect = args.collectFacts ?? true;
    const specs = collect ? [...args.plan.commands, { role: "facts", on: "host" as const, create: args.plan.facts, triggers: [] }] : args.plan.commands;
    const children = chainCommands(name, specs, { address: args.address, ...(args.privateKey ? { privateKey: args.privateKey } : {}) },
      { parent: this, ...(args.after ? { after: [args.after] } : {}) });
    const prepared = children[collect ? children.length - 2 : children.length - 1];
    this.target = pulumi.output(JSON.stringify(args.plan.target));
    this.facts = collect && children.length ? children[children.length - 1]!.stdout : pulumi.output("");
    this.ready = prepared ? prepared.id : pulumi.output("");
    this.registerOutputs({ target: this.target, facts: this.facts, ready: this.ready });
  }
}

export const nativeComponent: KindComponent<NativePaths> = {
  resources: (name, plan, ctx) => plan.commands.length
    ? [new CommandChain(name, { commands: plan.commands, address: ctx.address, ...(ctx.privateKey ? { privateKey: ctx.privateKey } : {}), after: [ctx.host] })]
    : [],
};
