// Preloaded (node --import) into a child process to give it a clock that is
// TOYGRES_TEST_CLOCK_SKEW_MS off the machine's, as an unsynchronised VM's or
// a laptop's after sleep: Date.now() and `new Date()` are skewed; dates
// parsed from values are not; monotonic time (performance.now) is not.
const skew = Number(process.env.TOYGRES_TEST_CLOCK_SKEW_MS ?? 0)
const RealDate = Date

class SkewedDate extends RealDate {
  constructor (...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + skew)
    else super(...(args as [string]))
  }

  static override now (): number { return RealDate.now() + skew }
}

globalThis.Date = SkewedDate as DateConstructor
