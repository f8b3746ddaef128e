/**
 * Docker environments as plain data (no Pulumi): the tools image's build commands, one ContainerSpec
 * per Docker environment, and the `docker` argv that realizes a spec. The Pulumi component
 * (docker.ts) maps the SAME spec onto docker.Container/docker.Volume args (dockerContainerArgs);
 * e2e and the integration test run renderDockerRun/renderVolumeCreate. What runs here is what
 * `pulumi up` would do.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { DockerOptions } from "./options.ts";
import type { CommandSpec, EnvironmentDef, Experiment } from "../experiment.ts";
import type { EnvironmentPlan, Step } from "../plan.ts";
import { BASH_JSON_STRING, heredoc, shJoin, shq } from "../../lib/shell.ts";
import { hostSshTarget } from "../host-address.ts";

export const DOCKERFILE_PATH = new URL("./Dockerfile", import.meta.url);
/** Inside every container: workload data (overlay or volume, per the preset) and per-trial workdirs. */
export const CONTAINER_DATA_DIR = "/data";
export const CONTAINER_WORK_ROOT = "/work";
export const LABEL_STACK = "virtperf.stack";
export const LABEL_ENVIRONMENT = "virtperf.environment";

/** `virtperf-<stack>-<environment>`: container, volume, domain and resource names (envs.md, Names). */
export function objectName(stack: string, environment: string): string {
  return `virtperf-${stack}-${environment}`;
}

/** Four fixed server ports per environment: 21000 + 10*index ... +3 (envs.md, Port blocks). */
export function portBlock(index: number): number[] {
  return [0, 1, 2, 3].map((k) => 21000 + 10 * index + k);
}

export interface PublishedPort {
  /** Same number inside and on the host (1:1). */
  readonly port: number;
  readonly protocol: "tcp" | "udp";
  /** Host address it is published on: 127.0.0.1 when clients run on the host, 0.0.0.0 for a second machine. */
  readonly hostIp: string;
}

export interface VolumeSpec {
  readonly name: string;
  /**
   * The volume is a local-driver bind onto this directory under ioDir, so volume-backed environments
   * do their I/O on the same disk as native (the paper's volume is a host directory, not overlay).
   */
  readonly hostDir: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly networkMode: "bridge" | "host";
  /** Published 1:1 (tcp and udp) for bridge; empty for host networking, which needs none. */
  readonly ports: readonly PublishedPort[];
  /** Volume mounts; empty for storage=overlay (then /data is a directory of the container's overlay). */
  readonly mounts: readonly { readonly type: "volume"; readonly source: string; readonly target: string }[];
  /** The volume to create before the container (storage=volume), else undefined. */
  readonly volume?: VolumeSpec;
  /** cpuset syntax, the stack's CPU set. */
  readonly cpusetCpus: string;
  /** Hard memory limit, bytes; swap is capped at the same value (no swap beyond it, like a guest). */
  readonly memoryBytes: number;
  /**
   * Size of /dev/shm, bytes: half the memory, as a guest's tmpfs gets by default (Docker's own default,
   * 64 MiB, would be a difference of its own: MPI and databases use shared memory).
   */
  readonly shmBytes: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Keeps the container alive; workloads run in it with `docker exec`. */
  readonly command: readonly string[];
  /** tini as PID 1, so servers the runner backgrounds are reaped. */
  readonly init: true;
  /** The OCI runtime dockerd runs it with (`--runtime`, a name in daemon.json: gVisor's runsc-*); absent: the daemon's default (runc). */
  readonly runtime?: string;
}

/** A Docker environment's plan: its spec is the container. */
export type DockerEnvironmentPlan = EnvironmentPlan<ContainerSpec>;

export interface DockerImagePlan {
  /** `virtperf/tools:<12 hex of the content hash>`. */
  readonly tag: string;
  /** The base as configured (x.dockerBaseImage). */
  readonly baseImage: string;
  /** Base import (only for debian:<suite>; a no-op when the base is present) then the tools build. */
  readonly commands: readonly CommandSpec[];
}

/** What a container is made of: Docker's options (kinds that run a Docker container pass their own). */
export type ContainerOptions = Pick<DockerOptions, "network" | "storage">;

