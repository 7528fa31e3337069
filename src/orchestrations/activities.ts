// The activities as the orchestrations call them: each one's step name (the
// plan's name table, activities/names.ts) and its retry policy. One policy
// per activity, whichever orchestration calls it.
import type { ActivityTable } from '../engine/index.ts'
import { activityNames as n, type Activities } from '../activities/index.ts'

export interface PolicySettings {
  /** Milliseconds one health check may take; its step gets a backstop beyond that. */
  healthTimeoutMs: number
}

/**
 * Each activity's step name and retry policy (the engine's defaults where none
 * is given: src/engine/policy.ts). `settings.healthTimeoutMs` sizes
 * check-health's step timeout.
 */
export function activityTable (settings: PolicySettings): ActivityTable<Activities> {
  return {
    deployPostgres: { name: n.DEPLOY_POSTGRES },
    // One attempt: it has its own deadline and tells transient states from final ones itself.
    waitForReady: { name: n.WAIT_FOR_READY, policy: { maxAttempts: 1 } },
    getConnectionStrings: { name: n.GET_CONNECTION_STRINGS },
    // A new load balancer's DNS name can take minutes to resolve, a restarted
    // pod seconds to listen: retry connection failures for about ten minutes.
    testConnection: { name: n.TEST_CONNECTION, policy: { maxAttempts: 25, initialDelayMs: 1000, maxDelayMs: 30_000 } },
    deletePostgres: { name: n.DELETE_POSTGRES, policy: { maxAttempts: 10, maxDelayMs: 60_000 } },
    markRunning: { name: n.MARK_RUNNING },
    markFailed: { name: n.MARK_FAILED },
    removeMetadata: { name: n.REMOVE_METADATA },
    startHealthCheck: { name: n.START_HEALTH_CHECK },
    stopHealthCheck: { name: n.STOP_HEALTH_CHECK },
    // The check bounds itself and never throws for a failed probe; the step
    // timeout is a backstop, and retries cover reading the instance.
    checkHealth: { name: n.CHECK_HEALTH, policy: { maxAttempts: 3, timeoutMs: settings.healthTimeoutMs + 10_000 } },
    recordHealth: { name: n.RECORD_HEALTH },
    recoverInstance: { name: n.RESTART_INSTANCE, policy: { maxAttempts: 1, timeoutMs: 120_000 } },
    setState: { name: n.SET_STATE },
    markDeleteFailed: { name: n.MARK_DELETE_FAILED },
    // Waits that have their own deadline (the input's timeout_seconds): retried only for what can heal.
    restartPostgres: { name: n.RESTART_POSTGRES },
    stopPostgres: { name: n.STOP_POSTGRES },
    startPostgres: { name: n.START_POSTGRES },
    applyParameters: { name: n.APPLY_PARAMETERS },
    changePassword: { name: n.CHANGE_PASSWORD },
    storePassword: { name: n.STORE_PASSWORD },
    commitPassword: { name: n.COMMIT_PASSWORD },
    discardPassword: { name: n.DISCARD_PASSWORD },
    resizeStorage: { name: n.RESIZE_STORAGE },
    applyLabels: { name: n.APPLY_LABELS },
    applyNetwork: { name: n.APPLY_NETWORK },
    recordSettings: { name: n.RECORD_SETTINGS }
  }
}
