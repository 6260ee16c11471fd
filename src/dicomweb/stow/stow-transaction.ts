/**
 * One STOW-RS request: the body is read part by part; each part is received (staged, parsed,
 * checked) and handed to the store, and gets its own outcome. A bad part never fails the others,
 * and nothing is dropped silently: every part ends up stored or listed as failed.
 *
 * Parts are received one after another (the body is one stream), but a store may take several at
 * once (DicomStore.stowConcurrency): the next part is received while the ones before are still
 * being stored, which hides a remote store's latency and lets a store that batches (HealthImaging
 * import jobs) batch. Outcomes are listed in part order whatever order the stores end in.
 */
import { Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { InstanceReceiver, ReceiveOptions } from '../../ingest/instance-receiver';
import { InstanceRejected, RejectionReason } from '../../ingest/rejection';
import { DicomStore, IncomingInstance } from '../../stores/dicom-store';
import { InconsistentInstance, InstanceConflict, StorageFull, UpstreamFailure, UpstreamRefused } from '../../stores/store-errors';
import { mapError } from '../errors';
import { MultipartError, readMultipart } from '../multipart/multipart-reader';
import { parseContentType } from '../multipart/content-type';
import { ByteLimit } from './byte-limit';
import { StowBody } from './stow-request';
import { FailedPart, StowOutcome } from './stow-response';

export interface StowLimits {
  maxRequestBytes: number;
  maxInstancesPerRequest: number;
}

/** A Failure Reason an upstream gave -> the gateway's reason (which decides 409 or 400). */
function reasonOfUpstreamCode(code: number): RejectionReason {
  if (code === 0xa900) return 'does-not-match';
  if (code === 0xc122) return 'unsupported-transfer-syntax';
  if ((code & 0xf000) === 0xc000) return 'cannot-understand';
  return 'processing-failure';
}

/** The outcome of one part, kept with its number until they are listed in order. */
type PartResult = { part: number; stored: StowOutcome['stored'][number] } | { part: number; failed: FailedPart };

export class StowTransaction {
  private readonly logger = new Logger('STOW');
  private readonly results: PartResult[] = [];
  private readonly storing = new Set<Promise<void>>();

  constructor(
    private readonly store: DicomStore,
    private readonly receiver: InstanceReceiver,
    private readonly receive: ReceiveOptions,
    private readonly limits: StowLimits,
    /** Told of every instance the store accepted (the metadata cache learns it). */
    private readonly onStored?: (instance: IncomingInstance) => Promise<void>,
  ) {}

  async run(source: Readable, body: StowBody): Promise<StowOutcome> {
    const outcome: StowOutcome = { stored: [], failed: [], notes: [] };
    let counted: ByteLimit | undefined;
    try {
      return await this.read(source, body, outcome, (limit) => (counted = limit));
    } finally {
      outcome.bytesRead = counted?.bytes ?? 0;
      // Whatever ended the reading, every part handed to the store gets its outcome.
      await Promise.allSettled([...this.storing]);
      this.results.sort((a, b) => a.part - b.part);
      for (const r of this.results) {
        if ('stored' in r) outcome.stored.push(r.stored);
        else outcome.failed.push(r.failed);
      }
    }
  }

  private async read(source: Readable, body: StowBody, outcome: StowOutcome, counting: (limit: ByteLimit) => void): Promise<StowOutcome> {
    const limited = new ByteLimit(this.limits.maxRequestBytes);
    counting(limited);
    source.on('error', (e) => limited.destroy(e));
    source.pipe(limited);
    if (body.kind === 'single') {
      try {
        await this.storePart(limited, 1, outcome);
      } catch (e) {
        // The body stream itself failed (limit reached, client gone): not a fault of ours.
        if (!limited.exceeded && !limited.errored) throw e;
        outcome.framingError = `request body could not be read: ${(e as Error).message}`;
      }
      if (limited.exceeded) outcome.limitExceeded = `request body larger than ${this.limits.maxRequestBytes} bytes`;
      return outcome;
    }
    let parts = 0;
    try {
      for await (const part of readMultipart(limited, body.boundary)) {
        parts++;
        if (parts > this.limits.maxInstancesPerRequest) {
          outcome.limitExceeded = `more than ${this.limits.maxInstancesPerRequest} instances in one request`;
          part.body.resume();
          break;
        }
        const type = part.contentType ? parseContentType(part.contentType)?.mediaType : undefined;
        if (part.contentType !== undefined && type !== 'application/dicom') {
          part.body.resume();
          this.results.push({
            part: parts,
            failed: {
              part: parts,
              reason: 'unsupported-media-type',
              message: `part ${parts} has Content-Type ${part.contentType}; only application/dicom parts are stored`,
            },
          });
          continue;
        }
        // A part without Content-Type takes the type of the multipart body: application/dicom.
        await this.storePart(part.body, parts, outcome);
      }
    } catch (e) {
      if (limited.exceeded) {
        outcome.limitExceeded = `request body larger than ${this.limits.maxRequestBytes} bytes`;
      } else if (e instanceof MultipartError) {
        outcome.framingError = `multipart body broken after ${parts - 1} part(s): ${e.message}`;
      } else {
        throw e;
      }
    }
    if (limited.exceeded) outcome.limitExceeded = `request body larger than ${this.limits.maxRequestBytes} bytes`;
    if (parts === 0 && !outcome.framingError && !outcome.limitExceeded) {
      outcome.framingError = 'the multipart body holds no part';
    }
    return outcome;
  }

  /** Receives one part, then hands it to the store, waiting only while the store has as many
   *  parts of this request as it takes at once. */
  private async storePart(body: Readable, part: number, outcome: StowOutcome): Promise<void> {
    let instance: IncomingInstance;
    try {
      instance = await this.receiver.receive(body, this.receive);
    } catch (e) {
      if (body.errored) throw e; // the request stream broke, not this instance: run() decides
      const failed = this.toFailure(e, part);
      if (!failed) throw e;
      this.results.push({ part, failed });
      return;
    }
    const storing: Promise<void> = this.storeReceived(instance, part, outcome).finally(() => this.storing.delete(storing));
    this.storing.add(storing);
    const concurrency = Math.max(1, this.store.stowConcurrency ?? 1);
    while (this.storing.size >= concurrency) await Promise.race(this.storing);
  }

  /** Never rejects: every failure becomes the part's outcome. */
  private async storeReceived(instance: IncomingInstance, part: number, outcome: StowOutcome): Promise<void> {
    try {
      const id = instance.identity;
      await this.store.store(instance);
      await this.onStored?.(instance);
      if (instance.parsed.bareDataset) {
        outcome.notes.push(`part ${part}: stored as sent, a data set without File Meta Information (PS3.10 7.1)`);
      }
      this.results.push({
        part,
        stored: { studyInstanceUid: id.studyInstanceUid, seriesInstanceUid: id.seriesInstanceUid, sopInstanceUid: id.sopInstanceUid, sopClassUid: id.sopClassUid },
      });
    } catch (e) {
      this.results.push({ part, failed: this.toFailure(e, part, instance) ?? this.internalFailure(e, part, instance) });
    } finally {
      await this.receiver.discard(instance);
    }
  }

  private internalFailure(e: unknown, part: number, instance: IncomingInstance): FailedPart {
    this.logger.error(`part ${part} could not be stored: ${(e as Error)?.stack ?? String(e)}`);
    return { part, reason: 'processing-failure', message: `part ${part}: internal error while storing`, sopClassUid: instance.identity.sopClassUid, sopInstanceUid: instance.identity.sopInstanceUid };
  }

  private toFailure(e: unknown, part: number, instance?: IncomingInstance): FailedPart | undefined {
    const ids = instance
      ? { sopClassUid: instance.identity.sopClassUid, sopInstanceUid: instance.identity.sopInstanceUid }
      : {};
    const failure = (reason: RejectionReason, message: string): FailedPart => ({ part, reason, message, ...ids });
    if (e instanceof InstanceRejected) {
      return { part, reason: e.reason, message: `part ${part}: ${e.message}`, sopClassUid: e.identity?.sopClassUid, sopInstanceUid: e.identity?.sopInstanceUid };
    }
    if (e instanceof MultipartError) return undefined; // the framing broke: handled by run()
    if (e instanceof InstanceConflict) return failure('duplicate-conflict', `part ${part}: ${e.message}`);
    if (e instanceof InconsistentInstance) return failure('inconsistent-with-archive', `part ${part}: ${e.message}`);
    if (e instanceof StorageFull) return failure('out-of-resources', `part ${part}: ${e.message}`);
    if (e instanceof UpstreamRefused) {
      return { ...failure(reasonOfUpstreamCode(e.failureReason), `part ${part}: ${e.message}`), failureReason: e.failureReason };
    }
    if (e instanceof UpstreamFailure) {
      const { status } = mapError(e);
      return { ...failure('processing-failure', `part ${part}: ${e.message}`), outage: { status, retryAfterSeconds: e.retryAfterSeconds } };
    }
    this.logger.error(`part ${part} could not be stored: ${(e as Error)?.stack ?? String(e)}`);
    return failure('processing-failure', `part ${part}: internal error while storing`);
  }
}
