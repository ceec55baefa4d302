/** Order statistics over an ascending list (the lab's summary lines and sweep table). */

/** The q-quantile of `sorted` by linear interpolation, to one decimal; undefined for an empty list. */
export function quantile(sorted: number[], q: number): number | undefined {
  if (!sorted.length) return undefined;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return Math.round((sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo)) * 10) / 10;
}

export const median = (sorted: number[]) => quantile(sorted, 0.5);
