/**
 * The set-up's cold paths, for real on this machine (issue 8): libvirt's `default` network stopped, then
 * not defined at all, and `scripts/services.sh` brings it back each time. A machine where the network
 * once ran never sees these paths, so CI would stay green over a broken set-up unless a test walks them.
 *
 * The network's definition is saved first and restored at the end when services.sh's (Debian's default)
 * differs from it, so a user's own `default` network survives the test. No guest may run meanwhile
 * (tests run one file at a time).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";

const URI = "qemu:///system";
const virsh = (...args: string[]) => execa("virsh", ["-c", URI, ...args], { reject: false });

async function activeState(): Promise<string> {
  const r = await virsh("net-info", "default");
  if (r.exitCode !== 0) return "undefined";
  return /^Active:\s+(\S+)/m.exec(r.stdout)?.[1] ?? "unknown";
}

async function services(): Promise<string> {
  const r = await execa("bash", ["scripts/services.sh", "libvirt"], { reject: false, all: true, timeout: 180_000 });
  assert.equal(r.exitCode, 0, `scripts/services.sh libvirt failed:\n${r.all}`);
  return String(r.stdout);
}

/** The network's XML without what every definition makes anew (uuid, MAC). */
const essence = (xml: string) => xml.replace(/<uuid>.*<\/uuid>/, "").replace(/<mac address=[^>]*\/>/, "").replace(/\s+/g, " ").trim();

describe("scripts/services.sh from cold (libvirt's default network)", { timeout: 10 * 60_000 }, () => {
  let original = "";
  before(async () => {
    await services();
    original = (await virsh("net-dumpxml", "--inactive", "default")).stdout;
    assert.match(original, /<network/);
  });
  after(async () => {
    const now = (await virsh("net-dumpxml", "--inactive", "default")).stdout;
    if (essence(now) !== essence(original)) {
      await virsh("net-destroy", "default");
      await virsh("net-undefine", "default");
      const file = `/tmp/virtperf-default-net-${process.pid}.xml`;
      await execa("bash", ["-c", `cat > ${file} && virsh -c ${URI} net-define ${file} && rm -f ${file}`], { input: original });
    }
    await services();
  });

  it("a defined but inactive network is started", async () => {
    await virsh("net-destroy", "default");
    assert.equal(await activeState(), "no");
    const out = await services();
    assert.match(out, /started .*network:default/);
    assert.equal(await activeState(), "yes");
  });

  it("a network that is not defined is defined from Debian's definition and started", async () => {
    await virsh("net-destroy", "default");
    await virsh("net-undefine", "default");
    assert.equal(await activeState(), "undefined");
    const out = await services();
    assert.match(out, /started .*network-defined:default .*network:default/);
    assert.equal(await activeState(), "yes");
  });

  it("everything running: nothing is started, and it says so", async () => {
    assert.match(await services(), /all running already \(libvirt\)/);
  });
});
