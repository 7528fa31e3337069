// The dashboard: Preact compiled by Vite's own JSX transform (no plugin),
// served by the control plane under /ui/. `npm run dev:ui` serves it with
// live reload next to a control plane on :3000 (API paths proxied).
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const api = 'http://127.0.0.1:3000'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 600 },
  server: {
    proxy: Object.fromEntries(['/instances', '/operations', '/events', '/docs', '/healthz', '/readyz'].map(p => [p, { target: api }]))
  }
})
