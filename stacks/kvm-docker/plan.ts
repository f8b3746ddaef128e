/**
 * A Docker container inside a KVM guest, pure part: the guest is planned by stacks/kvm (disk, hugepages,
 * domain XML and the wait for SSH, acceleration from the KVM proof, TCG labelled), the container by
 * stacks/docker (network bridge/host, storage overlay/volume, CPU set and memory as `docker run` argv),
 * and this file adds what the nesting decides:
 *
 * - The guest is the `kvm` environment's guest with the same options (same CPUs, the stack's memory), but
 *   booted from the guest image with Docker (image.ts).
 * - The container gets all of the guest's vCPUs (`--cpuset-cpus 0-(n-1)` inside the guest) and the
 *   guest's memory minus GUEST_SYSTEM_MIB for the guest's own system (kernel, systemd, sshd, dockerd,
 *   containerd), as a hard limit without swap. Workloads are sized for what the container gets (shape);
 *   the facts say both numbers.
 * - Bridge ports are published 1:1 on all of the guest's addresses (0.0.0.0 inside the guest: the
 *   guest's only NIC is on libvirt's NAT network), so a client on the host reaches guest-address:port
 *   through virtio and libvirt's bridge, then the guest's Docker NAT: both layers are on the path.
 * - A volume is a local-driver bind onto a directory on the guest's disk (/var/lib/virtperf/docker-volumes),
 *   as docker's volumes bind a directory on the host's ioDir.
 * - The container lives and dies with its guest: its step (after the domain's) waits for the guest's
 *   dockerd, checks it holds the tools image (loaded when the image was built) and runs the container
 *   over the guest's SSH; its delete removes the
 *   container while the guest is up, then the domain's delete destroys the guest and its disk.
 * - The runner reaches it as `{kind: docker, container, via: <the guest>}`: SSH into the guest, then
 *   `docker exec` there.
 */
import type { CommandSpec, EnvironmentDef, Experiment } from "../experiment.ts";
import type { EnvironmentPlan, HostProbe } from "../plan.ts";
import type { ContainerTargetSpec, GuestTargetSpec } from "../../model/target.ts";
import { ConfigError, ProvisionError } from "../../lib/errors.ts";
import { heredoc, shq } from "../../lib/shell.ts";
import { domainSpecFor, domainCommand, diskCommand, factsScript, guestShellPrelude, guestSsh, guestTarget, hugepagesCommand } from "../kvm/plan.ts";
import { resolveAcceleration } from "../kvm/acceleration.ts";
import { accelerationLabel, type DomainSpec } from "../kvm/domain.ts";
import type { GuestImage } from "../kvm/guest-image.ts";
import {
  CONTAINER_DATA_DIR, CONTAINER_WORK_ROOT, argvToBash, containerSpec, dockerFactsScript, portBlock, renderDockerRemove, renderDockerRun,
  renderVolumeCreate, type ContainerSpec,
} from "../docker/spec.ts";
import { containerOptions, guestOptions, type KvmDockerOptions } from "./options.ts";
import { TOOLS_ID_FILE, guestDockerImage } from "./image.ts";

/**
 * MiB of the guest's memory left to the guest's own system; the container gets the rest. Measured here
 * (1536 MiB TCG guest, dockerd and containerd up, the tools image loaded, the container idle): the guest
 * kernel keeps 73 MiB out of MemTotal and MemAvailable was 1156 MiB, so the system holds about 380 MiB;
 * 256 MiB would have let the container's limit exceed what the guest had.
 */
export const GUEST_SYSTEM_MIB = 384;
/** The smallest container memory this kind plans (MiB); below it the stack's memoryMiB is refused. */
export const MIN_CONTAINER_MIB = 256;
/** Where volumes' directories live inside the guest: on its disk, beside the guest's own data directory. */
export const GUEST_VOLUME_ROOT = "/var/lib/virtperf/docker-volumes";
/** Seconds the container step waits for the guest's dockerd to answer after boot (TCG boots are slow). */
export const GUEST_DOCKERD_WAIT_S = 240;

