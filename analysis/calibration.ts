/**
 * The A/A noise floor (issue 9). A stack's `calibration: [native, ...]` runs an identical copy
 * `<name>-aa` of each listed environment; its records say `calibrationOf`. The copy's row compares it
 * with its original by the one rule of stats.ts (the interval at alpha, unadjusted: it is not a test of
 * an environment, so it is in no family): what two identical environments measure apart.
 *
 * Native's copy gives each measure its noise floor [noiseFloorLow, noiseFloorHigh] (ratio orientation,
 * copy / native). An environment's cell is "inside the noise floor" when its own ratio interval (the one
 * its table cell prints, at its own level) lies inside that floor: the difference it shows is no larger
 * than native measures against itself. That is a statement beside the verdict, never instead of it.
 * Copies of other environments give their own A/A rows (shown in the detail sections), not a floor.
 * A copy whose interval excludes 1 is warned ("aa-apart"): by chance that happens in about 5 % of
 * metrics; more often says the host drifts or the copies are not identical.
 */
import type { Row, StackRun } from "./compare.ts";

const SEP = "\u0000";
const measureKey = (r: Row) => [r.stack, r.profile, r.workload, r.case, r.metric].join(SEP);

/** Rows with native's noise floor set on every row of the measure, and the inside statement on the environments'. */
export function withNoiseFloor(rows: readonly Row[], stacks: readonly StackRun[]): Row[] {
  const nativeCopy = new Map<string, string>();
  for (const st of stacks) {
    const copy = st.calibration.find((c) => c.of === st.baseline)?.copy;
    if (copy) nativeCopy.set(st.stack + SEP + st.profile, copy);
  }
  const floors = new Map<string, readonly [number, number]>();
  for (const r of rows) {
    if (r.ratioLow !== null && r.ratioHigh !== null && nativeCopy.get(r.stack + SEP + r.profile) === r.environment) floors.set(measureKey(r), [r.ratioLow, r.ratioHigh]);
  }
  return rows.map((r) => {
    if (r.calibrationOf !== null && r.ratioLow !== null && r.ratioHigh !== null && (r.ratioLow > 1 || r.ratioHigh < 1)) r = { ...r, warnings: [...r.warnings, "aa-apart"] };
    const floor = floors.get(measureKey(r));
    if (!floor) return r;
    const judged = r.verdict !== "baseline" && r.calibrationOf === null && r.ratioLow !== null && r.ratioHigh !== null;
    return { ...r, noiseFloorLow: floor[0], noiseFloorHigh: floor[1], insideNoiseFloor: judged ? r.ratioLow! >= floor[0] && r.ratioHigh! <= floor[1] : null };
  });
}
