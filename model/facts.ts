/**
 * The facts documents, one schema per kind: what each kind's facts script prints (stacks/<kind>/:
 * native's host.json, a container's and a guest's <env>.json) and what the report reads
 * (analysis/facts*.ts). One definition for both sides: the scripts' real output is checked against it
 * in the integration tests, and the report parses facts with it instead of walking paths. Every field is
 * optional or nullable (a probe that found nothing prints null; older runs lack newer fields) and unknown
 * fields pass through, so a facts file from another version still reads.
 */
import { z } from "zod";
import type { KindName } from "./kinds.ts";

const text = z.string().nullable().optional();
const count = z.number().nullable().optional();
/** A number the shell printed, maybe as text ("2147483648", "max", "unknown"). */
const numberish = z.union([z.number(), z.string()]).nullable().optional();

export const nativeFactsSchema = z.looseObject({
  kind: z.literal("native").optional(),
  hostname: text, kernel: text, os: text, cpuModel: text,
  sockets: count, coresPerSocket: count, threadsPerCore: count, onlineCpus: text,
  numa: z.array(z.looseObject({ node: count, cpus: text })).optional(),
  cpufreqGovernor: text, devKvmPresent: z.boolean().optional(), devKvmUsable: z.boolean().optional(),
  memoryMiB: count, hugepages: z.looseObject({ total: count, sizeKiB: count }).optional(),
  /** What native's trials really get, probed THROUGH the trial wrapper (mode: cgroup1, cgroup2 or taskset). */
  limits: z.looseObject({
    mode: text, note: text,
    probe: z.looseObject({ cpusAllowed: text, memoryLimit: numberish, cgroups: text }).optional(),
  }).optional(),
  lscpu: z.unknown().optional(),
});

export const dockerFactsSchema = z.looseObject({
  kind: z.literal("docker").optional(),
  container: text,
  /** `docker inspect` of the container: what the daemon really gave it. */
  inspect: z.looseObject({
    id: text, image: text, imageId: text, networkMode: text, cpusetCpus: text,
    memoryBytes: count, memorySwapBytes: count, init: z.boolean().nullable().optional(),
    /** The OCI runtime dockerd ran it with ("runc", or a gVisor runsc-* runtime). */
    runtime: text,
    portBindings: z.record(z.string(), z.array(z.looseObject({ HostIp: text, HostPort: text })).nullable()).nullable().optional(),
    mounts: z.unknown().optional(), labels: z.unknown().optional(), ipAddress: text,
    /** The container's AppArmor profile ("docker-default"), "" where the kernel has no AppArmor. */
    appArmorProfile: text,
  }).optional(),
  volume: z.looseObject({ name: text, driver: text, options: z.record(z.string(), z.string()).nullable().optional() }).nullable().optional(),
  daemon: z.looseObject({
    serverVersion: text, storageDriver: text, rootDir: text, cgroupVersion: text, cgroupDriver: text, kernel: text,
    userlandProxy: z.boolean().optional(),
    /** `docker info`'s SecurityOptions: "name=seccomp,profile=default", "name=apparmor", "name=cgroupns"... */
    securityOptions: z.array(z.string()).nullable().optional(),
  }).optional(),
  /** How a host client reaches published ports: "docker-proxy (userland relay)", "iptables NAT", "host network". */
  portPath: text,
  /** What a process in the container sees. */
  inside: z.looseObject({ cpusAllowed: text, nproc: numberish, memoryLimit: numberish, dataFs: text, os: text }).optional(),
});

export const kvmFactsSchema = z.looseObject({
  kind: z.literal("kvm").optional(),
  domain: text, address: text, hostKey: text,
  acceleration: z.enum(["kvm", "tcg"]).optional(), accelerationLabel: text, accelerationReason: text, domainType: text,
  guestKernel: text, guestVcpus: count, guestMemTotalKiB: count, guestCpuModel: text,
  /** `virsh dumpxml` of the live domain. */
  domainXml: text,
});

