// The Dockerfile, followed as a builder would, into a scratch folder per
// stage (`docker build` cannot run here): FROM, WORKDIR, ENV, COPY (from the
// context filtered by .dockerignore, or --from an earlier stage), USER, CMD
// and HEALTHCHECK. RUN is only ever one of the commands below; any other
// fails, so a new one has to be taught here rather than silently skipped.
import { spawnSync } from 'node:child_process'
import { chmod, cp, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises'
import { basename, join, matchesGlob, posix } from 'node:path'

export interface Stage {
  name: string | undefined
  /** The stage's filesystem, on this machine. */
  root: string
  workdir: string
  env: Record<string, string>
  user: string | undefined
  cmd: string[] | undefined
  healthcheck: string[] | undefined
}

export interface Build { stages: Stage[], final: Stage, log: string[] }

/** Docker's logical lines: continuations joined, comments and blank lines dropped. */
export function instructions (text: string): Array<{ op: string, args: string }> {
  return text.replace(/\\\n/g, ' ').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
    .map(l => { const [op, ...rest] = l.split(/\s+/); return { op: op!.toUpperCase(), args: rest.join(' ') } })
}

/** .dockerignore as Docker applies it: a path is out when it or a parent matches a pattern. */
export function ignoreFilter (text: string): (relative: string) => boolean {
  const patterns = text.split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  if (patterns.some(p => p.startsWith('!'))) throw new Error('.dockerignore exceptions (!) are not followed here: teach test/deploy/dockerfile.ts')
  return relative => {
    const parts = relative.split('/')
    return patterns.some(p => parts.some((_, i) => matchesGlob(parts.slice(0, i + 1).join('/'), p.replace(/^\/|\/$/g, ''))))
  }
}

const json = (args: string): string[] => JSON.parse(args) as string[]

export async function build (context: string, scratch: string): Promise<Build> {
  const text = await readFile(join(context, 'Dockerfile'), 'utf8')
  const ignored = ignoreFilter(await readFile(join(context, '.dockerignore'), 'utf8').catch(() => ''))
  const stages: Stage[] = []
  const log: string[] = []
  let stage: Stage | undefined
  const here = (p: string): string => join(stage!.root, posix.resolve(stage!.workdir, p))
  for (const { op, args } of instructions(text)) {
    if (op === 'FROM') {
      const as = /\s+AS\s+(\S+)$/i.exec(args)
      stage = { name: as?.[1], root: await mkdtemp(join(scratch, `stage${stages.length}-`)), workdir: '/', env: {}, user: undefined, cmd: undefined, healthcheck: undefined }
      await chmod(stage.root, 0o755) // an image's / is world-readable
      stages.push(stage)
      continue
    }
    if (!stage) throw new Error(`${op} before FROM`)
    switch (op) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args)
        await mkdir(join(stage.root, stage.workdir), { recursive: true })
        break
      case 'ENV':
        for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[m[1]!] = m[2]!.replace(/^"|"$/g, '')
        break
      case 'COPY': {
        const words = args.split(/\s+/)
        const from = words.find(w => w.startsWith('--from='))?.slice('--from='.length)
        const paths = words.filter(w => !w.startsWith('--'))
        const dest = paths.pop()!
        const source = from === undefined ? undefined : stages.find(s => s.name === from)
        if (from !== undefined && !source) throw new Error(`COPY --from=${from}: no such stage`)
        for (const p of paths) {
          const src = source ? join(source.root, p) : join(context, p)
          if (!source && ignored(p)) throw new Error(`COPY ${p}: excluded by .dockerignore`)
          const isDir = (await stat(src)).isDirectory()
          const target = dest.endsWith('/') && !isDir ? join(here(dest), basename(p)) : here(dest)
          await cp(src, target, {
            recursive: true,
            filter: s => source !== undefined || s === src || !ignored(s.slice(context.length + 1))
          })
        }
        break
      }
      case 'RUN': {
        const npmCi = /^npm ci --omit=dev( && npm cache clean --force)?$/.exec(args)
        const npmCiAll = /^npm ci --ignore-scripts$/.exec(args)
        const buildUi = /^node (ui\/build\.mjs)$/.exec(args)
        const mkdirChown = /^mkdir -p (\S+) && chown \S+ \1$/.exec(args)
        if (npmCiAll) {
          // The dashboard's build stage: every dependency, dev ones included, no install scripts.
          const out = spawnSync('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: join(stage.root, stage.workdir), encoding: 'utf8' })
          log.push(out.stdout, out.stderr)
          if (out.status !== 0) throw new Error(`npm ci --ignore-scripts failed (${out.status}):\n${out.stdout}\n${out.stderr}`)
        } else if (buildUi) {
          const out = spawnSync(process.execPath, [buildUi[1]!], { cwd: join(stage.root, stage.workdir), encoding: 'utf8' })
          log.push(out.stdout, out.stderr)
          if (out.status !== 0) throw new Error(`node ${buildUi[1]} failed (${out.status}):\n${out.stdout}\n${out.stderr}`)
        } else if (npmCi) {
          // The same install; the machine's npm cache is used (and not cleaned: it is shared).
          const out = spawnSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: join(stage.root, stage.workdir), encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } })
          log.push(out.stdout, out.stderr)
          if (out.status !== 0) throw new Error(`npm ci --omit=dev failed (${out.status}):\n${out.stdout}\n${out.stderr}`)
        } else if (mkdirChown) {
          // Made, not given away: the pod's root filesystem is read-only, so ownership gives no write access there.
          await mkdir(join(stage.root, mkdirChown[1]!), { recursive: true })
        } else {
          throw new Error(`RUN ${args}: not followed here; teach test/deploy/dockerfile.ts`)
        }
        break
      }
      case 'USER': stage.user = args; break
      case 'CMD': stage.cmd = json(args); break
      case 'HEALTHCHECK': stage.healthcheck = json(args.slice(args.indexOf('CMD') + 3).trim()); break
      case 'EXPOSE': case 'LABEL': case 'ARG': break
      default: throw new Error(`${op}: not followed here; teach test/deploy/dockerfile.ts`)
    }
  }
  return { stages, final: stage!, log }
}
