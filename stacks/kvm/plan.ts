/**
 * KVM guests, pure part: the EnvironmentPlan of one KVM environment, its disk, hugepages and domain
 * lifecycle scripts (bash run on the host) and its facts script. `stacks/kvm.ts` maps these onto
 * Pulumi command resources; `npm run e2e` and the integration test run the very same scripts.
 */
import { createHash } from "node:crypto";
import { posix as path } from "node:path";
import type { KvmOptions } from "./options.ts";
import type { CommandSpec, EnvironmentDef, Experiment } from "../experiment.ts";
import type { EnvironmentPlan, HostProbe } from "../plan.ts";
import { ProvisionError } from "../../lib/errors.ts";
import { heredoc, shJoin, shq } from "../../lib/shell.ts";
import { sshOptions } from "../../lib/ssh.ts";
import type { TargetSpec } from "../../model/target.ts";
import { guestConnection } from "../../workloads/runner/targets.ts";
import { parseCpuset } from "../../lib/cpuset.ts";
import { GUEST_DATA_DIR, GUEST_WORK_ROOT, SEED_LABEL, guestImage, type GuestImage } from "./guest-image.ts";
import { accelerationLabel, macFor, renderDomainXml, type DomainSpec } from "./domain.ts";
import { hostSshTarget } from "../host-address.ts";
import { resolveAcceleration } from "./acceleration.ts";

/** How long the domain script waits for the guest to answer SSH (TCG boots take about 30 s here). Seconds. */
export const KVM_BOOT_TIMEOUT_S = 300;
export const LIBVIRT_URI = "qemu:///system";

/** What planKvm needs to know about the host: HostProbe's KVM proof, and its SMT width (default 1). */
export type KvmHostProbe = Pick<HostProbe, "kvm"> & { readonly threadsPerCore?: number };

export function domainName(stack: string, environment: string): string {
  return `virtperf-${stack}-${environment}`;
}

function kvmOptions(env: EnvironmentDef): KvmOptions {
  if (env.options.kind !== "kvm") throw new ProvisionError(`environment ${env.name} is ${env.options.kind}, not kvm`);
  return env.options as KvmOptions;
}

function guestStem(x: Experiment, env: EnvironmentDef): string {
  return path.join(x.host.scratchDir, "guests", `${x.stack}-${env.name}`);
}

/**
 * A guest's own SSH files on the host, made by its disk step: `<stem>.ssh/` (mode 700) with its host key
 * pair, root's key pair and the known_hosts file that pins the host key under the domain's name, and
 * `<stem>.seed.img`, the read-only disk that hands the guest its host key and root's authorized key.
 * A user image keeps its own host key (trusted on first use) and the shared user-image key.
 */
export interface GuestSsh {
  readonly dir: string;
  readonly hostKey: string;
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly seed: string;
  /** User images: the first key seen is recorded (accept-new), then pinned. */
  readonly firstUse: boolean;
}

export function guestSsh(x: Experiment, env: EnvironmentDef, img: GuestImage): GuestSsh {
  const stem = guestStem(x, env);
  const dir = `${stem}.ssh`;
  return {
    dir, hostKey: path.join(dir, "host_ed25519_key"), knownHostsFile: path.join(dir, "known_hosts"), seed: `${stem}.seed.img`,
    identityFile: img.kind === "user" ? img.identityFile! : path.join(dir, "id_ed25519"), firstUse: img.kind === "user",
  };
}

/** The runner's target of a guest: its domain, root with the guest's key, its pinned host key. */
export function guestTarget(x: Experiment, env: EnvironmentDef, img: GuestImage): TargetSpec & { kind: "guest" } {
  const ssh = guestSsh(x, env, img);
  const a = x.host.address;
  return {
    kind: "guest", domain: domainName(x.stack, env.name), user: "root", identityFile: ssh.identityFile, knownHostsFile: ssh.knownHostsFile,
    ...(ssh.firstUse ? { firstUse: true } : {}),
    // On an SSH host the domain, its NAT network and the keys are there: the runner reaches the guest via the host.
    ...(a.kind === "ssh" ? { via: hostSshTarget(a) } : {}),
  };
}

