// Pieces the response schemas share.
import { Type } from 'typebox'

export const Time = Type.String({ format: 'date-time' })

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])