function dockerOptions(env: EnvironmentDef): DockerOptions {
  if (env.options.kind !== "docker") throw new TypeError(`planDocker: environment "${env.name}" is ${env.options.kind}, not docker`);
  return env.options as DockerOptions;
}

/**
 * The container spec of one Docker environment (index = its position in the stack, for the port block);
 * another kind whose environment is a Docker container (gvisor) passes its network and storage options.
 */
export function containerSpec(x: Experiment, env: EnvironmentDef, index: number, image: string, o: ContainerOptions = dockerOptions(env)): ContainerSpec {
  const name = objectName(x.stack, env.name);
  const labels = { [LABEL_STACK]: x.stack, [LABEL_ENVIRONMENT]: env.name };
  const hostIp = x.client.kind === "host" ? "127.0.0.1" : "0.0.0.0";
  const ports = o.network === "bridge"
    ? portBlock(index).flatMap((port) => (["tcp", "udp"] as const).map((protocol) => ({ port, protocol, hostIp })))
    : [];
  const volume = o.storage === "volume" ? { name, hostDir: `${x.host.ioDir}/docker-volumes/${x.stack}-${env.name}`, labels } : undefined;
  return {
    name, image, networkMode: o.network, ports,
    mounts: volume ? [{ type: "volume", source: volume.name, target: CONTAINER_DATA_DIR }] : [],
    ...(volume ? { volume } : {}),
    cpusetCpus: x.host.cpuset,
    memoryBytes: x.host.memoryMiB * 2 ** 20,
    shmBytes: Math.floor(x.host.memoryMiB / 2) * 2 ** 20,
    labels, command: ["sleep", "infinity"], init: true,
  };
}

/**
 * EnvironmentPlan of one Docker environment; `imageTag` comes from planDockerImage(x, packages).tag. A kind
 * whose environment is a Docker container passes its own spec (containerSpec with its options).
 */
export function planDocker(x: Experiment, env: EnvironmentDef, index: number, imageTag: string, container: ContainerSpec = containerSpec(x, env, index, imageTag)): DockerEnvironmentPlan {
  const commands: CommandSpec[] = container.volume
    ? [{
        role: "volume-dir", on: "host",
        create: `mkdir -p ${shq(container.volume.hostDir)}`,
        delete: `rm -rf ${shq(container.volume.hostDir)}`,
        triggers: [container.volume.hostDir],
      }]
    : [];
  return {
    kind: "docker", def: env, acceleration: "none",
    // On an SSH host the runner uses the daemon where it runs: `docker exec` there, over the host's pinned SSH.
    target: { kind: "docker", container: container.name, ...(x.host.address.kind === "ssh" ? { via: hostSshTarget(x.host.address) } : {}) },
    ports: portBlock(index),
    dataDir: CONTAINER_DATA_DIR, workRoot: CONTAINER_WORK_ROOT,
    shape: { cpus: x.host.cpus, memoryMiB: x.host.memoryMiB },
    commands, spec: container,
    facts: dockerFactsScript(container),
  };
}

function labelArgs(labels: Readonly<Record<string, string>>): string[] {
  return Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
}

/** `docker volume create` argv for a spec's volume (run before renderDockerRun). */
export function renderVolumeCreate(v: VolumeSpec): string[] {
  return ["docker", "volume", "create", "--driver", "local", ...labelArgs(v.labels),
    "--opt", "type=none", "--opt", "o=bind", "--opt", `device=${v.hostDir}`, v.name];
}

/** `docker run` argv that realizes a ContainerSpec (detached). */
export function renderDockerRun(spec: ContainerSpec): string[] {
  return [
    "docker", "run", "--detach", "--name", spec.name, ...labelArgs(spec.labels),
    ...(spec.init ? ["--init"] : []),
    ...(spec.runtime ? ["--runtime", spec.runtime] : []),
    "--network", spec.networkMode,
    ...spec.ports.flatMap((p) => ["--publish", `${p.hostIp}:${p.port}:${p.port}/${p.protocol}`]),
    ...spec.mounts.flatMap((m) => ["--mount", `type=${m.type},source=${m.source},target=${m.target}`]),
    "--cpuset-cpus", spec.cpusetCpus,
    "--memory", `${spec.memoryBytes}b`, "--memory-swap", `${spec.memoryBytes}b`, "--shm-size", `${spec.shmBytes}b`,
    spec.image, ...spec.command,
  ];
}