export interface KvmDockerSpec {
  /** The guest, as stacks/kvm plans it. */
  readonly guest: DomainSpec;
  /** The container inside the guest, as stacks/docker plans it, with the nesting's CPU set, memory, ports and volume. */
  readonly container: ContainerSpec;
  /** The runner's target of the guest itself (the container's `via`). */
  readonly guestTarget: GuestTargetSpec;
  /** The guest image it boots from (with Docker and the tools image). */
  readonly image: GuestImage;
  /** MiB of guest memory left to the guest's own system. */
  readonly guestSystemMiB: number;
}

function kvmDockerOptions(def: EnvironmentDef): KvmDockerOptions {
  if (def.options.kind !== "kvm-docker") throw new ProvisionError(`environment ${def.name} is ${def.options.kind}, not kvm-docker`);
  return def.options as KvmDockerOptions;
}

/** The environment as a kvm environment of the same name and guest options (what stacks/kvm plans). */
export function guestDef(def: EnvironmentDef): EnvironmentDef {
  return { name: def.name, options: guestOptions(kvmDockerOptions(def)) };
}

/** The environment as a docker environment of the same name and container options (what stacks/docker plans). */
export function containerDef(def: EnvironmentDef): EnvironmentDef {
  return { name: def.name, options: containerOptions(kvmDockerOptions(def)) };
}

/** MiB the container gets: the guest's memory less the guest system's share. Refuses a stack too small for both. */
export function containerMemoryMiB(x: Experiment): number {
  const mib = x.host.memoryMiB - GUEST_SYSTEM_MIB;
  if (mib < MIN_CONTAINER_MIB) {
    throw new ConfigError("virtperf:memoryMiB", `virtperf:memoryMiB = ${x.host.memoryMiB}: a container in a guest gets the guest's memory less ${GUEST_SYSTEM_MIB} MiB for the guest's own system, so it needs at least ${GUEST_SYSTEM_MIB + MIN_CONTAINER_MIB} MiB`, {
      suggestions: [`set virtperf:memoryMiB to ${GUEST_SYSTEM_MIB + MIN_CONTAINER_MIB} or more`],
    });
  }
  return mib;
}

/** The container inside the guest: docker's spec with all of the guest's vCPUs, its memory share, ports on every guest address, a volume on the guest's disk. */
export function nestedContainerSpec(x: Experiment, def: EnvironmentDef, index: number, toolsTag: string): ContainerSpec {
  const base = containerSpec(x, containerDef(def), index, toolsTag);
  const mib = containerMemoryMiB(x);
  const vcpus = x.host.cpus;
  return {
    ...base,
    ports: base.ports.map((p) => ({ ...p, hostIp: "0.0.0.0" })),
    cpusetCpus: vcpus > 1 ? `0-${vcpus - 1}` : "0",
    memoryBytes: mib * 2 ** 20,
    shmBytes: Math.floor(mib / 2) * 2 ** 20,
    ...(base.volume ? { volume: { ...base.volume, hostDir: `${GUEST_VOLUME_ROOT}/${base.volume.name}` } } : {}),
  };
}

/** Bash run inside the guest that removes the container (and its volume). Never fails. */
function removeInGuest(c: ContainerSpec): string {
  return renderDockerRemove(c).map((argv) => `${argvToBash(argv)} >/dev/null 2>&1 || true`).join("\n")
    + (c.volume ? `\nrm -rf ${shq(c.volume.hostDir)}` : "");
}

