/** Environment descriptions for tests that run `virtperf trial` natively with their own directories. */
import { cpus, totalmem } from "node:os";
import type { EnvironmentDescription } from "../../model/environment.ts";

/** This machine as a native environment (no cgroup), with the test's data and work directories. */
export function nativeDescription(o: { dataDir?: string; workRoot?: string } = {}): string {
  const d: EnvironmentDescription = {
    name: "native", kind: "native", acceleration: "none", target: { kind: "local" }, client: { kind: "local" }, host: { kind: "local" },
    ports: [], dataDir: o.dataDir ?? "/var/tmp/virtperf-data", workRoot: o.workRoot ?? "/tmp",
    shape: { cpus: cpus().length, memoryMiB: Math.floor(totalmem() / 2 ** 20) },
  };
  return JSON.stringify(d);
}
