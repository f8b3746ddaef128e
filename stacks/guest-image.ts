/**
 * The KVM guests' base image (pure: paths, content hash and the bash that builds it).
 *
 * Built offline from Debian packages: mmdebstrap into a directory, a few files customised, then
 * `mkfs.ext4 -d` writes the tree into a sparse raw image; the kernel and initrd are copied beside it
 * because guests boot by direct kernel boot. Cached by content hash (suite + package list + build script
 * + disk size) under `<scratchDir>/images/`, so a second run reuses it.
 *
 * A user-supplied cloud image (`Experiment.guestImage`) replaces the built one. Then cloud-init (or
 * whatever the image does at boot) is the user's concern; virtperf expects the image to:
 *   - boot from its own disk (BIOS, bootloader on the disk; no direct kernel boot),
 *   - bring up its first NIC with DHCP (libvirt's `default` network),
 *   - let `root` in over SSH with the key `<scratchDir>/ssh/id_ed25519` (its `.pub` is created by the
 *     image command before any guest starts; bake it in or hand it to cloud-init yourself),
 *   - have the workloads' Debian packages installed, or let the runner install them (`--install`).
 */
import { createHash } from "node:crypto";
import { posix as path } from "node:path";
import type { CommandSpec, Experiment } from "./experiment.ts";
import type { Workload, WorkloadId } from "../workloads/contract.ts";
import { WORKLOADS } from "../workloads/registry.ts";
import { shq } from "../lib/shell.ts";

/** Packages every built guest gets, besides the workloads' own: boot, init, network, SSH. */
export const GUEST_BASE_PACKAGES = [
  "linux-image-amd64", "initramfs-tools", "systemd-sysv", "udev", "kmod", "iproute2", "procps", "netbase",
  "ifupdown", "isc-dhcp-client", "openssh-server",
] as const;

/** Virtual size of the guest disk (sparse): room for the system and the I/O workloads' files. GiB. */
export const GUEST_DISK_GIB = 16;
export const GUEST_HOSTNAME = "virtperf-guest";
/** Where I/O workloads put their files inside a guest: on the guest's virtio disk (its root filesystem). */
export const GUEST_DATA_DIR = "/var/lib/virtperf/data";
export const GUEST_WORK_ROOT = "/var/lib/virtperf/work";
/**
 * Kernel command line of built guests. `net.ifnames=0` makes the first NIC `eth0` whatever the bus,
 * so the image's ifupdown stanza does not depend on the machine type.
 */
export const GUEST_CMDLINE = "root=/dev/vda rw console=ttyS0 net.ifnames=0";

/** Units that workload packages enable at install; a guest runs nothing of ours between trials. */
const DISABLED_UNITS = ["mariadb.service", "mariadb.socket", "redis-server.service"] as const;

export interface GuestImage {
  /** "built": our Debian image booted by direct kernel boot; "user": the user's cloud image, booted from disk. */
  readonly kind: "built" | "user";
  /** Base disk image every guest disk is made from. */
  readonly base: string;
  /** Direct kernel boot files (built images only). */
  readonly kernel?: string;
  readonly initrd?: string;
  readonly cmdline?: string;
  /** Private key that root's authorized_keys in the guest accepts. */
  readonly identityFile: string;
  /** Content hash of the build inputs (built), or of the user image's path (user). */
  readonly hash: string;
}

/** The union of the workloads' env-side Debian packages plus the guest's own, sorted, without duplicates. */
export function guestPackages(workloads: Readonly<Record<WorkloadId, Pick<Workload, "packages">>> = WORKLOADS): string[] {
  const all = new Set<string>(GUEST_BASE_PACKAGES);
  for (const w of Object.values(workloads)) for (const p of w.packages) all.add(p);
  return [...all].sort();
}

export function sshKeyPath(scratchDir: string): string {
  return path.join(scratchDir, "ssh", "id_ed25519");
}

/**
 * The build script body. It reads its inputs from variables set by `planGuestImage` (SUITE, PACKAGES,
 * OUT, KERNEL, INITRD, KEY, HOSTNAME_, DISK_GIB), so its text, and so the cache hash, does not depend on paths.
 */
