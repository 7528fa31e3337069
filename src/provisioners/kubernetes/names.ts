// Every Kubernetes object name and label derived from an instance, in one
// place, so the manifests, the provisioner and the tests agree. With instance
// names of at most 40 characters (instance-names.ts) the longest derived name
// is the password Secret's at 52 (a Secret's name may have 253), the longest
// Service name the headless one's at 49 (Service names are DNS-1035 labels,
// at most 63), and the StatefulSet's, at 40, stays under its 52 limit.
import type { V1ObjectMeta } from '@kubernetes/client-node'

/** The port PostgreSQL listens on in the pod (the image's default), and the Services' port. */
export const POSTGRES_PORT = 5432
/** The volumeClaimTemplate's name; the StatefulSet controller names PVCs `<template>-<sts>-<ordinal>`. */
export const DATA_VOLUME = 'data'
/** The password's key in the credentials Secret; the container gets it as POSTGRES_PASSWORD. */
export const PASSWORD_KEY = 'password'
/** pg_hba.conf's key in the ConfigMap, and its file name under CONFIG_DIR in the pod. */
export const PG_HBA_KEY = 'pg_hba.conf'

export interface ObjectNames {
  statefulSet: string
  pod: string
  /** The password (Opaque). */
  secret: string
  /** The server certificate and key (kubernetes.io/tls). */
  tlsSecret: string
  /** pg_hba.conf. */
  configMap: string
  /** The governing Service the StatefulSet needs for stable pod DNS. */
  headlessService: string
  /** What clients connect to: LoadBalancer or ClusterIP. */
  service: string
  pvc: string
}

/**
 * The name of every object of an instance, from its name alone: the StatefulSet
 * and the client Service take it as is, the rest add a suffix; the pod and the
 * claim are named as the StatefulSet controller names them. Does not check the
 * name (assertValidSpec does).
 */
export function objectNames (instanceName: string): ObjectNames {
  return {
    statefulSet: instanceName,
    pod: `${instanceName}-0`,
    secret: `${instanceName}-credentials`,
    tlsSecret: `${instanceName}-tls`,
    configMap: `${instanceName}-config`,
    headlessService: `${instanceName}-headless`,
    service: instanceName,
    pvc: `${DATA_VOLUME}-${instanceName}-0`
  }
}

/**
 * Label keys Toygres sets: the recommended app.kubernetes.io labels
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/)
 * and the two marks.
 */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  managedBy: 'app.kubernetes.io/managed-by',
  /** The instance's id: the mark that proves an object belongs to it. */
  instanceId: 'toygres.io/instance-id',
  /** Which control plane made it, so two sharing a cluster never touch each other's objects. */
  controlPlane: 'toygres.io/control-plane'
} as const

/** The keys of the user labels last applied, so a later change can remove the ones dropped. */
export const USER_LABELS_ANNOTATION = 'toygres.io/user-labels'

/**
 * Labels the StatefulSet controller puts on its pods; a user label may not
 * take them (pkg/controller/statefulset/stateful_set_utils.go).
 */
export const CONTROLLER_LABELS = ['controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index']

/** Whose an object is: this instance of this control plane. */
export interface Mark {
  instanceId: string
  controlPlane: string
}

/** Selects the pods of one instance; immutable once a StatefulSet exists, so kept minimal. */
export function selectorLabels (instanceName: string): Record<string, string> {
  return {
    [LABELS.name]: 'postgresql',
    [LABELS.instance]: instanceName
  }
}

/** The selector labels plus the mark: on every object Toygres makes. */
export function ownedLabels (instanceName: string, mark: Mark): Record<string, string> {
  return {
    ...selectorLabels(instanceName),
    [LABELS.managedBy]: 'toygres',
    [LABELS.instanceId]: mark.instanceId,
    [LABELS.controlPlane]: mark.controlPlane
  }
}

/** A label selector for everything of one instance of this control plane. */
export function markSelector (mark: Mark): string {
  return `${LABELS.instanceId}=${mark.instanceId},${LABELS.controlPlane}=${mark.controlPlane}`
}

/** User labels first, so ours win on a clash (spec.ts refuses clashes before anything is built). */
export function objectLabels (instanceName: string, mark: Mark, user: Record<string, string>): Record<string, string> {
  return { ...user, ...ownedLabels(instanceName, mark) }
}

/**
 * Object metadata: name, namespace, `labels`, and USER_LABELS_ANNOTATION
 * listing the keys of `user` (sorted, comma-separated).
 */
export function meta (name: string, namespace: string, labels: Record<string, string>, user: Record<string, string>): V1ObjectMeta {
  return { name, namespace, labels, annotations: { [USER_LABELS_ANNOTATION]: Object.keys(user).sort().join(',') } }
}
