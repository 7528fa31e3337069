// The registry, as the plan lays it out: every orchestration under its name.
import type { OrchestrationFn } from '../engine/index.ts'
import { createInstanceOrchestration } from './create-instance.ts'
import { deleteInstanceOrchestration } from './delete-instance.ts'
import type { OrchestrationDeps } from './deps.ts'
import { orchestrations } from './names.ts'

export function createOrchestrationRegistry (deps: OrchestrationDeps): Map<string, OrchestrationFn> {
  return new Map<string, OrchestrationFn>([
    [orchestrations.CREATE_INSTANCE, createInstanceOrchestration(deps)],
    [orchestrations.DELETE_INSTANCE, deleteInstanceOrchestration(deps)]
  ])
}
