import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PRESETS } from "../../../stacks/kinds.ts";
import type { EnvironmentDef } from "../../../stacks/experiment.ts";
import type { Experiment } from "../../../stacks/experiment.ts";
import {
  planDocker, planDockerImage, renderDockerRemove, renderDockerRun, renderVolumeCreate,
} from "../../../stacks/docker/spec.ts";
import { experiment } from "../../helpers/experiments.ts";

const PACKAGES = ["xz-utils", "fio", "nuttcp", "fio"];


const env = (name: keyof typeof PRESETS): EnvironmentDef => ({ name, options: PRESETS[name] });

// One row per Docker preset: what its spec must say.
const PRESET_TABLE = [
  { preset: "docker", index: 1, network: "bridge", volume: false },
  { preset: "docker-host", index: 2, network: "host", volume: false },
  { preset: "docker-volume", index: 3, network: "bridge", volume: true },
  { preset: "docker-host-volume", index: 4, network: "host", volume: true },
] as const;

describe("planDocker: the four Docker presets", () => {
  const x = experiment();
  const tag = planDockerImage(x, PACKAGES, "FROM scratch\n").tag;
  for (const row of PRESET_TABLE) {
    it(`${row.preset}: network, ports, mounts, cpuset, memory, labels`, () => {
      const p = planDocker(x, env(row.preset), row.index, tag);
      const c = p.spec;
      const base = 21000 + 10 * row.index;
      assert.equal(c.name, `virtperf-t1-${row.preset}`);
      assert.equal(c.image, tag);
      assert.equal(c.networkMode, row.network);
      assert.deepEqual(p.ports, [base, base + 1, base + 2, base + 3]);
      const expectedPorts = row.network === "bridge"
        ? [base, base + 1, base + 2, base + 3].flatMap((port) => ["tcp", "udp"].map((protocol) => ({ port, protocol, hostIp: "127.0.0.1" })))
        : [];
      assert.deepEqual(c.ports, expectedPorts);
      assert.deepEqual(c.mounts, row.volume ? [{ type: "volume", source: c.name, target: "/data" }] : []);
      assert.equal(c.volume?.hostDir, row.volume ? `/io/docker-volumes/t1-${row.preset}` : undefined);
      assert.deepEqual(p.commands.map((k) => k.role), row.volume ? ["volume-dir"] : []);
      assert.equal(c.cpusetCpus, "0-1");
      assert.equal(c.memoryBytes, 1536 * 1024 * 1024);
      assert.deepEqual(c.labels, { "virtperf.stack": "t1", "virtperf.environment": row.preset });
      assert.deepEqual(c.command, ["sleep", "infinity"]);
      assert.equal(c.init, true);
      assert.deepEqual(p.target, { kind: "docker", container: c.name });
      assert.equal(p.dataDir, "/data");
      assert.deepEqual(p.shape, { cpus: 2, memoryMiB: 1536 });
      assert.equal(p.acceleration, "none");
      assert.match(p.facts, new RegExp(`docker inspect .*${c.name}|c=${c.name}`));
    });
  }

  it("publishes on 0.0.0.0 when the client runs on a second machine", () => {
    const x2 = experiment({ client: { kind: "ssh", target: { kind: "ssh", host: "10.0.0.9", user: "u", knownHostsFile: "/kh" } } });
    const c = planDocker(x2, env("docker"), 0, tag).spec;
    assert.ok(c.ports.length > 0);
    assert.ok(c.ports.every((p) => p.hostIp === "0.0.0.0"));
  });

  it("a remote host's daemon is used where it runs: docker exec via the host's pinned ssh", () => {
    const x2 = experiment({
      host: { ...x.host, address: { kind: "ssh", host: "srv", user: "bench", port: 2222, privateKeyFile: "/k", keyFromSecret: false, hostPublicKey: "ssh-ed25519 AAA", knownHostsFile: "/kh" } },
    });
    const p = planDocker(x2, env("docker-host"), 0, tag);
    assert.deepEqual(p.target, { kind: "docker", container: "virtperf-t1-docker-host",
      via: { kind: "ssh", host: "srv", user: "bench", port: 2222, identityFile: "/k", knownHostsFile: "/kh" } });
    assert.doesNotMatch(p.facts, /DOCKER_HOST/);
  });

  it("refuses a non-Docker environment", () => {
    assert.throws(() => planDocker(x, env("kvm"), 0, tag), /not docker/);
  });
});

