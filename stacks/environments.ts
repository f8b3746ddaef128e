/**
 * Environment kinds and the paper's configurations as presets (DESIGN.md, Environments).
 * A stack lists environments by preset name, or as custom ones built from the same options.
 */
export type EnvironmentKind = "native" | "docker" | "kvm";

export interface NativeOptions {
  readonly kind: "native";
}

export interface DockerOptions {
  readonly kind: "docker";
  /** "bridge": Docker's default bridge with NAT port mapping; "host": --net=host. */
  readonly network: "bridge" | "host";
  /** "overlay": data in the container's overlay filesystem; "volume": data on a Docker volume. */
  readonly storage: "overlay" | "volume";
}

export interface KvmOptions {
  readonly kind: "kvm";
  /** "generic": libvirt's default CPU model; "host-passthrough": the host's CPU as it is. */
  readonly cpuModel: "generic" | "host-passthrough";
  /** Guest topology matching the host's sockets/cores/threads (else vCPUs as sockets). */
  readonly topology: boolean;
  /** 1:1 vCPU pinning onto the environment's CPU set. */
  readonly pinning: boolean;
  /** Guest memory backed by hugepages. */
  readonly hugepages: boolean;
  /** Disk image format: qcow2 overlay on the base image, or a raw copy. */
  readonly diskFormat: "qcow2" | "raw";
  /** Host page cache for the disk: "default" (writeback) or "none" (O_DIRECT). */
  readonly diskCache: "default" | "none";
  /** virtio-net multiqueue, one queue per vCPU. */
  readonly multiqueue: boolean;
}

export type EnvironmentOptions = NativeOptions | DockerOptions | KvmOptions;

export const PRESETS = {
  native: { kind: "native" },
  docker: { kind: "docker", network: "bridge", storage: "overlay" },
  "docker-host": { kind: "docker", network: "host", storage: "overlay" },
  "docker-volume": { kind: "docker", network: "bridge", storage: "volume" },
  "docker-host-volume": { kind: "docker", network: "host", storage: "volume" },
  kvm: {
    kind: "kvm", cpuModel: "generic", topology: false, pinning: false, hugepages: false,
    diskFormat: "qcow2", diskCache: "default", multiqueue: false,
  },
  "kvm-tuned": {
    kind: "kvm", cpuModel: "host-passthrough", topology: true, pinning: true, hugepages: true,
    diskFormat: "raw", diskCache: "none", multiqueue: true,
  },
} as const satisfies Record<string, EnvironmentOptions>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** One environment of a stack: a name (used in records, resource and container names) and its options. */
export interface EnvironmentDef {
  readonly name: string;
  readonly options: EnvironmentOptions;
  /**
   * A/A calibration: this environment is an identical second copy of the named one (`<name>-aa`), so
   * the report can show the noise floor, the difference two identical environments measure.
   */
  readonly calibrationOf?: string;
}
