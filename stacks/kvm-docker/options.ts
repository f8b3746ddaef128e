/**
 * A Docker container inside a KVM guest: its options are the guest's (kvm's, stacks/kvm/options.ts) and
 * the container's (docker's, stacks/docker/options.ts), side by side in one flat object. The two sets
 * share no field name, so a custom environment sets either as it would on its own kind:
 * `{name: nested-host, preset: kvm-docker, network: host, pinning: true}`. `network` and `storage` are
 * the container's (inside the guest); the guest's NIC and disk are chosen by kvm's fields as for `kvm`.
 *
 * Presets: the study's question, "what does a container cost inside a VM?", for each of the study's
 * corners: `kvm-docker` is the `kvm` guest with Docker's defaults inside (bridge + NAT, overlay), and
 * `kvm-tuned-docker-host-volume` the `kvm-tuned` guest with the tuned container inside (host network,
 * data on a volume on the guest's disk).
 */
import { z } from "zod";
import { KVM_PRESETS, kvmOptionsSchema, type KvmOptions } from "../kvm/options.ts";
import { DOCKER_PRESETS, dockerOptionsSchema, type DockerOptions } from "../docker/options.ts";

export type GuestOptions = Omit<KvmOptions, "kind">;
export type ContainerOptions = Omit<DockerOptions, "kind">;

export interface KvmDockerOptions extends GuestOptions, ContainerOptions {
  readonly kind: "kvm-docker";
}

function nested(guest: KvmOptions, container: DockerOptions): KvmDockerOptions {
  const { kind: _g, ...g } = guest;
  const { kind: _c, ...c } = container;
  return { kind: "kvm-docker", ...g, ...c };
}

export const KVM_DOCKER_PRESETS = {
  "kvm-docker": nested(KVM_PRESETS.kvm, DOCKER_PRESETS.docker),
  "kvm-tuned-docker-host-volume": nested(KVM_PRESETS["kvm-tuned"], DOCKER_PRESETS["docker-host-volume"]),
} as const satisfies Record<string, KvmDockerOptions>;

export const kvmDockerOptionsSchema = kvmOptionsSchema.extend(dockerOptionsSchema.shape);

/** The guest's options as a kvm environment's (what stacks/kvm plans the guest from). */
export function guestOptions(o: KvmDockerOptions): KvmOptions {
  const { cpuModel, topology, pinning, hugepages, diskFormat, diskCache, multiqueue } = o;
  return { kind: "kvm", cpuModel, topology, pinning, hugepages, diskFormat, diskCache, multiqueue };
}

/** The container's options as a docker environment's (what stacks/docker plans the container from). */
export function containerOptions(o: KvmDockerOptions): DockerOptions {
  return { kind: "docker", network: o.network, storage: o.storage };
}
