import { Type, type Static } from 'typebox'
import { InstanceName } from '../../instances/requests.ts'
import { Nullable, Time } from './common.ts'

export const StepError = Type.Object({ message: Type.String(), code: Type.Optional(Type.String()) }, { additionalProperties: true })

export const Step = Type.Object({
  position: Type.Integer({ minimum: 0 }),
  name: Type.String({ examples: ['toygres-activities::activity::deploy-postgres'] }),
  status: Type.String({ examples: ['succeeded'], description: 'running (under way for a while), succeeded, failed, cancelled, sleeping or retrying' }),
  attempts: Type.Integer({ minimum: 0, description: 'The attempt under way, or the attempts it took' }),
  started_at: Time,
  finished_at: Nullable(Time),
  error: Nullable(StepError),
  progress: Nullable(Type.String({ description: 'What a running step waits for now, in the platform\'s words' })),
  output: Type.Optional(Type.Unknown({ description: 'What the step returned (never a secret: step outputs are stored)' }))
}, { $id: 'Step', title: 'Step' })

export const OperationStatus = Type.Union([Type.Literal('pending'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')])

export const Operation = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String({ examples: ['toygres-orchestrations::orchestration::create-instance'] }),
  key: Type.String({ description: 'The target: operations on one key never run at the same time' }),
  status: OperationStatus,
  error: Nullable(Type.Object({ message: Type.String(), step: Type.Optional(Type.String()) }, { additionalProperties: true })),
  output: Type.Optional(Type.Unknown()),
  created_at: Time,
  started_at: Nullable(Time),
  finished_at: Nullable(Time),
  cancel_requested_at: Nullable(Time),
  steps: Type.Array(Type.Ref('Step'))
}, { $id: 'Operation', title: 'Operation' })
export type OperationDto = Static<typeof Operation>

export const OperationKind = Type.Union([
  Type.Literal('create'), Type.Literal('delete'), Type.Literal('restart'), Type.Literal('stop'), Type.Literal('start'),
  Type.Literal('reset-password'), Type.Literal('update'), Type.Literal('health-check')
], { description: 'What the operation does to its instance; health-check is the instance\'s long-lived monitor' })

const ListLimit = Type.Integer({ minimum: 1, maximum: 100, default: 20 })
const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' })

/** GET /instances/{name}/operations. */
export const InstanceOperationsQuery = Type.Object({
  limit: Type.Optional(ListLimit),
  cursor: Type.Optional(Type.String({ maxLength: 300 }))
}, { additionalProperties: false })

export const InstanceOperationList = Type.Object({
  items: Type.Array(Type.Intersect([Type.Ref('Operation'), Type.Object({ kind: Type.String({ description: 'create, delete, restart, stop, start, reset-password or update' }) })])),
  next_cursor: Type.Union([Type.String(), Type.Null()])
})

/** GET /operations. */
export const OperationListQuery = Type.Object({
  limit: Type.Optional(ListLimit),
  cursor: Type.Optional(Type.String({ maxLength: 300, description: 'A `next_cursor` from the previous page' })),
  status: Type.Optional(OperationStatus),
  kind: Type.Optional(OperationKind),
  instance: Type.Optional(InstanceName)
}, { additionalProperties: false })

export const OperationList = Type.Object({
  items: Type.Array(Type.Intersect([Type.Ref('Operation'), Type.Object({
    kind: Type.String({ description: 'create, delete, restart, stop, start, reset-password, update or health-check' }),
    instance: Nullable(Type.String({ description: 'The name of the instance it acts on, as recorded when it started: kept after the instance is deleted' }))
  })]), { description: 'Newest first: by created_at, then id. Each without its steps (GET /operations/{id} has them).' }),
  next_cursor: NextCursor
}, { $id: 'OperationList', title: 'OperationList' })
