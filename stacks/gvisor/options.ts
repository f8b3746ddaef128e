/**
 * gVisor's options and presets: a Docker container (the same network and storage options as the docker
 * kind) run by `runsc`, gVisor's OCI runtime, on one of its platforms and with one of its network modes.
 * "auto" is resolved from the pre-flight's probe (runtime.ts): the first candidate, in the order below,
 * with which a throwaway container really starts on this host.
 */
import { z } from "zod";

/**
 * How the sandbox intercepts the application's system calls. Order = auto's preference: systrap (gVisor's
 * default since mid-2023, seccomp traps), kvm (hardware virtualization: the fastest on bare metal with a
 * working /dev/kvm), ptrace (the oldest and slowest; runs wherever ptrace works).
 */
export const GVISOR_PLATFORMS = ["systrap", "kvm", "ptrace"] as const;
export type GvisorPlatform = (typeof GVISOR_PLATFORMS)[number];

/**
 * Whose TCP/IP stack the sandbox's sockets use. Order = auto's preference: "gvisor", its own user-space
 * netstack (runsc --network=sandbox, the default and the isolating one); "host", passthrough to the host
 * kernel's stack inside the container's network namespace (runsc --network=host).
 */
export const GVISOR_NETSTACKS = ["gvisor", "host"] as const;
export type GvisorNetstack = (typeof GVISOR_NETSTACKS)[number];

export interface GvisorOptions {
  readonly kind: "gvisor";
  /** Docker's network: "bridge" (default bridge, NAT port mapping) or "host" (--net=host). */
  readonly network: "bridge" | "host";
  /** "overlay": data in the container's filesystem; "volume": on a Docker volume (a bind of a host directory). */
  readonly storage: "overlay" | "volume";
  /** runsc --platform; "auto": the first of GVISOR_PLATFORMS the probe starts a container with. */
  readonly platform: "auto" | GvisorPlatform;
  /** runsc --network; "auto": the first of GVISOR_NETSTACKS the probe starts a container with. */
  readonly netstack: "auto" | GvisorNetstack;
}

export const GVISOR_PRESETS = {
  gvisor: { kind: "gvisor", network: "bridge", storage: "overlay", platform: "auto", netstack: "auto" },
  "gvisor-host-volume": { kind: "gvisor", network: "host", storage: "volume", platform: "auto", netstack: "auto" },
} as const satisfies Record<string, GvisorOptions>;

export const gvisorOptionsSchema = z.object({
  network: z.enum(["bridge", "host"]), storage: z.enum(["overlay", "volume"]),
  platform: z.enum(["auto", ...GVISOR_PLATFORMS]), netstack: z.enum(["auto", ...GVISOR_NETSTACKS]),
}).partial();
