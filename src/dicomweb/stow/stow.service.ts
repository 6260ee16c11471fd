/**
 * STOW-RS over HTTP: checks the request before reading its body, runs the transaction on the raw
 * request stream, and answers per PS3.18 10.5.3.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG } from '../../config/config.module';
import { GatewayConfig } from '../../config/gateway-config';
import { stringifyDicomJson } from '../../dicom/dicom-json-stringify';
import { isValidUid } from '../../dicom/uid';
import { MetadataCacheService } from '../../cache/metadata-cache.service';
import { noteRequestBytes, noteStudies } from '../../audit/audit-context';
import { principalOf } from '../../auth/principal';
import { DicomwebMetrics } from '../../metrics/dicomweb-metrics';
import { StudyEventsService } from '../../events/study-events.service';
import { studyTokenOf } from '../../events/tokens/study-token-request';
import { InstanceReceiver } from '../../ingest/instance-receiver';
import { StoreRegistry } from '../../stores/registry';
import { BadRequest, MethodNotAllowed, PayloadTooLarge, warningHeader } from '../errors';
import { StoreTarget, storeTarget } from '../store-target';
import { classifyStowBody, stowResponseType } from './stow-request';
import { stowResponseBody, stowRetryAfter, stowStatus } from './stow-response';
import { StowTransaction } from './stow-transaction';

const MAX_WARNING_HEADERS = 20;

@Injectable()
export class StowService {
  private readonly logger = new Logger('STOW');

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly stores: StoreRegistry,
    private readonly receiver: InstanceReceiver,
    private readonly metadataCache: MetadataCacheService,
    private readonly studyEvents: StudyEventsService,
    private readonly metrics: DicomwebMetrics,
  ) {}

  async handle(request: FastifyRequest, reply: FastifyReply, targetStudyUid?: string): Promise<void> {
    let body;
    let responseType;
    let target: StoreTarget;
    try {
      target = storeTarget(request, this.stores, this.config);
      if (!target.store.capabilities.stow) {
        throw new MethodNotAllowed(`store "${target.store.name}" takes no STOW-RS: ${target.store.kind === 'federated' ? 'it is a federated view without a write member; store into one of its members' : 'it is read-only'}`, 'GET, HEAD');
      }
      if (targetStudyUid !== undefined && !isValidUid(targetStudyUid)) {
        throw new BadRequest(`"${targetStudyUid.slice(0, 80)}" is not a valid Study Instance UID`);
      }
      responseType = stowResponseType(request.headers.accept);
      body = classifyStowBody(request.headers['content-type']);
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > this.config.limits.maxRequestBytes) {
        throw new PayloadTooLarge(
          `request body of ${declared} bytes is larger than the limit of ${this.config.limits.maxRequestBytes}`,
        );
      }
    } catch (e) {
      // Refused before reading: do not make the client send (or us read) the whole body.
      reply.header('connection', 'close');
      throw e;
    }

    const studyToken = studyTokenOf(request);
    const transaction = new StowTransaction(
      target.store,
      this.receiver,
      {
        maxInstanceBytes: this.config.limits.maxInstanceBytes,
        maxHeaderBytes: this.config.limits.maxHeaderBytes,
        inlineBinaryThreshold: this.config.inlineBinaryThreshold,
        // With a study token (checked by StudyTokenGuard) every instance must belong to its study.
        expectedStudyUid: targetStudyUid ?? studyToken?.study,
        context: {
          // The authenticated name when there is one (an API key's, a token's subject), else the address.
          callingClient: callingClientOf(request),
          requestedPriority: singleHeader(request.headers['x-priority']),
          ...(studyToken !== undefined ? { viaStudyToken: true } : {}),
        },
      },
      this.config.limits,
      async (instance) => {
        await this.metadataCache.noteStored(target.store, instance);
        await this.studyEvents.noteStored(target.store, instance);
      },
    );
    const outcome = await transaction.run(request.raw, body);
    noteStudies(request, outcome.stored.map((s) => s.studyInstanceUid));
    noteRequestBytes(request, outcome.bytesRead ?? 0);
    this.metrics.stowBytes.inc({ store: target.store.name }, outcome.bytesRead ?? 0);
    if (outcome.stored.length > 0) this.metrics.stowInstances.inc({ store: target.store.name, outcome: 'stored' }, outcome.stored.length);
    if (outcome.failed.length > 0) this.metrics.stowInstances.inc({ store: target.store.name, outcome: 'failed' }, outcome.failed.length);
    const status = stowStatus(outcome);
    const base = target.base;
    const responseBody = stowResponseBody(
      outcome,
      {
        study: (study) => `${base}/studies/${study}`,
        instance: (i) => `${base}/studies/${i.studyInstanceUid}/series/${i.seriesInstanceUid}/instances/${i.sopInstanceUid}`,
      },
      targetStudyUid,
    );
    const warnings = [
      ...(outcome.limitExceeded ? [outcome.limitExceeded] : []),
      ...(outcome.framingError ? [outcome.framingError] : []),
      ...outcome.failed.map((f) => f.message),
      ...outcome.notes,
    ];
    this.logger.log(
      `stored ${outcome.stored.length}, failed ${outcome.failed.length}` +
        (outcome.framingError ? `, framing: ${outcome.framingError}` : '') +
        (outcome.limitExceeded ? `, limit: ${outcome.limitExceeded}` : '') +
        ` -> ${status}`,
    );
    if (outcome.limitExceeded || outcome.framingError) reply.header('connection', 'close');
    const retryAfter = stowRetryAfter(outcome);
    if (status >= 500 && retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    if (warnings.length > 0) {
      reply.header('warning', warnings.slice(0, MAX_WARNING_HEADERS).map(warningHeader));
    }
    reply.status(status).header('content-type', responseType).send(Buffer.from(stringifyDicomJson(responseBody)));
  }
}

function callingClientOf(request: FastifyRequest): string {
  const principal = principalOf(request);
  return principal && principal.kind !== 'anonymous' ? principal.id : request.ip;
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
