/** A timing summary over n runs (milliseconds). Every figure the bench reports says its n. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** Every run, in order, so a reader can recompute anything else. */
  values: number[];
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summarize: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    n: values.length,
    median: round(median),
    min: round(sorted[0]!),
    max: round(sorted.at(-1)!),
    values: values.map(round),
  };
}

/** a / b rounded to 3 decimals (a ratio like zkinfer/bare or fulfil/bare gas). */
export const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;

/** The least-squares line y = intercept + slope * x through the points (at least two distinct xs). */
export function leastSquares(xs: readonly number[], ys: readonly number[]): { intercept: number; slope: number } {
  if (xs.length !== ys.length || new Set(xs).size < 2) throw new Error("leastSquares: needs two or more distinct xs");
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
  const my = ys.reduce((s, y) => s + y, 0) / ys.length;
  const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  return { slope, intercept: my - slope * mx };
}
