// The PostgreSQL major versions installed for a home: the bundled one (or
// TOYGRES_PG_BIN_DIR's) and those added with `npm run postgres:add -- <major>`
// under <home>/postgres/<major>/ (add-major.ts), outside node_modules so
// that `npm install` never prunes them. Read afresh on every call, so a major
// added while the control plane runs is offered at once.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { binariesIn, runBinary, type PostgresBinaries } from './binaries.ts'

/** The one command that adds a major; the API's 422 and the README quote it. */
export const ADD_MAJOR_COMMAND = 'npm run postgres:add -- <major>'
/** The local provisioner's versionsHint: how to add a major, with an example. */
export const VERSIONS_HINT = `Add another major with \`${ADD_MAJOR_COMMAND}\`, e.g. \`npm run postgres:add -- 17\``

export interface InstalledMajor {
  /** e.g. "17" */
  readonly major: string
  /** e.g. "17.10" */
  readonly version: string
  readonly binaries: PostgresBinaries
}

/** Where a major added for `home` lives. */
export const addedMajorDir = (home: string, major: string): string => join(home, 'postgres', major)

const versions = new Map<string, Promise<string>>()

/** "18.4" from `postgres --version`, asked once per binary (by path and change time). */
export async function versionOf (binaries: PostgresBinaries): Promise<string> {
  const { ctimeMs } = await stat(binaries.postgres)
  const key = `${binaries.postgres}@${ctimeMs}`
  let pending = versions.get(key)
  if (!pending) {
    pending = runBinary(binaries.postgres, ['--version'], undefined).then(out => {
      const match = /\(PostgreSQL\) (\d+(?:\.\d+)?)/.exec(out)
      if (!match?.[1]) throw new Error(`unexpected output from ${binaries.postgres} --version: ${out.trim()}`)
      return match[1]
    })
    versions.set(key, pending)
    pending.catch(() => versions.delete(key))
  }
  return pending
}

/** The major of a version: "17" from "17.10" (or from "17"). */
export const majorOf = (version: string): string => version.split('.')[0]!

/** Every major installed now, keyed by major; `base` (the bundled binaries) wins over an added copy of the same major. */
export async function installedMajors (home: string, base: PostgresBinaries): Promise<Map<string, InstalledMajor>> {
  const found = new Map<string, InstalledMajor>()
  const names = await readdir(join(home, 'postgres')).catch(() => [] as string[])
  for (const name of names.filter(n => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b))) {
    let binaries: PostgresBinaries
    try {
      binaries = binariesIn(join(addedMajorDir(home, name), 'native', 'bin'))
    } catch {
      continue // removed by hand, or not complete: not installed
    }
    const version = await versionOf(binaries)
    if (majorOf(version) === name) found.set(name, { major: name, version, binaries })
  }
  const version = await versionOf(base)
  found.set(majorOf(version), { major: majorOf(version), version, binaries: base })
  return new Map([...found].sort(([a], [b]) => Number(a) - Number(b)))
}
