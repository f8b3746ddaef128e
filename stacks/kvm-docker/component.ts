/**
 * A container inside a KVM guest as a Pulumi component: a thin mapping of the plan's commands (plan.ts)
 * onto command resources (command-chain.ts), as the KvmGuest's. Children, in order: `${name}-disk`,
 * `${name}-hugepages` (tuned guests), `${name}-domain`, `${name}-container`; `pulumi destroy` runs their
 * delete scripts in reverse (the container removed while the guest is up, the domain destroyed and
 * undefined, hugepages released, the disk removed).
 *
 * The container is a command over the guest's SSH, not a `docker.Container`: the provider would need
 * the guest's DHCP address and its pinned key under the domain's name before the guest exists, and
 * e2e must run the very same bring-up (see plan.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostAddress } from "../experiment.ts";
import type { EnvironmentPlan } from "../plan.ts";
import type { KindComponent } from "../kind.ts";
import { chainCommands, commandArgs, type CommandChildArgs } from "../command-chain.ts";
import type { KvmDockerSpec } from "./plan.ts";
import { GUEST_DOCKER_IMAGE } from "./image.ts";

/** The component's children: its plan's commands (disk, hugepages, domain, container). Pure. */
export function kvmDockerCommandArgs(plan: EnvironmentPlan<KvmDockerSpec>, address: HostAddress): CommandChildArgs[] {
  if (plan.kind !== "kvm-docker") throw new Error(`kvmDockerCommandArgs: environment ${plan.def.name} is ${plan.kind}, not kvm-docker`);
  return commandArgs(plan.commands, address);
}

export interface KvmDockerGuestArgs {
  /** The environment's plan from `planKvmDocker` (domain XML, scripts, container, target). Required. */
  readonly plan: EnvironmentPlan<KvmDockerSpec>;
  /** How the host is reached; `local` runs the scripts here. Required. */
  readonly address: HostAddress;
  /** Private key text for an SSH host (a Pulumi secret). Default: the file `address.privateKeyFile`. Ignored for a local host. */
  readonly privateKey?: pulumi.Input<string>;
  /** Resources the first child waits for (the guest image with Docker). Default: none. */
  readonly dependsOn?: readonly pulumi.Resource[];
}

export class KvmDockerGuest extends pulumi.ComponentResource {
  /** libvirt domain name. */
  public readonly domain: pulumi.Output<string>;
  /** Container name inside the guest. */
  public readonly containerName: pulumi.Output<string>;
  /** "kvm" or "tcg". */
  public readonly acceleration: pulumi.Output<string>;
  /** The runner's target, as JSON (a container reached through the guest). */
  public readonly target: pulumi.Output<string>;
  /** What the container step printed (dockerd's wait, the image load, the container). */
  public readonly bootLog: pulumi.Output<string>;

  constructor(name: string, args: KvmDockerGuestArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("virtperf:stacks:KvmDockerGuest", name, {}, opts);
    if (args.plan.kind !== "kvm-docker") throw new Error(`KvmDockerGuest ${name}: plan is ${args.plan.kind}, not kvm-docker`);
    const last = chainCommands(name, args.plan.commands, { address: args.address, ...(args.privateKey ? { privateKey: args.privateKey } : {}) },
      { parent: this, ...(args.dependsOn ? { after: args.dependsOn } : {}) }).pop();
    this.domain = pulumi.output(args.plan.spec.guest.name);
    this.containerName = pulumi.output(args.plan.spec.container.name);
    this.acceleration = pulumi.output(args.plan.acceleration);
    this.target = pulumi.output(JSON.stringify(args.plan.target));
    this.bootLog = last ? last.stdout : pulumi.output("");
    this.registerOutputs({ domain: this.domain, containerName: this.containerName, acceleration: this.acceleration, target: this.target, bootLog: this.bootLog });
  }
}

/** The kind's Pulumi side: one KvmDockerGuest per environment, after the guest image with Docker. */
export const kvmDockerComponent: KindComponent<KvmDockerSpec> = {
  resources: (name, plan, ctx) => {
    const image = ctx.images.get(GUEST_DOCKER_IMAGE)?.resource;
    return [new KvmDockerGuest(name, { plan, address: ctx.address, dependsOn: [image ?? ctx.host], ...(ctx.privateKey ? { privateKey: ctx.privateKey } : {}) })];
  },
};
