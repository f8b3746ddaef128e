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
 *   - have its own SSH host key. virtperf cannot know it in advance, so a user image's guest is the one
 *     connection trusted on first use: its key is recorded at the first contact (the boot wait) in that
 *     guest's own known_hosts file and checked on every later hop (a changed key is refused).
 *
 * Built guests share the cached image but no key: the image has no SSH host key and no authorized key;
 * each guest's disk step makes its own host key and root key and hands them over on a small read-only
 * seed disk (label `virtperf-seed`) that a unit installs before sshd starts (see diskCommand).
 *   - have the workloads' Debian packages installed, or let the runner install them (`--install`).
 */
import { createHash } from "node:crypto";
import { posix as path } from "node:path";
import type { CommandSpec, Experiment } from "../experiment.ts";
import type { Workload, WorkloadId } from "../../workloads/contract.ts";
import { WORKLOADS } from "../../workloads/registry.ts";
import { heredoc, shq } from "../../lib/shell.ts";

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
  /** User images only: the private key root's authorized_keys accepts (built guests get their own, per guest). */
  readonly identityFile?: string;
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

/** Label of the per-guest seed disk (made by the disk step on the host, read by the guest before sshd). */
export const SEED_LABEL = "virtperf-seed";

/**
 * Runs in the guest before ssh.service (which requires it): installs this guest's own host key and root's
 * authorized key from its seed disk. The image has neither; without the seed disk sshd stays down
 * rather than start with a key nobody pinned (and nothing in Debian's sshd regenerates keys at boot).
 */
const SEED_SCRIPT = `#!/bin/sh
set -eu
dev=/dev/disk/by-label/${SEED_LABEL}
i=0
while [ ! -e "$dev" ]; do
  i=$((i + 1))
  [ "$i" -le 60 ] || { echo "virtperf-seed: no seed disk $dev after 60 s: sshd stays down" >&2; exit 1; }
  sleep 1
done
mnt=$(mktemp -d)
mount -o ro "$dev" "$mnt"
trap 'umount "$mnt"; rmdir "$mnt"' EXIT
rm -f /etc/ssh/ssh_host_*
install -m 600 "$mnt/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key
install -m 644 "$mnt/ssh_host_ed25519_key.pub" /etc/ssh/ssh_host_ed25519_key.pub
install -d -m 700 /root/.ssh
install -m 600 "$mnt/authorized_keys" /root/.ssh/authorized_keys
echo "virtperf-seed: this guest's host key and root key installed from $dev"
`;

const SEED_UNIT = `[Unit]
Description=virtperf: this guest's SSH host key and root key, from its seed disk
Before=ssh.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/virtperf-seed
StandardOutput=journal+console
StandardError=journal+console
[Install]
RequiredBy=ssh.service
`;

/**
 * The build script body. It reads its inputs from variables set by `planGuestImage` (SUITE, PACKAGES,
 * OUT, KERNEL, INITRD, HOSTNAME_, DISK_GIB), so its text, and so the cache hash, does not depend on paths.
 * The image holds no SSH host key and no authorized key: it is shared by every guest of every stack,
 * and each guest gets its own keys from its seed disk (kvm-plan.ts diskCommand).
 *
 * For an image variant (stacks/kvm-docker/image.ts): `extra`, bash run on the finished tree (`$root`)
 * just before it is written to the disk, and `afterDisk`, bash run on the written disk (`$tmp/disk.img`,
 * with its boot files `$tmp/kernel` and `$tmp/initrd`) before it becomes the image; each ends with a
 * newline. Without them the text is the base image's, byte for byte, so the base image's hash (and every
 * cached base image) stays as it is.
 */
