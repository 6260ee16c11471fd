/**
 * One record of the audit trail: who did what to which studies of which store, when, from where,
 * with what outcome and how many bytes. UIDs and identities only: never a patient's name, ID or
 * birth date (a search's query values are not recorded, only the studies it returned).
 */
export type AuditAction = 'qido.search' | 'wado.retrieve' | 'wado.metadata' | 'wado.frames' | 'wado.bulkdata' | 'wado.rendered' | 'stow.store' | 'admin';

export interface AuditRecord {
  id?: number;
  /** ISO 8601, UTC, when the answer ended. */
  at: string;
  requestId: string;
  /** The principal ("jwt:<sub>", "api-key:<name>", "study-token:<store>/<study>", "anonymous"). */
  client: string;
  clientKind: string;
  address: string;
  action: AuditAction;
  method: string;
  /** The route template ("/stores/:store/dicomweb/studies/:study/metadata"). */
  route: string;
  store?: string;
  studies: string[];
  /** The HTTP status sent (0 when the connection ended before an answer). */
  status: number;
  /** 'ok' 2xx/3xx, 'refused' 4xx, 'failed' 5xx, 'aborted' when the answer did not finish. */
  outcome: 'ok' | 'refused' | 'failed' | 'aborted';
  /** Bytes sent (reads) or received (STOW). */
  bytes: number;
  durationMs: number;
}

export function outcomeOf(status: number, finished: boolean): AuditRecord['outcome'] {
  if (!finished) return 'aborted';
  if (status >= 500) return 'failed';
  if (status >= 400) return 'refused';
  return 'ok';
}
