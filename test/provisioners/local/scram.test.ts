// The verifier format PostgreSQL stores, and that it never leaks into errors.
// That servers accept it is proven by every login in the other tests
// (their passwords include non-ASCII letters and a space).
import t from 'tap'
import { saslprep, scramVerifier } from '../../../src/postgres/scram.ts'
import { redactVerifiers } from '../../../src/provisioners/local/server.ts'

t.test('verifier format and determinism', async t => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64')
  const v = scramVerifier('pencil', salt)
  t.match(v, /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/)
  t.equal(scramVerifier('pencil', salt), v, 'same salt, same verifier')
  t.not(scramVerifier('pencil'), scramVerifier('pencil'), 'a fresh salt each time')
  t.notOk(v.includes('pencil'))
})

t.test('SASLprep maps like the clients do', async t => {
  t.equal(saslprep('plain ascii'), 'plain ascii')
  t.equal(saslprep('a\u00A0b'), 'a b', 'non-ASCII space becomes a space')
  t.equal(saslprep('a\u00ADb'), 'ab', 'soft hyphen is mapped to nothing')
  t.equal(saslprep('\uFB01'), 'fi', 'NFKC')
})

t.test('verifiers are redacted from single-user mode output', async t => {
  const line = "STATEMENT:  ALTER ROLE postgres PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi'"
  t.equal(redactVerifiers(line), "STATEMENT:  ALTER ROLE postgres PASSWORD 'SCRAM-SHA-256$***'")
})
