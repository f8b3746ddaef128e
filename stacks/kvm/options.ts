/** KVM's options and the study's two guests as presets: libvirt's defaults, and tuned (DESIGN.md, Environments). */
import { z } from "zod";

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

export const KVM_PRESETS = {
  kvm: {
    kind: "kvm", cpuModel: "generic", topology: false, pinning: false, hugepages: false,
    diskFormat: "qcow2", diskCache: "default", multiqueue: false,
  },
  "kvm-tuned": {
    kind: "kvm", cpuModel: "host-passthrough", topology: true, pinning: true, hugepages: true,
    diskFormat: "raw", diskCache: "none", multiqueue: true,
  },
} as const satisfies Record<string, KvmOptions>;

export const kvmOptionsSchema = z.object({
  cpuModel: z.enum(["generic", "host-passthrough"]), topology: z.boolean(), pinning: z.boolean(),
  hugepages: z.boolean(), diskFormat: z.enum(["qcow2", "raw"]), diskCache: z.enum(["default", "none"]),
  multiqueue: z.boolean(),
}).partial();
