/**
 * `virtperf:stacks:CommandChain`: a list of CommandSpecs as command resources run one after another
 * (host preparation, image builds, facts). Each child carries the previous child's URN in its
 * triggers so mocks can see the order (they drop dependsOn); a URN, unlike an id, survives a
 * replacement, so re-running one step does not re-run the rest.
 */
import * as pulumi from "@pulumi/pulumi";
import { local, remote } from "@pulumi/command";
import type { CommandSpec, HostAddress } from "./experiment.ts";
import { commandArgs } from "./kvm/component.ts";

export interface CommandChainArgs {
  /** The steps, in order; delete scripts run in reverse on `pulumi destroy`. */
  readonly commands: readonly CommandSpec[];
  /** How "host" steps reach the host; "local" steps always run here. */
  readonly address: HostAddress;
  /** Working directory of local steps (the project root). */
  readonly dir: string;
  /** SSH connection for remote steps (private key as a secret); required when address is ssh. */
  readonly connection?: pulumi.Input<{ host: string; user: string; port: number; privateKey: pulumi.Input<string>; hostKey: string }>;
  /** What the first step waits for. Default: nothing. */
  readonly after?: readonly pulumi.Resource[];
}

export class CommandChain extends pulumi.ComponentResource {
  /** The steps' resources, in order. */
  public readonly steps: pulumi.CustomResource[] = [];
  /** The last step (or undefined for an empty chain): depend on it to come after the whole chain. */
  public readonly last: pulumi.CustomResource | undefined;

  constructor(name: string, args: CommandChainArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("virtperf:stacks:CommandChain", name, {}, opts);
    let previous: pulumi.CustomResource | undefined;
    for (const child of commandArgs(args.commands, args.address)) {
      const triggers = [...child.triggers, ...(previous ? [previous.urn] : [])];
      const o: pulumi.CustomResourceOptions = { parent: this, dependsOn: previous ? [previous] : [...(args.after ?? [])] };
      previous = child.via === "local"
        ? new local.Command(`${name}-${child.role}`, { create: child.create, delete: child.delete, triggers, interpreter: [...child.interpreter!], dir: args.dir }, o)
        : new remote.Command(`${name}-${child.role}`, { connection: args.connection!, create: child.create, delete: child.delete, triggers }, o);
      this.steps.push(previous);
    }
    this.last = previous;
    this.registerOutputs({});
  }
}
