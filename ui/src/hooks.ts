import { useEffect, useState } from 'preact/hooks'

/** The time now, refreshed every `ms` while `active`: for ages and running durations. */
export function useNow (ms = 1000, active = true): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    if (!active) return
    const timer = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(timer)
  }, [ms, active])
  return now
}

/** Sets the document title (each page names itself for screen readers and tabs). */
export function useTitle (title: string): void {
  useEffect(() => { document.title = `${title} · Toygres` }, [title])
}