export const podmanFactsSchema = z.looseObject({
  kind: z.literal("podman").optional(),
  container: text, user: text,
  /** `podman container inspect` as the user: what Podman really gave the container. */
  inspect: z.looseObject({
    id: text, image: text, imageId: text, networkMode: text, cpusetCpus: text,
    memoryBytes: count, memorySwapBytes: count, pidsLimit: count, shmBytes: count, init: z.boolean().nullable().optional(),
    portBindings: z.record(z.string(), z.array(z.looseObject({ HostIp: text, HostPort: text })).nullable()).nullable().optional(),
    mounts: z.unknown().optional(), labels: z.unknown().optional(), ociRuntime: text, storageDriver: text,
    cgroupManager: text, cgroupPath: text, pid: count,
  }).optional(),
  /** `podman info` as the user: the engine itself. */
  engine: z.looseObject({
    version: text, rootless: z.boolean().nullable().optional(), storageDriver: text, graphRoot: text,
    graphStatus: z.record(z.string(), z.string()).nullable().optional(),
    cgroupVersion: text, cgroupManager: text, cgroupControllers: z.array(z.string()).nullable().optional(),
    defaultRuntime: text, networkBackend: text, slirp4netns: text, kernel: text,
  }).optional(),
  /** How the CPU set and memory were applied: mode podman (its flags), cgroup1 (host groups the trials join) or taskset. */
  limits: z.looseObject({ mode: text, note: text }).optional(),
  /** How a host client reaches published ports: "rootlessport (userland relay into the container network namespace)". */
  portPath: text,
  /** What a process in the container sees, probed through the trial's path (memoryLimit read on the host for cgroup v1). */
  inside: z.looseObject({ cpusAllowed: text, nproc: numberish, memoryLimit: numberish, memoryCgroup: text, dataFs: text, uidMap: text, os: text }).optional(),
});

/**
 * A container inside a guest (stacks/kvm-docker/): the guest's facts as kvm's, the container's as
 * docker's (taken inside the guest, where its daemon is), and how its memory was split.
 */
export const kvmDockerFactsSchema = z.looseObject({
  kind: z.literal("kvm-docker").optional(),
  acceleration: z.enum(["kvm", "tcg"]).optional(), accelerationLabel: text, accelerationReason: text,
  /** The container gets the guest's memory less the guest system's share (rule: the sentence that says so). */
  memory: z.looseObject({
    guestMiB: count, guestSystemMiB: count, containerMiB: count, rule: text,
    /** What the guest had left with its daemons up and the container idle, and its dockerd + containerd's resident memory. */
    guestMemAvailableKiB: count, guestDaemonsRssKiB: count,
  }).optional(),
  guest: kvmFactsSchema.optional(),
  container: dockerFactsSchema.optional(),
});

/** A gVisor container: Docker's facts and what the sandbox really is (stacks/gvisor/spec.ts). */
export const gvisorFactsSchema = dockerFactsSchema.extend({
  kind: z.literal("gvisor").optional(),
  gvisor: z.looseObject({
    /** What the planner resolved (runtime.ts), with why. */
    planned: z.looseObject({ runtime: text, platform: text, netstack: text, args: z.array(z.string()).optional(), label: text, reason: text }).optional(),
    /** What the running sandbox shows: dockerd's runtime for it, runsc's flags on the host, the kernel the application sees. */
    seen: z.looseObject({
      runtime: text, registered: z.looseObject({ path: text, runtimeArgs: z.array(z.string()).optional() }).nullable().optional(),
      runscVersion: text, platform: text, netstack: text, sandboxFlags: text, kernel: text, dmesg: text,
    }).optional(),
    /** Whether a file opened O_DIRECT inside is opened O_DIRECT on the host (null: not seen). */
    directIo: z.looseObject({ hostFdFlags: text, oDirectOnHost: z.boolean().nullable().optional() }).optional(),
    /** Whether io_uring works in the sandbox: a small fio write with the io_uring engine, and fio's exit status. */
    ioUring: z.looseObject({ works: z.boolean().nullable().optional(), fioExit: count }).optional(),
  }).optional(),
});

/** The facts schema of every kind: a kind without one does not compile. */
export const FACTS_SCHEMAS = {
  native: nativeFactsSchema, docker: dockerFactsSchema, kvm: kvmFactsSchema, "kvm-docker": kvmDockerFactsSchema, podman: podmanFactsSchema, gvisor: gvisorFactsSchema,
} satisfies { readonly [K in KindName]: z.ZodType };

export type NativeFacts = z.infer<typeof nativeFactsSchema>;
export type DockerFacts = z.infer<typeof dockerFactsSchema>;
export type KvmFacts = z.infer<typeof kvmFactsSchema>;
export type PodmanFacts = z.infer<typeof podmanFactsSchema>;
export type KvmDockerFacts = z.infer<typeof kvmDockerFactsSchema>;
export type GvisorFacts = z.infer<typeof gvisorFactsSchema>;

/** A facts document read with its kind's schema, or undefined (with why) when it does not fit. */
export function parseFacts<K extends KindName>(kind: K, json: unknown): { facts?: z.infer<(typeof FACTS_SCHEMAS)[K]>; problem?: string } {
  const r = FACTS_SCHEMAS[kind].safeParse(json);
  if (r.success) return { facts: r.data as z.infer<(typeof FACTS_SCHEMAS)[K]> };
  const first = r.error.issues[0];
  return { problem: first ? `${first.path.join(".") || "(top)"}: ${first.message}` : "does not fit" };
}
