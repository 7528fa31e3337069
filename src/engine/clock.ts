// One clock: the database's. Due times, leases and "now" are compared with
// values the database stores and with pg-boss's `start_after <= now()`, so
// they must come from its clock, not this process's (an unsynchronised VM,
// or a laptop after sleep, can be seconds or minutes off). Every claim reads
// the database's clock_timestamp(); the offset from the local clock,
// taken at the midpoint of that round trip, corrects Date.now() until the
// next claim. Durations (timeouts, back-off waits) stay on the local
// monotonic clock, where skew does not matter. The database read its clock
// somewhere inside that round trip, so the offset is off by at most half of
// it (`uncertainty`): a local alarm for a durable timer waits that much
// longer, or it could fire before the timer is due by the database's clock
// and find nothing, leaving the timer to the next poll.

export interface Clock {
  /** Epoch milliseconds by the database's clock (as last observed). */
  now (): number
  /** Milliseconds now() may be ahead of or behind the database's clock: half the round trip it was last observed in. */
  uncertainty (): number
  /** Records the database's time `dbNowMs`, read in a round trip between local times `sentAt` and `receivedAt`. */
  observe (dbNowMs: number, sentAt: number, receivedAt: number): void
}

export function databaseClock (): Clock {
  let offset = 0
  let halfTrip = 0
  return {
    now: () => Date.now() + offset,
    uncertainty: () => halfTrip,
    observe (dbNowMs, sentAt, receivedAt) {
      offset = dbNowMs - (sentAt + receivedAt) / 2
      halfTrip = Math.max(0, receivedAt - sentAt) / 2
    }
  }
}
