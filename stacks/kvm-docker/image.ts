/**
 * The guest image of containers in guests (pure: paths, content hash and the bash that builds it): the
 * kvm guest image (stacks/kvm/guest-image.ts, the same build script) with a Docker engine and the
 * host's tools image in it, built offline from the host's own artefacts:
 *   - `docker.io` and `apparmor` among the packages mmdebstrap installs (Debian's engine, as on the host;
 *     dockerd and containerd enabled at boot), and /etc/docker/daemon.json with `"userland-proxy": false`,
 *     as the host's dockerd runs (scripts/services.sh): published ports go through kernel NAT in the guest;
 *   - the tools image, `docker save`d from the host's daemon into the tree, then loaded into the guest's
 *     own dockerd by one boot of the written disk at build time (QEMU under TCG, no NIC: a unit loads it,
 *     checks its id, removes the tar, trims the disk and powers off). Every guest made from the image
 *     then has the tools image in its dockerd from its first boot: the bring-up only runs the container
 *     (loading it at each bring-up took 70-95 s under TCG here). The nested container so runs the very
 *     image (same id, same binaries) the `docker` environments run on the host.
 * The base image (id `guest-image`) is untouched: this one has its own files, `guest-docker-<hash>.*`,
 * its hash covering the base's inputs, the extra steps and the tools image's tag.
 *
 * The tag is a content hash of the Dockerfile and packages, but a tag can be rebuilt (`--remove-images`,
 * newer Debian packages) with another id. The image therefore records the id it holds (`<image>.tools-id`)
 * and a cached image whose id is no longer the host's tag's is rebuilt, so the guest never runs tools
 * that differ from the host container's.
 */
import type { CommandSpec, Experiment } from "../experiment.ts";
import { GUEST_DISK_GIB, buildScriptBody, builtGuestImage, builtImageCommand, guestPackages, type GuestImage } from "../kvm/guest-image.ts";
import { heredoc, shq } from "../../lib/shell.ts";

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
/** Inside the guest: the saved tools image (removed once loaded), its tag, and the id it was saved with. */
export const TOOLS_TAR = "/var/lib/virtperf/tools-image.tar";
export const TOOLS_TAG_FILE = "/var/lib/virtperf/tools-image.tag";
export const TOOLS_ID_FILE = "/var/lib/virtperf/tools-image.id";
/** Seconds the build's one boot gets to load the tools image and power off (about 2 min under TCG here). */
export const PRELOAD_TIMEOUT_S = 1200;
/** The console line of a boot that loaded the tools image. */
export const PRELOAD_OK = "virtperf-preload: ok";

/**
 * Run once, in the image's only build-time boot (systemd.unit=virtperf-preload.target): load the tools
 * image into dockerd, check its id, remove the tar, give back /etc/machine-id as the tree had it (empty:
 * each guest makes its own), trim the disk and power off, whatever happened (the power-off stops
 * dockerd cleanly).
 */
const PRELOAD_SCRIPT = `#!/bin/sh
set -eu
trap 'sync; systemctl poweroff --no-block' EXIT
tag=$(cat ${TOOLS_TAG_FILE})
docker load --quiet --input ${TOOLS_TAR}
id=$(docker image inspect --format '{{.Id}}' "$tag")
[ "$id" = "$(cat ${TOOLS_ID_FILE})" ] || { echo "virtperf-preload: $tag loaded as $id, not $(cat ${TOOLS_ID_FILE})"; exit 1; }
rm -f ${TOOLS_TAR}
: >/etc/machine-id
# Give the tar's blocks back to the image file (discard=unmap): after a commit, or ext4 skips them.
sync
fstrim -v / || echo "virtperf-preload: fstrim failed (the image keeps the tar's blocks)"
echo "${PRELOAD_OK} $tag $id"
`;

const PRELOAD_UNIT = `[Unit]
Description=virtperf: load the tools image into dockerd, once, while the guest image is built
Requires=docker.service
After=docker.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/virtperf-preload
StandardOutput=journal+console
StandardError=journal+console
`;

const PRELOAD_TARGET = `[Unit]
Description=virtperf: the guest image's build-time boot (load the tools image, then power off)
Requires=virtperf-preload.service
After=virtperf-preload.service
`;
/** The daemon's configuration in the guest (as the host's dockerd is started). */
export const GUEST_DAEMON_JSON = `{\n  "userland-proxy": false\n}\n`;

/**
 * The variant's step on the finished tree (`$root`): daemon config, units enabled, the preload unit,
 * the tools image saved from the host's daemon. Reads TOOLS_TAG (set by the command, outside the hashed text).
 */
