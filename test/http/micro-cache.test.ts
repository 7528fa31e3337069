import t from 'tap'
import { createMicroCache } from '../../src/http/micro-cache.ts'

t.test('concurrent gets share one load; invalidate forces a fresh one', async t => {
  let loads = 0
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const cache = createMicroCache(60_000, async key => { loads++; await gate; return `${key}#${loads}` })
  const pending = Promise.all([cache.get('a'), cache.get('a'), cache.get('a')])
  release()
  t.same(await pending, ['a#1', 'a#1', 'a#1'])
  t.equal(await cache.get('a'), 'a#1', 'served from cache within the ttl')
  t.equal(loads, 1)
  cache.invalidate('a')
  t.equal(await cache.get('a'), 'a#2')
})

t.test('an expired entry and a failed load are both loaded again', async t => {
  let n = 0
  const cache = createMicroCache(0, async () => { n++; if (n === 2) throw new Error('db down'); return n })
  t.equal(await cache.get('k'), 1)
  await new Promise(resolve => setImmediate(resolve))
  await t.rejects(cache.get('k'), /db down/)
  t.equal(await cache.get('k'), 3, 'the failure was not cached')
})

t.test('a load under way when something changed is shared but not kept', async t => {
  let loads = 0
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const cache = createMicroCache(60_000, async key => { loads++; if (loads === 1) await gate; return `${key}#${loads}` })
  const before = cache.get('a')
  cache.forgetLoading()
  release()
  t.equal(await before, 'a#1', 'the waiting caller still gets its answer')
  t.equal(await cache.get('a'), 'a#2', 'the next one loads again: the first may have read the old rows')
  t.equal(await cache.get('a'), 'a#2', 'and that one is kept')
})
