// Where a control plane's PostgreSQL servers keep their data and which
// programs they run, such that the postgres OS user (run-as.ts) can reach
// both. Usually that is the data directory and the bundled binaries as they
// are. A root control plane cloned into a private directory (root's home is
// mode 0700) cannot use either: it then keeps its servers' data in
// SHARED_ROOT/<hash of the data directory's real path>/ and runs a copy of
// the binaries (bundle.ts), and says so once, in one log line.
//
// Only the default data directory (.toygres inside the clone) is placed
// elsewhere: a TOYGRES_DATA_DIR chosen by the operator is used as given, or
// refused with advice, never silently moved.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import type { Logger } from '../logging.ts'
import { binariesIn, findBinaries, type PostgresBinaries } from './binaries.ts'
import { bundledNativeRoot, reachableNativeRoot, SHARED_ROOT } from './bundle.ts'
import { assertReachable, postgresRunAs, unreachableAncestor, type RunAs } from './run-as.ts'

/** The data directory a clone uses when TOYGRES_DATA_DIR is not set (config.ts resolves ./.toygres from the clone). */
const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../.toygres', import.meta.url))

export interface Placement {
  /** Where servers keep their data: the data directory, or SHARED_ROOT/<hash>/ for it. */
  readonly home: string
  /** The bundled binaries (or TOYGRES_PG_BIN_DIR's), reachable by `runAs`. */
  readonly binaries: PostgresBinaries
  readonly runAs: RunAs | undefined
  /** What was placed elsewhere and why, in one sentence; undefined when nothing was. */
  readonly note: string | undefined
}

export interface PlacementOptions {
  dataDir: string
  binDir?: string | undefined
  /** May the data be placed elsewhere when unreachable? Default: only for the clone's default data directory. */
  relocatable?: boolean
  /** Default SHARED_ROOT (tests pass their own). */
  shared?: string
}

const placements = new Map<string, Placement>()
const announced = new WeakSet<Placement>()

/** The placement for a data directory: decided once per process, so every caller agrees. */
export function placeServers (opts: PlacementOptions): Placement {
  const key = JSON.stringify([opts.dataDir, opts.binDir, opts.relocatable, opts.shared])
  let placement = placements.get(key)
  if (!placement) {
    placement = decide(opts)
    placements.set(key, placement)
  }
  return placement
}

/** Logs the placement's note, once per process. */
export function announcePlacement (placement: Placement, log: Logger): void {
  if (placement.note === undefined || announced.has(placement)) return
  announced.add(placement)
  log.info({ home: placement.home, binDir: placement.binaries.binDir }, placement.note)
}

function decide (opts: PlacementOptions): Placement {
  const runAs = postgresRunAs()
  const shared = opts.shared ?? SHARED_ROOT
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o755 })
  const dataDir = realpathSync(opts.dataDir)
  const notes: string[] = []
  let blocked: string | undefined

  let binaries: PostgresBinaries
  if (opts.binDir !== undefined) {
    binaries = findBinaries(opts.binDir, runAs)
  } else {
    const bundled = bundledNativeRoot()
    const tree = reachableNativeRoot(bundled, runAs, shared)
    binaries = binariesIn(join(tree.root, 'bin'))
    if (tree.copiedFrom !== undefined) {
      blocked = unreachableAncestor(join(bundled, 'bin', 'postgres'), runAs)
      notes.push(`runs the PostgreSQL programs copied to ${tree.root}`)
    }
  }

  let home = dataDir
  const elsewhere = join(shared, createHash('sha256').update(dataDir).digest('hex').slice(0, 12))
  const dataBlocked = unreachableAncestor(join(dataDir, 'instances'), runAs)
  const before = placedBefore(elsewhere, dataDir)
  if (dataBlocked !== undefined) {
    const relocatable = before || (opts.relocatable ?? dataDir === realpathOr(DEFAULT_DATA_DIR))
    if (!relocatable) {
      assertReachable(join(dataDir, 'instances'), runAs, 'choose a TOYGRES_DATA_DIR it can reach (for example /var/lib/toygres/data), or leave TOYGRES_DATA_DIR unset to let Toygres place the servers\' data itself')
    }
    home = elsewhere
    mkdirSync(home, { recursive: true, mode: 0o755 })
    // For whoever lists SHARED_ROOT, and for later starts: which data directory this one serves.
    if (!before) writeFileSync(join(home, 'data-dir'), `${dataDir}\n`, { mode: 0o644 })
    notes.unshift(`keeps the servers' data in ${home} (for ${dataDir})`)
  } else if (before) {
    // Once placed elsewhere, always: the servers' data is there, whatever the modes say today.
    home = elsewhere
    notes.unshift(`keeps the servers' data in ${home} (for ${dataDir}), where an earlier start placed it`)
  }
  blocked ??= dataBlocked
  const note = notes.length === 0
    ? undefined
    : `PostgreSQL runs as the postgres OS user${blocked === undefined ? '' : `, who cannot enter ${blocked}`}: Toygres ${notes.join(' and ')}`
  return { home, binaries, runAs, note }
}

function placedBefore (home: string, dataDir: string): boolean {
  try {
    return readFileSync(join(home, 'data-dir'), 'utf8').trim() === dataDir
  } catch {
    return false
  }
}

function realpathOr (path: string): string {
  try { return realpathSync(path) } catch { return path }
}
