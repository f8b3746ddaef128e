/**
 * The KVM guest as a Pulumi component: a thin mapping of the guest's EnvironmentPlan (stacks/kvm-plan.ts)
 * onto `@pulumi/command` resources, `local.Command` for a local host, `remote.Command` over SSH
 * otherwise. Children are `${name}-disk`, `${name}-hugepages` (tuned presets) and `${name}-domain`,
 * created in that order; `pulumi destroy` runs their delete scripts in reverse (domain destroyed and
 * undefined, hugepages released, disk removed).
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { local, remote } from "@pulumi/command";
import type { CommandSpec, HostAddress } from "../experiment.ts";
import type { EnvironmentPlan } from "../plan.ts";
import { shq } from "../../lib/shell.ts";

/** Inputs of one command child, as sent to the resource (the mock tests compare against these). */
export interface CommandChildArgs {
  /** Child name suffix: the CommandSpec's role. */
  readonly role: string;
  /** "local": `local.Command` run by bash; "remote": `remote.Command` over SSH, bash started explicitly. */
  readonly via: "local" | "remote";
  readonly create: string;
  readonly delete?: string;
  readonly triggers: readonly string[];
  /** Interpreter of `local.Command` (bash: the scripts use bash syntax). */
  readonly interpreter?: readonly string[];
}

/** Wraps a bash script for a remote login shell that may not be bash. */
function remoteBash(script: string): string {
  return `bash -c ${shq(script)}`;
}

/** The command children of one command spec list, for a host reached as `address`. Pure. */
export function commandArgs(commands: readonly CommandSpec[], address: HostAddress): CommandChildArgs[] {
  return commands.map((c) => {
    const remoteHost = c.on === "host" && address.kind === "ssh";
    if (!remoteHost) {
      return { role: c.role, via: "local", create: c.create, ...(c.delete ? { delete: c.delete } : {}), triggers: [...(c.triggers ?? [])], interpreter: ["/bin/bash", "-c"] };
    }
    return { role: c.role, via: "remote", create: remoteBash(c.create), ...(c.delete ? { delete: remoteBash(c.delete) } : {}), triggers: [...(c.triggers ?? [])] };
  });
}

/** The KvmGuest's children: its plan's commands (disk, hugepages, domain). Pure. */
export function kvmCommandArgs(plan: EnvironmentPlan, address: HostAddress): CommandChildArgs[] {
  if (plan.def.options.kind !== "kvm") throw new Error(`kvmCommandArgs: environment ${plan.def.name} is ${plan.def.options.kind}, not kvm`);
  return commandArgs(plan.commands, address);
}

export interface KvmGuestArgs {
  /** The guest's plan from `planKvm` (domain XML, scripts, target). Required. */
  readonly plan: EnvironmentPlan;
  /** How the host is reached; `local` runs the scripts here. Required. */
  readonly address: HostAddress;
  /**
   * Private key text for an SSH host (a Pulumi secret). Default: the file `address.privateKeyFile`,
   * read when the program runs and marked secret. Ignored for a local host.
   */
  readonly privateKey?: pulumi.Input<string>;
  /** Resources the first child waits for (the guest image command). Default: none. */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

function connectionOf(address: HostAddress & { kind: "ssh" }, privateKey: pulumi.Input<string> | undefined) {
  return {
    host: address.host, user: address.user, port: address.port,
    privateKey: privateKey ?? pulumi.secret(readFileSync(address.privateKeyFile, "utf8")),
    hostKey: address.hostPublicKey,
  };
}

export class KvmGuest extends pulumi.ComponentResource {
  /** libvirt domain name. */
  public readonly domain: pulumi.Output<string>;
  /** "kvm" or "tcg". */
  public readonly acceleration: pulumi.Output<string>;
  /** The runner's target, as JSON (what `virtperf trial --target` takes). */
  public readonly target: pulumi.Output<string>;
  /** What the domain script printed (address and boot time). */
  public readonly bootLog: pulumi.Output<string>;

  constructor(name: string, args: KvmGuestArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("virtperf:stacks:KvmGuest", name, {}, opts);
    const children = kvmCommandArgs(args.plan, args.address);
    let previous: local.Command | remote.Command | undefined;
    for (const child of children) {
      // Mocks drop dependsOn: the previous child's id in the triggers makes the order visible (and a
      // replaced disk re-creates the domain on it).
      const triggers = previous ? [...child.triggers, previous.id] : [...child.triggers];
      const childOpts: pulumi.CustomResourceOptions = { parent: this, dependsOn: previous ? [previous] : args.dependsOn ?? [] };
      previous = child.via === "local"
        ? new local.Command(`${name}-${child.role}`, { create: child.create, delete: child.delete, triggers, interpreter: [...child.interpreter!] }, childOpts)
        : new remote.Command(`${name}-${child.role}`, {
          connection: connectionOf(args.address as HostAddress & { kind: "ssh" }, args.privateKey),
          create: child.create, delete: child.delete, triggers,
        }, childOpts);
    }
    const target = args.plan.target;
    if (target.kind !== "guest") throw new Error(`KvmGuest ${name}: plan target is ${target.kind}, not guest`);
    this.domain = pulumi.output(target.domain);
    this.acceleration = pulumi.output(args.plan.acceleration);
    this.target = pulumi.output(JSON.stringify(target));
    this.bootLog = previous ? previous.stdout : pulumi.output("");
    this.registerOutputs({ domain: this.domain, acceleration: this.acceleration, target: this.target, bootLog: this.bootLog });
  }
}