export function buildScriptBody(): string {
  return `set -euo pipefail
mkdir -p "$(dirname "$OUT")" "$(dirname "$KEY")"
[ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C virtperf -f "$KEY"
# Cached: the image, its boot files and the key it authorizes are all there.
if [ -f "$OUT" ] && [ -f "$KERNEL" ] && [ -f "$INITRD" ] && cmp -s "$OUT.pub" "$KEY.pub"; then
  echo "guest image cached: $OUT"; exit 0
fi
for tool in mmdebstrap mkfs.ext4 ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "guest image: $tool not found on the host (apt-get install mmdebstrap e2fsprogs openssh-client)" >&2; exit 1; }
done
tmp=$(mktemp -d "$(dirname "$OUT")/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
mmdebstrap --variant=apt --include="$PACKAGES" --aptopt='Acquire::Retries "3"' "$SUITE" "$root"
install -d -m 700 "$root/root/.ssh"
install -m 600 "$KEY.pub" "$root/root/.ssh/authorized_keys"
printf 'PermitRootLogin prohibit-password\\nPasswordAuthentication no\\nUseDNS no\\n' >"$root/etc/ssh/sshd_config.d/virtperf.conf"
printf 'auto lo\\niface lo inet loopback\\n\\nauto eth0\\niface eth0 inet dhcp\\n' >"$root/etc/network/interfaces"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\\n' >"$root/etc/fstab"
echo "$HOSTNAME_" >"$root/etc/hostname"
printf '127.0.0.1 localhost\\n127.0.1.1 %s\\n' "$HOSTNAME_" >"$root/etc/hosts"
for unit in ${DISABLED_UNITS.join(" ")}; do
  if [ -e "$root/lib/systemd/system/$unit" ]; then systemctl --root="$root" disable "$unit"; systemctl --root="$root" mask "$unit"; fi
done
install -d "$root${GUEST_DATA_DIR}" "$root${GUEST_WORK_ROOT}"
cp "$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n1)" "$tmp/kernel"
cp "$(ls "$root"/boot/initrd.img-* | sort -V | tail -n1)" "$tmp/initrd"
mkfs.ext4 -q -F -L virtperf-root -d "$root" "$tmp/disk.img" "\${DISK_GIB}G"
mv "$tmp/kernel" "$KERNEL"; mv "$tmp/initrd" "$INITRD"; cp "$KEY.pub" "$OUT.pub"
mv "$tmp/disk.img" "$OUT"
echo "guest image built: $OUT"
`;
}

function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/** Paths and boot parameters of the guest base image (built or the user's). */
export function guestImage(x: Pick<Experiment, "host" | "debianSuite" | "guestImage">, packages: readonly string[] = guestPackages()): GuestImage {
  const identityFile = sshKeyPath(x.host.scratchDir);
  if (x.guestImage !== undefined) {
    return { kind: "user", base: x.guestImage, identityFile, hash: hashOf({ user: x.guestImage }) };
  }
  const hash = hashOf({ suite: x.debianSuite, packages: [...packages].sort(), script: buildScriptBody(), diskGiB: GUEST_DISK_GIB });
  const stem = path.join(x.host.scratchDir, "images", `guest-${hash}`);
  return { kind: "built", base: `${stem}.img`, kernel: `${stem}.vmlinuz`, initrd: `${stem}.initrd`, cmdline: GUEST_CMDLINE, identityFile, hash };
}

/**
 * The CommandSpec that makes the base image available on the host. Never deleted on destroy: the
 * image is a cache shared by stacks (remove `<scratchDir>/images/` by hand to reclaim the space).
 */
export function planGuestImage(x: Pick<Experiment, "host" | "debianSuite" | "guestImage">, packages: readonly string[] = guestPackages()): CommandSpec {
  const img = guestImage(x, packages);
  if (img.kind === "user") {
    return { role: "guest-image", on: "host", triggers: [img.hash], create: userImageCheck(img) };
  }
  const vars = [
    `SUITE=${shq(x.debianSuite)}`, `PACKAGES=${shq(packages.join(","))}`, `OUT=${shq(img.base)}`,
    `KERNEL=${shq(img.kernel!)}`, `INITRD=${shq(img.initrd!)}`, `KEY=${shq(img.identityFile)}`,
    `HOSTNAME_=${shq(GUEST_HOSTNAME)}`, `DISK_GIB=${GUEST_DISK_GIB}`,
  ];
  // One build per image at a time: a second caller waits, then finds it cached. Outside the hashed body.
  const lock = `mkdir -p "$(dirname "$OUT")"\nexec 9>"$OUT.lock"\nflock 9`;
  return { role: "guest-image", on: "host", triggers: [img.hash], create: `${vars.join("\n")}\n${lock}\n${buildScriptBody()}` };
}

function userImageCheck(img: GuestImage): string {
  return `set -euo pipefail
KEY=${shq(img.identityFile)}
mkdir -p "$(dirname "$KEY")"
[ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C virtperf -f "$KEY"
[ -r ${shq(img.base)} ] || { echo "guest image ${img.base} not found or not readable (virtperf:guestImage)" >&2; exit 1; }
qemu-img info ${shq(img.base)}
echo "user guest image: root must accept the key $KEY.pub and DHCP must configure the first NIC"
`;
}
