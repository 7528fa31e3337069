// KUBECONFIG with several files is read as kubectl reads it: the first file
// to set a value wins (current-context, and each cluster, user and context by
// name), missing files are skipped, and only "none exists" is an error.
// https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/#merging-kubeconfig-files
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import t from 'tap'
import { loadKubeConfig } from '../../../src/provisioners/kubernetes/kubeconfig.ts'

const file = (current: string, server: string, extra = ''): string => `apiVersion: v1
kind: Config
current-context: ${current}
clusters:
  - name: shared
    cluster: { server: "${server}" }
${extra}users: [{ name: u, user: { token: t } }]
contexts: [{ name: ${current}, context: { cluster: shared, user: u } }]
`

t.test('the first file to set a value wins; missing files are skipped', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'toygres-kubeconfig-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const a = join(dir, 'a')
  const b = join(dir, 'b')
  await writeFile(a, file('ctx-a', 'https://127.0.0.1:6443'))
  await writeFile(b, file('ctx-b', 'https://127.0.0.2:6443', '  - name: only-in-b\n    cluster: { server: "https://127.0.0.3:6443" }\n'))
  const loaded = loadKubeConfig([join(dir, 'missing'), a, b].join(delimiter))
  t.equal(loaded.problem, null)
  t.equal(loaded.kc!.getCurrentContext(), 'ctx-a', 'the first current-context')
  t.equal(loaded.kc!.getCurrentCluster()!.server, 'https://127.0.0.1:6443', 'the first file\'s cluster of a name')
  t.same(loaded.kc!.getContexts().map(c => c.name).sort(), ['ctx-a', 'ctx-b'], 'contexts of both')
  t.ok(loaded.kc!.getCluster('only-in-b'), 'a cluster only the second file has')

  const none = loadKubeConfig([join(dir, 'x'), join(dir, 'y')].join(delimiter))
  t.match(none.problem, /KUBECONFIG names .*x, .*y, none of which exists/)
})
