// A kubeconfig like a real cluster's: the client under test loads it from a
// file and knows nothing else about the fake. Plain http needs
// insecure-skip-tls-verify, or @kubernetes/client-node refuses it.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function writeKubeconfig (server: string, token: string): Promise<{ path: string, dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'toygres-fake-kubeconfig-'))
  const path = join(dir, 'config')
  await writeFile(path, `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: ${server}
    insecure-skip-tls-verify: true
users:
- name: fake
  user:
    token: ${token}
contexts:
- name: fake
  context:
    cluster: fake
    user: fake
current-context: fake
`, { mode: 0o600 })
  return { path, dir }
}
