/**
 * Docker environments as Pulumi components, thin: they map the planner's specs (docker-spec.ts) onto
 * resources and add nothing of their own.
 *
 * - `DockerImage`: the tools image. A `command` resource per build command of the plan (base import,
 *   then the classic-builder build), NOT `docker.Image`: with no registry the base is a locally imported
 *   `virtperf/debian:<suite>`, Debian bookworm has no buildx, and the build must be the very command e2e
 *   and the integration test run here (`DOCKER_BUILDKIT=0 docker build`, reused when the content-hashed
 *   tag exists). `pulumi destroy` removes the tag (and the imported base) by their delete scripts.
 * - `DockerEnvironment`: one container (+ its volume and the volume's host directory) per Docker
 *   environment, via `docker.Container`/`docker.Volume` args from `dockerContainerArgs`/`dockerVolumeArgs`,
 *   the pure mappings the mock tests compare with the spec.
 * - `dockerProviderArgs`: the daemon of the host: local socket, or `ssh://user@host:port` with the
 *   stack's key and the host's pinned key (lib/ssh.ts options as the provider's `sshOpts`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { HostAddress } from "../experiment.ts";
import { sshOptions } from "../../lib/ssh.ts";
import type { ContainerSpec, DockerEnvironmentPlan, DockerImagePlan, VolumeSpec } from "./spec.ts";
import { chainCommands } from "../command-chain.ts";
import type { KindComponent } from "../kind.ts";

const MiB = 2 ** 20;

/** docker.Container args of a spec (memory in MiB: the provider's "MB" are 2^20 bytes). Pure. */
export function dockerContainerArgs(spec: ContainerSpec) {
  if (spec.memoryBytes % MiB !== 0) throw new RangeError(`container ${spec.name}: memory ${spec.memoryBytes} B is not a whole number of MiB`);
  return {
    name: spec.name,
    image: spec.image,
    networkMode: spec.networkMode,
    ports: spec.ports.map((p) => ({ internal: p.port, external: p.port, ip: p.hostIp, protocol: p.protocol })),
    mounts: spec.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target })),
    cpuSet: spec.cpusetCpus,
    memory: spec.memoryBytes / MiB,
    memorySwap: spec.memoryBytes / MiB,
    shmSize: spec.shmBytes / MiB,
    labels: Object.entries(spec.labels).map(([label, value]) => ({ label, value })),
    command: [...spec.command],
    init: spec.init,
    ...(spec.runtime ? { runtime: spec.runtime } : {}),
    // Running, and never restarted behind the schedule's back.
    mustRun: true,
    restart: "no",
  };
}

/** docker.Volume args: a local-driver bind onto the spec's directory under ioDir. Pure. */
export function dockerVolumeArgs(v: VolumeSpec) {
  return {
    name: v.name,
    driver: "local",
    driverOpts: { type: "none", o: "bind", device: v.hostDir },
    labels: Object.entries(v.labels).map(([label, value]) => ({ label, value })),
  };
}

/**
 * docker.Provider args for the host: its local socket, or its daemon over SSH (`ssh://`), ssh run with
 * the stack's key and the host key pinned in the stack's known_hosts file. Pure.
 */
export function dockerProviderArgs(address: HostAddress): docker.ProviderArgs {
  if (address.kind === "local") return { host: "unix:///var/run/docker.sock" };
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return {
    host: `ssh://${address.user}@${host}:${address.port}`,
    sshOpts: sshOptions({ identityFile: address.privateKeyFile, knownHostsFile: address.knownHostsFile }),
  };
}

export interface DockerImageArgs {
  /** The image plan from `planDockerImage(x, allPackages())`: tag and build commands. Required. */
  readonly plan: Pick<DockerImagePlan, "tag" | "commands">;
  /** How the host is reached; the build runs where the daemon is. Required. */
  readonly address: HostAddress;
  /** Private key text for an SSH host (a Pulumi secret). Default for an SSH host: the file `address.privateKeyFile`, read and marked secret. Ignored when local. */
  readonly privateKey?: pulumi.Input<string>;
  /** Resources the first command waits for (host preparation). Default: none. */
  readonly dependsOn?: readonly pulumi.Resource[];
}