/** The domain spec of one KVM environment of an experiment. */
export function domainSpecFor(x: Experiment, env: EnvironmentDef, accel: "kvm" | "tcg", probe: KvmHostProbe, img: GuestImage): DomainSpec {
  const options = kvmOptions(env);
  const name = domainName(x.stack, env.name);
  const stem = guestStem(x, env);
  return {
    name, type: accel === "kvm" ? "kvm" : "qemu", stack: x.stack, environment: env.name, options,
    cpus: parseCpuset(x.host.cpuset), memoryMiB: x.host.memoryMiB, threadsPerCore: probe.threadsPerCore ?? 1,
    disk: { path: `${stem}.${options.diskFormat}`, format: options.diskFormat },
    ...(img.kind === "built" ? { boot: { kernel: img.kernel!, initrd: img.initrd!, cmdline: img.cmdline! }, seed: guestSsh(x, env, img).seed } : {}),
    mac: macFor(name), network: "default", consoleLog: `${stem}.console.log`,
  };
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * Bash functions shared by the domain and facts scripts: reach the guest over SSH with its pinned host
 * key (lib/ssh.ts, the runner's own options), coping with stale leases.
 */
export function guestShellPrelude(target: TargetSpec & { kind: "guest" }): string {
  const { host: _h, user, ...conn } = guestConnection(target, "ADDR");
  return `export LIBVIRT_DEFAULT_URI=${LIBVIRT_URI}
dom=${shq(target.domain)}
ssh_guest() { local addr=$1; shift; ssh ${shJoin(sshOptions(conn))} -- ${shq(`${user}@`)}"$addr" "$@"; }
# The domain's IPv4 addresses: live neighbours (ARP) first, then DHCP leases newest first. Leases can be
# stale (an earlier guest with the same MAC, another guest now on that address), so the caller keeps the
# first address where SSH answers with this guest's pinned host key.
guest_candidates() {
  { virsh domifaddr "$dom" --source arp 2>/dev/null | awk '$3=="ipv4"{sub(/\\/.*/,"",$4); print $4}'
    virsh domifaddr "$dom" --source lease 2>/dev/null | awk '$3=="ipv4"{sub(/\\/.*/,"",$4); print $4}' | tac
  } | awk 'NF && !seen[$0]++'
}
guest_address() {
  local a
  for a in $(guest_candidates); do ssh_guest "$a" true </dev/null >/dev/null 2>&1 && { echo "$a"; return 0; }; done
  return 1
}
`;
}

/**
 * The guest's disk (a qcow2 overlay on the base image, or a raw copy) and its own SSH keys: a host key
 * pair and a root key pair made here, the host key pinned in its known_hosts file under the domain's
 * name, and the seed disk that hands both to the guest (built images; see guest-image.ts). Re-made with
 * the disk, so a new disk is a new guest with new keys; delete removes them all.
 */
export function diskCommand(spec: DomainSpec, img: GuestImage, ssh: GuestSsh): CommandSpec {
  const disk = shq(spec.disk.path), base = shq(img.base);
  const make = spec.disk.format === "qcow2"
    ? `fmt=$(qemu-img info --output=json ${base} | sed -n 's/^ *"format": "\\([a-z0-9]*\\)".*/\\1/p' | sed -n 1p)
qemu-img create -q -f qcow2 -F "$fmt" -b ${base} ${disk}`
    : `qemu-img convert -q -O raw ${base} ${disk}`;
  const dir = shq(ssh.dir), hostKey = shq(ssh.hostKey), id = shq(ssh.identityFile), known = shq(ssh.knownHostsFile), seed = shq(ssh.seed);
  const keys = ssh.firstUse
    ? `# A user image keeps its own host key: recorded here at the first contact (the boot wait), then pinned.
: >${known}`
    : `ssh-keygen -q -t ed25519 -N '' -C ${shq(`${spec.name} host`)} -f ${hostKey}
ssh-keygen -q -t ed25519 -N '' -C ${shq(`${spec.name} root`)} -f ${id}
printf '%s %s\\n' ${shq(spec.name)} "$(cut -d' ' -f1,2 <${shq(`${ssh.hostKey}.pub`)})" >${known}
install -d -m 700 ${dir}/seed
install -m 600 ${hostKey} ${dir}/seed/ssh_host_ed25519_key
install -m 644 ${shq(`${ssh.hostKey}.pub`)} ${dir}/seed/ssh_host_ed25519_key.pub
install -m 600 ${shq(`${ssh.identityFile}.pub`)} ${dir}/seed/authorized_keys
(umask 077; mke2fs -q -F -t ext2 -L ${SEED_LABEL} -d ${dir}/seed ${seed} 1M)
rm -rf ${dir}/seed`;
  return {
    role: "disk", on: "host", triggers: [img.hash, spec.disk.format],
    create: `set -euo pipefail
[ -r ${base} ] || { echo ${shq(`guest base image ${img.base} is missing: run the guest-image command first`)} >&2; exit 1; }
mkdir -p ${shq(path.dirname(spec.disk.path))}
rm -rf ${disk} ${seed} ${dir}
${make}
# This guest's own SSH keys: never shared with another guest, pinned for every hop to it.
install -d -m 700 ${dir}
${keys}
echo ${shq(`guest disk ${spec.disk.path} (${spec.disk.format}) on ${img.base}; host key pinned in ${ssh.knownHostsFile}`)}
`,
    delete: `rm -rf ${disk} ${seed} ${dir}\n`,
  };
}

/** Reserves exactly the hugepages this guest needs on top of the host's pool; delete releases them. */
export function hugepagesCommand(spec: DomainSpec): CommandSpec {
  const state = shq(spec.disk.path.replace(/\.(qcow2|raw)$/, ".hugepages"));
  return {
    role: "hugepages", on: "host", triggers: [String(spec.memoryMiB)],
    create: `set -euo pipefail
fail() { echo ${shq(`hugepages for ${spec.name}:`)} "$*" >&2; exit 1; }
grep -qs ' hugetlbfs ' /proc/mounts || fail "no hugetlbfs is mounted on the host; run: mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages, then restart libvirtd (it looks for hugetlbfs when it starts), or use a preset without hugepages"
page_kib=$(awk '/^Hugepagesize:/{print $2}' /proc/meminfo)
need=$(( (${spec.memoryMiB} * 1024 + page_kib - 1) / page_kib ))
total=$(cat /proc/sys/vm/nr_hugepages)
echo $((total + need)) >/proc/sys/vm/nr_hugepages 2>/dev/null || fail "cannot write /proc/sys/vm/nr_hugepages (not root, or a read-only /proc/sys in a container)"
got=$(( $(cat /proc/sys/vm/nr_hugepages) - total ))
if ((got < need)); then
  echo "$total" >/proc/sys/vm/nr_hugepages
  fail "the host reserved only $got of $need pages of $page_kib KiB (memory fragmented or too small); reserve them at boot (hugepages= on the kernel command line)"
fi
mkdir -p ${shq(path.dirname(spec.disk.path))}
echo "$need" >${state}
echo "reserved $need hugepages of $page_kib KiB for "${shq(spec.name)}
`,
    delete: `set -euo pipefail
[ -f ${state} ] || exit 0
added=$(cat ${state}); total=$(cat /proc/sys/vm/nr_hugepages)
echo $(( total > added ? total - added : 0 )) >/proc/sys/vm/nr_hugepages
rm -f ${state}
`,
  };
}

export function domainCommand(spec: DomainSpec, img: GuestImage, target: TargetSpec & { kind: "guest" }, timeoutS = KVM_BOOT_TIMEOUT_S): CommandSpec {
  const xml = renderDomainXml(spec);
  const doc = heredoc(xml, "VIRTPERF_DOMAIN_XML");
  const xmlFile = shq(spec.disk.path.replace(/\.(qcow2|raw)$/, ".xml"));
  const log = shq(spec.consoleLog);
  const kvmCheck = spec.type === "kvm"
    ? `[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "domain $dom needs KVM but /dev/kvm is missing or not read-write here; use virtperf:acceleration tcg" >&2; exit 1; }\n`
    : "";
  const hugepagesHint = spec.options.hugepages
    ? " (hugepages: libvirtd looks for a mounted hugetlbfs only when it starts; mount it, then restart libvirtd)"
    : "";
  return {
    role: "domain", on: "host", triggers: [shortHash(xml), img.hash],
    create: `set -euo pipefail
${guestShellPrelude(target)}${kvmCheck}mkdir -p ${shq(path.dirname(spec.disk.path))}
cat >${xmlFile} ${doc.start}
${doc.text}
virt-xml-validate ${xmlFile} domain
# A leftover of an interrupted run has our name: it is ours, replace it.
if virsh dominfo "$dom" >/dev/null 2>&1; then virsh destroy "$dom" >/dev/null 2>&1 || true; virsh undefine "$dom" >/dev/null; fi
virsh net-info ${shq(spec.network)} | grep -E '^Active:\\s+yes' >/dev/null || virsh net-start ${shq(spec.network)}
virsh define ${xmlFile} >/dev/null
# A failed create leaves nothing defined (Pulumi never runs the delete of a resource it did not create).
undo() { virsh destroy "$dom" >/dev/null 2>&1 || true; virsh undefine "$dom" >/dev/null 2>&1 || true; }
started=$SECONDS
if ! err=$(virsh start "$dom" 2>&1 >/dev/null); then
  undo
  echo "virsh start $dom failed: $err${hugepagesHint}" >&2
  exit 1
fi
until addr=$(guest_address); do
  state=$(virsh domstate "$dom" 2>/dev/null || echo missing)
  if [ "$state" != running ] || ((SECONDS - started >= ${timeoutS})); then
    echo "guest $dom did not answer SSH within ${timeoutS}s (state: $state, addresses tried: $(guest_candidates | tr '\\n' ' ')); console tail:" >&2
    tail -n 30 ${log} >&2 2>/dev/null || true
    undo
    exit 1
  fi
  sleep 2
done
echo "guest $dom answers SSH at $addr after $((SECONDS - started))s (${accelerationLabel(spec.type)})"
`,
    delete: `set -euo pipefail
export LIBVIRT_DEFAULT_URI=${LIBVIRT_URI}
dom=${shq(spec.name)}
# A minimal guest ignores ACPI shutdown: destroy (power off) is the reliable stop.
if virsh dominfo "$dom" >/dev/null 2>&1; then
  virsh destroy "$dom" >/dev/null 2>&1 || true
  virsh undefine "$dom" >/dev/null
fi
rm -f ${xmlFile} ${log}
`,
  };
}

/** Host-side script printing the guest's facts as one JSON object (needs jq and ssh on the host). */
export function factsScript(spec: DomainSpec, target: TargetSpec & { kind: "guest" }, accelerationReason = ""): string {
  return `set -euo pipefail
${guestShellPrelude(target)}xml=$(virsh dumpxml "$dom")
addr=$(guest_address) || { echo "guest $dom does not answer SSH" >&2; exit 1; }
inside=$(ssh_guest "$addr" 'uname -r; nproc; awk "/^MemTotal:/{print \\$2}" /proc/meminfo; grep -m1 "model name" /proc/cpuinfo | cut -d: -f2-' </dev/null)
host_key=$(cut -d' ' -f2- ${shq(target.knownHostsFile ?? "/dev/null")} | sed -n 1p)
jq -n --arg domain "$dom" --arg address "$addr" --arg hostKey "$host_key" --arg xml "$xml" --arg kernel "$(sed -n 1p <<<"$inside")" \\
  --argjson vcpus "$(sed -n 2p <<<"$inside")" --argjson memKiB "$(sed -n 3p <<<"$inside")" --arg cpuModel "$(sed -n 4p <<<"$inside" | sed 's/^ *//')" \\
  --arg acceleration ${spec.type === "kvm" ? "kvm" : "tcg"} --arg accelLabel ${shq(accelerationLabel(spec.type))} --arg domainType ${spec.type} \\
  --arg accelReason ${shq(accelerationReason)} \\
  '{kind:"kvm", domain:$domain, address:$address, hostKey:$hostKey, acceleration:$acceleration, accelerationLabel:$accelLabel, accelerationReason:$accelReason, domainType:$domainType,
    guestKernel:$kernel, guestVcpus:$vcpus, guestMemTotalKiB:$memKiB, guestCpuModel:$cpuModel, domainXml:$xml}'
`;
}

/** The EnvironmentPlan of the KVM environment at `index` in the stack. */
export function planKvm(x: Experiment, env: EnvironmentDef, index: number, probe: KvmHostProbe): EnvironmentPlan<DomainSpec> {
  const { acceleration: accel, reason } = resolveAcceleration(x.acceleration, probe.kvm);
  const img = guestImage(x);
  const spec = domainSpecFor(x, env, accel, probe, img);
  const target = guestTarget(x, env, img);
  const commands = [diskCommand(spec, img, guestSsh(x, env, img)), ...(spec.options.hugepages ? [hugepagesCommand(spec)] : []), domainCommand(spec, img, target)];
  return {
    kind: "kvm", def: env, acceleration: accel, accelerationReason: reason, target,
    ports: [0, 1, 2, 3].map((i) => 21000 + 10 * index + i),
    dataDir: GUEST_DATA_DIR, workRoot: GUEST_WORK_ROOT,
    shape: { cpus: spec.cpus.length, memoryMiB: spec.memoryMiB },
    commands, facts: factsScript(spec, target, reason), spec,
  };
}
