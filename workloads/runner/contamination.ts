/**
 * Contamination checks around every trial (issue 9): was the host under test quiet while this trial ran?
 * A snapshot of the host is taken before and after the trial (one round trip each, on the host where
 * the environments live): load average, the CPU counters (steal among them), memory available and its
 * pressure, CPU frequency where readable, and every process's CPU time. From the two, the processes that
 * are not ours and used a noticeable share of a CPU during the trial are named. A trial is flagged when
 * such a process ran, when the hypervisor stole CPU time, or when memory was short; the record keeps the
 * numbers either way, and the report marks flagged trials.
 *
 * "Ours": the trial's own processes (descendants of our trial shells and of this runner), the
 * environment's root process (its container's init, its guest's QEMU), and the daemons on the trial's
 * path (dockerd, containerd, libvirtd...). Everything else, other idle guests included, is not ours.
 */

/** A process not ours using more than this share of one CPU over the trial is "busy". */
export const BUSY_CPU_SHARE = 0.1;
/** Steal time above this share of the CPU time flags the trial (a noisy neighbour on a VM). */
export const STEAL_SHARE = 0.05;
/** Memory pressure (PSI "some" avg10, %) above this flags the trial. */
export const MEMORY_PRESSURE_PCT = 10;

/** Daemons that serve the trial itself (their CPU is the environment's cost, not contamination). */
const HARNESS_COMMS = new Set(["dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "docker-proxy", "libvirtd",
  "virtlogd", "runc", "docker-init", "tini", "sshd", "runsc", "runsc-gofer", "runsc-sandbox", "conmon", "podman", "crun", "slirp4netns", "rootlessport"]);

/**
 * Bash run on the host: the snapshot. `rootPid` is bash that prints the environment's root pid (or
 * nothing): `docker inspect`, the guest's pid file.
 */
export function snapshotScript(rootPid = ""): string {
  return [
    `echo "snap.time=$(cut -d' ' -f1 /proc/uptime)"`,
    `echo "snap.load=$(cut -d' ' -f1-3 /proc/loadavg)"`,
    `echo "snap.cpu=$(sed -n 's/^cpu  *//p' /proc/stat)"`,
    `echo "snap.ticks=$(getconf CLK_TCK)"`,
    `echo "snap.memAvailKiB=$(sed -n 's/^MemAvailable:[[:space:]]*\\([0-9]*\\) kB$/\\1/p' /proc/meminfo)"`,
    `echo "snap.psi=$(sed -n 's/^some avg10=\\([0-9.]*\\).*/\\1/p' /proc/pressure/memory 2>/dev/null)"`,
    `echo "snap.mhz=$(sed -n 's/^cpu MHz[[:space:]]*:[[:space:]]*\\([0-9]*\\).*/\\1/p' /proc/cpuinfo | tr '\\n' ' ')"`,
    `echo "snap.self=$$"`,
    rootPid ? `echo "snap.root=$( ${rootPid} )"` : "",
    // Every process: pid (comm) state ppid ... utime stime (fields 14, 15), in one read; then which of the
    // `timeout` processes are our trial shells (`timeout -k 5 ...`). No fork per process: this runs twice a trial.
    `stats=$(cat /proc/[0-9]*/stat 2>/dev/null)`,
    `while read -r pid comm rest; do`,
    `  echo "proc $pid $comm $rest"`,
    `  [ "$comm" = "(timeout)" ] || continue`,
    `  mapfile -d '' -t argv < "/proc/$pid/cmdline" 2>/dev/null || continue`,
    `  [ "\${argv[*]:0:3}" = "timeout -k 5" ] && echo "shell $pid"`,
    `done <<<"$stats"`,
  ].filter(Boolean).join("\n");
}

interface Proc { pid: number; comm: string; ppid: number; cpuTicks: number }

export interface Snapshot {
  readonly uptimeS: number;
  readonly load: readonly number[];
  /** Aggregate CPU counters of /proc/stat (user nice system idle iowait irq softirq steal ...). */
  readonly cpu: readonly number[];
  readonly ticks: number;
  readonly memAvailMiB: number;
  readonly psi: number | null;
  readonly mhz: readonly number[];
  readonly self: number;
  readonly root: number | null;
  readonly procs: ReadonlyMap<number, Proc>;
  /** Our trial shells (`timeout -k 5 ...`) running at the snapshot. */
  readonly shells: readonly number[];
}