export class DockerImage extends pulumi.ComponentResource {
  /** `virtperf/tools:<hash>`, resolved only once the build command has run (containers depend on it). */
  public readonly tag: pulumi.Output<string>;

  constructor(name: string, args: DockerImageArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("virtperf:stacks:DockerImage", name, {}, opts);
    const previous = chainCommands(name, args.plan.commands, { address: args.address, ...(args.privateKey ? { privateKey: args.privateKey } : {}) },
      { parent: this, ...(args.dependsOn ? { after: args.dependsOn } : {}) }).pop();
    const tag = args.plan.tag;
    this.tag = previous ? previous.id.apply(() => tag) : pulumi.output(tag);
    this.registerOutputs({ tag: this.tag });
  }
}

export interface DockerEnvironmentArgs {
  /** The environment's plan from `planDocker(...)`: container spec, volume directory command, target. Required. */
  readonly plan: DockerEnvironmentPlan;
  /** How the host is reached (for the volume directory command). Required. */
  readonly address: HostAddress;
  /**
   * The Docker provider of the host. Default: the ambient provider (local socket) for a local host; for
   * an SSH host a child `${name}-provider` with `dockerProviderArgs(address)` (daemon over ssh://).
   */
  readonly provider?: docker.Provider;
  /** The tools image tag as an Output of `DockerImage.tag`, so the container waits for the build. Default: the spec's image. */
  readonly image?: pulumi.Input<string>;
  /** Private key text for an SSH host (a Pulumi secret). Default for an SSH host: the file `address.privateKeyFile`. */
  readonly privateKey?: pulumi.Input<string>;
  /** What the environment's first command waits for (the host preparation). Default: nothing. */
  readonly after?: readonly pulumi.Resource[];
}

export class DockerEnvironment extends pulumi.ComponentResource {
  /** Container name (`virtperf-<stack>-<environment>`). */
  public readonly containerName: pulumi.Output<string>;
  /** The runner's target as JSON (what `virtperf trial --target` takes). */
  public readonly target: pulumi.Output<string>;
  /** The volume's name, or "" for overlay storage. */
  public readonly volumeName: pulumi.Output<string>;

  constructor(name: string, args: DockerEnvironmentArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("virtperf:stacks:DockerEnvironment", name, {}, opts);
    const spec = args.plan.spec;
    const provider = args.provider ?? (args.address.kind === "ssh"
      ? new docker.Provider(`${name}-provider`, dockerProviderArgs(args.address), { parent: this })
      : undefined);
    const providerOpt = provider ? { provider } : {};
    const previous = chainCommands(name, args.plan.commands, { address: args.address, ...(args.privateKey ? { privateKey: args.privateKey } : {}) },
      { parent: this, ...(args.after ? { after: args.after } : {}) }).pop();
    const volume = spec.volume
      ? new docker.Volume(`${name}-volume`, dockerVolumeArgs(spec.volume), { parent: this, ...providerOpt, ...(previous ? { dependsOn: [previous] } : {}) })
      : undefined;
    const c = dockerContainerArgs(spec);
    const container = new docker.Container(`${name}-container`, {
      ...c,
      image: args.image ?? c.image,
      // The volume's name Output (not the plain string) makes the container wait for the volume.
      mounts: c.mounts.map((m) => ({ ...m, source: volume ? volume.name : m.source })),
    }, { parent: this, ...providerOpt });
    this.containerName = container.name;
    this.target = pulumi.output(JSON.stringify(args.plan.target));
    this.volumeName = volume ? volume.name : pulumi.output("");
    this.registerOutputs({ containerName: this.containerName, target: this.target, volumeName: this.volumeName });
  }
}

/** Docker's Pulumi side: one DockerEnvironment per environment, its container waiting for the tools image. */
export const dockerComponent: KindComponent<ContainerSpec> = {
  resources: (name, plan, ctx) => {
    const image = ctx.images.get("docker-tools")?.tag;
    return [new DockerEnvironment(name, {
      plan, address: ctx.address, after: [ctx.host], ...(image ? { image } : {}), ...(ctx.privateKey ? { privateKey: ctx.privateKey } : {}),
    })];
  },
};