/** Teardown argv lists, in order: the container, then its volume. Both succeed when already gone. */
export function renderDockerRemove(spec: ContainerSpec): string[][] {
  return [
    ["docker", "rm", "--force", "--volumes", spec.name],
    ...(spec.volume ? [["docker", "volume", "rm", "--force", spec.volume.name]] : []),
  ];
}

function readDockerfile(): string {
  return readFileSync(DOCKERFILE_PATH, "utf8");
}

/**
 * The tools image: tag = hash of (Dockerfile text, sorted package list, base image name), so a changed
 * Dockerfile or workload package set builds a new image and an unchanged one is reused.
 */
export function planDockerImage(x: Experiment, packages: readonly string[], dockerfile: string = readDockerfile()): DockerImagePlan {
  const pkgs = [...new Set(packages)].sort();
  if (pkgs.length === 0) throw new TypeError("planDockerImage: empty package list (expected the union from workloads/registry.ts)");
  const hash = createHash("sha256").update(JSON.stringify({ dockerfile, pkgs, base: x.dockerBaseImage })).digest("hex");
  const tag = `virtperf/tools:${hash.slice(0, 12)}`;
  const suite = /^debian:([a-z]+)$/.exec(x.dockerBaseImage)?.[1];
  const imported = suite ? `virtperf/debian:${suite}` : undefined;
  // With no registry the configured debian:<suite> is usually absent: fall back to our imported copy.
  const pickBase = imported
    ? `base=${shq(x.dockerBaseImage)}; docker image inspect "$base" >/dev/null 2>&1 || base=${shq(imported)}`
    : `base=${shq(x.dockerBaseImage)}`;
  const doc = heredoc(dockerfile.replace(/\n*$/, ""), "VIRTPERF_DOCKERFILE");
  const commands: CommandSpec[] = [];
  if (suite && imported) {
    commands.push({
      role: "docker-base", on: "host",
      create: [
        `if docker image inspect ${shq(x.dockerBaseImage)} >/dev/null 2>&1 || docker image inspect ${shq(imported)} >/dev/null 2>&1; then`,
        `  echo "docker base image present"`,
        `else`,
        `  set -o pipefail; mmdebstrap --variant=apt ${shq(suite)} - | docker import - ${shq(imported)}`,
        `fi`,
      ].join("\n"),
      delete: `docker image rm ${shq(imported)} >/dev/null 2>&1 || true`,
      triggers: [imported],
    });
  }
  commands.push({
    role: "docker-image", on: "host",
    create: [
      `if docker image inspect ${shq(tag)} >/dev/null 2>&1; then echo ${shq(`reusing ${tag}`)}; exit 0; fi`,
      pickBase,
      `DOCKER_BUILDKIT=0 docker build --tag ${shq(tag)} --label virtperf.image=tools --build-arg "BASE_IMAGE=$base" --build-arg ${shq(`PACKAGES=${pkgs.join(" ")}`)} - ${doc.start}`,
      doc.text,
    ].join("\n"),
    delete: `docker image rm ${shq(tag)} >/dev/null 2>&1 || true`,
    triggers: [tag],
  });
  return { tag, baseImage: x.dockerBaseImage, commands };
}

/** e2e's step for the container: what the Pulumi program's docker.Container (and its volume) does, as docker commands. */
export function containerSteps(owner: string, spec: ContainerSpec): Step[] {
  const create = [...(spec.volume ? [argvToBash(renderVolumeCreate(spec.volume))] : []), argvToBash(renderDockerRun(spec))].join("\n");
  const del = renderDockerRemove(spec).map((argv) => `${argvToBash(argv)} >/dev/null 2>&1 || true`).join("\n");
  return [{ phase: "environment", label: `${owner}/container`, create, delete: del }];
}

/** One argv as a bash line (for CommandSpec scripts and logs). */
export function argvToBash(argv: readonly string[]): string {
  return shJoin(argv);
}

