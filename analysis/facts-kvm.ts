/**
 * Aspects of a KVM (or QEMU TCG) guest, from its facts (model/facts.ts, written by stacks/kvm/): what the
 * guest itself reports (guestKernel, guestVcpus, guestMemTotalKiB, guestCpuModel) and the live domain
 * XML (`virsh dumpxml`), read for CPU placement, memory backing, NIC and disk. The XML is libvirt's own
 * output, so a few attribute regexes are enough; anything not found stays undefined.
 */
import type { Aspects } from "./facts.ts";
import type { KvmFacts } from "../model/facts.ts";
import { num, str, withDetails } from "./facts-json.ts";

/** The value of attribute `name` in one start tag, or undefined. */
function attr(tag: string | undefined, name: string): string | undefined {
  if (!tag) return undefined;
  return tag.match(new RegExp(`\\s${name}=(?:'([^']*)'|"([^"]*)")`))?.slice(1).find((v) => v !== undefined);
}

/** Start tags `<name ...>` (or self-closing) found in `xml`. */
function tags(xml: string, name: string): string[] {
  return xml.match(new RegExp(`<${name}(?=[\\s/>])[^>]*>`, "g")) ?? [];
}

/** Whole elements `<name ...>...</name>` (non-nested), filtered by a start-tag test. */
function elements(xml: string, name: string, keep: (startTag: string) => boolean = () => true): string[] {
  const all = xml.match(new RegExp(`<${name}(?=[\\s>])[^>]*>[\\s\\S]*?</${name}>`, "g")) ?? [];
  return all.filter((e) => keep(e.slice(0, e.indexOf(">") + 1)));
}

function vcpuCount(facts: KvmFacts, xml: string): number | undefined {
  return num(facts.guestVcpus) ?? num(xml.match(/<vcpu\b[^>]*>\s*(\d+)\s*<\/vcpu>/)?.[1]);
}

/** Where the vCPUs may run: pinned 1:1 (`<vcpupin>`), floating over a set (`<vcpu cpuset>`), or anywhere. */
function kvmCpuset(facts: KvmFacts, xml: string): string {
  const n = vcpuCount(facts, xml);
  const vcpus = n === undefined ? "vCPUs" : `${n} vCPU${n === 1 ? "" : "s"}`;
  const pins = tags(xml, "vcpupin").map((t) => attr(t, "cpuset")).filter((c): c is string => !!c);
  if (pins.length > 0) {
    const emulator = attr(tags(xml, "emulatorpin")[0], "cpuset");
    return withDetails([...new Set(pins)].join(","), [`${vcpus} pinned 1:1`, emulator ? `emulator on ${emulator}` : undefined]);
  }
  const set = attr(tags(xml, "vcpu")[0], "cpuset");
  if (set) return `${set} (${vcpus} floating over them, not pinned)`;
  return `any host CPU (${vcpus}, not pinned)`;
}

function kibText(value: number, unit: string | undefined): number | undefined {
  const factor: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, kib: 1, k: 1, mib: 1024, m: 1024, gib: 1024 ** 2, g: 1024 ** 2 };
  const f = factor[(unit ?? "KiB").toLowerCase()];
  return f === undefined ? undefined : value * f;
}

function kvmMemory(facts: KvmFacts, xml: string): string | undefined {
  const m = xml.match(/<memory\b([^>]*)>\s*(\d+)\s*<\/memory>/);
  const kib = m ? kibText(Number(m[2]), attr(`<memory${m[1]}>`, "unit")) : undefined;
  const guestKiB = num(facts.guestMemTotalKiB);
  const guest = guestKiB === undefined ? undefined : `guest sees ${Math.round(guestKiB / 1024)} MiB`;
  const huge = /<memoryBacking>[\s\S]*?<hugepages\b/.test(xml) ? "hugepages" : undefined;
  if (kib !== undefined) return withDetails(`${Math.round(kib / 1024)} MiB`, [guest, huge]);
  return guestKiB === undefined ? undefined : withDetails(`${Math.round(guestKiB / 1024)} MiB`, ["guest total", huge]);
}

const NIC_MODEL: Record<string, string> = { virtio: "virtio-net" };

