/** Rounds to a number of decimal places, for evidence values that people read. */
export function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
