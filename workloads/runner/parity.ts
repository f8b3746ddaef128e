/**
 * Parity by construction (issue 9): every script of every trial, in every environment, runs in the same
 * declared process environment, with the same limits and niceness, whatever started the run. A caller's
 * OPENBLAS_CORETYPE once reached native trials (which inherited the shell) and not containers (which did
 * not), and the report said Docker beat bare metal by 54 % on Linpack.
 *
 * The trial shell, on the far side of every target (local, ssh, docker exec, guest):
 *   env -i <TRIAL_ENV> [wrap...] bash -c <SUPERVISOR> virtperf-trial <T> <LIMITS>
 * and the supervisor (lifeline.ts) runs the script as `timeout -k 5 <T> bash --noprofile --norc -c '<LIMITS>; exec bash ... -s'`.
 * `env -i` drops everything the caller, sshd, the image or libvirt put in the environment; the limits are
 * set inside, where the workload runs. What each trial really got is probed (CONTEXT_PROBE) and kept in
 * its record, so the report can show any difference left (a hard limit a container may not raise, the
 * host's /dev/shm, a guest kernel's THP default).
 */
import { SUPERVISOR } from "./lifeline.ts";

/** The only variables a trial's processes see, the same in every environment. */
export const TRIAL_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  // A neutral home that exists everywhere: no user's dotfiles (~/.openmpi, ~/.my.cnf) reach a tool.
  HOME: "/tmp",
  LANG: "C",
  LC_ALL: "C",
  TZ: "UTC",
};

/**
 * Resource limits set in every trial shell (soft and hard), low enough that every host and a default
 * Docker container (which cannot raise a hard limit: no CAP_SYS_RESOURCE) can set them: nofile 4096
 * (hosts with a hard limit of 4096 exist; MySQL at 290 threads needs about 600), nproc (root may raise it
 * in a small guest), stack KiB, memlock KiB (the kernel's default), core files off.
 */
export const TRIAL_LIMITS = { nofile: 4096, nproc: 16384, stackKiB: 8192, memlockKiB: 64, core: 0 } as const;

/** Bash run first in every trial shell: the limits, niceness 0, umask. Failures are left for the probe to show. */
export const LIMITS_PRELUDE = [
  `ulimit -n ${TRIAL_LIMITS.nofile} 2>/dev/null || ulimit -S -n ${TRIAL_LIMITS.nofile} 2>/dev/null`,
  `ulimit -s ${TRIAL_LIMITS.stackKiB} 2>/dev/null || ulimit -S -s ${TRIAL_LIMITS.stackKiB} 2>/dev/null`,
  `ulimit -l ${TRIAL_LIMITS.memlockKiB} 2>/dev/null`,
  `ulimit -c ${TRIAL_LIMITS.core} 2>/dev/null`,
  `ulimit -u ${TRIAL_LIMITS.nproc} 2>/dev/null || ulimit -S -u ${TRIAL_LIMITS.nproc} 2>/dev/null`,
  `[ "$(nice)" = 0 ] || renice -n 0 -p $$ >/dev/null 2>&1`,
  "umask 022",
].join("; ");

/**
 * The trial shell's words, after the target's own wrap (cgroup join, taskset) is placed by the caller:
 * the supervisor of lifeline.ts, which runs the script under `timeout -k 5 <T>` with the limits.
 */
export function trialShell(timeoutS: number, wrap: readonly string[] = []): string[] {
  return [
    "env", "-i", ...Object.entries(TRIAL_ENV).map(([k, v]) => `${k}=${v}`),
    ...wrap,
    "bash", "--noprofile", "--norc", "-c", SUPERVISOR, "virtperf-trial", String(Math.ceil(timeoutS)), LIMITS_PRELUDE,
  ];
}

/**
 * Bash printing `ctx.<key>=<value>` lines of what this trial shell really got: its environment, limits,
 * niceness, CPUs, /dev/shm, THP, and which kernel OpenBLAS picks (its library loaded into `true` with
 * OPENBLAS_VERBOSE, set for the probe alone). Run in the trial's first round trip on each side.
 */
export const CONTEXT_PROBE = String.raw`ctx() { printf 'ctx.%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n\t' ' ' | tr -cd '[:print:]')"; }
ctx env "$(env | grep -vE '^(PWD|OLDPWD|SHLVL|_)=' | LC_ALL=C sort | tr '\n' ' ')"
ctx limits "nofile=$(ulimit -n) stack=$(ulimit -s) memlock=$(ulimit -l) core=$(ulimit -c) nproc=$(ulimit -u)"
ctx nice "$(nice)"
ctx cpus "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
ctx shm "$(df -B1 --output=size /dev/shm 2>/dev/null | sed -n 2p | tr -d ' ')"
ctx thp "$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
blas=$(ldconfig -p 2>/dev/null | sed -n 's/.*libblas\.so\.3 .*=> //p' | sed -n 1p)
if [ -n "$blas" ]; then ctx blas "$(readlink -f "$blas") core=$(env OPENBLAS_VERBOSE=2 LD_PRELOAD="$blas" true 2>&1 | sed -n 's/^Core: //p' | sed -n 1p)"; fi`;

/** What a trial shell really ran with (a record's `context`), from CONTEXT_PROBE's lines. */
export interface TrialContextFacts {
  /** The environment as `env` printed it, sorted: must equal TRIAL_ENV everywhere (plus what bash sets: PWD, SHLVL, _). */
  readonly env: string;
  readonly limits: string;
  readonly nice: string;
  readonly cpus: string;
  /** Size of /dev/shm, bytes. */
  readonly shm: string;
  readonly thp: string;
  /** The BLAS library and the kernel OpenBLAS selected ("" without OpenBLAS). */
  readonly blas: string;
}

export function parseContext(stdout: string): TrialContextFacts {
  const get = (k: string) => new RegExp(`^ctx\\.${k}=(.*)$`, "m").exec(stdout)?.[1]?.trim() ?? "";
  return { env: get("env"), limits: get("limits"), nice: get("nice"), cpus: get("cpus"), shm: get("shm"), thp: get("thp"), blas: get("blas") };
}