export function buildScriptBody(extra = "", afterDisk = ""): string {
  const seed = heredoc(SEED_SCRIPT, "VIRTPERF_SEED_SCRIPT"), unit = heredoc(SEED_UNIT, "VIRTPERF_SEED_UNIT");
  return `set -euo pipefail
mkdir -p "$(dirname "$OUT")"
# Cached: the image and its boot files are all there.
if [ -f "$OUT" ] && [ -f "$KERNEL" ] && [ -f "$INITRD" ]; then
  echo "guest image cached: $OUT"; exit 0
fi
for tool in mmdebstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "guest image: $tool not found on the host (apt-get install mmdebstrap e2fsprogs)" >&2; exit 1; }
done
tmp=$(mktemp -d "$(dirname "$OUT")/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
mmdebstrap --variant=apt --include="$PACKAGES" --aptopt='Acquire::Retries "3"' "$SUITE" "$root"
# No shared secrets in a shared image: the host keys openssh-server's install made go, root has no key.
rm -f "$root"/etc/ssh/ssh_host_*
install -d -m 700 "$root/root/.ssh"
rm -f "$root/root/.ssh/authorized_keys"
printf 'PermitRootLogin prohibit-password\\nPasswordAuthentication no\\nUseDNS no\\nHostKey /etc/ssh/ssh_host_ed25519_key\\n' >"$root/etc/ssh/sshd_config.d/virtperf.conf"
install -d "$root/usr/local/sbin"
cat >"$root/usr/local/sbin/virtperf-seed" ${seed.start}
${seed.text}
chmod 755 "$root/usr/local/sbin/virtperf-seed"
cat >"$root/etc/systemd/system/virtperf-seed.service" ${unit.start}
${unit.text}
systemctl --root="$root" enable virtperf-seed.service
printf 'auto lo\\niface lo inet loopback\\n\\nauto eth0\\niface eth0 inet dhcp\\n' >"$root/etc/network/interfaces"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\\n' >"$root/etc/fstab"
echo "$HOSTNAME_" >"$root/etc/hostname"
printf '127.0.0.1 localhost\\n127.0.1.1 %s\\n' "$HOSTNAME_" >"$root/etc/hosts"
for unit in ${DISABLED_UNITS.join(" ")}; do
  if [ -e "$root/lib/systemd/system/$unit" ]; then systemctl --root="$root" disable "$unit"; systemctl --root="$root" mask "$unit"; fi
done
install -d "$root${GUEST_DATA_DIR}" "$root${GUEST_WORK_ROOT}"
${extra}cp "$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n1)" "$tmp/kernel"
cp "$(ls "$root"/boot/initrd.img-* | sort -V | tail -n1)" "$tmp/initrd"
mkfs.ext4 -q -F -L virtperf-root -d "$root" "$tmp/disk.img" "\${DISK_GIB}G"
${afterDisk}mv "$tmp/kernel" "$KERNEL"; mv "$tmp/initrd" "$INITRD"
mv "$tmp/disk.img" "$OUT"
echo "guest image built: $OUT"
`;
}

function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/**
 * A built image: `<scratchDir>/images/<prefix>-<hash>.{img,vmlinuz,initrd}`, the hash of `inputs` (what
 * its build depends on: suite, packages, script text, disk size, and a variant's own inputs).
 */
export function builtGuestImage(x: Pick<Experiment, "host">, prefix: string, inputs: unknown): GuestImage {
  const hash = hashOf(inputs);
  const stem = path.join(x.host.scratchDir, "images", `${prefix}-${hash}`);
  return { kind: "built", base: `${stem}.img`, kernel: `${stem}.vmlinuz`, initrd: `${stem}.initrd`, cmdline: GUEST_CMDLINE, hash };
}

/** Paths and boot parameters of the guest base image (built or the user's). */
export function guestImage(x: Pick<Experiment, "host" | "debianSuite" | "guestImage">, packages: readonly string[] = guestPackages()): GuestImage {
  if (x.guestImage !== undefined) {
    return { kind: "user", base: x.guestImage, identityFile: sshKeyPath(x.host.scratchDir), hash: hashOf({ user: x.guestImage }) };
  }
  return builtGuestImage(x, "guest", { suite: x.debianSuite, packages: [...packages].sort(), script: buildScriptBody(), diskGiB: GUEST_DISK_GIB });
}

/**
 * The command that builds a built image (`img`) with `body` (buildScriptBody, maybe with a variant's
 * extra) unless it is cached. `vars`: a variant's own inputs as `NAME=value` lines, set before the body.
 */
export function builtImageCommand(
  role: string, x: Pick<Experiment, "debianSuite">, img: GuestImage, packages: readonly string[], body: string, vars: readonly string[] = [], prelude = "",
): CommandSpec {
  const all = [
    `SUITE=${shq(x.debianSuite)}`, `PACKAGES=${shq(packages.join(","))}`, `OUT=${shq(img.base)}`,
    `KERNEL=${shq(img.kernel!)}`, `INITRD=${shq(img.initrd!)}`,
    `HOSTNAME_=${shq(GUEST_HOSTNAME)}`, `DISK_GIB=${GUEST_DISK_GIB}`, ...vars,
  ];
  // One build per image at a time: a second caller waits, then finds it cached. Outside the hashed body.
  const lock = `mkdir -p "$(dirname "$OUT")"\nexec 9>"$OUT.lock"\nflock 9`;
  return { role, on: "host", triggers: [img.hash], create: `${all.join("\n")}\n${lock}\n${prelude}${body}` };
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
  return builtImageCommand("guest-image", x, img, packages, buildScriptBody());
}

function userImageCheck(img: GuestImage): string {
  return `set -euo pipefail
KEY=${shq(img.identityFile!)}
mkdir -p -m 700 "$(dirname "$KEY")"
[ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C virtperf -f "$KEY"
[ -r ${shq(img.base)} ] || { echo ${shq(`guest image ${img.base} not found or not readable (virtperf:guestImage)`)} >&2; exit 1; }
qemu-img info ${shq(img.base)}
echo "user guest image: root must accept the key $KEY.pub and DHCP must configure the first NIC"
`;
}
