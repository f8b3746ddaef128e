/** Docker's options and the study's four configurations as presets (DESIGN.md, Environments). */
import { z } from "zod";

export interface DockerOptions {
  readonly kind: "docker";
  /** "bridge": Docker's default bridge with NAT port mapping; "host": --net=host. */
  readonly network: "bridge" | "host";
  /** "overlay": data in the container's overlay filesystem; "volume": data on a Docker volume. */
  readonly storage: "overlay" | "volume";
}

export const DOCKER_PRESETS = {
  docker: { kind: "docker", network: "bridge", storage: "overlay" },
  "docker-host": { kind: "docker", network: "host", storage: "overlay" },
  "docker-volume": { kind: "docker", network: "bridge", storage: "volume" },
  "docker-host-volume": { kind: "docker", network: "host", storage: "volume" },
} as const satisfies Record<string, DockerOptions>;

export const dockerOptionsSchema = z.object({ network: z.enum(["bridge", "host"]), storage: z.enum(["overlay", "volume"]) }).partial();
