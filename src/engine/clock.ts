// One clock: the database's. Due times, leases and "now" are compared with
// values the database stores and with pg-boss's `start_after <= now()`, so
// they must come from its clock, not this process's (an unsynchronised VM,
// or a laptop after sleep, can be seconds or minutes off). Every claim reads
// the database's clock_timestamp(); the offset from the local clock, taken
// at the midpoint of that round trip, corrects Date.now(). Durations
// (timeouts, back-off waits) stay on the local monotonic clock, where skew
// does not matter.
//
// The database read its clock somewhere inside the round trip, so an offset
// is off by at most half of it (`uncertainty`): a local alarm for a durable
// timer waits that much longer, or it could fire before the timer is due by
// the database's clock and find nothing, leaving the timer to the next
// poll. Under load a round trip includes queueing (a run observes from its
// fetch's send to its own start), so, as NTP's clock filter does, the
// offset with the shortest round trip is kept: a later one replaces it only
// when its bound is no wider than the kept one's, widened by DRIFT for each
// millisecond it has aged (clocks drift, and may be stepped).

/** How fast a kept offset's bound widens as it ages: 1 ms per second. */
const DRIFT = 0.001

export interface Clock {
  /** Epoch milliseconds by the database's clock (as best observed). */
  now (): number
  /** Milliseconds now() may be ahead of or behind the database's clock: half the kept round trip, widened by its age. */
  uncertainty (): number
  /** Records the database's time `dbNowMs`, read in a round trip between local times `sentAt` and `receivedAt`. */
  observe (dbNowMs: number, sentAt: number, receivedAt: number): void
}

export function databaseClock (): Clock {
  let offset = 0
  let halfTrip = Infinity
  let observedAt = 0
  const bound = (at: number): number => halfTrip + Math.max(0, at - observedAt) * DRIFT
  return {
    now: () => Date.now() + offset,
    uncertainty: () => Number.isFinite(halfTrip) ? bound(Date.now()) : 0,
    observe (dbNowMs, sentAt, receivedAt) {
      const half = Math.max(0, receivedAt - sentAt) / 2
      if (half > bound(receivedAt)) return
      offset = dbNowMs - (sentAt + receivedAt) / 2
      halfTrip = half
      observedAt = receivedAt
    }
  }
}
