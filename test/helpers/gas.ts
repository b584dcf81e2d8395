import { existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * Committed gas snapshots (test/gas/*.json). A run's figures must stay within `tolerance` of the
 * committed ones — proof bytes differ a little from proof to proof, so calldata gas does too — and
 * UPDATE_GAS_SNAPSHOT=1 rewrites the file. Every change to it is looked at in review.
 */
export type GasFigures = Record<string, Record<string, number>>;

export function checkGasSnapshot(file: string, figures: GasFigures, compare: string[], tolerance = 0.01): void {
  if (process.env.UPDATE_GAS_SNAPSHOT === "1" || !existsSync(file)) {
    writeFileSync(file, JSON.stringify(figures, null, 2) + "\n");
    return;
  }
  const committed = JSON.parse(readFileSync(file, "utf8")) as GasFigures;
  for (const [name, g] of Object.entries(figures)) {
    const c = committed[name];
    if (!c) throw new Error(`${file} has no entry for ${name}: run with UPDATE_GAS_SNAPSHOT=1 and commit it`);
    for (const k of compare) {
      const [now, then] = [g[k], c[k]];
      if (now === undefined || then === undefined)
        throw new Error(`${file}: ${name}.${k} missing; run with UPDATE_GAS_SNAPSHOT=1`);
      const drift = Math.abs(now - then) / then;
      if (drift > tolerance) {
        throw new Error(
          `gas of ${name}.${k} moved ${(drift * 100).toFixed(2)}%: ${then} -> ${now}; check it, then UPDATE_GAS_SNAPSHOT=1`,
        );
      }
    }
  }
}
