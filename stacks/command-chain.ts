/**
 * The one way command resources are made: a list of CommandSpecs as `command` resources run one after
 * another, `local.Command` here (bash) or `remote.Command` on an SSH host (bash started explicitly, the
 * host key pinned). Every component (host preparation, images, environments, facts, trials) builds its
 * children with `chainCommands`; `CommandChain` is the component for a bare list.
 *
 * Order: each child depends on the one before it, and its triggers start with that child's URN (for the
 * first: the URN of the first resource it comes after, or "first"), so the mocks (which drop dependsOn)
 * see the order. A URN, unlike an id, survives a
 * replacement: re-running one step (a failed trial) does not re-run the ones after it; a step that must
 * follow a change says so in its own triggers (a domain's carry its disk's content hash).
 */
import * as pulumi from "@pulumi/pulumi";
import { local, remote } from "@pulumi/command";
import type { CommandSpec, HostAddress } from "./experiment.ts";
import { remoteConnection } from "./host-address.ts";
import { shq } from "../lib/shell.ts";

/** Inputs of one command child, as sent to the resource (the mock tests compare against these). Pure. */
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

/** The command children of a spec list, for a host reached as `address`. Pure. */
export function commandArgs(commands: readonly CommandSpec[], address: HostAddress): CommandChildArgs[] {
  return commands.map((c) => {
    const remoteHost = c.on === "host" && address.kind === "ssh";
    if (!remoteHost) {
      return { role: c.role, via: "local", create: c.create, ...(c.delete ? { delete: c.delete } : {}), triggers: [...(c.triggers ?? [])], interpreter: ["/bin/bash", "-c"] };
    }
    return { role: c.role, via: "remote", create: remoteBash(c.create), ...(c.delete ? { delete: remoteBash(c.delete) } : {}), triggers: [...(c.triggers ?? [])] };
  });
}

/** Where a chain's commands run and with what. */
export interface ChainContext {
  /** How "host" steps reach the host; "local" steps always run here. */
  readonly address: HostAddress;
  /** The SSH host's private key text (a secret). Default: its key file, read and marked secret. */
  readonly privateKey?: pulumi.Input<string>;
  /** Working directory of local steps (the project root). Default: the program's. */
  readonly dir?: string;
}

/**
 * The children of `parent` named `${name}-${role}`, one per spec, in order; the first waits for `after`.
 * Returns them in order (the last one is what "after the whole chain" depends on).
 */
export function chainCommands(
  name: string, commands: readonly CommandSpec[], ctx: ChainContext,
  opts: { parent: pulumi.Resource; after?: readonly pulumi.Resource[] },
): (local.Command | remote.Command)[] {
  const out: (local.Command | remote.Command)[] = [];
  let previous: local.Command | remote.Command | undefined;
  for (const child of commandArgs(commands, ctx.address)) {
    const triggers = [previous ? previous.urn : (opts.after?.[0]?.urn ?? "first"), ...child.triggers];
    const o: pulumi.CustomResourceOptions = { parent: opts.parent, dependsOn: previous ? [previous] : [...(opts.after ?? [])] };
    if (child.via === "local") {
      previous = new local.Command(`${name}-${child.role}`, {
        create: child.create, delete: child.delete, triggers, interpreter: [...child.interpreter!], ...(ctx.dir ? { dir: ctx.dir } : {}),
      }, o);
    } else {
      if (ctx.address.kind !== "ssh") throw new Error(`${name}-${child.role}: a remote command for a local host`);
      previous = new remote.Command(`${name}-${child.role}`, {
        connection: remoteConnection(ctx.address, ctx.privateKey, pulumi.secret), create: child.create, delete: child.delete, triggers,
      }, o);
    }
    out.push(previous);
  }
  return out;
}

export interface CommandChainArgs extends ChainContext {
  /** The steps, in order; delete scripts run in reverse on `pulumi destroy`. Required. */
  readonly commands: readonly CommandSpec[];
  /** What the first step waits for. Default: nothing. */
  readonly after?: readonly pulumi.Resource[];
}

/** `virtperf:stacks:CommandChain`: a bare list of commands (image builds, facts, an environment's own steps). */
export class CommandChain extends pulumi.ComponentResource {
  /** The steps' resources, in order. */
  public readonly steps: (local.Command | remote.Command)[];
  /** The last step (or undefined for an empty chain): depend on it to come after the whole chain. */
  public readonly last: local.Command | remote.Command | undefined;

  constructor(name: string, args: CommandChainArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("virtperf:stacks:CommandChain", name, {}, opts);
    this.steps = chainCommands(name, args.commands, args, { parent: this, ...(args.after ? { after: args.after } : {}) });
    this.last = this.steps[this.steps.length - 1];
    this.registerOutputs({});
  }
}