/**
 * Facts of a Docker environment, run on the host (where the daemon is; the planner sends them over SSH
 * to a remote one): what the daemon really gave
 * the container (`docker inspect`), the daemon itself, and what a process inside sees (CPUs allowed,
 * cgroup memory limit, the filesystem /data is on). Prints one JSON object; needs no jq.
 */
/**
 * What a kind whose environment is a Docker container adds to Docker's facts: bash that sets `extra` to
 * one JSON value, printed under `field`, and the `kind` the document names.
 */
export interface FactsExtension {
  readonly kind: string;
  readonly field: string;
  readonly script: string;
}

export function dockerFactsScript(spec: ContainerSpec, extension?: FactsExtension): string {
  const inspect = ['{"id":{{json .Id}},"image":{{json .Config.Image}},"imageId":{{json .Image}}',
    '"networkMode":{{json .HostConfig.NetworkMode}},"cpusetCpus":{{json .HostConfig.CpusetCpus}}',
    '"memoryBytes":{{json .HostConfig.Memory}},"memorySwapBytes":{{json .HostConfig.MemorySwap}}',
    '"init":{{json .HostConfig.Init}},"runtime":{{json .HostConfig.Runtime}},"portBindings":{{json .HostConfig.PortBindings}}',
    '"mounts":{{json .Mounts}},"labels":{{json .Config.Labels}},"ipAddress":{{json .NetworkSettings.IPAddress}}',
    '"appArmorProfile":{{json .AppArmorProfile}}}'].join(",");
  const daemon = ['{"serverVersion":{{json .ServerVersion}},"storageDriver":{{json .Driver}}',
    '"rootDir":{{json .DockerRootDir}},"cgroupVersion":{{json .CgroupVersion}}',
    '"cgroupDriver":{{json .CgroupDriver}},"kernel":{{json .KernelVersion}},"securityOptions":{{json .SecurityOptions}}}'].join(",");
  // Inside: one "key=value" per line, turned into JSON strings on the host side.
  const inside = [
    `echo "cpusAllowed=$(sed -n 's/^Cpus_allowed_list:\\s*//p' /proc/self/status)"`,
    `echo "nproc=$(nproc)"`,
    `echo "memoryLimit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo unknown)"`,
    `echo "dataFs=$(df -PT ${CONTAINER_DATA_DIR} | awk 'NR==2{print $1" "$2}')"`,
    `echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"`,
  ].join("; ");
  return [
    "set -euo pipefail",
    `c=${shq(spec.name)}`,
    `inspect=$(docker inspect --type container --format ${shq(inspect)} "$c")`,
    `daemon=$(docker info --format ${shq(daemon)})`,
    `inside=$(docker exec "$c" bash -c ${shq(inside)})`,
    spec.volume
      ? `volume=$(docker volume inspect --format '{"name":{{json .Name}},"driver":{{json .Driver}},"options":{{json .Options}}}' ${shq(spec.volume.name)})`
      : "volume=null",
    // How a client on the host reaches published ports: dockerd's userland relay (docker-proxy, a user-space
    // TCP/UDP copy, 3-4x the NAT round trip here) or kernel NAT (iptables DNAT, the study's path).
    spec.networkMode === "host"
      ? `portPath='"host network"'`
      : `if pgrep -f "docker-proxy .*-container-ip $(docker inspect --format '{{.NetworkSettings.IPAddress}}' "$c") " >/dev/null; then portPath='"docker-proxy (userland relay)"'; else portPath='"iptables NAT"'; fi`,
    BASH_JSON_STRING,
    `fields=""`,
    `while IFS== read -r k v; do fields+="$(js "$k"):$(js "$v"),"; done <<<"$inside"`,
    ...(extension ? [extension.script.trim()] : []),
    `printf '{"kind":${JSON.stringify(extension?.kind ?? "docker")},"container":%s,"inspect":%s,"volume":%s,"daemon":%s,"portPath":%s,"inside":{%s}${extension ? `,${JSON.stringify(extension.field)}:%s` : ""}}\n' "$(js "$c")" "$inspect" "$volume" "$daemon" "$portPath" "\${fields%,}"${extension ? ` "$extra"` : ""}`,
  ].join("\n");
}
