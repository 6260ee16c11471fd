/**
 * Edge store-and-forward (YAML `edge`, see README "Edge forwarding"): the receiving store is the
 * durable spool (a local store); every instance it accepts is forwarded to each destination store
 * whose route takes it, in clinical priority order (STAT first), and the spool keeps it as the
 * destination's retention policy says.
 */
import { PriorityLevel } from '../dicom/priority';

/**
 * Conditions on an instance, all of which must hold (an empty mapping holds for everything).
 * Attribute values are matched case-insensitively; `attributes` maps a keyword ("StudyDescription")
 * or a tag ("00081030") to a regular expression tested against each of its values (PN values in
 * their DICOM form, "Family^Given").
 */
export interface InstanceConditions {
  /** Modality (0008,0060) is one of these. */
  modality?: string[];
  /** The client that sent the instance (its authenticated name, else its IP address) is one of these. */
  callingClient?: string[];
  /** Station Name (0008,1010) is one of these. */
  station?: string[];
  /** Keyword or tag -> regular expression (case-insensitive). */
  attributes?: Record<string, RegExp>;
}

/** An operator rule: instances matching `when` get at least `priority`. */
export interface PriorityRule {
  when: InstanceConditions;
  priority: PriorityLevel;
}

export type RetentionPolicy =
  /** Delete from the spool as soon as the destination confirmed it. */
  | { mode: 'delete-after-confirmed' }
  /** Keep confirmed instances for this many days after confirmation. */
  | { mode: 'keep-days'; days: number }
  /** Keep everything while the spool's disk has at least this much free; below it, delete the
   *  oldest confirmed instances first. Never an unconfirmed one. */
  | { mode: 'disk-watermark'; minFreeBytes: number }
  /** Keep forever (the spool is also an archive). */
  | { mode: 'keep' };

export interface EdgeDestinationConfig {
  /** Name of a configured store (any kind but the spool itself). */
  store: string;
  /** Instances this destination takes: all of them when absent, else those matching any route. */
  routes?: InstanceConditions[];
  retention: RetentionPolicy;
  /** Routine instances of one study sent in one STOW request, at most. */
  batchSize: number;
  /** Tries before an instance is parked as failed (visible, retryable by an operator). */
  maxAttempts: number;
  /** Backoff between tries: exponential from base to max, with jitter. */
  backoff: { baseDelayMs: number; maxDelayMs: number };
  /** Concurrent STOW requests for STAT instances: reserved, never taken by routine work. */
  statConcurrency: number;
  /** Concurrent STOW requests for the other priorities. */
  routineConcurrency: number;
}

export interface EdgeConfig {
  /** Name of the local store that receives and spools (the default store unless said otherwise). */
  spool: string;
  destinations: EdgeDestinationConfig[];
  /** Operator rules, in addition to what the instances themselves say. */
  priorityRules: PriorityRule[];
  /** Calling clients allowed to ask for a priority with the `X-Priority` request header; `*` for any. */
  priorityHeaderClients: string[];
  /** How often the reconciler re-enqueues outbox rows that Redis does not know. */
  reconcileIntervalMs: number;
  /** How often retention is applied. */
  retentionIntervalMs: number;
}

export const EDGE_DEFAULTS = {
  batchSize: 20,
  maxAttempts: 10,
  backoff: { baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 },
  statConcurrency: 2,
  routineConcurrency: 2,
  reconcileIntervalMs: 30_000,
  retentionIntervalMs: 60_000,
} as const;
