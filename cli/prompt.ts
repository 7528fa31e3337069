// Reading from the person or the pipe: a password without echo, a password
// from stdin (--password-stdin), a yes/no.
import { createInterface } from 'node:readline/promises'
import { Writable } from 'node:stream'

/** Asks on the terminal (stdin must be one) without echoing what is typed. */
export async function askSecret (question: string): Promise<string> {
  let muted = false
  const output = new Writable({
    write (chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk)
      done()
    }
  })
  const rl = createInterface({ input: process.stdin, output, terminal: true })
  try {
    const answer = rl.question(question)
    muted = true
    return await answer
  } finally {
    rl.close()
    process.stderr.write('\n')
  }
}

/** Asks a question on the terminal and returns the answer, trimmed. */
export async function ask (question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  try {
    return (await rl.question(question)).trim()
  } finally {
    rl.close()
  }
}

/** All of stdin, without the final newline (as `docker login --password-stdin`). */
export async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}
