// A few client routes, all under /ui/ (the list is also at /): history API
// navigation, with links that stay ordinary links for the keyboard, the
// middle click and "open in new tab".
import type { ComponentChildren, JSX } from 'preact'
import { useEffect, useState } from 'preact/hooks'

const listeners = new Set<() => void>()
export function navigate (to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  for (const fn of listeners) fn()
  // A new page: the keyboard and screen readers start at its content, as after a page load.
  if (!replace) requestAnimationFrame(() => document.getElementById('main')?.focus())
}
addEventListener('popstate', () => { for (const fn of listeners) fn() })

/** The current location (path and query); re-renders on navigation. */
export function useLocation (): { path: string, query: URLSearchParams } {
  const [, setTick] = useState(0)
  useEffect(() => {
    const fn = (): void => setTick(n => n + 1)
    listeners.add(fn)
    return () => { listeners.delete(fn) }
  }, [])
  return { path: location.pathname, query: new URLSearchParams(location.search) }
}

export const paths = {
  list: '/',
  create: '/ui/new',
  instance: (name: string) => `/ui/instances/${encodeURIComponent(name)}`,
  operations: '/ui/operations',
  operation: (id: string) => `/ui/operations/${encodeURIComponent(id)}`
}

export function Link (props: { href: string, children: ComponentChildren, class?: string, title?: string, 'aria-current'?: 'page' | undefined }): JSX.Element {
  const { href, children, ...rest } = props
  const onClick = (e: MouseEvent): void => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(href)
    window.scrollTo(0, 0)
  }
  return <a href={href} onClick={onClick} {...rest}>{children}</a>
}