export function dockerExtraStep(): string {
  const script = heredoc(PRELOAD_SCRIPT, "VIRTPERF_PRELOAD"), unit = heredoc(PRELOAD_UNIT, "VIRTPERF_PRELOAD_UNIT"), target = heredoc(PRELOAD_TARGET, "VIRTPERF_PRELOAD_TARGET");
  return `# Docker in the guest (stacks/kvm-docker/image.ts): the host's tools image, saved here from the host's daemon.
docker image inspect "$TOOLS_TAG" >/dev/null 2>&1 || { echo "guest docker image: the host has no $TOOLS_TAG (build the docker-tools image first)" >&2; exit 1; }
install -d -m 755 "$root/etc/docker"
printf '%s' ${shq(GUEST_DAEMON_JSON)} >"$root/etc/docker/daemon.json"
systemctl --root="$root" enable containerd.service docker.service
cat >"$root/usr/local/sbin/virtperf-preload" ${script.start}
${script.text}
chmod 755 "$root/usr/local/sbin/virtperf-preload"
cat >"$root/etc/systemd/system/virtperf-preload.service" ${unit.start}
${unit.text}
cat >"$root/etc/systemd/system/virtperf-preload.target" ${target.start}
${target.text}
docker save --output "$root${TOOLS_TAR}" "$TOOLS_TAG"
printf '%s\\n' "$TOOLS_TAG" >"$root${TOOLS_TAG_FILE}"
docker image inspect --format '{{.Id}}' "$TOOLS_TAG" >"$root${TOOLS_ID_FILE}"
cp "$root${TOOLS_ID_FILE}" "$tmp/tools-id"
echo "guest docker image: $TOOLS_TAG ($(cat "$tmp/tools-id")) saved into the tree, $(du -m "$root${TOOLS_TAR}" | cut -f1) MiB"
`;
}

/**
 * The variant's step on the written disk: its one boot, offline under TCG (no NIC; KVM is not trusted
 * before the stack's proof, and this runs once per image), loads the tools image into the guest's
 * dockerd; the console must say so. Then the image records the tools id it holds.
 */
export function preloadStep(): string {
  return `# One boot of the new disk loads the tools image into its dockerd (virtperf-preload.target), then powers off.
t0=$SECONDS
rc=0
timeout -k 10 ${PRELOAD_TIMEOUT_S} qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 -nographic -no-reboot -nic none \
  -kernel "$tmp/kernel" -initrd "$tmp/initrd" -append "$CMDLINE systemd.unit=virtperf-preload.target" \
  -drive "file=$tmp/disk.img,format=raw,if=virtio,discard=unmap" </dev/null >"$tmp/preload.log" 2>&1 || rc=$?
if [ "$rc" != 0 ] || ! grep -a ${shq(PRELOAD_OK)} "$tmp/preload.log" >/dev/null; then
  echo "guest docker image: the build-time boot did not load the tools image (QEMU exit $rc); its console's tail:" >&2
  tail -n 40 "$tmp/preload.log" >&2
  exit 1
fi
echo "guest docker image: $(sed -n 's/.*\\(${PRELOAD_OK}.*\\)/\\1/p' "$tmp/preload.log" | tr -d '\\r' | sed -n 1p) after $((SECONDS - t0)) s, $(du -m "$tmp/disk.img" | cut -f1) MiB used"
cp "$tmp/tools-id" "$OUT.tools-id"
`;
}
/** The packages of the image: the base guest's (workloads' included) and Docker's engine. */
export function guestDockerPackages(): string[] {
  return [...new Set([...guestPackages(), ...GUEST_DOCKER_PACKAGES])].sort();
}

/** Paths and boot parameters of the image for tools image `toolsTag` (planDockerImage's tag). */
export function guestDockerImage(x: Pick<Experiment, "host" | "debianSuite">, toolsTag: string): GuestImage {
  return builtGuestImage(x, "guest-docker", {
    suite: x.debianSuite, packages: guestDockerPackages(), script: buildScriptBody(dockerExtraStep(), preloadStep()), diskGiB: GUEST_DISK_GIB, tools: toolsTag,
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
  const vars = [`TOOLS_TAG=${shq(toolsTag)}`, `CMDLINE=${shq(img.cmdline!)}`];
  return builtImageCommand(GUEST_DOCKER_IMAGE, x, img, guestDockerPackages(), buildScriptBody(dockerExtraStep(), preloadStep()), vars, stale);
}
