// What an instance name may be. Names become Kubernetes object names
// (DNS-1035 labels) with suffixes, and the StatefulSet name must stay within
// 52 characters (its pods get a controller-revision-hash label of name + 11).
// 40 leaves room for every suffix the Kubernetes manifests add.
export const INSTANCE_NAME_MAX_LENGTH = 40
export const INSTANCE_NAME_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$'
export const NAMESPACE_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
export const NAMESPACE_MAX_LENGTH = 63
export const DNS_LABEL_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$'
export const DNS_LABEL_MAX_LENGTH = 63
export const SUPPORTED_POSTGRES_VERSIONS = ['15', '16', '17', '18'] as const
export type PostgresVersion = typeof SUPPORTED_POSTGRES_VERSIONS[number]

const instanceName = new RegExp(INSTANCE_NAME_PATTERN)

export function isValidInstanceName (name: string): boolean {
  return name.length <= INSTANCE_NAME_MAX_LENGTH && instanceName.test(name)
}
