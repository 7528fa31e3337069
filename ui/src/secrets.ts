// Passwords the API showed once (a create, a password reset), kept in this
// page's memory only (never storage, never a URL) until the user says they
// have saved them. A reload forgets them, as the API does.
const held = new Map<string, { password: string, uri: string | null, why: string }>()

export const secrets = {
  keep (instance: string, password: string, uri: string | null, why: string): void { held.set(instance, { password, uri, why }) },
  get: (instance: string) => held.get(instance),
  forget (instance: string): void { held.delete(instance) }
}
