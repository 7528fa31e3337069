// SQL for toygres.operations, one small function per statement.
import type { StoredError } from '../errors.ts'
import type { Queryable } from '../../db/queryable.ts'
import type { Operation } from '../types.ts'
import { toJsonb } from './json.ts'
import { writeRunsAndWake } from './run-writes.ts'
import { CHANNEL } from './channel.ts'
import { COLUMNS, RETURNED, type Claimed } from './columns.ts'

export { COLUMNS, type Claimed } from './columns.ts'
export { CHANNEL } from './channel.ts'

// The statements every run executes are named: pg prepares them once per
// connection, so PostgreSQL parses and plans them once, not on every call.

/**
 * A start with an idempotency key: returns null when the key already
 * exists. Unless `wake` is false (the caller claims it at once), wakes the
 * orchestration's fetchers on commit with NOTIFY 'j:' (a start job follows
 * in the same transaction, enqueueStart, and a fetcher asks pg-boss only
 * after such a notice or its polling interval). A start without one that
 * is queued is due on its row instead, with no job (insertDueOperations).
 */
export async function insertOperation (db: Queryable, op: { id: string, name: string, key: string, input: unknown, idempotencyKey: string, trace: boolean }, opts: { wake: boolean }): Promise<Operation | null> {
  const { rows } = await db.query<Operation & { woken?: unknown }>({
    name: 'toygres-insert-operation',
    text: `INSERT INTO toygres.operations (id, name, key, input, idempotency_key, trace)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING ${COLUMNS}, CASE WHEN $7::boolean THEN pg_notify('${CHANNEL}', 'j:' || name) END AS woken`,
    values: [op.id, op.name, op.key, toJsonb(op.input), op.idempotencyKey, op.trace, opts.wake]
  })
  if (!rows[0]) return null
  const { woken: _woken, ...inserted } = rows[0]
  return inserted
}

/**
 * Queued starts without idempotency keys, one or many in one statement:
 * each row pending and due now (wake_at), where a fetch claims it
 * (claimDue, with claimOperations' key rules) with no start job, and the
 * orchestrations' fetchers woken on
 * commit (NOTIFY 'w:' + name; PostgreSQL folds a transaction's identical
 * notices into one). created_at keeps the order of `ops`, a microsecond
 * apart, so operations on one key run in the order they were given. The
 * ids are the caller's, so nothing else can conflict; one row PostgreSQL
 * refuses (say, input jsonb cannot hold) fails the whole statement.
 * Returns the rows in the order of `ops`.
 */
export async function insertDueOperations (db: Queryable, ops: Array<{ id: string, name: string, key: string, input: unknown, trace: boolean }>): Promise<Operation[]> {
  const { rows } = await db.query<Operation & { woken?: unknown }>({
    name: 'toygres-insert-due-operations',
    text: `INSERT INTO toygres.operations (id, name, key, input, trace, created_at, wake_at)
     SELECT s.id, s.name, s.key, s.input::jsonb, s.trace, t.at, t.at
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::boolean[]) WITH ORDINALITY AS s(id, name, key, input, trace, ord),
       LATERAL (SELECT now() + (s.ord - 1) * interval '1 microsecond' AS at) t
     ORDER BY s.ord
     RETURNING ${COLUMNS}, pg_notify('${CHANNEL}', 'w:' || name) AS woken`,
    values: [ops.map(o => o.id), ops.map(o => o.name), ops.map(o => o.key), ops.map(o => toJsonb(o.input)), ops.map(o => o.trace)]
  })
  const byId = new Map(rows.map(({ woken: _woken, ...row }) => [row.id, row]))
  return ops.map(o => byId.get(o.id)!)
}

