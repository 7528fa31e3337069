// A V8 CPU profile (node:inspector's Profiler) summed up: where the
// non-idle samples sat (self time), by package or src/ folder and by function.
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export interface ProfileSummary {
  /** Milliseconds sampled, idle excluded. */
  busy_ms: number
  /** Self time by where the code lives: a package, a src/ folder, node: internals, GC, native. */
  by_area: Array<{ area: string, ms: number, share: number }>
  /** With the caller (parent frame) most of its samples came through. */
  top_functions: Array<{ fn: string, ms: number, share: number, caller?: string }>
  /**
   * Each sample charged to the nearest frame on its stack that is neither
   * Node's internals nor the pg driver (pg, pg-protocol, pg-pool): who
   * asked for the work. Work started from socket data (a reply arriving)
   * has no such frame and is charged to "(reply from the socket: …)".
   */
  by_owner: Array<{ owner: string, ms: number, share: number }>
}

// Native stream methods: their self time is the system calls (on loopback a
// write also delivers the data to the receiving socket).
const SOCKET_CALLS = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'connect', 'readStart', 'readStop', 'shutdown', 'close', 'getaddrinfo'])
const ROOT = new URL('../../', import.meta.url).pathname

function areaOf (url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? 'gc' : fn === '(program)' ? 'native (program)' : SOCKET_CALLS.has(fn) ? 'socket system calls' : fn || 'native'
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (pkg) return pkg[1]!
  const path = url.replace(/^file:\/\//, '')
  if (path.startsWith(ROOT)) {
    const parts = path.slice(ROOT.length).split('/')
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0]!
  return url
}

export function summarize (profile: Profile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const parent = new Map<number, Node>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n)
  const label = (n: Node): string => {
    const { functionName: fn, url, lineNumber } = n.callFrame
    return `${fn || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim()
  }
  const area = new Map<string, number>()
  const fns = new Map<string, number>()
  const callers = new Map<string, Map<string, number>>()
  const owners = new Map<string, number>()
  const plumbing = (a: string): boolean => a.startsWith('node:') || a === 'pg' || a === 'pg-protocol' || a === 'pg-pool' || a === 'socket system calls' || a === 'runMicrotasks' || a === 'native'
  const ownerOf = (node: Node): string => {
    const self = areaOf(node.callFrame.url, node.callFrame.functionName)
    for (let n: Node | undefined = node; n && n.callFrame.functionName !== '(root)'; n = parent.get(n.id)) {
      const a = areaOf(n.callFrame.url, n.callFrame.functionName)
      if (!plumbing(a) && n.callFrame.url) return a
    }
    return plumbing(self) ? `(reply from the socket: ${self})` : self
  }
  let busy = 0
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)
    if (!node) return
    const { functionName: fn, url } = node.callFrame
    if (fn === '(idle)') return
    const us = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0
    busy += us
    const a = areaOf(url, fn)
    area.set(a, (area.get(a) ?? 0) + us)
    const name = label(node)
    fns.set(name, (fns.get(name) ?? 0) + us)
    const owner = ownerOf(node)
    owners.set(owner, (owners.get(owner) ?? 0) + us)
    const up = parent.get(id)
    if (up) {
      const m = callers.get(name) ?? callers.set(name, new Map()).get(name)!
      const c = label(up)
      m.set(c, (m.get(c) ?? 0) + us)
    }
  })
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1])
  return {
    busy_ms: Math.round(busy / 1000),
    by_area: rank(area).slice(0, top).map(([a, us]) => ({ area: a, ms: Math.round(us / 1000), share: Math.round(1000 * us / busy) / 1000 })),
    top_functions: rank(fns).slice(0, top).map(([fn, us]) => {
      const caller = callers.get(fn) ? rank(callers.get(fn)!)[0]?.[0] : undefined
      return { fn, ms: Math.round(us / 1000), share: Math.round(1000 * us / busy) / 1000, ...(caller ? { caller } : {}) }
    }),
    by_owner: rank(owners).slice(0, top).map(([owner, us]) => ({ owner, ms: Math.round(us / 1000), share: Math.round(1000 * us / busy) / 1000 }))
  }
}

/**
 * Starts sampling this process; the returned function stops and summarises
 * (and, given `saveTo`, writes the raw profile there: a .cpuprofile that
 * Chrome DevTools and speedscope open).
 */
export async function startProfiling (intervalUs = 1000, saveTo?: string): Promise<() => Promise<ProfileSummary>> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs })
  await session.post('Profiler.start')
  return async () => {
    const { profile } = await session.post('Profiler.stop') as unknown as { profile: Profile }
    session.disconnect()
    if (saveTo) await writeFile(saveTo, JSON.stringify(profile))
    return summarize(profile, 40)
  }
}

/** Sums the summaries of several processes. */
export function merge (all: ProfileSummary[], top = 12): ProfileSummary {
  const busy = all.reduce((s, p) => s + p.busy_ms, 0)
  const add = <K extends 'area' | 'fn' | 'owner'>(key: K, list: (p: ProfileSummary) => Array<Record<K, string> & { ms: number, caller?: string }>) => {
    const m = new Map<string, number>()
    const caller = new Map<string, string>()
    for (const p of all) {
      for (const e of list(p)) {
        m.set(e[key], (m.get(e[key]) ?? 0) + e.ms)
        if (e.caller && !caller.has(e[key])) caller.set(e[key], e.caller)
      }
    }
    return [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => ({ [key]: k, ms, share: Math.round(1000 * ms / busy) / 1000, ...(caller.has(k) ? { caller: caller.get(k) } : {}) }))
  }
  return {
    busy_ms: busy,
    by_area: add('area', p => p.by_area) as ProfileSummary['by_area'],
    top_functions: add('fn', p => p.top_functions) as ProfileSummary['top_functions'],
    by_owner: add('owner', p => p.by_owner) as ProfileSummary['by_owner']
  }
}
