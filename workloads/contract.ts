/**
 * The workload-module contract (the PerfKit Benchmarker analogue, as a typed object).
 *
 * A workload is data plus pure functions. It never runs anything itself: it hands the runner bash
 * scripts (what runs on the target or on the client) and parses what they printed. The runner owns
 * connecting, timing, keeping raw output and cleaning up, so every workload runs the same way on
 * native, in Docker and in a KVM guest.
 *
 * Invariants (as PKB states them): `steps.run` may be repeated after `steps.prepare`; `steps.cleanup`
 * restores the state before `steps.prepare` (files removed, servers stopped).
 */
import type { ProfileName, RawRun, WorkloadId } from "../model/vocabulary.ts";
export { WORKLOAD_IDS, PROFILES, type WorkloadId, type ProfileName, type RawRun } from "../model/vocabulary.ts";

export type Better = "higher" | "lower";

/** A metric a workload can report (PKB's HPCC_METRIC_MAP row). */
export interface MetricSpec {
  /** Metric name as it appears in trial records, e.g. "iops", "clat_p99". */
  readonly name: string;
  /** Unit spelled exactly: "MB/s" (10^6 B/s), "MiB/s", "GFLOPS", "us", "requests/s"... */
  readonly unit: string;
  readonly better: Better;
  /** One line for `virtperf workloads` and the report. */
  readonly description: string;
}

/** One measured value of a trial record. */
export interface Metric {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly better: Better;
}

/** A case of a trial record: one configuration of the tool (fio rand-read, redis GET at 50 clients...). */
export interface Case {
  readonly case: string;
  /** The case's full resolved parameters. */
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly metrics: readonly Metric[];
}


/** The resources the environment under test gets; `full` profiles scale to these. */
export interface HostShape {
  /** Number of CPUs the environment may use (the CPU set's size). */
  readonly cpus: number;
  /** Memory the environment may use, MiB. */
  readonly memoryMiB: number;
}

/** Where a script runs: in the environment under test, or on the client side (host or second machine). */
export type Side = "env" | "client";

export interface Step {
  readonly on: Side;
  /** A bash script (run with `bash -s`, `set -euo pipefail` prepended by the runner). */
  readonly script: string;
  /** Kill the step after this many seconds. */
  readonly timeoutS: number;
}

/** A server started in the environment for the trial, in the background, and stopped after it. */
export interface ServerStep {
  /** Bash script that execs the server in the foreground; the runner backgrounds it and keeps its pid. */
  readonly script: string;
  /**
   * Bash script run on the env side until it exits 0 (polled), e.g. `redis-cli -p $PORT ping`;
   * the server is then taken as ready. Give up after `readyTimeoutS`.
   */
  readonly readyCheck: string;
  readonly readyTimeoutS: number;
}

/** Everything the runner needs to know about the place the trial runs in. */
export interface TrialContext {
  /** Private scratch directory on the env side, created empty before and removed after the trial. */
  readonly workDir: string;
  /** Directory for the workload's data files on the env side (fio's file, mysql's datadir); on the I/O path under test. */
  readonly dataDir: string;
  /** Ports the server listens on inside the environment (as many as `ports` asks for). */
  readonly ports: readonly number[];
  /** Address the client uses to reach the server (127.0.0.1 for native and Docker, the guest's address for KVM). */
  readonly serverHost: string;
  /**
   * Address the server listens on inside the environment: the one its client reaches (127.0.0.1 for
   * native and host-network containers, a bridge container's own address behind its NAT, the guest's
   * address); 0.0.0.0 only for an SSH host reached through an address that is not its own.
   */
  readonly bindHost: string;
  /** Address the server sees its client come from (an account's host part); "%" when it cannot be known. */
  readonly clientHost: string;
  /** A random password for this trial's server (redis, MariaDB), new every trial. */
  readonly secret: string;
  /** CPUs the environment may use (size of its CPU set) and memory, for thread counts. */
  readonly shape: HostShape;
}

export interface TrialSteps {
  /** Untimed env-side setup before the server starts (mariadb-install-db, corpus generation). */
  readonly setup?: Step;
  readonly server?: ServerStep;
  /** Untimed setup after the server is ready (table load). */
  readonly prepare?: Step;
  /** The measured step; its stdout is the raw output the parser reads and the record keeps. */
  readonly run: Step;
  /** Always run, even after a failure. */
  readonly cleanup?: Step;
}

export type ParamValue = string | number | boolean | readonly number[];
export type Params = Readonly<Record<string, ParamValue>>;

export interface Workload<P extends Params = Params> {
  readonly name: WorkloadId;
  /** A few words: "parallel xz compression". */
  readonly title: string;
  /** What the paper ran, for the report. */
  readonly paper: string;
  readonly group: "cpu" | "memory" | "network" | "io" | "application";
  /** Debian packages the env side needs. */
  readonly packages: readonly string[];
  /** Debian packages the client side needs (network workloads). */
  readonly clientPackages: readonly string[];
  /** The tool whose version the record carries, and a bash line that prints that version (first line kept). */
  readonly tool: { readonly name: string; readonly versionCommand: string; readonly on: Side };
  /** Commands that must exist, with the package that brings each: checked before the trial. */
  readonly requires: readonly { readonly command: string; readonly package: string; readonly on: Side }[];
  /** How many TCP/UDP ports the server needs (0 when there is no server). */
  readonly ports: number;
  /** Needs warm-up trials before measured ones (servers, caches). */
  readonly warmup: boolean;
  readonly metrics: readonly MetricSpec[];
  /** Case names this workload can yield, for `virtperf workloads`. */
  readonly cases: readonly string[];
  /** Resolved parameters for a profile on an environment of this shape. Pure. */
  params(profile: ProfileName, shape: HostShape): P;
  /**
   * Most bytes one trial writes under its data directory (files, a database), for the pre-flight disk
   * check; 0 when it writes none there. Pure.
   */
  dataBytes(params: P): number;
  /** The scripts of one trial. Pure. */
  steps(params: P, ctx: TrialContext): TrialSteps;
  /** Cases and metrics of the record from the run step's raw output. Pure; throws ParseError. */
  parse(raw: RawRun, params: P): Case[];
}
