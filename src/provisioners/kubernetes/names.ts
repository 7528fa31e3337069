// Every Kubernetes object name derived from an instance name, in one place, so
// the manifests, the provisioner and the tests agree. With instance names of at
// most 40 characters (instance-names.ts) the longest derived name is the
// headless Service at 49, and the StatefulSet stays well under its 52 limit.
import type { V1ObjectMeta } from '@kubernetes/client-node'

export const POSTGRES_PORT = 5432
/** The volumeClaimTemplate's name; the StatefulSet controller names PVCs `<template>-<sts>-<ordinal>`. */
export const DATA_VOLUME = 'data'
export const PASSWORD_KEY = 'password'

export interface ObjectNames {
  statefulSet: string
  pod: string
  secret: string
  /** The governing Service the StatefulSet needs for stable pod DNS. */
  headlessService: string
  /** What clients connect to: LoadBalancer or ClusterIP. */
  service: string
  pvc: string
}

export function objectNames (instanceName: string): ObjectNames {
  return {
    statefulSet: instanceName,
    pod: `${instanceName}-0`,
    secret: `${instanceName}-credentials`,
    headlessService: `${instanceName}-headless`,
    service: instanceName,
    pvc: `${DATA_VOLUME}-${instanceName}-0`
  }
}

/** Selects the pods of one instance; immutable once a StatefulSet exists, so kept minimal. */
export function selectorLabels (instanceName: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'postgresql',
    'app.kubernetes.io/instance': instanceName
  }
}

export function instanceLabels (instanceName: string): Record<string, string> {
  return { ...selectorLabels(instanceName), 'app.kubernetes.io/managed-by': 'toygres' }
}

export function instanceSelector (instanceName: string): string {
  return Object.entries(instanceLabels(instanceName)).map(([k, v]) => `${k}=${v}`).join(',')
}

export function meta (name: string, namespace: string, instanceName: string): V1ObjectMeta {
  return { name, namespace, labels: instanceLabels(instanceName) }
}