describe("renderDockerRun and friends", () => {
  const x = experiment({ host: { ...experiment().host, cpuset: "1", memoryMiB: 512 } });
  const tag = "virtperf/tools:abc";

  it("renders the bridge+volume spec to the exact argv", () => {
    const spec = planDocker(x, env("docker-volume"), 0, tag).spec;
    const argv = renderDockerRun(spec);
    const publishes = argv.flatMap((a, i) => (a === "--publish" ? [argv[i + 1]] : []));
    assert.deepEqual(publishes, [21000, 21001, 21002, 21003].flatMap((p) => [`127.0.0.1:${p}:${p}/tcp`, `127.0.0.1:${p}:${p}/udp`]));
    assert.deepEqual(argv.slice(0, 10), [
      "docker", "run", "--detach", "--name", "virtperf-t1-docker-volume",
      "--label", "virtperf.stack=t1", "--label", "virtperf.environment=docker-volume", "--init",
    ]);
    assert.deepEqual(argv.slice(-13), [
      "--mount", "type=volume,source=virtperf-t1-docker-volume,target=/data",
      "--cpuset-cpus", "1", "--memory", `${512 * 2 ** 20}b`, "--memory-swap", `${512 * 2 ** 20}b`, "--shm-size", `${256 * 2 ** 20}b`,
      tag, "sleep", "infinity",
    ]);
    assert.deepEqual(renderVolumeCreate(spec.volume!), [
      "docker", "volume", "create", "--driver", "local", "--label", "virtperf.stack=t1",
      "--label", "virtperf.environment=docker-volume", "--opt", "type=none", "--opt", "o=bind",
      "--opt", "device=/io/docker-volumes/t1-docker-volume", "virtperf-t1-docker-volume",
    ]);
    assert.deepEqual(renderDockerRemove(spec), [
      ["docker", "rm", "--force", "--volumes", "virtperf-t1-docker-volume"],
      ["docker", "volume", "rm", "--force", "virtperf-t1-docker-volume"],
    ]);
  });

  it("host network: no --publish, no --mount, --network host", () => {
    const argv = renderDockerRun(planDocker(x, env("docker-host"), 0, tag).spec);
    assert.ok(!argv.includes("--publish") && !argv.includes("--mount"));
    assert.equal(argv[argv.indexOf("--network") + 1], "host");
    assert.deepEqual(renderDockerRemove(planDocker(x, env("docker-host"), 0, tag).spec).length, 1);
  });
});

describe("planDockerImage", () => {
  const x = experiment();
  it("tags by content: packages (order, duplicates ignored), Dockerfile and base image change the tag", () => {
    const a = planDockerImage(x, ["fio", "xz-utils"], "FROM x\n").tag;
    assert.match(a, /^virtperf\/tools:[0-9a-f]{12}$/);
    assert.equal(planDockerImage(x, ["xz-utils", "fio", "fio"], "FROM x\n").tag, a);
    assert.notEqual(planDockerImage(x, ["fio"], "FROM x\n").tag, a);
    assert.notEqual(planDockerImage(x, ["fio", "xz-utils"], "FROM y\n").tag, a);
    assert.notEqual(planDockerImage(experiment({ dockerBaseImage: "debian:trixie" }), ["fio", "xz-utils"], "FROM x\n").tag, a);
  });

  it("imports debian:<suite> with mmdebstrap only when absent, then builds with the classic builder", () => {
    const p = planDockerImage(x, PACKAGES, "FROM ${BASE_IMAGE}\n");
    assert.deepEqual(p.commands.map((c) => c.role), ["docker-base", "docker-image"]);
    const [base, image] = p.commands;
    assert.match(base!.create, /docker image inspect debian:bookworm .*\|\| docker image inspect virtperf\/debian:bookworm/);
    assert.match(base!.create, /mmdebstrap --variant=apt bookworm - \| docker import - virtperf\/debian:bookworm/);
    assert.match(image!.create, new RegExp(`docker image inspect ${p.tag.replace(/[/.]/g, "\\$&")} .*exit 0`));
    assert.match(image!.create, /DOCKER_BUILDKIT=0 docker build --tag virtperf\/tools:[0-9a-f]{12} /);
    assert.ok(image!.create.includes("'PACKAGES=fio nuttcp xz-utils'"), image!.create);
    assert.ok(image!.create.includes("FROM ${BASE_IMAGE}\nVIRTPERF_DOCKERFILE"), "Dockerfile embedded verbatim");
    assert.deepEqual(image!.triggers, [p.tag]);
  });

  it("a non-Debian base is used as given, with no import step", () => {
    const p = planDockerImage(experiment({ dockerBaseImage: "registry.local/tools-base:1" }), PACKAGES, "FROM x\n");
    assert.deepEqual(p.commands.map((c) => c.role), ["docker-image"]);
    assert.match(p.commands[0]!.create, /base=registry\.local\/tools-base:1\n/);
  });

  it("the project Dockerfile installs the PACKAGES build-arg on BASE_IMAGE", () => {
    const text = planDockerImage(x, PACKAGES).commands.at(-1)!.create;
    assert.match(text, /FROM \$\{BASE_IMAGE\}/);
    assert.match(text, /apt-get install -y --no-install-recommends \$PACKAGES/);
  });

  it("refuses an empty package list", () => {
    assert.throws(() => planDockerImage(x, [], "FROM x\n"), /empty package list/);
  });
});
