import { Writable } from 'node:stream'
import { pino } from 'pino'
import t from 'tap'
import { loggerOptions, scrubUrls } from '../src/logging.ts'

t.test('passwords, tokens and credentials in URLs never reach the log', async t => {
  let out = ''
  const sink = new Writable({ write (chunk, _enc, cb) { out += chunk; cb() } })
  const log = pino(loggerOptions('info'), sink)
  log.info({ password: 'pw-one', input: { password: 'pw-two' }, req: { headers: { authorization: 'Bearer tok-three' } } }, 'hello')
  log.error({ err: new Error('connect to postgresql://postgres:pw-four@db:5432/x failed') }, 'boom')
  t.notMatch(out, /pw-one|pw-two|tok-three|pw-four/)
  t.match(out, /postgresql:\/\/postgres:\*\*\*@db:5432/)
})

t.test('scrubUrls leaves URLs without a password alone', async t => {
  t.equal(scrubUrls('postgresql://postgres@127.0.0.1:5432/postgres'), 'postgresql://postgres@127.0.0.1:5432/postgres')
  t.equal(scrubUrls('postgres://a:b@h/d and postgres://c:d@e/f'), 'postgres://a:***@h/d and postgres://c:***@e/f')
})