/**
 * An eager start without an idempotency key, in one statement: inserts the
 * operation and claims it for a run in this process, with lease `lease` for
 * `leaseSeconds`, when its key is free and no operation on the key is
 * pending (claimOperations' rules for a first claim: the key's row is
 * inserted, and ON CONFLICT sees the latest committed holder, waiting for
 * one in flight). Otherwise it is inserted pending and due now, and wakes
 * the fetchers (NOTIFY 'w:'): a fetch claims it from its row (claimDue,
 * with the same rules), as it does the next operation on a
 * freed key, and no start job is needed. Returns the row; `lease` is null
 * when it was not claimed. The key's row refers to the operation inserted
 * beside it; the foreign key is checked at the statement's end, when both
 * exist. Without an idempotency key nothing can conflict, which is why a
 * start with one takes the two statements insertOperation + claimOperations.
 */
export async function insertClaimedOperation (db: Queryable, op: { id: string, name: string, key: string, input: unknown, trace: boolean }, lease: string, leaseSeconds: number): Promise<Due> {
  const { rows } = await db.query<Due & { woken?: unknown }>({
    name: 'toygres-insert-claimed-operation',
    text: `WITH hold AS (
       INSERT INTO toygres.operation_keys (key, operation_id)
       SELECT $3, $1 WHERE NOT EXISTS (SELECT 1 FROM toygres.operations b WHERE b.key = $3 AND b.status = 'pending')
       ON CONFLICT (key) DO NOTHING
       RETURNING operation_id)
     INSERT INTO toygres.operations AS o (id, name, key, input, trace, status, lease, lease_until, attempts, started_at, wake_at)
     SELECT $1, $2, $3, $4, $5, CASE WHEN held THEN 'running' ELSE 'pending' END, CASE WHEN held THEN $6::uuid END,
       CASE WHEN held THEN now() + make_interval(secs => $7) END, held::int, CASE WHEN held THEN now() END,
       CASE WHEN held THEN NULL ELSE now() END
     FROM (SELECT EXISTS (SELECT 1 FROM hold) AS held) h
     RETURNING ${RETURNED}, CASE WHEN o.lease IS NULL THEN pg_notify('${CHANNEL}', 'w:' || o.name) END AS woken`,
    values: [op.id, op.name, op.key, toJsonb(op.input), op.trace, lease, leaseSeconds]
  })
  const { woken: _woken, ...inserted } = rows[0]!
  return inserted
}

export async function selectOperation (db: Queryable, id: string): Promise<Operation | null> {
  const { rows } = await db.query<Operation>({ name: 'toygres-select-operation', text: `SELECT ${COLUMNS} FROM toygres.operations WHERE id = $1`, values: [id] })
  return rows[0] ?? null
}

export async function selectOperations (db: Queryable, ids: string[]): Promise<Operation[]> {
  if (ids.length === 0) return []
  const { rows } = await db.query<Operation>(`SELECT ${COLUMNS} FROM toygres.operations WHERE id = ANY($1::uuid[])`, [ids])
  return rows
}

export async function selectByIdempotencyKey (db: Queryable, key: string): Promise<Operation | null> {
  const { rows } = await db.query<Operation>(`SELECT ${COLUMNS} FROM toygres.operations WHERE idempotency_key = $1`, [key])
  return rows[0] ?? null
}

/** One claim (claimOperations for a single job); `leaseSeconds` until the lease lapses unless renewed. */
export async function claimOperation (db: Queryable, id: string, lease: string, jobId: string, leaseSeconds = 10): Promise<Claimed | null> {
  return (await claimOperations(db, [{ operationId: id, lease, jobId }], leaseSeconds))[0] ?? null
}

/** A run asking to hold an operation: a fresh lease, for the pg-boss job (this attempt of it) that woke it. */
export interface Claim { operationId: string, lease: string, jobId: string | null }

/** claimDue's rows: claimed (lease set), or a pending operation made due that its key refused (lease null). */
export type Due = Omit<Claimed, 'lease'> & { lease: string | null }