export function parseSnapshot(text: string): Snapshot {
  const field = (k: string) => new RegExp(`^snap\\.${k}=(.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
  const nums = (s: string) => s.split(/\s+/).filter(Boolean).map(Number).filter(Number.isFinite);
  const procs = new Map<number, Proc>();
  for (const m of text.matchAll(/^proc (\d+) \((.*)\) (\S) (\d+)((?: \S+)+)$/gm)) {
    const rest = m[5]!.trim().split(" ");
    // After ppid (field 4): fields 5.. ; utime and stime are fields 14 and 15, i.e. rest[9] and rest[10].
    procs.set(Number(m[1]), { pid: Number(m[1]), comm: m[2]!, ppid: Number(m[4]), cpuTicks: Number(rest[9]) + Number(rest[10]) });
  }
  const psi = field("psi");
  const root = Number(field("root"));
  return {
    uptimeS: Number(field("time")), load: nums(field("load")), cpu: nums(field("cpu")), ticks: Number(field("ticks")) || 100,
    memAvailMiB: Math.round(Number(field("memAvailKiB")) / 1024), psi: psi === "" ? null : Number(psi), mhz: nums(field("mhz")),
    self: Number(field("self")), root: Number.isInteger(root) && root > 0 ? root : null, procs,
    shells: [...text.matchAll(/^shell (\d+)$/gm)].map((m) => Number(m[1])),
  };
}

export interface Contamination {
  readonly flagged: boolean;
  /** Why it is flagged, one phrase each; empty when clean. */
  readonly reasons: string[];
  readonly loadBefore: number | null;
  readonly loadAfter: number | null;
  /** Share of CPU time stolen by the hypervisor during the trial, %; null when unknown. */
  readonly stealPct: number | null;
  /** Processes not ours that used more than BUSY_CPU_SHARE of a CPU, heaviest first. */
  readonly busy: { pid: number; comm: string; cpuPct: number }[];
  readonly memAvailableMiB: number | null;
  readonly memPressurePct: number | null;
  /** CPU MHz (min-max over CPUs) before and after, where readable. */
  readonly cpuMHz: string | null;
  /** Processes of an earlier trial found in the environment's work root before this one, and killed. */
  readonly leftovers: string[];
}

/** Pids descended from any of `roots` (roots included), from the parent links of both snapshots. */
function descendants(roots: readonly number[], ...snaps: Snapshot[]): Set<number> {
  const children = new Map<number, number[]>();
  for (const s of snaps) for (const p of s.procs.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out = new Set<number>();
  const stack = roots.filter((r) => r > 0);
  while (stack.length) {
    const pid = stack.pop()!;
    if (out.has(pid)) continue;
    out.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

const range = (v: readonly number[]) => (v.length ? (Math.min(...v) === Math.max(...v) ? `${Math.min(...v)}` : `${Math.min(...v)}-${Math.max(...v)}`) : "");

/**
 * The verdict on one trial from its two snapshots. `ours`: pids known to be ours on the host (this
 * runner when it runs there). `memoryNeedMiB`: what the environment may use.
 */
export function assess(before: Snapshot, after: Snapshot, opts: { ours?: readonly number[]; memoryNeedMiB?: number; leftovers?: readonly string[] } = {}): Contamination {
  const reasons: string[] = [];
  const leftovers = [...(opts.leftovers ?? [])];
  if (leftovers.length) reasons.push(`processes of an earlier trial were still running (killed): ${leftovers.slice(0, 3).join(", ")}`);
  const seconds = Math.max(after.uptimeS - before.uptimeS, 1e-3);
  const ours = descendants([...(opts.ours ?? []), before.self, after.self, ...before.shells, ...after.shells,
    ...(before.root ? [before.root] : []), ...(after.root ? [after.root] : [])], before, after);
  const busy = [...after.procs.values()].flatMap((p) => {
    if (ours.has(p.pid) || p.ppid === 2 || p.pid === 2 || HARNESS_COMMS.has(p.comm)) return [];
    const was = before.procs.get(p.pid);
    const ticks = p.cpuTicks - (was && was.comm === p.comm ? was.cpuTicks : 0);
    const share = ticks / after.ticks / seconds;
    return share > BUSY_CPU_SHARE ? [{ pid: p.pid, comm: p.comm, cpuPct: Math.round(share * 1000) / 10 }] : [];
  }).sort((a, b) => b.cpuPct - a.cpuPct);
  if (busy.length) reasons.push(`busy processes not ours: ${busy.slice(0, 3).map((b) => `${b.comm} (pid ${b.pid}) ${b.cpuPct} % of a CPU`).join(", ")}`);
  let stealPct: number | null = null;
  if (before.cpu.length >= 8 && after.cpu.length >= 8) {
    const total = after.cpu.slice(0, 8).reduce((a, b) => a + b, 0) - before.cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    stealPct = total > 0 ? Math.round(((after.cpu[7]! - before.cpu[7]!) / total) * 1000) / 10 : 0;
    if (stealPct / 100 > STEAL_SHARE) reasons.push(`the hypervisor stole ${stealPct} % of the CPU time`);
  }
  const memAvailableMiB = Math.min(before.memAvailMiB, after.memAvailMiB);
  if (opts.memoryNeedMiB !== undefined && Number.isFinite(memAvailableMiB) && memAvailableMiB < 256) {
    reasons.push(`only ${memAvailableMiB} MiB of memory available on the host`);
  }
  const psi = Math.max(before.psi ?? 0, after.psi ?? 0);
  const memPressurePct = before.psi === null && after.psi === null ? null : psi;
  if (memPressurePct !== null && memPressurePct > MEMORY_PRESSURE_PCT) reasons.push(`memory pressure ${memPressurePct} % (PSI some avg10)`);
  const mhz = before.mhz.length ? `${range(before.mhz)} -> ${range(after.mhz)}` : null;
  return {
    flagged: reasons.length > 0, reasons, loadBefore: before.load[0] ?? null, loadAfter: after.load[0] ?? null, stealPct, busy,
    memAvailableMiB: Number.isFinite(memAvailableMiB) ? memAvailableMiB : null, memPressurePct, cpuMHz: mhz, leftovers,
  };
}

/**
 * Bash run on the env side before a trial: processes whose working directory is a trial directory under
 * the environment's work root (`<root>/NNN-<env>-<workload>-rN[-warmup]-<6 hex>`, as runTrial names them)
 * belong to an earlier trial (a server a killed runner left behind). Each is named
 * (`leftover <pid> <comm> <cwd>`) and killed, TERM then KILL, so it cannot share the CPUs with this one.
 * Nothing else is touched, however it is named or wherever else under the root it runs.
 */
export function leftoverScript(workRoot: string, q: (s: string) => string): string {
  return `root=${q(workRoot.replace(/\/+$/, ""))}
mine=" $$ $PPID "
left=""
# One find lists the processes whose cwd is under the root (a fork per process would cost 0.3 s).
while read -r f cwd; do
  p=\${f#/proc/}; case $mine in *" $p "*) continue;; esac
  [[ \${cwd#"$root"/} =~ ^[0-9]{3}-[^/]+-r[0-9]+(-warmup)?-[0-9a-f]{6}(/|$) ]] || continue
  read -r comm < "$f/comm" 2>/dev/null; echo "leftover $p \${comm:-?} $cwd"; left="$left $p"
done < <(find /proc/[0-9]* -maxdepth 1 -name cwd -lname "$root/*" -printf '%h %l\\n' 2>/dev/null)
if [ -n "$left" ]; then kill -TERM $left 2>/dev/null; sleep 0.5; kill -KILL $left 2>/dev/null; fi
true`;
}

export function parseLeftovers(stdout: string): string[] {
  return [...stdout.matchAll(/^leftover (\d+) (\S+) (.*)$/gm)].map((m) => `${m[2]} (pid ${m[1]}, in ${m[3]})`);
}
