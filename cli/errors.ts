/** How the CLI reports an error: one line (shortMessage), detail under --verbose or DEBUG. */
import { PreflightError, RecordError, VirtperfError } from "../lib/errors.ts";

export function reportError(e: unknown, verbose: boolean): number {
  if (e instanceof VirtperfError) {
    console.error(`virtperf: ${e.shortMessage}`);
    if (e instanceof PreflightError) console.error(e.table);
    for (const s of e.suggestions) console.error(`  try: ${s}`);
    if (verbose && e.message !== e.shortMessage && !(e instanceof PreflightError)) console.error(e.message);
    return 2;
  }
  if (e instanceof RecordError) {
    console.error(`virtperf: ${e.message}`);
    return 2;
  }
  console.error(`virtperf: ${e instanceof Error ? e.message : String(e)}`);
  if (verbose && e instanceof Error && e.stack) console.error(e.stack);
  return 1;
}

export const isVerbose = (argv: readonly string[]) => argv.includes("--verbose") || !!process.env.DEBUG;
