/**
 * The spread of K repeated runs: the median and a distribution-free confidence interval for it, from
 * order statistics (the binomial rule: the true median lies between the j-th smallest and the j-th
 * largest of n values with probability 1 - 2 P(Bin(n, 1/2) <= j - 1)). No assumption about the shape of
 * the distribution, which for goodput or a precision over a handful of runs is anything but normal.
 */

export interface Interval {
  /** Values that were there (a run without the quantity, e.g. no migration, gives none). */
  n: number;
  median: number | null;
  low: number | null;
  high: number | null;
  /**
   * The probability that [low, high] holds the true median: the widest interval of order statistics
   * reaching `confidence`, or [min, max] with its own (lower) coverage when n is too small: 0.9375 for
   * n = 5, 0.75 for n = 3, 0 for one run.
   */
  coverage: number;
}

const binomialHalfCdf = (n: number, k: number): number => {
  let term = 1; // C(n, 0)
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum / 2 ** n;
};

const round = (x: number) => Math.round(x * 1000) / 1000;

export function medianInterval(values: Array<number | null | undefined>, confidence = 0.95): Interval {
  const sorted = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (!n) return { n, median: null, low: null, high: null, coverage: 0 };
  const mid = (n - 1) / 2;
  const median = (sorted[Math.floor(mid)]! + sorted[Math.ceil(mid)]!) / 2;
  if (n === 1) return { n, median: round(median), low: round(median), high: round(median), coverage: 0 };
  let j = 1;
  while (j + 1 <= n / 2 && 1 - 2 * binomialHalfCdf(n, j) >= confidence) j++;
  return {
    n,
    median: round(median),
    low: round(sorted[j - 1]!),
    high: round(sorted[n - j]!),
    coverage: round(1 - 2 * binomialHalfCdf(n, j - 1)),
  };
}

/** `0.82 [0.75, 1]` (n, coverage in the table's header); `-` when nothing was measured. */
export function formatInterval(i: Interval, digits = 2): string {
  if (i.median === null) return '-';
  const f = (x: number | null) => (x === null ? '-' : String(Number(x.toFixed(digits))));
  return i.n > 1 ? `${f(i.median)} [${f(i.low)}, ${f(i.high)}]` : f(i.median);
}