/**
 * Takes the leases for the runs a batch of fetched jobs asks for, in one
 * statement, until `leaseSeconds` from now unless renewed. A claim is refused
 * when the operation is finished; when a live run holds it (a lease whose
 * lease_until passed may be taken over: its run is dead or cut off, and
 * fencing stops it); for a first claim, when an operation on the same key
 * started earlier is still pending; or when another operation holds the key.
 * A job's claim of a pending operation made due is refused too (a duplicate
 * wake-up: claimDue's fetch has its row). The operations' rows are locked
 * before the keys' rows, the due path's order too: a claim that took a key
 * and then waited for its operation's row deadlocked with such a fetch, and
 * left the key held by an operation a cancel ended meanwhile.
 * At most one claim per key wins (the key's running holder first, else its
 * oldest pending operation), because one INSERT may not touch a key's row
 * twice. Two claims on one key collide on the key's row in operation_keys
 * (ON CONFLICT sees the latest committed holder, not the snapshot), and two
 * claims of one operation collide on its row, where the UPDATE re-checks the
 * lease on the newest version: no race lets both win. A refused pending
 * operation is woken by the key's holder when it ends.
 */
export async function claimOperations (db: Queryable, claims: Claim[], leaseSeconds = 10): Promise<Claimed[]> {
  if (claims.length === 0) return []
  const { rows } = await db.query<Claimed>({
    name: 'toygres-claim-operations',
    text: `WITH c AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS c(id, lease, job)),
     -- The operations' rows are locked before the keys' (the order of every path that claims): a claim must
     -- not take a key and then fail to take the operation (a cancel that committed meanwhile), leaving the
     -- key held by an operation that never runs. The lock re-checks these conditions on the newest version.
     mine AS (
       SELECT o.id, o.key, o.status, o.created_at, c.lease, c.job
       FROM c JOIN toygres.operations o ON o.id = c.id
       WHERE o.status IN ('pending', 'running') AND (o.lease IS NULL OR o.lease_until < now())
         -- A job for a pending operation made due (wake_at set, to its maker's now(), which can be later than
         -- this transaction's) is a duplicate wake-up: the fetch that locked the due row claims it.
         AND NOT (c.job IS NOT NULL AND o.status = 'pending' AND o.wake_at IS NOT NULL)
       ORDER BY o.id
       FOR UPDATE OF o),
     me AS (
       SELECT DISTINCT ON (m.key) m.id, m.key, m.lease, m.job
       FROM mine m
         -- Only a first claim queues behind earlier starts: a running one holds
         -- its key already, and must get it back after a sleep.
       WHERE m.status = 'running' OR NOT EXISTS (
           SELECT 1 FROM toygres.operations b
           WHERE b.key = m.key AND b.status = 'pending' AND (b.created_at, b.id) < (m.created_at, m.id))
       ORDER BY m.key, m.status = 'running' DESC, m.created_at, m.id),
     -- The key's row: inserted, or already this operation's (a running one's re-claim). A claim refused for
     -- another holder marks the row contended (once), so the holder's end looks for it after its commit.
     hold AS (
       INSERT INTO toygres.operation_keys (key, operation_id) SELECT key, id FROM me ORDER BY key
       ON CONFLICT (key) DO UPDATE SET contended = operation_keys.contended OR operation_keys.operation_id <> EXCLUDED.operation_id
       WHERE operation_keys.operation_id = EXCLUDED.operation_id OR NOT operation_keys.contended
       RETURNING operation_id),
     -- A pending operation made due but refused (its key is taken again) waits for the key's holder to wake it.
     unwoken AS (
       UPDATE toygres.operations o SET wake_at = NULL
       FROM c WHERE c.job IS NULL AND o.id = c.id AND o.status = 'pending' AND o.wake_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM hold WHERE hold.operation_id = o.id))
     UPDATE toygres.operations o
     SET status = 'running', lease = me.lease, lease_job = me.job, lease_until = now() + make_interval(secs => $4),
         wake_at = NULL, attempts = o.attempts + 1, started_at = coalesce(o.started_at, now()),
         takeovers = o.takeovers + (o.lease IS NOT NULL)::int
     FROM hold JOIN me ON me.id = hold.operation_id
     WHERE o.id = hold.operation_id AND o.status IN ('pending', 'running') AND (o.lease IS NULL OR o.lease_until < now())
     RETURNING ${RETURNED}`,
    values: [claims.map(c => c.operationId), claims.map(c => c.lease), claims.map(c => c.jobId), leaseSeconds]
  })
  return rows
}

