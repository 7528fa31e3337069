// tap instruments every Node child of a test (NODE_OPTIONS --import its
// processinfo loader, for coverage), which costs memory and CPU and writes
// under .tap/. The processes whose footprint and file writes these tests
// measure run as a deployment runs them: `env -u NODE_OPTIONS` execs Node
// without it (same pid, so signals reach Node itself).
export function uninstrumented (command: string, args: string[]): [string, string[]] {
  return ['/usr/bin/env', ['-u', 'NODE_OPTIONS', command, ...args]]
}
