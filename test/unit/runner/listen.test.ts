/**
 * Where servers listen and whom they let in (issue 10), the pure parts and the SSH host's own check:
 * a bridge container's address and gateway from `docker inspect`, the client's address as the server
 * sees it, and an SSH host's own address for the name the runner reaches it by (0.0.0.0 when it is not one).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { parseContainerAddress, sshListenScript } from "../../../workloads/runner/targets.ts";
import { clientAddress } from "../../../workloads/runner/trial.ts";

describe("listen addresses", () => {
  const containers: [string, ReturnType<typeof parseContainerAddress>][] = [
    ["bridge 172.17.0.2 172.17.0.1", { bind: "172.17.0.2", loopbackPeer: "172.17.0.1" }],
    ["virtperf-net 10.9.0.5 10.9.0.1\n", { bind: "10.9.0.5", loopbackPeer: "10.9.0.1" }],
    ["host  ", { bind: "127.0.0.1" }],
    ["", { bind: "127.0.0.1" }],
    ["slirp4netns", "own-address"],
  ];
  for (const [line, want] of containers) it(`docker inspect ${JSON.stringify(line)}`, () => assert.deepEqual(parseContainerAddress(line), want));

  const clients: [string, Parameters<typeof clientAddress>, string][] = [
    ["native: loopback", ["127.0.0.1", { bind: "127.0.0.1" }, "127.0.0.1"], "127.0.0.1"],
    ["a bridge container: the host's loopback appears as the gateway", ["127.0.0.1", { bind: "172.17.0.2", loopbackPeer: "172.17.0.1" }, "127.0.0.1"], "172.17.0.1"],
    ["a guest: the host's address on the guest network", ["192.168.122.5", { bind: "192.168.122.5" }, "192.168.122.1"], "192.168.122.1"],
    ["a second client machine through a bridge's NAT keeps its own address", ["127.0.0.1", { bind: "172.17.0.2", loopbackPeer: "172.17.0.1" }, "10.0.0.7"], "10.0.0.7"],
    ["unknown route, loopback server", ["127.0.0.1", { bind: "127.0.0.1" }, undefined], "127.0.0.1"],
    ["unknown route elsewhere: any (the password still guards it)", ["192.168.122.5", { bind: "192.168.122.5" }, undefined], "%"],
  ];
  for (const [what, args, want] of clients) it(`client address: ${what}`, () => assert.equal(clientAddress(...args), want));

  const ssh: [string, string][] = [["127.0.0.1", "127.0.0.1"], ["localhost", "127.0.0.1"], ["203.0.113.9", "0.0.0.0"], ["no-such-host.invalid", "0.0.0.0"]];
  for (const [host, want] of ssh) {
    it(`an SSH host reached as ${host} listens on ${want}`, () => assert.equal(execFileSync("bash", ["-c", sshListenScript(host)], { encoding: "utf8" }).trim(), want));
  }
});
