/**
 * The bash scripts of a mysql trial: MariaDB in the environment, sysbench on the client side.
 *
 * Access: the client's connection reaches the server from the client's own address or, behind a
 * Docker bridge's NAT, from its gateway (TrialContext.clientHost), so the server gets a real account
 * `virtperf`@`<that address>` (created by `--init-file` at start-up) with rights on the benchmark database
 * only, and a password new every trial (TrialContext.secret). We chose that over `--skip-grant-tables`
 * because the paper's MySQL checked privileges on every statement, as any real server does. The server
 * listens only on the address its client uses (TrialContext.bindHost); the ready check connects over
 * the server's socket as the unix user install-db made an account for.
 */
import { shq } from "../../lib/shell.ts";
import type { TrialContext } from "../contract.ts";
import { listeningCheck } from "../listening.ts";

export const DB_USER = "virtperf";
export const DB_NAME = "sbtest";

export interface ServerOptions {
  readonly bufferPoolMiB: number;
  readonly maxConnections: number;
}

export interface Paths {
  readonly datadir: string;
  readonly socket: string;
  readonly pidFile: string;
  readonly initFile: string;
}

export function pathsOf(ctx: TrialContext): Paths {
  const work = ctx.workDir.replace(/\/+$/, "");
  return {
    // Under dataDir: the datadir is the I/O path under test.
    datadir: `${ctx.dataDir.replace(/\/+$/, "")}/mariadb`,
    socket: `${work}/mysqld.sock`,
    // Not server.pid: the runner keeps its own pid file of the server step under that name.
    pidFile: `${work}/mysqld.pid`,
    initFile: `${work}/init.sql`,
  };
}

/** In the trial's work directory: "native" or "simulated", InnoDB's AIO as the setup found it works. */
const AIO_FILE = "innodb-aio";

/** An SQL string literal. */
const sqlString = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

/** Env side, before the server: a fresh system database, and the account the client will use (only from its address). */
export function setupScript(p: Paths, ctx: Pick<TrialContext, "clientHost" | "secret">): string {
  const account = `'${DB_USER}'@${sqlString(ctx.clientHost)}`;
  return `umask 077
rm -rf ${shq(p.datadir)}
mkdir -p ${shq(p.datadir)}
# --no-defaults: nothing from /etc/mysql (Debian's socket, datadir, bind address) may leak in.
install_db() {
  mariadb-install-db --no-defaults --datadir=${shq(p.datadir)} --user="$(id -un)" \\
    --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve "$@" > install-db.log 2>&1
}
# InnoDB's native AIO is io_uring in Debian's MariaDB 10.11; where io_uring is broken (gVisor's runsc
# 2022-12: io_uring_wait_cqe fails and mariadbd aborts) it runs with simulated AIO instead, only there,
# and says so: ${AIO_FILE} tells the server, the stderr line tells the log.
echo native > ${AIO_FILE}
if ! install_db; then
  if ! grep -q io_uring install-db.log; then cat install-db.log >&2; exit 1; fi
  echo "mysql: io_uring fails here ($(grep -m1 io_uring install-db.log)): InnoDB runs with innodb_use_native_aio=0" >&2
  echo simulated > ${AIO_FILE}
  rm -rf ${shq(p.datadir)}; mkdir -p ${shq(p.datadir)}
  if ! install_db --innodb-use-native-aio=0; then cat install-db.log >&2; exit 1; fi
fi
cat > ${shq(p.initFile)} <<'VIRTPERF_INIT_SQL'
CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ${sqlString(ctx.secret)};
GRANT ALL PRIVILEGES ON ${DB_NAME}.* TO ${account};
VIRTPERF_INIT_SQL
`;
}

