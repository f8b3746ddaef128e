/**
 * The guest image of containers in guests (pure: paths, content hash and the bash that builds it): the
 * kvm guest image (stacks/kvm/guest-image.ts, the same build script) with a Docker engine and the
 * host's tools image in it, built offline from the host's own artefacts:
 *   - `docker.io` among the packages mmdebstrap installs (Debian's engine, as on the host; dockerd and
 *     containerd enabled at boot), and /etc/docker/daemon.json with `"userland-proxy": false`, as the
 *     host's dockerd runs (scripts/services.sh): published ports go through kernel NAT in the guest too;
 *   - the tools image, `docker save`d from the host's daemon into the image at TOOLS_TAR, with its image
 *     id beside it. The container's bring-up loads it (`docker load`) inside the guest, so the nested
 *     container runs the very image (same id, same binaries) the `docker` environments run on the host.
 * The base image (id `guest-image`) is untouched: this one has its own files, `guest-docker-<hash>.*`,
 * its hash covering the base's inputs, the extra step and the tools image's tag.
 *
 * The tag is a content hash of the Dockerfile and packages, but a tag can be rebuilt (`--remove-images`,
 * newer Debian packages) with another id. The image therefore records the id it saved (`<image>.tools-id`)
 * and a cached image whose id is no longer the host's tag's is rebuilt, so the guest never runs tools
 * that differ from the host container's.
 */
import type { CommandSpec, Experiment } from "../experiment.ts";
import { GUEST_DISK_GIB, buildScriptBody, builtGuestImage, builtImageCommand, guestPackages, type GuestImage } from "../kvm/guest-image.ts";
import { shq } from "../../lib/shell.ts";

/** The ImagePlan id: after `docker-tools` (it saves that image), beside `guest-image` (never replacing it). */
export const GUEST_DOCKER_IMAGE = "guest-image-docker";
/**
 * What the guest needs beyond the base guest's packages: Debian's engine, and AppArmor's tools (a
 * Recommends of docker.io): Debian's guest kernel enables AppArmor, and dockerd then refuses to start a
 * container without `apparmor_parser` to load its `docker-default` profile. With them the container is
 * confined as Docker confines one by default on a Debian host (the facts record the daemon's security
 * options, beside the host's `docker` environment's).
 */
export const GUEST_DOCKER_PACKAGES = ["apparmor", "docker.io"] as const;
/** Inside the guest: the saved tools image, and the id it was saved with. */
export const TOOLS_TAR = "/var/lib/virtperf/tools-image.tar";
export const TOOLS_ID_FILE = "/var/lib/virtperf/tools-image.id";
/** The daemon's configuration in the guest (as the host's dockerd is started). */
export const GUEST_DAEMON_JSON = `{\n  "userland-proxy": false\n}\n`;

/**
 * The variant's step on the finished tree (`$root`): daemon config, units enabled, the tools image
 * saved from the host's daemon. Reads TOOLS_TAG (set by the command, outside the hashed text).
 */
export function dockerExtraStep(): string {
  return `# Docker in the guest (stacks/kvm-docker/image.ts): the host's tools image, saved here from the host's daemon.
docker image inspect "$TOOLS_TAG" >/dev/null 2>&1 || { echo "guest docker image: the host has no $TOOLS_TAG (build the docker-tools image first)" >&2; exit 1; }
install -d -m 755 "$root/etc/docker"
printf '%s' ${shq(GUEST_DAEMON_JSON)} >"$root/etc/docker/daemon.json"
systemctl --root="$root" enable containerd.service docker.service
docker save --output "$root${TOOLS_TAR}" "$TOOLS_TAG"
docker image inspect --format '{{.Id}}' "$TOOLS_TAG" >"$root${TOOLS_ID_FILE}"
cp "$root${TOOLS_ID_FILE}" "$OUT.tools-id"
echo "guest docker image: $TOOLS_TAG ($(cat "$OUT.tools-id")) saved into the image, $(du -m "$root${TOOLS_TAR}" | cut -f1) MiB"
`;
}

/** The packages of the image: the base guest's (workloads' included) and Docker's engine. */
export function guestDockerPackages(): string[] {
  return [...new Set([...guestPackages(), ...GUEST_DOCKER_PACKAGES])].sort();
}

/** Paths and boot parameters of the image for tools image `toolsTag` (planDockerImage's tag). */
export function guestDockerImage(x: Pick<Experiment, "host" | "debianSuite">, toolsTag: string): GuestImage {
  return builtGuestImage(x, "guest-docker", {
    suite: x.debianSuite, packages: guestDockerPackages(), script: buildScriptBody(dockerExtraStep()), diskGiB: GUEST_DISK_GIB, tools: toolsTag,
  });
}

/**
 * The command that builds it unless cached. Never deleted on destroy (a cache, as the base image). A
 * cached image whose recorded tools id is not the host's current one for the tag is removed first, so
 * the build makes it again (a guest already running keeps its open base file).
 */
export function planGuestDockerImage(x: Pick<Experiment, "host" | "debianSuite">, toolsTag: string): CommandSpec {
  const img = guestDockerImage(x, toolsTag);
  const stale = `# The tools image the cached image holds must still be the host's ${toolsTag}.
if [ -f "$OUT" ]; then
  now=$(docker image inspect --format '{{.Id}}' "$TOOLS_TAG" 2>/dev/null || echo absent)
  if [ "$(cat "$OUT.tools-id" 2>/dev/null || echo unknown)" != "$now" ]; then
    echo "guest docker image $OUT holds another build of $TOOLS_TAG than the host's ($now): rebuilding"
    rm -f "$OUT" "$OUT.tools-id"
  fi
fi
`;
  return builtImageCommand(GUEST_DOCKER_IMAGE, x, img, guestDockerPackages(), buildScriptBody(dockerExtraStep()), [`TOOLS_TAG=${shq(toolsTag)}`], stale);
}