/**
 * Claims, in one statement, up to `limit` operations of orchestration
 * `name` that nothing runs now and that are due: running ones whose timer
 * (wake_at) passed or whose run's lease lapsed (its process died or was cut
 * off; at most `maxTakeovers` times in a row), which hold their keys
 * already; and pending ones made due (a queued start without an idempotency
 * key, the next on a freed key, a start refused for a busy key), claimed
 * under claimOperations' rules for a first claim: the oldest pending
 * operation on its key takes the key's row, or is refused, with wake_at
 * cleared (the key's holder wakes it when it ends; a refusal marks the
 * key's row contended, so that end looks for it). Timers and pending
 * operations are taken oldest wake_at first (neither kind can starve the
 * other), then lapsed leases. Rows are locked FOR UPDATE SKIP LOCKED
 * (engines share the work), operations' rows before keys' rows, the order
 * of every path that claims. Returns each row taken: claimed (lease set),
 * or a pending operation refused for its key (lease null), so that the
 * caller can tell a full batch. Safe in autocommit: it commits nothing a
 * caller must undo.
 */
export async function claimDue (db: Queryable, name: string, limit: number, leaseSeconds: number, maxTakeovers: number): Promise<Due[]> {
  const { rows } = await db.query<Due>({
    name: 'toygres-claim-due',
    text: `WITH woken AS (
       SELECT id, key, status, created_at FROM toygres.operations
       WHERE name = $1 AND wake_at <= now() AND (status = 'pending' OR (status = 'running' AND lease IS NULL))
       ORDER BY wake_at LIMIT $2 FOR UPDATE SKIP LOCKED),
     lapsed AS (
       SELECT id FROM toygres.operations
       WHERE name = $1 AND lease IS NOT NULL AND lease_until < now() AND status = 'running' AND takeovers < $4
       ORDER BY lease_until LIMIT greatest($2 - (SELECT count(*) FROM woken), 0) FOR UPDATE SKIP LOCKED),
     due AS (SELECT id FROM woken WHERE status = 'running' UNION ALL SELECT id FROM lapsed),
     claimed AS (
       UPDATE toygres.operations o
       SET lease = gen_random_uuid(), lease_job = NULL, lease_until = now() + make_interval(secs => $3), wake_at = NULL,
           attempts = o.attempts + 1, takeovers = o.takeovers + (o.lease IS NOT NULL)::int
       FROM due WHERE o.id = due.id
       RETURNING ${RETURNED}),
     -- Pending ones: only the oldest pending operation on a key may take it, one per key (claimOperations' me).
     first AS (
       SELECT DISTINCT ON (w.key) w.id, w.key
       FROM woken w
       WHERE w.status = 'pending' AND NOT EXISTS (
           SELECT 1 FROM toygres.operations b
           WHERE b.key = w.key AND b.status = 'pending' AND (b.created_at, b.id) < (w.created_at, w.id))
       ORDER BY w.key, w.created_at, w.id),
     -- The key's row, inserted; a claim refused for another holder marks it contended (once), as claimOperations does.
     hold AS (
       INSERT INTO toygres.operation_keys (key, operation_id) SELECT key, id FROM first ORDER BY key
       ON CONFLICT (key) DO UPDATE SET contended = operation_keys.contended OR operation_keys.operation_id <> EXCLUDED.operation_id
       WHERE operation_keys.operation_id = EXCLUDED.operation_id OR NOT operation_keys.contended
       RETURNING operation_id),
     -- A pending operation the key refused waits for the key's holder to wake it.
     unwoken AS (
       UPDATE toygres.operations o SET wake_at = NULL
       FROM woken w
       WHERE o.id = w.id AND w.status = 'pending' AND NOT EXISTS (SELECT 1 FROM hold WHERE hold.operation_id = o.id)
       RETURNING ${RETURNED.replace('o.lease,', 'NULL::uuid AS lease,')}),
     started AS (
       UPDATE toygres.operations o
       SET status = 'running', lease = gen_random_uuid(), lease_job = NULL, lease_until = now() + make_interval(secs => $3),
           wake_at = NULL, attempts = o.attempts + 1, started_at = coalesce(o.started_at, now())
       FROM hold JOIN first ON first.id = hold.operation_id WHERE o.id = hold.operation_id
       RETURNING ${RETURNED})
     SELECT * FROM claimed UNION ALL SELECT * FROM started UNION ALL SELECT * FROM unwoken`,
    values: [name, limit, leaseSeconds, maxTakeovers]
  })
  return rows
}