/** Env side, in the foreground. `--user` must name the running user (root here needs `--user=root`). */
export function serverScript(p: Paths, port: number, bindHost: string, o: ServerOptions): string {
  return `aio=(); if [ "$(cat ${AIO_FILE} 2>/dev/null)" = simulated ]; then aio=(--innodb-use-native-aio=0); fi
exec mariadbd --no-defaults --user="$(id -un)" --datadir=${shq(p.datadir)} "\${aio[@]}" \\
  --port=${shq(port)} --bind-address=${shq(bindHost)} --socket=${shq(p.socket)} --pid-file=${shq(p.pidFile)} \\
  --init-file=${shq(p.initFile)} --skip-name-resolve --max-connections=${shq(o.maxConnections)} \\
  --innodb-buffer-pool-size=${shq(`${o.bufferPoolMiB}M`)} \\
  --innodb-buffer-pool-dump-at-shutdown=OFF --innodb-buffer-pool-load-at-startup=OFF
`;
}

/**
 * Env side. Really queries the server, over its socket as the unix user mariadb-install-db gave an
 * account (socket authentication: no password), checks the answer comes from OUR datadir (a process
 * that merely started, or another MariaDB, e.g. one socket-activated by systemd's mariadb.socket, does
 * not pass), and that TCP is listening on the trial's port.
 */
export function readyCheck(p: Paths, port: number): string {
  // Bounded: a server that accepts but never answers would hang the client for minutes.
  return `test "$(timeout 10 mariadb --no-defaults --connect-timeout=5 --protocol=SOCKET --socket=${shq(p.socket)} \\
  -u "$(id -un)" -N -B -e 'SELECT @@datadir')" = ${shq(`${p.datadir}/`)} && ${listeningCheck(port, "tcp")}`;
}

/** sysbench's connection and table options, shared by prepare and run. */
function sysbenchCommon(ctx: TrialContext, tableSize: number, tables: number): string {
  return [
    "oltp_read_only", "--db-driver=mysql", `--mysql-host=${shq(ctx.serverHost)}`, `--mysql-port=${shq(ctx.ports[0]!)}`,
    `--mysql-user=${shq(DB_USER)}`, `--mysql-password=${shq(ctx.secret)}`, `--mysql-db=${shq(DB_NAME)}`,
    `--tables=${shq(tables)}`, `--table-size=${shq(tableSize)}`,
  ].join(" ");
}

/** Client side: the database, then the table load (untimed). */
export function prepareScript(ctx: TrialContext, tableSize: number, tables: number): string {
  // MYSQL_PWD: the password never on the client's command line.
  return `MYSQL_PWD=${shq(ctx.secret)} mariadb --no-defaults --connect-timeout=30 --protocol=TCP -h ${shq(ctx.serverHost)} -P ${shq(ctx.ports[0]!)} -u ${shq(DB_USER)} \\
  -e ${shq(`DROP DATABASE IF EXISTS ${DB_NAME}; CREATE DATABASE ${DB_NAME}`)}
sysbench ${sysbenchCommon(ctx, tableSize, tables)} prepare
`;
}

/** Client side, timed: one sysbench report per thread count, in order, on stdout. */
export function runScript(ctx: TrialContext, tableSize: number, tables: number, threads: readonly number[], durationS: number): string {
  return `for threads in ${threads.map(shq).join(" ")}; do
  sysbench ${sysbenchCommon(ctx, tableSize, tables)} \\
    --threads="$threads" --time=${shq(durationS)} --percentile=95 --report-interval=0 run
done
`;
}

/**
 * Env side, always. The runner has stopped the server's process group by now; if it could not, stop
 * the one mariadbd this trial started (by its pid file, checked to be a mariadbd) before removing its datadir.
 */
export function cleanupScript(p: Paths): string {
  return `if [ -f ${shq(p.pidFile)} ]; then
  pid=$(cat ${shq(p.pidFile)})
  if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = mariadbd ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
fi
rm -rf ${shq(p.datadir)}
rm -f ${shq(p.initFile)} ${shq(p.pidFile)}
`;
}
