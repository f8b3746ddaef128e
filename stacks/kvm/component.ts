/**
 * The KVM guest as a Pulumi component: a thin mapping of the guest's plan (plan.ts) onto command
 * resources (command-chain.ts), `local.Command` for a local host, `remote.Command` over SSH otherwise.
 * Children are `${name}-disk`, `${name}-hugepages` (tuned presets) and `${name}-domain`, created in that
 * order; `pulumi destroy` runs their delete scripts in reverse (domain destroyed and undefined,
 * hugepages released, disk removed).
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostAddress } from "../experiment.ts";
import type { EnvironmentPlan } from "../plan.ts";
import type { KindComponent } from "../kind.ts";
import { chainCommands, commandArgs, type CommandChildArgs } from "../command-chain.ts";
import type { DomainSpec } from "./domain.ts";

/** The KvmGuest's children: its plan's commands (disk, hugepages, domain). Pure. */
export function kvmCommandArgs(plan: EnvironmentPlan<DomainSpec>, address: HostAddress): CommandChildArgs[] {
  if (plan.kind !== "kvm") throw new Error(`kvmCommandArgs: environment ${plan.def.name} is ${plan.kind}, not kvm`);
  return commandArgs(plan.commands, address);
}

export interface KvmGuestArgs {
  /** The guest's plan from `planKvm` (domain XML, scripts, target). Required. */
  readonly plan: EnvironmentPlan<DomainSpec>;
  /** How the host is reached; `local` runs the scripts here. Required. */
  readonly address: HostAddress;
  /**
   * Private key text for an SSH host (a Pulumi secret). Default: the file `address.privateKeyFile`,
   * read when the program runs and marked secret. Ignored for a local host.
   */
  readonly privateKey?: pulumi.Input<string>;
  /** Resources the first child waits for (the guest image command). Default: none. */
  readonly dependsOn?: readonly pulumi.Resource[];
}

export class KvmGuest extends pulumi.ComponentResource {
  /** libvirt domain name. */
  public readonly domain: pulumi.Output<string>;
  /** "kvm" or "tcg". */
  public readonly acceleration: pulumi.Output<string>;
  /** The runner's target, as JSON (what the trial's environment description carries). */
  public readonly target: pulumi.Output<string>;
  /** What the domain script printed (address and boot time). */
  public readonly bootLog: pulumi.Output<string>;

  constructor(name: string, args: KvmGuestArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("virtperf:stacks:KvmGuest", name, {}, opts);
    if (args.plan.kind !== "kvm") throw new Error(`KvmGuest ${name}: plan is ${args.plan.kind}, not kvm`);
    const last = chainCommands(name, args.plan.commands, { address: args.address, ...(args.privateKey ? { privateKey: args.privateKey } : {}) },
      { parent: this, ...(args.dependsOn ? { after: args.dependsOn } : {}) }).pop();
    const target = args.plan.target;
    if (target.kind !== "guest") throw new Error(`KvmGuest ${name}: plan target is ${target.kind}, not guest`);
    this.domain = pulumi.output(target.domain);
    this.acceleration = pulumi.output(args.plan.acceleration);
    this.target = pulumi.output(JSON.stringify(target));
    this.bootLog = last ? last.stdout : pulumi.output("");
    this.registerOutputs({ domain: this.domain, acceleration: this.acceleration, target: this.target, bootLog: this.bootLog });
  }
}

/** KVM's Pulumi side: one KvmGuest per environment, after the guest image. */
export const kvmComponent: KindComponent<DomainSpec> = {
  resources: (name, plan, ctx) => {
    const image = ctx.images.get("guest-image")?.resource;
    return [new KvmGuest(name, { plan, address: ctx.address, dependsOn: [image ?? ctx.host], ...(ctx.privateKey ? { privateKey: ctx.privateKey } : {}) })];
  },
};