function kvmNetwork(xml: string): string | undefined {
  const iface = elements(xml, "interface")[0];
  if (!iface) return undefined;
  const type = attr(iface, "type");
  const source = tags(iface, "source")[0];
  const model = attr(tags(iface, "model")[0], "type");
  const queues = num(attr(tags(iface, "driver")[0], "queues"));
  let head: string;
  if (type === "network") {
    const net = attr(source, "network");
    // libvirt's stock 'default' network is NAT; another network's forward mode is not in the domain XML.
    head = net === "default" ? "libvirt NAT network 'default'" : `libvirt network${net ? ` '${net}'` : ""}`;
  } else if (type === "bridge") head = `host bridge${attr(source, "bridge") ? ` '${attr(source, "bridge")}'` : ""}`;
  else if (type === "user") head = "QEMU user-mode networking";
  else if (type === "direct") head = `macvtap${attr(source, "dev") ? ` on ${attr(source, "dev")}` : ""}`;
  else head = `libvirt interface type '${type ?? "unknown"}'`;
  const nic = model ? (NIC_MODEL[model] ?? model) : "default NIC model";
  return `${head}, ${nic}${model === "virtio" ? `, ${queues ?? 1} queue${(queues ?? 1) === 1 ? "" : "s"}` : ""}`;
}

function kvmStorage(xml: string): string | undefined {
  const disk = elements(xml, "disk", (t) => attr(t, "device") === "disk")[0];
  if (!disk) return undefined;
  const driver = tags(disk, "driver")[0];
  const format = attr(driver, "type") ?? "unknown format";
  const backing = attr(tags(disk, "format")[0], "type");
  const bus = attr(tags(disk, "target")[0], "bus");
  const cache = attr(driver, "cache");
  const io = attr(driver, "io");
  return [
    `${format}${backing ? ` (overlay on a ${backing} base image)` : ""}`,
    bus === "virtio" ? "virtio-blk" : bus ? `${bus} bus` : undefined,
    cache ? `cache=${cache}` : "cache default",
    io ? `io=${io}` : undefined,
  ].filter((p): p is string => !!p).join(", ");
}

/** "Nehalem (libvirt custom model)", "host-passthrough", with the topology when one is set. */
function libvirtCpu(xml: string): string | undefined {
  const cpu = elements(xml, "cpu")[0] ?? tags(xml, "cpu")[0];
  if (!cpu) return undefined;
  const mode = attr(cpu, "mode") ?? "custom";
  const model = cpu.match(/<model\b[^>]*>([^<]+)<\/model>/)?.[1]?.trim();
  const topo = tags(cpu, "topology")[0];
  const topoText = topo ? `topology ${attr(topo, "sockets") ?? "?"} socket x ${attr(topo, "cores") ?? "?"} cores x ${attr(topo, "threads") ?? "?"} threads` : undefined;
  const head = mode === "custom" ? `libvirt custom model${model ? ` ${model}` : ""}` : `libvirt ${mode}`;
  return topoText ? `${head}, ${topoText}` : head;
}

export function kvmAspects(facts: KvmFacts): Aspects {
  const xml = str(facts.domainXml) ?? "";
  const out: Aspects = {};
  const set = (key: keyof Aspects, v: string | undefined) => { if (v) out[key] = v; };
  const hasXml = xml.includes("<domain");
  const n = vcpuCount(facts, xml);
  if (hasXml) set("cpuset", kvmCpuset(facts, xml));
  else if (n !== undefined) set("cpuset", `placement unknown (${n} vCPUs; no domain XML)`);
  set("memory", kvmMemory(facts, xml));
  if (hasXml) {
    set("network", kvmNetwork(xml));
    set("storage", kvmStorage(xml));
  }
  const domainType = str(facts.domainType) ?? attr(tags(xml, "domain")[0], "type");
  if (hasXml || domainType) set("isolation", "a libvirt guest: its own kernel on virtual hardware (QEMU)");
  set("acceleration", str(facts.acceleration) ?? (domainType === "qemu" ? "tcg" : domainType));
  set("kernel", str(facts.guestKernel));
  const guestCpu = str(facts.guestCpuModel);
  const libvirt = hasXml ? libvirtCpu(xml) : undefined;
  set("cpuModel", guestCpu && libvirt ? `${guestCpu} (${libvirt})` : guestCpu ?? libvirt);
  return out;
}
