export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The process is alive */
        get: operations["getLiveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The database is reachable and every migration is applied */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List instances, by name, a page at a time */
        get: operations["listInstances"];
        put?: never;
        /**
         * Create a PostgreSQL instance
         * @description Starts the create-instance operation and answers at once. Poll GET /instances/{name} until `state` is `running` (or `failed`).
         */
        post: operations["createInstance"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An instance: state, health, connection info and the current operation's steps */
        get: operations["getInstance"];
        put?: never;
        post?: never;
        /**
         * Delete an instance and every resource it has
         * @description Cancels what is pending or running on the instance, then removes everything. Answers 202; poll GET /instances/{name} until it is 404. Repeating it returns the delete already under way; after `delete_failed` it starts a new one. Refused (409) while deletion_protection is on. `?force=true` forgets the instance at once without removing its resources (for a platform that cannot be reached), recording what may remain, and answers 200.
         */
        delete: operations["deleteInstance"];
        options?: never;
        head?: never;
        /**
         * Change an instance (JSON merge patch)
         * @description parameters (checked against the server's pg_settings; an unknown name or a bad value is 422 naming it), storage_size_gb (grow only), labels, allowed_cidrs: 202 with the update-instance operation. deletion_protection alone: 200, at once. Send application/merge-patch+json or application/json.
         */
        patch: operations["updateInstance"];
        trace?: never;
    };
    "/instances/{name}/ca-certificate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The CA certificate (PEM) that verifies the instance's server certificate
         * @description Save it and connect with `sslmode=verify-ca sslrootcert=<file>` (or `verify-full` through a name the certificate carries).
         */
        get: operations["getInstanceCaCertificate"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/{name}/restart": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Restart the server
         * @description A new server process on the same data (locally a fast restart; on Kubernetes a new pod), then `running` again. Runs after the changes asked before it.
         */
        post: operations["restartInstance"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/{name}/stop": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stop the server, keeping its data
         * @description Monitoring pauses and health shows `stopped`; auto-restart never starts it. On Kubernetes the StatefulSet scales to 0 and the volume stays.
         */
        post: operations["stopInstance"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/{name}/start": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a stopped server on its data
         * @description Then `running`, with monitoring resumed.
         */
        post: operations["startInstance"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/{name}/reset-password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Set a new password (generated, or the one given)
         * @description Answers 202 with the new password and a ready-to-paste connection URI, shown this once. The old password stops working when the operation succeeds; health checks keep working through the change. A reset that fails or is cancelled keeps the old password.
         */
        post: operations["resetPassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/{name}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Follow an instance as it changes (Server-Sent Events)
         * @description Event types: `state` and `health` ({from, to, error?}), `step` ({operation, step, status: running | retrying | succeeded | failed | cancelled, attempt, waiting_for?, error?, duration_ms?}), `operation` (an operation ended: {operation, status, error?}), `removed` (the instance is gone; the stream ends). Resume after a dropped connection with Last-Event-ID (or ?since=) to miss nothing and see nothing twice.
         */
        get: operations["streamInstanceEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Follow every instance's state and health (Server-Sent Events)
         * @description Event types `state`, `health` and `removed`, with the instance name in the data. Starts from now unless resumed with Last-Event-ID or ?since= (a number).
         */
        get: operations["streamAllInstanceEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/{name}/logs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The server's log: the last lines, and new ones while following
         * @description text/plain by default, one line per line; `Accept: application/x-ndjson` gives one JSON object per line ({"line": "..."}). With follow=true the response stays open and lines arrive as the server writes them, until you disconnect or the instance goes. Passwords never pass: statements that carry one are not logged, and lines are redacted anyway.
         */
        get: operations["getInstanceLogs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create up to 100 instances, each on its own
         * @description Each item is a CreateInstanceInput and gets its own result, in order, and its own transaction: one bad item spoils nothing. Answers 200 with a result per item.
         */
        post: operations["createInstances"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/batch-delete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Delete instances by name or by label selector
         * @description Give `names`, or `label` (a selector: key=value pairs, comma-separated, all must match). With `dry_run` nothing is deleted: the result lists what would be. Each delete is its own transaction and result.
         */
        post: operations["deleteInstances"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/{name}/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An instance's health and its recent health checks
         * @description `unhealthy` after TOYGRES_HEALTH_FAILURE_THRESHOLD failed checks in a row; `healthy` again on the next success; `unknown` before the first verdict. `checks` are the newest `limit`, newest first; pass `next_cursor` back as `cursor` for the ones before them (checks recorded meanwhile are newer: no page repeats or skips one), and `since` to stop at a time.
         */
        get: operations["getInstanceHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/operations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One operation with its full step history */
        get: operations["getOperation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/operations/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a pending or running operation
         * @description A pending one ends at once; a running one stops at its next step boundary (its running step is aborted) and its compensation runs. 409 when it has already finished.
         */
        post: operations["cancelOperation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/operations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Recent operations of every instance, newest first, a page at a time
         * @description Newest first: by `created_at` (when it was asked for), then `id`. Each item is what GET /instances/{name}/operations lists (an Operation without its steps, and its `kind`) plus `instance`, the name of the instance it acts on, kept after the instance is deleted. Pass `next_cursor` back as `cursor` for the next page: operations started meanwhile sort before it, so no page repeats or skips one. The health checks (each instance's long-lived monitor) are left out unless `kind=health-check`. `instance` narrows to the operations on that name, an earlier instance's of the same name included; with `kind=health-check`, to the monitor of the instance that has the name now.
         */
        get: operations["listOperations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/instances/{name}/operations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An instance's operations, newest first, a page at a time */
        get: operations["listInstanceOperations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Metrics in Prometheus text format
         * @description HTTP request durations, operations started/finished, step durations, queue depth, instances by state and health, health-check durations.
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * Problem
         * @description RFC 9457 problem details
         */
        Problem: {
            /**
             * Format: uri
             * @example https://toygres.dev/problems/not-found
             */
            type: string;
            title: string;
            status: number;
            detail: string;
            instance?: string;
            errors?: {
                /** @example body.name */
                field: string;
                message: string;
            }[];
        };
        /** Step */
        Step: {
            position: number;
            /** @example toygres-activities::activity::deploy-postgres */
            name: string;
            /**
             * @description running (under way for a while), succeeded, failed, cancelled, sleeping or retrying
             * @example succeeded
             */
            status: string;
            /** @description The attempt under way, or the attempts it took */
            attempts: number;
            /** Format: date-time */
            started_at: string;
            finished_at: string | null;
            error: ({
                message: string;
                code?: string;
            } & {
                [key: string]: unknown;
            }) | null;
            progress: string | null;
            /** @description What the step returned (never a secret: step outputs are stored) */
            output?: unknown;
        };
        /** Operation */
        Operation: {
            /** Format: uuid */
            id: string;
            /** @example toygres-orchestrations::orchestration::create-instance */
            name: string;
            /** @description The target: operations on one key never run at the same time */
            key: string;
            status: "pending" | "running" | "succeeded" | "failed" | "cancelled";
            error: ({
                message: string;
                step?: string;
            } & {
                [key: string]: unknown;
            }) | null;
            output?: unknown;
            /** Format: date-time */
            created_at: string;
            started_at: string | null;
            finished_at: string | null;
            cancel_requested_at: string | null;
            steps: components["schemas"]["Step"][];
        };
        /**
         * Instance
         * @example {
         *       "name": "orders-db",
         *       "namespace": "toygres",
         *       "state": "running",
         *       "health": "healthy",
         *       "postgres_version": "18",
         *       "storage_size_gb": 10,
         *       "use_load_balancer": false,
         *       "dns_label": null,
         *       "ip_connection_string": "postgresql://postgres@127.0.0.1:25000/postgres",
         *       "dns_connection_string": null,
         *       "external_ip": "127.0.0.1",
         *       "dns_name": null,
         *       "server_version": "PostgreSQL 18.1 on x86_64-pc-linux-gnu",
         *       "deployment_time_seconds": 1,
         *       "error": null,
         *       "last_health_check_at": "2026-11-26T12:00:30.000Z",
         *       "last_response_time_ms": 3.2,
         *       "waiting_for": null,
         *       "labels": {
         *         "env": "prod"
         *       },
         *       "allowed_cidrs": null,
         *       "deletion_protection": false,
         *       "parameters": {},
         *       "pending_restart": false,
         *       "operation": null,
         *       "created_at": "2026-11-26T12:00:00.000Z",
         *       "updated_at": "2026-11-26T12:00:01.000Z"
         *     }
         */
        Instance: {
            name: string;
            namespace: string;
            /** @description creating → running | failed; running → restarting | stopping | updating → running; stopping → stopped → starting → running; any → deleting → (gone) | delete_failed */
            state: "creating" | "running" | "failed" | "deleting" | "delete_failed" | "stopping" | "stopped" | "starting" | "restarting" | "updating";
            health: "unknown" | "healthy" | "unhealthy" | "stopped";
            /** @description The major version that runs (the requested one until it runs) */
            postgres_version: string;
            storage_size_gb: number;
            use_load_balancer: boolean;
            dns_label: string | null;
            /** @description Has no password: add the one you set (percent-encoded), or use PGPASSWORD. */
            ip_connection_string: string | null;
            dns_connection_string: string | null;
            external_ip: string | null;
            dns_name: string | null;
            /** @description SELECT version() once running */
            server_version: string | null;
            deployment_time_seconds: number | null;
            error: {
                step: string | null;
                message: string;
            } | null;
            last_health_check_at: string | null;
            last_response_time_ms: number | null;
            /** @description PEM of the CA that signed the server's certificate (GET of one instance): save it and connect with sslmode=verify-ca sslrootcert=<file>, or verify-full through a name in the certificate */
            ca_certificate?: string;
            /** @description While creating or deleting: what the running step waits for now, in the cluster's words (e.g. "PersistentVolumeClaim data-orders-0 is not bound yet") */
            waiting_for: string | null;
            labels: {
                [key: string]: string;
            };
            /** @description Networks allowed to connect; null: anywhere */
            allowed_cidrs: string[] | null;
            /** @description While true, DELETE is refused */
            deletion_protection: boolean;
            /** @description postgresql.conf settings applied through PATCH */
            parameters: {
                [key: string]: string;
            };
            /** @description A changed setting takes effect only after a restart (pg_settings.pending_restart) */
            pending_restart: boolean;
            /** @description The latest operation asked for, with its step timeline */
            operation: components["schemas"]["Operation"] | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        /**
         * CreatedInstance
         * @description The new instance; the generated password and a ready-to-paste URI first, shown this once
         */
        CreatedInstance: {
            /** @description Only when Toygres generated it; shown this once */
            password?: string;
            /** @description Ready to paste, with the password percent-encoded; shown this once. A local instance has it in the create's 202 (its port is reserved then); on Kubernetes it is null until the load balancer gives an address, known only after the 202: add the password to ip_connection_string yourself then (the CLI and the dashboard do). */
            connection_uri: string | null;
            name: string;
            namespace: string;
            /** @description creating → running | failed; running → restarting | stopping | updating → running; stopping → stopped → starting → running; any → deleting → (gone) | delete_failed */
            state: "creating" | "running" | "failed" | "deleting" | "delete_failed" | "stopping" | "stopped" | "starting" | "restarting" | "updating";
            health: "unknown" | "healthy" | "unhealthy" | "stopped";
            /** @description The major version that runs (the requested one until it runs) */
            postgres_version: string;
            storage_size_gb: number;
            use_load_balancer: boolean;
            dns_label: string | null;
            /** @description Has no password: add the one you set (percent-encoded), or use PGPASSWORD. */
            ip_connection_string: string | null;
            dns_connection_string: string | null;
            external_ip: string | null;
            dns_name: string | null;
            /** @description SELECT version() once running */
            server_version: string | null;
            deployment_time_seconds: number | null;
            error: {
                step: string | null;
                message: string;
            } | null;
            last_health_check_at: string | null;
            last_response_time_ms: number | null;
            /** @description PEM of the CA that signed the server's certificate (GET of one instance): save it and connect with sslmode=verify-ca sslrootcert=<file>, or verify-full through a name in the certificate */
            ca_certificate?: string;
            /** @description While creating or deleting: what the running step waits for now, in the cluster's words (e.g. "PersistentVolumeClaim data-orders-0 is not bound yet") */
            waiting_for: string | null;
            labels: {
                [key: string]: string;
            };
            /** @description Networks allowed to connect; null: anywhere */
            allowed_cidrs: string[] | null;
            /** @description While true, DELETE is refused */
            deletion_protection: boolean;
            /** @description postgresql.conf settings applied through PATCH */
            parameters: {
                [key: string]: string;
            };
            /** @description A changed setting takes effect only after a restart (pg_settings.pending_restart) */
            pending_restart: boolean;
            /** @description The latest operation asked for, with its step timeline */
            operation: components["schemas"]["Operation"] | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        /** InstanceChange */
        InstanceChange: {
            name: string;
            namespace: string;
            /** @description creating → running | failed; running → restarting | stopping | updating → running; stopping → stopped → starting → running; any → deleting → (gone) | delete_failed */
            state: "creating" | "running" | "failed" | "deleting" | "delete_failed" | "stopping" | "stopped" | "starting" | "restarting" | "updating";
            health: "unknown" | "healthy" | "unhealthy" | "stopped";
            /** @description The major version that runs (the requested one until it runs) */
            postgres_version: string;
            storage_size_gb: number;
            use_load_balancer: boolean;
            dns_label: string | null;
            /** @description Has no password: add the one you set (percent-encoded), or use PGPASSWORD. */
            ip_connection_string: string | null;
            dns_connection_string: string | null;
            external_ip: string | null;
            dns_name: string | null;
            /** @description SELECT version() once running */
            server_version: string | null;
            deployment_time_seconds: number | null;
            error: {
                step: string | null;
                message: string;
            } | null;
            last_health_check_at: string | null;
            last_response_time_ms: number | null;
            /** @description PEM of the CA that signed the server's certificate (GET of one instance): save it and connect with sslmode=verify-ca sslrootcert=<file>, or verify-full through a name in the certificate */
            ca_certificate?: string;
            /** @description While creating or deleting: what the running step waits for now, in the cluster's words (e.g. "PersistentVolumeClaim data-orders-0 is not bound yet") */
            waiting_for: string | null;
            labels: {
                [key: string]: string;
            };
            /** @description Networks allowed to connect; null: anywhere */
            allowed_cidrs: string[] | null;
            /** @description While true, DELETE is refused */
            deletion_protection: boolean;
            /** @description postgresql.conf settings applied through PATCH */
            parameters: {
                [key: string]: string;
            };
            /** @description A changed setting takes effect only after a restart (pg_settings.pending_restart) */
            pending_restart: boolean;
            /** @description The latest operation asked for, with its step timeline */
            operation: components["schemas"]["Operation"] | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            /** @description The operation this change waits for (changes to one instance run one at a time, in order); null: it runs now */
            queued_behind: string | null;
        };
        /**
         * PasswordReset
         * @description The new password and a ready-to-paste URI first, shown this once
         */
        PasswordReset: {
            /** @description Shown this once (generated, or the one you gave) */
            password: string;
            /** @description Ready to paste, with the password percent-encoded; shown this once. A local instance has it in the create's 202 (its port is reserved then); on Kubernetes it is null until the load balancer gives an address, known only after the 202: add the password to ip_connection_string yourself then (the CLI and the dashboard do). */
            connection_uri: string | null;
            name: string;
            namespace: string;
            /** @description creating → running | failed; running → restarting | stopping | updating → running; stopping → stopped → starting → running; any → deleting → (gone) | delete_failed */
            state: "creating" | "running" | "failed" | "deleting" | "delete_failed" | "stopping" | "stopped" | "starting" | "restarting" | "updating";
            health: "unknown" | "healthy" | "unhealthy" | "stopped";
            /** @description The major version that runs (the requested one until it runs) */
            postgres_version: string;
            storage_size_gb: number;
            use_load_balancer: boolean;
            dns_label: string | null;
            /** @description Has no password: add the one you set (percent-encoded), or use PGPASSWORD. */
            ip_connection_string: string | null;
            dns_connection_string: string | null;
            external_ip: string | null;
            dns_name: string | null;
            /** @description SELECT version() once running */
            server_version: string | null;
            deployment_time_seconds: number | null;
            error: {
                step: string | null;
                message: string;
            } | null;
            last_health_check_at: string | null;
            last_response_time_ms: number | null;
            /** @description PEM of the CA that signed the server's certificate (GET of one instance): save it and connect with sslmode=verify-ca sslrootcert=<file>, or verify-full through a name in the certificate */
            ca_certificate?: string;
            /** @description While creating or deleting: what the running step waits for now, in the cluster's words (e.g. "PersistentVolumeClaim data-orders-0 is not bound yet") */
            waiting_for: string | null;
            labels: {
                [key: string]: string;
            };
            /** @description Networks allowed to connect; null: anywhere */
            allowed_cidrs: string[] | null;
            /** @description While true, DELETE is refused */
            deletion_protection: boolean;
            /** @description postgresql.conf settings applied through PATCH */
            parameters: {
                [key: string]: string;
            };
            /** @description A changed setting takes effect only after a restart (pg_settings.pending_restart) */
            pending_restart: boolean;
            /** @description The latest operation asked for, with its step timeline */
            operation: components["schemas"]["Operation"] | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            queued_behind: string | null;
        };
        /** ForgottenInstance */
        ForgottenInstance: {
            name: string;
            /** @enum {boolean} */
            forgotten: true;
            /** @description What the last deploy made, which may still exist on the platform (recorded in toygres.forgotten_instances) */
            may_remain: string[];
        };
        /** InstanceList */
        InstanceList: {
            items: components["schemas"]["Instance"][];
            /** @description Pass as `cursor` for the next page; null on the last page */
            next_cursor: string | null;
        };
        /** OperationList */
        OperationList: {
            /** @description Newest first: by created_at, then id. Each without its steps (GET /operations/{id} has them). */
            items: (components["schemas"]["Operation"] & {
                /** @description create, delete, restart, stop, start, reset-password, update or health-check */
                kind: string;
                instance: string | null;
            })[];
            /** @description Pass as `cursor` for the next page; null on the last page */
            next_cursor: string | null;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @example ok */
                        status: string;
                    };
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @example ok */
                        status: string;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listInstances: {
        parameters: {
            query?: {
                limit?: number;
                cursor?: string;
                /** @description creating → running | failed; running → restarting | stopping | updating → running; stopping → stopped → starting → running; any → deleting → (gone) | delete_failed */
                state?: "creating" | "running" | "failed" | "deleting" | "delete_failed" | "stopping" | "stopped" | "starting" | "restarting" | "updating";
                /**
                 * @description Label selector: key=value pairs, comma-separated; all must match (e.g. env=prod,team=a)
                 * @example env=prod,team=a
                 */
                label?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InstanceList"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createInstance: {
        parameters: {
            query?: never;
            header?: {
                /** @description Retries with the same key and body get the original response */
                "idempotency-key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "orders-db",
                 *       "postgres_version": "18",
                 *       "storage_size_gb": 10,
                 *       "use_load_balancer": false
                 *     }
                 */
                "application/json": {
                    /**
                     * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                     * @example orders-db
                     */
                    name: string;
                    /** @description Printable ASCII without spaces, 12 to 128 characters. Omit it and a strong one is generated and returned once. */
                    password?: string;
                    /**
                     * @description Major version
                     * @default 18
                     */
                    postgres_version?: "15" | "16" | "17" | "18";
                    /** @default 10 */
                    storage_size_gb?: number;
                    /**
                     * @description A LoadBalancer Service (public IP) instead of ClusterIP
                     * @default true
                     */
                    use_load_balancer?: boolean;
                    /**
                     * @description Azure DNS label: <label>.<region>.cloudapp.azure.com
                     * @default null
                     */
                    dns_label?: string | null;
                    /** @default toygres */
                    namespace?: string;
                    /** @description Networks allowed to connect. Omitted: TOYGRES_DEFAULT_ALLOWED_CIDRS (unset: anywhere). */
                    allowed_cidrs?: string[] | null;
                    /**
                     * @description Key/value pairs with Kubernetes label syntax (a key is [prefix/]name, name and value at most 63 characters, alphanumeric at both ends), copied onto the instance's Kubernetes objects.
                     * @example {
                     *       "env": "prod",
                     *       "team": "payments"
                     *     }
                     */
                    labels?: {
                        [key: string]: string;
                    };
                    /**
                     * @description While true, DELETE is refused
                     * @default false
                     */
                    deletion_protection?: boolean;
                };
            };
        };
        responses: {
            /** @description The new instance; the generated password and a ready-to-paste URI first, shown this once */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedInstance"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getInstance: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Instance"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteInstance: {
        parameters: {
            query?: {
                /** @description Forget the instance at once, without removing its resources (for a platform that cannot be reached); what may remain is recorded */
                force?: boolean;
            };
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ForgottenInstance"];
                };
            };
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Instance"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateInstance: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        /** @description A JSON merge patch (RFC 7396) of the instance */
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @description postgresql.conf settings, checked against the server's pg_settings, applied with ALTER SYSTEM and a reload
                     * @example {
                     *       "work_mem": "64MB",
                     *       "log_min_duration_statement": "500ms"
                     *     }
                     */
                    parameters?: {
                        [key: string]: string | number | boolean | null;
                    };
                    /** @description With parameters: "restart" restarts the server when a setting needs it (pending_restart); "reload" (default) never restarts */
                    apply?: "reload" | "restart";
                    /** @description Grow only */
                    storage_size_gb?: number;
                    /** @description While true, DELETE is refused */
                    deletion_protection?: boolean;
                    /** @description Merged into the labels (a null value removes the label), then copied onto the instance's Kubernetes objects */
                    labels?: {
                        [key: string]: string | null;
                    };
                    /** @description Replaces the allowed networks; null: anywhere */
                    allowed_cidrs?: string[] | null;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Instance"];
                };
            };
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InstanceChange"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getInstanceCaCertificate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description PEM */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-pem-file": string;
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-pem-file": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-pem-file": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-pem-file": components["schemas"]["Problem"];
                };
            };
        };
    };
    restartInstance: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InstanceChange"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    stopInstance: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InstanceChange"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    startInstance: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InstanceChange"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resetPassword: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Printable ASCII without spaces, 12 to 128 characters. Omit it and a strong one is generated and returned once. */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description The new password and a ready-to-paste URI first, shown this once */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PasswordReset"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    streamInstanceEvents: {
        parameters: {
            query?: {
                /** @description Resume after this event id (as Last-Event-ID does); omitted: from the instance's first event */
                since?: string;
            };
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description text/event-stream. Each event has an `id` (a cursor: send it as Last-Event-ID, or ?since=, to resume after it), a type and JSON data. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            406: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["Problem"];
                };
            };
        };
    };
    streamAllInstanceEvents: {
        parameters: {
            query?: {
                since?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description text/event-stream. Each event has an `id` (a cursor: send it as Last-Event-ID, or ?since=, to resume after it), a type and JSON data. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            406: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["Problem"];
                };
            };
        };
    };
    getInstanceLogs: {
        parameters: {
            query?: {
                /** @description Lines from the end */
                tail?: number;
                follow?: boolean;
            };
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Log lines */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                    "application/x-ndjson": string;
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": components["schemas"]["Problem"];
                    "application/x-ndjson": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": components["schemas"]["Problem"];
                    "application/x-ndjson": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": components["schemas"]["Problem"];
                    "application/x-ndjson": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": components["schemas"]["Problem"];
                    "application/x-ndjson": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": components["schemas"]["Problem"];
                    "application/x-ndjson": components["schemas"]["Problem"];
                };
            };
        };
    };
    createInstances: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description CreateInstanceInput bodies */
                    items: unknown[];
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            index: number;
                            name: string | null;
                            /** @description What this item alone would have answered: 202, 400, 404, 409, 422… */
                            status: number;
                            instance?: components["schemas"]["Instance"];
                            /** @description A create's generated password, shown this once */
                            password?: string;
                            problem?: components["schemas"]["Problem"];
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteInstances: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    names?: string[];
                    /** @description e.g. env=test,team=a */
                    label?: string;
                    /** @default false */
                    dry_run?: boolean;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        dry_run: boolean;
                        items: {
                            index: number;
                            name: string | null;
                            /** @description What this item alone would have answered: 202, 400, 404, 409, 422… */
                            status: number;
                            instance?: components["schemas"]["Instance"];
                            /** @description A create's generated password, shown this once */
                            password?: string;
                            problem?: components["schemas"]["Problem"];
                        }[];
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getInstanceHealth: {
        parameters: {
            query?: {
                /** @description How many recent checks */
                limit?: number;
                /** @description A `next_cursor`: the checks before the ones it came with */
                cursor?: string;
                /** @description Only checks at or after this time */
                since?: string;
            };
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "name": "orders-db",
                     *       "state": "running",
                     *       "health": "healthy",
                     *       "consecutive_failures": 0,
                     *       "last_health_check_at": "2026-01-01T12:00:30.000Z",
                     *       "last_response_time_ms": 3.2,
                     *       "checks": [
                     *         {
                     *           "checked_at": "2026-01-01T12:00:30.000Z",
                     *           "ok": true,
                     *           "response_time_ms": 3.2,
                     *           "error": null
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        name: string;
                        /** @description creating → running | failed; running → restarting | stopping | updating → running; stopping → stopped → starting → running; any → deleting → (gone) | delete_failed */
                        state: "creating" | "running" | "failed" | "deleting" | "delete_failed" | "stopping" | "stopped" | "starting" | "restarting" | "updating";
                        health: "unknown" | "healthy" | "unhealthy" | "stopped";
                        consecutive_failures: number;
                        last_health_check_at: string | null;
                        last_response_time_ms: number | null;
                        /** @description Most recent first (checked_at, then the order they were recorded), within the retention period */
                        checks: {
                            /** Format: date-time */
                            checked_at: string;
                            ok: boolean;
                            /** @description Connect + SELECT 1, or until the failure */
                            response_time_ms: number;
                            error: string | null;
                        }[];
                        /** @description Pass as `cursor` for the checks before these; null when there are no more (none older, or none since `since`) */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getOperation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelOperation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listOperations: {
        parameters: {
            query?: {
                limit?: number;
                /** @description A `next_cursor` from the previous page */
                cursor?: string;
                status?: "pending" | "running" | "succeeded" | "failed" | "cancelled";
                /** @description What the operation does to its instance; health-check is the instance's long-lived monitor */
                kind?: "create" | "delete" | "restart" | "stop" | "start" | "reset-password" | "update" | "health-check";
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                instance?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OperationList"];
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listInstanceOperations: {
        parameters: {
            query?: {
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).
                 * @example orders-db
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: (components["schemas"]["Operation"] & {
                            /** @description create, delete, restart, stop, start, reset-password or update */
                            kind: string;
                        })[];
                        next_cursor: string | null;
                    };
                };
            };
            /** @description RFC 9457 problem details */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description RFC 9457 problem details */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": components["schemas"]["Problem"];
                };
            };
            /** @description RFC 9457 problem details */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": components["schemas"]["Problem"];
                };
            };
        };
    };
}