/** Tells the fetchers of orchestration `name`, on commit, that a start job was sent (NOTIFY 'j:'): they ask pg-boss at their next fetch. */
export async function announceStartJob (db: Queryable, name: string): Promise<void> {
  await db.query(`SELECT pg_notify('${CHANNEL}', 'j:' || $1::text)`, [name])
}

/** Keeps the leases of runs in flight: returns the ids whose lease is still theirs. */
export async function renewLeases (db: Queryable, leases: Array<{ operationId: string, lease: string }>, leaseSeconds: number): Promise<Set<string>> {
  if (leases.length === 0) return new Set()
  const { rows } = await db.query<{ id: string }>({
    name: 'toygres-renew-leases',
    text: `UPDATE toygres.operations o SET lease_until = now() + make_interval(secs => $3)
     FROM unnest($1::uuid[], $2::uuid[]) AS l(id, lease)
     WHERE o.id = l.id AND o.lease = l.lease
     RETURNING o.id`,
    values: [leases.map(l => l.operationId), leases.map(l => l.lease), leaseSeconds]
  })
  return new Set(rows.map(r => r.id))
}

/**
 * Ends a run's operation if `lease` still holds it (writeRuns' finish: frees
 * its key and makes the oldest pending operation on the key due now); false
 * for a zombie.
 */
export async function finishOperation (db: Queryable, id: string, lease: string, status: 'succeeded' | 'failed' | 'cancelled', output: unknown, error: StoredError | null): Promise<boolean> {
  return (await writeRunsAndWake(db, [{ operationId: id, lease, rows: [], end: { kind: 'finish', status, output, error } }]))[0]!.held
}

/**
 * Gives up the lease without finishing, to run again at `wakeAt` (a run that
 * broke, a graceful stop); a requested cancel wakes it now. Sends the wake-up
 * NOTIFY when it is due now.
 */
export async function releaseLease (db: Queryable, id: string, lease: string, wakeAt: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE toygres.operations
     SET lease = NULL, lease_job = NULL, lease_until = NULL,
         wake_at = CASE WHEN cancel_requested_at IS NOT NULL THEN least($3::timestamptz, now()) ELSE $3::timestamptz END
     WHERE id = $1 AND lease = $2
     RETURNING CASE WHEN wake_at <= now() THEN pg_notify('${CHANNEL}', 'w:' || name) END`, [id, lease, wakeAt])
  return rowCount === 1
}

/** continueAsNew: fresh input, next generation, due now; the caller deletes the steps. */
export async function renewOperation (db: Queryable, id: string, lease: string, input: unknown): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE toygres.operations
     SET input = $3, generation = generation + 1, lease = NULL, lease_job = NULL, lease_until = NULL, wake_at = now(), takeovers = 0
     WHERE id = $1 AND lease = $2
     RETURNING pg_notify('${CHANNEL}', 'w:' || name)`, [id, lease, toJsonb(input)])
  return rowCount === 1
}

export interface CancelMark { name: string, status: string, attempts: number, idle: boolean }

