/** Milliseconds since the epoch, with sub-millisecond precision (monotonic within a process). */
export function defaultNow(): number {
  return performance.timeOrigin + performance.now();
}
