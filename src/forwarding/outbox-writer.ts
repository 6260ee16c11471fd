/**
 * The spool's index participant (LocalStore.addIndexParticipant): inside the transaction that
 * indexes an accepted instance, decides where it goes (routing.ts) and how urgently
 * (dicom/priority.ts) and writes its forward rows; after the commit, queues them at once. If
 * queueing fails (Redis away), the reconciler queues them later: the rows are already durable.
 */
import { Logger } from '@nestjs/common';
import { EdgeConfig } from '../config/edge-config';
import { instancePriority, parsePriority, priorityRank, PriorityLevel } from '../dicom/priority';
import { IncomingInstance } from '../stores/dicom-store';
import { IndexParticipant } from '../stores/local/local-store';
import { ForwardQueues } from './forward-queues';
import { Outbox, OutboxRow } from './outbox';
import { destinationsFor } from './routing';

export class OutboxWriter implements IndexParticipant {
  private readonly logger = new Logger('Forward');
  private lastQueueError?: string;
  /** What withinIndexing recorded, for afterCommit (the same instance object). */
  private readonly recorded = new WeakMap<IncomingInstance, { raised: boolean; destinations: string[] }>();

  constructor(
    private readonly edge: EdgeConfig,
    private readonly outbox: Outbox,
    private readonly queues: ForwardQueues,
  ) {}

  withinIndexing(instance: IncomingInstance): void {
    const client = instance.context?.callingClient;
    const destinations = destinationsFor(instance.metadata, client, this.edge.destinations).map((d) => d.store);
    if (destinations.length === 0) return;
    const { level, reasons } = instancePriority(instance.metadata, {
      rules: this.edge.priorityRules,
      callingClient: client,
      requested: this.requested(instance),
    });
    const { raised } = this.outbox.record({
      studyInstanceUid: instance.identity.studyInstanceUid,
      seriesInstanceUid: instance.identity.seriesInstanceUid,
      sopInstanceUid: instance.identity.sopInstanceUid,
      size: instance.staged.size,
      priority: priorityRank(level),
      reasons,
      destinations,
    });
    this.recorded.set(instance, { raised, destinations });
  }

  afterCommit(instance: IncomingInstance): void {
    const recorded = this.recorded.get(instance);
    if (!recorded) return;
    const sop = instance.identity.sopInstanceUid;
    // When this instance raised its study (to STAT), the study's earlier instances are queued
    // again in their new lane; otherwise only this instance's rows.
    const keys = recorded.raised
      ? this.outbox.pendingOfStudy(instance.identity.studyInstanceUid)
      : recorded.destinations.map((d) => this.outbox.get(d, sop)).filter((r): r is OutboxRow => r !== undefined && r.state === 'pending');
    this.queues.enqueue(keys).then(
      () => (this.lastQueueError = undefined),
      (e: Error) => {
        if (this.lastQueueError !== e.message) this.logger.warn(`queueing deferred to the reconciler: ${e.message}`);
        this.lastQueueError = e.message;
      },
    );
  }

  /** The X-Priority a client asked for, if this client may ask. */
  private requested(instance: IncomingInstance): PriorityLevel | undefined {
    const asked = instance.context?.requestedPriority;
    if (!asked) return undefined;
    const allowed = this.edge.priorityHeaderClients;
    const client = instance.context?.callingClient;
    if (!allowed.includes('*') && !(client && allowed.includes(client))) return undefined;
    return parsePriority(asked);
  }
}