/**
 * Marks the request and tells running workers at once (NOTIFY is sent on
 * commit). An operation between runs (asleep, or waiting to retry) is due
 * now, so it runs its cleanup instead of waiting out its timer.
 */
export async function markCancelRequested (db: Queryable, id: string, reason: string | null): Promise<CancelMark | null> {
  const { rows } = await db.query<CancelMark>(
    `UPDATE toygres.operations
     SET cancel_requested_at = coalesce(cancel_requested_at, now()), cancel_reason = coalesce(cancel_reason, $2),
         wake_at = CASE WHEN status = 'running' AND lease IS NULL THEN least(wake_at, now()) ELSE wake_at END
     WHERE id = $1 AND status IN ('pending', 'running')
     RETURNING name, status, attempts, lease IS NULL AS idle, pg_notify('${CHANNEL}', 'c:' || id::text),
       CASE WHEN status = 'running' AND lease IS NULL THEN pg_notify('${CHANNEL}', 'w:' || name) END`,
    [id, reason])
  return rows[0] ?? null
}

/**
 * An operation that never ran ends at once; the next pending one on its key
 * (if the key is free) is made due now, as of this statement's snapshot.
 * Returns its key when it ended here (the caller looks at the key again once
 * this commits: a later operation refused behind this one may have committed
 * after the snapshot), else null.
 */
export async function cancelUnstarted (db: Queryable, id: string, error: StoredError): Promise<string | null> {
  const { rows } = await db.query(
    `WITH done AS (
       UPDATE toygres.operations SET status = 'cancelled', error = $2, finished_at = now(), wake_at = NULL
       WHERE id = $1 AND status = 'pending' AND attempts = 0
       RETURNING id, key),
     -- Read once (materialized): a rescanned subquery would skip the row the UPDATE changed and return the next.
     head AS MATERIALIZED (
       SELECT p2.id FROM toygres.operations p2 JOIN done ON p2.key = done.key
       WHERE p2.status = 'pending' AND p2.id <> done.id
         AND NOT EXISTS (SELECT 1 FROM toygres.operation_keys k WHERE k.key = done.key)
       -- Never waits for a row here, holding this one's: the caller's second look, after the commit, does.
       ORDER BY p2.created_at, p2.id LIMIT 1 FOR UPDATE OF p2 SKIP LOCKED),
     nxt AS (
       UPDATE toygres.operations p SET wake_at = now()
       FROM head WHERE p.id = head.id
       RETURNING p.name)
     SELECT done.key, pg_notify('${CHANNEL}', 'f:' || done.id::text), (SELECT count(pg_notify('${CHANNEL}', 'w:' || name)) FROM nxt)
     FROM done`,
    [id, toJsonb(error)])
  return (rows[0] as { key: string } | undefined)?.key ?? null
}

export interface LiveCount { name: string, pending: number, due: number, waiting: number, running: number }

/** Live operations per orchestration: pending, due (timer passed, unclaimed), waiting (timer ahead), running (leased). */
export async function countLive (db: Queryable): Promise<LiveCount[]> {
  const { rows } = await db.query<LiveCount>(
    `SELECT name,
       count(*) FILTER (WHERE status = 'pending')::int AS pending,
       count(*) FILTER (WHERE status = 'running' AND lease IS NULL AND wake_at <= now())::int AS due,
       count(*) FILTER (WHERE status = 'running' AND lease IS NULL AND (wake_at > now() OR wake_at IS NULL))::int AS waiting,
       count(*) FILTER (WHERE status = 'running' AND lease IS NOT NULL)::int AS running
     FROM toygres.operations WHERE status IN ('pending', 'running') GROUP BY name ORDER BY name`)
  return rows
}

/** Which of `ids` are still pending or running. */
export async function selectLive (db: Queryable, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM toygres.operations WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'running')", [ids])
  return rows.map(r => r.id)
}