/** Bash run inside the guest that brings the container up: dockerd answers and holds the tools image, the container runs. */
export function containerBringUpScript(c: ContainerSpec, waitS = GUEST_DOCKERD_WAIT_S): string {
  return `set -euo pipefail
waited=0
until docker info >/dev/null 2>&1; do
  if ((waited >= ${waitS})); then
    echo "the guest's dockerd does not answer after ${waitS} s; its journal:" >&2
    journalctl --no-pager -n 30 -u docker.service -u containerd.service >&2 || true
    exit 1
  fi
  sleep 1; waited=$((waited + 1))
done
echo "guest dockerd answers after $waited s: $(docker version --format '{{.Server.Version}}')"
# The image's build-time boot loaded the tools image (image.ts): the very id the host's tag had.
got=$(docker image inspect --format '{{.Id}}' ${shq(c.image)} 2>/dev/null) || { echo ${shq(`the guest's dockerd has no ${c.image}: not a guest image with Docker, or one whose build-time boot failed (remove it to rebuild)`)} >&2; exit 1; }
want=$(cat ${TOOLS_ID_FILE})
[ "$want" = "$got" ] || { echo ${shq(`the guest's ${c.image} is`)}" $got, not the saved $want" >&2; exit 1; }
echo ${shq(`tools image ${c.image}`)}" $got in the guest"
# A leftover of an interrupted bring-up has our name: it is ours, replace it.
${removeInGuest(c)}
${c.volume ? `mkdir -p ${shq(c.volume.hostDir)}\n${argvToBash(renderVolumeCreate(c.volume))} >/dev/null\n` : ""}${argvToBash(renderDockerRun(c))} >/dev/null
echo ${shq(`container ${c.name} runs in the guest (network ${c.networkMode}, cpuset ${c.cpusetCpus}, memory ${c.memoryBytes / 2 ** 20} MiB)`)}
avail=$(awk '/^MemAvailable:/{print int($2 / 1024)}' /proc/meminfo)
if ((avail < ${c.memoryBytes / 2 ** 20})); then
  echo "warning: the guest has only $avail MiB available for a container limit of ${c.memoryBytes / 2 ** 20} MiB: a workload near its limit would push the guest into reclaim or its OOM killer" >&2
fi
`;
}

/**
 * The container's step, run on the host after the domain's: over the guest's SSH (pinned host key) it
 * brings the container up; delete removes it while the guest is up (a guest that is down took it along).
 */
export function containerCommand(c: ContainerSpec, guest: GuestTargetSpec): CommandSpec {
  const up = heredoc(containerBringUpScript(c), "VIRTPERF_GUEST_CONTAINER");
  const down = heredoc(removeInGuest(c), "VIRTPERF_GUEST_CONTAINER");
  return {
    role: "container", on: "host", triggers: [c.image, argvToBash(renderDockerRun(c))],
    create: `set -euo pipefail
${guestShellPrelude(guest)}addr=$(guest_address) || { echo "guest $dom does not answer SSH: no container" >&2; exit 1; }
started=$SECONDS
ssh_guest "$addr" bash -s ${up.start}
${up.text}
echo "container ready in guest $dom ($addr) after $((SECONDS - started)) s"
`,
    delete: `set -uo pipefail
${guestShellPrelude(guest)}[ "$(virsh domstate "$dom" 2>/dev/null)" = running ] || exit 0
addr=$(guest_address) || exit 0
ssh_guest "$addr" bash -s ${down.start} || true
${down.text}
`,
  };
}

/**
 * Host-side script printing the facts as one JSON object (needs jq and ssh on the host): the guest's
 * (kvm's facts script), the container's (docker's facts script, run inside the guest where its daemon
 * is), what the guest's own system has left, and the nesting's memory rule.
 */
export function kvmDockerFactsScript(s: KvmDockerSpec, accelerationReason = ""): string {
  const guestFacts = factsScript(s.guest, s.guestTarget, accelerationReason);
  const inside = heredoc(dockerFactsScript(s.container), "VIRTPERF_NESTED_FACTS");
  const rule = `container memory = guest memory ${s.guest.memoryMiB} MiB - ${s.guestSystemMiB} MiB for the guest's own system (kernel, systemd, sshd, dockerd, containerd)`;
  return `set -euo pipefail
guest=$(bash -c ${shq(guestFacts)})
${guestShellPrelude(s.guestTarget)}addr=$(guest_address) || { echo "guest $dom does not answer SSH" >&2; exit 1; }
container=$(ssh_guest "$addr" bash -s ${inside.start}
${inside.text}
)
system=$(ssh_guest "$addr" 'awk "/^MemAvailable:/{print \\$2}" /proc/meminfo; ps -o rss= -C dockerd,containerd | awk "{s+=\\$1} END {print s+0}"' </dev/null)
jq -n --argjson guest "$guest" --argjson container "$container" \\
  --argjson memAvailKiB "$(sed -n 1p <<<"$system")" --argjson daemonsRssKiB "$(sed -n 2p <<<"$system")" \\
  --arg acceleration ${s.guest.type === "kvm" ? "kvm" : "tcg"} --arg accelLabel ${shq(accelerationLabel(s.guest.type))} --arg accelReason ${shq(accelerationReason)} \\
  --argjson guestMiB ${s.guest.memoryMiB} --argjson systemMiB ${s.guestSystemMiB} --argjson containerMiB ${s.container.memoryBytes / 2 ** 20} --arg rule ${shq(rule)} \\
  '{kind:"kvm-docker", acceleration:$acceleration, accelerationLabel:$accelLabel, accelerationReason:$accelReason,
    memory:{guestMiB:$guestMiB, guestSystemMiB:$systemMiB, containerMiB:$containerMiB, rule:$rule,
      guestMemAvailableKiB:$memAvailKiB, guestDaemonsRssKiB:$daemonsRssKiB},
    guest:$guest, container:$container}'
`;
}

