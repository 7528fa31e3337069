// What an instance name may be. Names become Kubernetes object names
// (DNS-1035 labels) with suffixes, and the StatefulSet name must stay within
// 52 characters (its pods get a controller-revision-hash label of name + 11).
// 40 leaves room for every suffix the Kubernetes manifests add.

/** The longest instance name, in characters; why 40: above. */
export const INSTANCE_NAME_MAX_LENGTH = 40
/**
 * An instance name, as a regular expression source (anchored; for RegExp and
 * JSON Schema `pattern`): a DNS-1035 label, lowercase letters, digits and '-',
 * starting with a letter and ending with a letter or digit (IsDNS1035Label,
 * k8s.io/apimachinery/pkg/util/validation).
 */
export const INSTANCE_NAME_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$'
/**
 * A namespace, as a regular expression source: a DNS-1123 label, as Kubernetes
 * requires of namespace names (IsDNS1123Label); unlike an instance name it may
 * start with a digit.
 */
export const NAMESPACE_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
/** The longest namespace, in characters (a DNS-1123 label's 63). */
export const NAMESPACE_MAX_LENGTH = 63
/**
 * A dns_label (the Azure DNS label of an instance's load balancer,
 * `<label>.<region>.cloudapp.azure.com`), as a regular expression source: a
 * DNS-1035 label.
 */
export const DNS_LABEL_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$'
/** The longest dns_label, in characters (a DNS label's 63, RFC 1035 section 2.3.4). */
export const DNS_LABEL_MAX_LENGTH = 63
/**
 * The PostgreSQL majors the API accepts and the Kubernetes provisioner runs
 * (tags of the official image); the local provisioner runs only those installed
 * (postgres/majors.ts).
 */
export const SUPPORTED_POSTGRES_VERSIONS = ['15', '16', '17', '18'] as const
export type PostgresVersion = typeof SUPPORTED_POSTGRES_VERSIONS[number]

const instanceName = new RegExp(INSTANCE_NAME_PATTERN)

/**
 * True when `name` matches INSTANCE_NAME_PATTERN and has at most
 * INSTANCE_NAME_MAX_LENGTH characters; never throws.
 */
export function isValidInstanceName (name: string): boolean {
  return name.length <= INSTANCE_NAME_MAX_LENGTH && instanceName.test(name)
}
