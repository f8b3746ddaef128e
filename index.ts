/**
 * The Pulumi program: config -> experiment -> plan -> components -> outputs, nothing else.
 * Every command any resource runs comes from the planner (stacks/planner.ts); `npm run e2e` runs the
 * same plan without the engine.
 */
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { namespaceKeys, parseExperiment } from "./stacks/config.ts";
import { probeHost } from "./stacks/host-probe.ts";
import { assertPreflight, hostProbeOf, preflight } from "./stacks/preflight/preflight.ts";
import { plan } from "./stacks/planner.ts";
import { writeRunFiles } from "./stacks/results.ts";
import { writePrivateFile } from "./stacks/keys.ts";
import { shq } from "./lib/shell.ts";
import { CommandChain } from "./stacks/command-chain.ts";
import { Trials } from "./stacks/trials.ts";
import { DockerImage } from "./stacks/docker/component.ts";
import { NativeHost } from "./stacks/native/component.ts";
import { kindModule } from "./stacks/kinds.ts";
import { kindsOf } from "./stacks/preflight/checks.ts";
import type { HostAddress } from "./stacks/experiment.ts";

const raw = namespaceKeys(pulumi.runtime.allConfig());
const basic = probeHost();
const x = parseExperiment(raw, pulumi.getStack(), basic);

/**
 * The SSH connection to a remote host. A `privateKey` secret is also written where the runner and ssh
 * read it (stacks/keys.ts: outside the project, 0700 directory, 0600 file, atomically), never when
 * previewing.
 */
function connectionOf(a: HostAddress) {
  if (a.kind !== "ssh") return undefined;
  const secretKey = a.keyFromSecret ? (raw.host as { privateKey?: string }).privateKey! : undefined;
  if (secretKey && !pulumi.runtime.isDryRun()) writePrivateFile(a.privateKeyFile, secretKey);
  const privateKey = pulumi.secret(secretKey ?? readFileSync(a.privateKeyFile, "utf8"));
  return { host: a.host, user: a.user, port: a.port, privateKey, hostKey: a.hostPublicKey };
}

const address = x.host.address;
const connection = connectionOf(address);
// The written key goes with the stack: its delete runs on `pulumi destroy`, after everything that
// connects with it (the host's first step comes after it, and everything else after the host).
const keyFile = address.kind === "ssh" && address.keyFromSecret
  ? new local.Command(`virtperf-${x.stack}-host-key`, {
    create: `test -f ${shq(address.privateKeyFile)}`, delete: `rm -f ${shq(address.privateKeyFile)}`,
    triggers: [address.privateKeyFile], interpreter: ["/bin/bash", "-c"],
  })
  : undefined;
// Pre-flight before any resource, in `pulumi preview` too: a failed check stops here with its table.
// (A remote host whose key is only a secret is not written while previewing: it is checked by `pulumi up`.)
const reachable = address.kind !== "ssh" || existsSync(address.privateKeyFile);
if (!reachable) pulumi.log.warn(`pre-flight of ${x.stack}'s host skipped while previewing: its key is a secret, written by pulumi up`);
const checked = reachable ? preflight(x) : { checks: [], where: "not checked (preview)" };
assertPreflight(x, checked);
const p = plan(x, hostProbeOf(basic, checked));
const root = process.cwd();
for (const n of p.notMeasured) pulumi.log.warn(`${n.environment}: ${n.workload} not measured (left out of the schedule): ${n.reason}`);
if (!pulumi.runtime.isDryRun()) writeRunFiles(resolve(root, p.resultsDir), x, p.schedule, p.runId, p.notMeasured);
const chainCtx = { address, ...(connection ? { privateKey: connection.privateKey } : {}) };
const privateKey = connection ? { privateKey: connection.privateKey } : {};

// Facts are collected by the facts chain below (into the results folder), not by NativeHost.
const host = new NativeHost(`virtperf-${x.stack}-host`, { plan: p.host, address, collectFacts: false, ...privateKey, ...(keyFile ? { after: keyFile } : {}) });
// In plan order: an image made from another (ImagePlan.after) comes after it.
const images = new Map<string, { resource: pulumi.Resource; tag?: pulumi.Output<string> }>();
for (const i of p.images) {
  const name = `virtperf-${x.stack}-${i.name}`;
  // The images it is made from first: the first step names the first of them (else the host) in its triggers.
  const after = [...(i.after ?? []).map((id) => images.get(id)!.resource), host];
  if (i.resource === "docker-image") {
    const image = new DockerImage(name, { plan: { tag: i.tag!, commands: i.commands }, address, dependsOn: after, ...privateKey });
    images.set(i.id, { resource: image, tag: image.tag });
  } else images.set(i.id, { resource: new CommandChain(name, { ...chainCtx, commands: i.commands, dir: root, after }) });
}
// Each environment is its kind's component (loaded on demand: the planner and e2e never load Pulumi).
const components = new Map(await Promise.all(kindsOf(x).map(async (k) => [k, await kindModule(k).component()] as const)));
const environments: pulumi.Resource[] = p.environments.flatMap((env) =>
  components.get(env.kind)!.resources(`virtperf-${x.stack}-${env.def.name}`, env, { ...chainCtx, host, images }));
const facts = new CommandChain(`virtperf-${x.stack}-facts`, { ...chainCtx, commands: p.facts, dir: root, after: [host, ...environments] });
const trials = new Trials(`virtperf-${x.stack}-trials`, { trials: p.trials, resultsDir: p.resultsDir, dir: root, after: [facts, ...environments] });

export const runId = p.runId;
export const resultsDir = resolve(root, p.resultsDir);
export const seed = x.seed;
export const counts = trials.counts;
export const ok = trials.counts.apply((c) => c.ok);
export const failed = trials.counts.apply((c) => c.failed);
export const pending = trials.counts.apply((c) => c.pending);
export const records = trials.records;
