/**
 * The engine's LISTEN/NOTIFY channel. Payloads: `c:<id>` a cancel was
 * requested; `f:<id>` an operation finished; `e:<id>` a traced operation
 * wrote an event; `w:<name>` work of an orchestration (or its queue) is due.
 */
export const CHANNEL = 'toygres_engine'
