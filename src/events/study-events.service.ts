/**
 * Study events: tracks every instance stored through the gateway (study-lifecycle.ts), decides
 * when a study is stable (a sweep of the quiet period, or a sender's "complete"), and publishes
 * `stable`, `updated`, `forwarded` and `results-received` to the matching subscriptions as signed,
 * retried deliveries (deliveries/), each with a token scoped to the study (tokens/).
 * Tracking never fails an upload: its errors are logged.
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { instancePriority, PRIORITY_LEVELS, priorityRank } from '../dicom/priority';
import { ForwardingService } from '../forwarding/forwarding.service';
import { DicomStore, IncomingInstance } from '../stores/dicom-store';
import { StoreRegistry } from '../stores/registry';
import { DeliveryService } from './deliveries/delivery.service';
import { deliveryPayload, withAccess } from './delivery-payload';
import { EVENTS_DB } from './events-database.module';
import { EventsDatabase } from './events-database';
import { StudyEvent, StudyEventType } from './study-event';
import { Facts, StudyFactsRow, StudyLifecycle } from './study-lifecycle';
import { SubscriptionStore } from './subscriptions/subscription-store';
import { StudyTokenService } from './tokens/study-token.service';

const text = (metadata: IncomingInstance['metadata'], tag: string): string | undefined => {
  const v = metadata[tag]?.Value?.[0];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

@Injectable()
export class StudyEventsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Study events');
  private readonly lifecycle: StudyLifecycle;
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(EVENTS_DB) events: EventsDatabase,
    private readonly stores: StoreRegistry,
    private readonly subscriptions: SubscriptionStore,
    private readonly deliveries: DeliveryService,
    private readonly tokens: StudyTokenService,
    private readonly http: HttpAdapterHost,
    @Optional() forwarding?: ForwardingService,
  ) {
    this.lifecycle = new StudyLifecycle(events);
    this.deliveries.setPayloadFinisher((payload) => withAccess(payload, (store, study) => this.tokens.issue(store, study)));
    forwarding?.onStudyForwarded((store, study) => void this.publishOf('forwarded', store, study));
  }

  onApplicationBootstrap(): void {
    const step = Math.min(1_000, Math.max(50, Math.floor(this.config.events.quietPeriodMs / 4)));
    this.timer = setInterval(() => void this.tick(), step);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** After STOW stored an instance into `store`. */
  async noteStored(store: DicomStore, instance: IncomingInstance): Promise<void> {
    try {
      const { metadata, identity } = instance;
      const viaToken = instance.context?.viaStudyToken === true;
      const { level } = instancePriority(metadata, { rules: this.config.edge?.priorityRules ?? [], callingClient: instance.context?.callingClient });
      this.lifecycle.noteInstance(
        store.name,
        identity.studyInstanceUid,
        {
          series: identity.seriesInstanceUid,
          sopClass: identity.sopClassUid,
          modality: text(metadata, '00080060'),
          bodyPart: text(metadata, '00180015'),
          station: text(metadata, '00081010'),
          priority: priorityRank(level),
          metadata,
        },
        viaToken,
      );
      if (viaToken) await this.publishOf('results-received', store.name, identity.studyInstanceUid);
    } catch (e) {
      this.logger.error(`instance ${instance.identity.sopInstanceUid} not tracked: ${(e as Error).message}`);
    }
  }

  /** POST /api/studies/{study}/complete: stable now. */
  async complete(storeName: string, study: string): Promise<'completed' | 'already-stable' | 'unknown'> {
    const row = this.lifecycle.complete(storeName, study);
    if (row === undefined) return 'unknown';
    if (row === 'already-stable') return 'already-stable';
    await this.publish(row.was_stable ? 'updated' : 'stable', row);
    return 'completed';
  }

  eventsOf(storeName: string, study: string): { id: string; type: string; time: string }[] {
    return this.lifecycle.eventsOf(storeName, study).map((e) => ({ ...e, time: new Date(e.time).toISOString() }));
  }

  lifecycleOf(storeName: string, study: string): StudyFactsRow | undefined {
    return this.lifecycle.get(storeName, study);
  }

  /** The quiet-period sweep. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const row of this.lifecycle.settle(this.config.events.quietPeriodMs)) await this.publish(row.was_stable ? 'updated' : 'stable', row);
    } catch (e) {
      this.logger.error(`stability sweep failed: ${(e as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async publishOf(type: StudyEventType, store: string, study: string): Promise<void> {
    const row = this.lifecycle.get(store, study);
    if (row) await this.publish(type, row);
  }

  /** Logs the event and queues one delivery per matching subscription (each never blocks the others). */
  private async publish(type: StudyEventType, row: StudyFactsRow): Promise<void> {
    const facts = JSON.parse(row.facts) as Facts;
    const event: StudyEvent = {
      id: `evt_${randomUUID()}`,
      type,
      time: new Date().toISOString(),
      store: row.store,
      studyInstanceUid: row.study,
      seriesInstanceUids: facts.series,
      modalities: facts.modalities,
      sopClassUids: facts.sopClasses,
      bodyParts: facts.bodyParts,
      stations: facts.stations,
      priority: PRIORITY_LEVELS[row.priority] ?? 'ROUTINE',
      series: facts.series.length,
      instances: row.instances,
    };
    this.lifecycle.logEvent(event.id, row.store, row.study, type, Date.parse(event.time), event);
    const sample = row.sample ? JSON.parse(row.sample) : undefined;
    const matching = this.subscriptions.matching({ event, sample });
    if (matching.length === 0) return;
    const payload = deliveryPayload(event, { dicomweb: this.dicomwebRoot(row.store) });
    for (const subscription of matching) {
      await this.deliveries.enqueue(subscription.id, event, payload).catch((e: Error) => this.logger.error(`delivery to ${subscription.id} not queued: ${e.message}`));
    }
  }

  /** The store's DICOMweb root as a subscriber reaches it. */
  private dicomwebRoot(store: string): string {
    // Configured, else where this process listens (PORT=0 in tests picks a port at start).
    const address = this.http.httpAdapter?.getHttpServer?.()?.address?.();
    const port = typeof address === 'object' && address ? address.port : this.config.port;
    const host = this.config.host === '0.0.0.0' || this.config.host === '::' ? '127.0.0.1' : this.config.host;
    const base = this.config.publicBaseUrl ?? `http://${host}:${port}`;
    return store === this.stores.defaultName ? `${base}/dicomweb` : `${base}/stores/${store}/dicomweb`;
  }
}