/** What the planner needs of the host: the KVM proof and its SMT width. */
export type KvmDockerHostProbe = Pick<HostProbe, "kvm"> & { readonly threadsPerCore?: number };

/** The EnvironmentPlan of the kvm-docker environment at `index` in the stack; `toolsTag` from planDockerImage. */
export function planKvmDocker(x: Experiment, def: EnvironmentDef, index: number, probe: KvmDockerHostProbe, toolsTag: string): EnvironmentPlan<KvmDockerSpec> {
  if (x.guestImage !== undefined) {
    throw new ConfigError("virtperf:guestImage", `virtperf:guestImage is set, but ${def.name} (kvm-docker) boots the built guest image with Docker and the tools image in it; a user's image would need both`, {
      suggestions: ["remove virtperf:guestImage, or run kvm-docker environments in a stack without it"],
    });
  }
  const { acceleration, reason } = resolveAcceleration(x.acceleration, probe.kvm);
  const img = guestDockerImage(x, toolsTag);
  const g = guestDef(def);
  const guest = domainSpecFor(x, g, acceleration, probe, img);
  const gt = guestTarget(x, g, img);
  const container = nestedContainerSpec(x, def, index, toolsTag);
  const spec: KvmDockerSpec = { guest, container, guestTarget: gt, image: img, guestSystemMiB: GUEST_SYSTEM_MIB };
  const commands = [
    diskCommand(guest, img, guestSsh(x, g, img)), ...(guest.options.hugepages ? [hugepagesCommand(guest)] : []),
    domainCommand(guest, img, gt), containerCommand(container, gt),
  ];
  const target: ContainerTargetSpec = { kind: "docker", container: container.name, via: gt };
  return {
    kind: "kvm-docker", def, acceleration, accelerationReason: reason, target,
    ports: portBlock(index), dataDir: CONTAINER_DATA_DIR, workRoot: CONTAINER_WORK_ROOT,
    shape: { cpus: x.host.cpus, memoryMiB: container.memoryBytes / 2 ** 20 },
    commands, facts: kvmDockerFactsScript(spec, reason), spec,
  };
}
