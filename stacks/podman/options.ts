/** Rootless Podman's options and its preset (issue 12, item 4). */
import { z } from "zod";
import { userProblem } from "../../lib/validate.ts";

export interface PodmanOptions {
  readonly kind: "podman";
  /**
   * The unprivileged user that runs Podman: created by the bring-up when absent (a system user, home
   * /var/lib/<user>, no login shell) with 65536 subordinate uids and gids. Never root.
   */
  readonly user: string;
  /**
   * OCI runtime. "runc": Docker's, so the difference from the stack's docker environment is rootlessness
   * alone (and crun 1.8 refuses hybrid cgroup hosts whose cgroup2 hierarchy holds a controller, as this
   * one does); "crun": Podman's own default.
   */
  readonly runtime: "runc" | "crun";
}

/**
 * `podman-rootless`: Debian's podman run by an unprivileged user, its default rootless network
 * (slirp4netns, ports published on the host by rootlessport), data in the container's storage (the
 * kernel's overlay in the user namespace), Docker's default container otherwise.
 */
export const PODMAN_PRESETS = {
  "podman-rootless": { kind: "podman", user: "virtperf-podman", runtime: "runc" },
} as const satisfies Record<string, PodmanOptions>;

export const podmanOptionsSchema = z.object({
  user: z.string().refine((u) => userProblem(u) === undefined && u !== "root", "a user name other than root (letters, digits, '.', '_', '-')"),
  runtime: z.enum(["runc", "crun"]),
}).partial();
