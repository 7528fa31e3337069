import { Type, type Static } from 'typebox'

export const Problem = Type.Object({
  type: Type.String({ format: 'uri', examples: ['https://toygres.dev/problems/not-found'] }),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String(),
  instance: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({
    field: Type.String({ examples: ['body.name'] }),
    message: Type.String()
  })))
}, { $id: 'Problem', title: 'Problem', description: 'RFC 9457 problem details' })

/** `{ 400: Problem, 404: Problem }` for a route's response map. */
export function problems (...statuses: number[]): Record<number, typeof ProblemRef> {
  return Object.fromEntries(statuses.map(s => [s, ProblemRef]))
}

export const ProblemRef = Type.Unsafe<Static<typeof Problem>>({ $ref: 'Problem#' })