/** Pending or running operations on `key`, optionally of one orchestration, oldest first. */
export async function selectLiveByKey (db: Queryable, key: string, name: string | undefined): Promise<Operation[]> {
  const { rows } = await db.query<Operation>(
    `SELECT ${COLUMNS} FROM toygres.operations
     WHERE key = $1 AND ($2::text IS NULL OR name = $2) AND status IN ('pending', 'running')
     ORDER BY created_at, id`, [key, name ?? null])
  return rows
}

/** Deletes finished operations (and by cascade their steps) older than the retention; returns how many. */
export async function deleteFinishedBefore (db: Queryable, retentionSeconds: number, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM toygres.operations WHERE id IN (
       SELECT id FROM toygres.operations
       WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at < now() - make_interval(secs => $1)
       LIMIT $2)`, [retentionSeconds, limit])
  return rowCount ?? 0
}

export interface TraceEvent {
  id: string
  operation_id: string
  /** -1 for the operation's own end ($operation). */
  position: number
  name: string
  status: string
  attempts: number
  progress: string | null
  error: StoredError | null
  started_at: Date
  finished_at: Date | null
  at: Date
}

/**
 * Events of traced operations after `afterId`, oldest first. One run at a
 * time holds an operation, so one operation's events commit in id order.
 */
export async function selectTraceEvents (db: Queryable, operationIds: string[], afterId: string, limit: number): Promise<TraceEvent[]> {
  if (operationIds.length === 0) return []
  const { rows } = await db.query<TraceEvent>(
    `SELECT e.id::text, e.operation_id, e.position, e.name, e.status, e.attempts, e.progress, e.error, e.started_at, e.finished_at, e.at
     FROM toygres.operation_events e
     WHERE e.operation_id = ANY($1::uuid[]) AND e.id > $2::bigint
     ORDER BY e.id LIMIT $3`, [operationIds, afterId, limit])
  return rows
}

export interface Abandoned { id: string, name: string, status: string, lease: string | null, takeovers: number }

/**
 * Operations nothing will run again by itself: a running one whose runs
 * kept dying (its lease lapsed after `maxTakeovers` takeovers in a row); a
 * running one between runs with no wake-up time (from before timers lived
 * on the row, its job lost); a pending one whose start job is gone while its
 * key is free (no holder will wake it). Jobs are in pg-boss's `job` table,
 * whose `data` carries the operation id (tx.ts).
 */
export async function selectAbandoned (db: Queryable, bossSchema: string, maxTakeovers: number, limit: number): Promise<Abandoned[]> {
  const { rows } = await db.query<Abandoned>(
    `SELECT o.id, o.name, o.status, o.lease::text AS lease, o.takeovers
     FROM toygres.operations o
     WHERE (o.status = 'running' AND o.lease IS NOT NULL AND o.lease_until < now() AND o.takeovers >= $1)
        OR (o.status = 'running' AND o.lease IS NULL AND o.wake_at IS NULL AND NOT EXISTS (
              SELECT 1 FROM ${bossSchema}.job w
              WHERE w.data->>'operationId' = o.id::text AND w.state IN ('created', 'retry', 'active')))
        OR (o.status = 'pending' AND o.wake_at IS NULL AND NOT EXISTS (SELECT 1 FROM toygres.operation_keys k WHERE k.key = o.key)
            AND NOT EXISTS (SELECT 1 FROM toygres.operations b
              WHERE b.key = o.key AND b.status = 'pending' AND (b.created_at, b.id) < (o.created_at, o.id))
            AND NOT EXISTS (
              SELECT 1 FROM ${bossSchema}.job w
              WHERE w.data->>'operationId' = o.id::text AND w.state IN ('created', 'retry', 'active')))
     LIMIT $2`, [maxTakeovers, limit])
  return rows
}

/** Makes an operation nothing holds due now (it lost its wake-up, or its start job). */
export async function wakeNow (db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE toygres.operations SET wake_at = now()
     WHERE id = $1 AND (status = 'pending' OR (status = 'running' AND lease IS NULL)) AND wake_at IS NULL
     RETURNING pg_notify('${CHANNEL}', 'w:' || name)`, [id])
  return rowCount === 1
}
