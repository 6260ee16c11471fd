/**
 * QIDO-RS over HTTP (PS3.18 10.6): negotiates the answer's media type, parses the request, asks
 * the store, and answers 200 with a JSON array (empty when nothing matches).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG } from '../../config/config.module';
import { GatewayConfig } from '../../config/gateway-config';
import { QidoLevel } from '../../stores/qido-query';
import { MetadataCacheService } from '../../cache/metadata-cache.service';
import { uidOf } from '../../stores/dicomweb/upstream-results';
import { StoreRegistry } from '../../stores/registry';
import { noteStudies } from '../../audit/audit-context';
import { DicomwebMetrics } from '../../metrics/dicomweb-metrics';
import { negotiate } from '../accept';
import { NotAcceptable, warningHeader } from '../errors';
import { storeTarget } from '../store-target';
import { QidoPath, parseQidoRequest } from './qido-request';
import { qidoResponseBody } from './qido-response';
import { rawQueryOf } from './query-parameters';

/** PS3.18 10.6.3.2 / 8.7.3: DICOM JSON, or plain JSON for clients that ask for that. The XML
 *  alternative (multipart/related; type="application/dicom+xml") is not offered. */
const OFFERED = ['application/dicom+json', 'application/json'];

/** The text PS3.18 8.3.4.4 gives for an answer the server cut short. */
const MORE_RESULTS =
  'The number of results exceeded the maximum supported by the server. Additional results can be requested.';

@Injectable()
export class QidoService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly stores: StoreRegistry,
    private readonly metadataCache: MetadataCacheService,
    private readonly metrics: DicomwebMetrics,
  ) {}

  async search(request: FastifyRequest, reply: FastifyReply, level: QidoLevel, path: QidoPath): Promise<void> {
    const { store, base } = storeTarget(request, this.stores, this.config);
    const type = negotiate(request.headers.accept, OFFERED);
    if (!type) throw new NotAcceptable(`search results are available as ${OFFERED.join(' or ')} only`);
    const { query, serverLimited, ignored } = parseQidoRequest(level, path, rawQueryOf(request.url), {
      defaultLimit: this.config.qidoDefaultLimit,
      maxLimit: this.config.qidoMaxLimit,
    });
    const result = await store.search(query);
    if (query.offset === 0 && result.matches.length < query.limit) {
      // Read-your-writes: studies stored through the gateway that the upstream does not show yet.
      const seen = new Set(result.matches.map((m) => uidOf(m[query.level], query.level)));
      for (const extra of await this.metadataCache.unconfirmedMatches(store, query)) {
        if (result.matches.length >= query.limit) break;
        const uid = uidOf(extra[query.level], query.level);
        if (uid !== undefined && !seen.has(uid)) {
          seen.add(uid);
          result.matches.push(extra);
        }
      }
    }
    // The audit trail records which studies the answer revealed (never the query's values).
    noteStudies(request, result.matches.map((m) => uidOf(m.study, 'study')));
    this.metrics.qidoResults.observe({ level: query.level }, result.matches.length);
    const body = qidoResponseBody(query, result.matches, base);
    const warnings = [...ignored, ...(result.ignored ?? []), ...(serverLimited && result.more ? [MORE_RESULTS] : [])];
    if (warnings.length > 0) reply.header('warning', warnings.map(warningHeader));
    // A Buffer, so that Fastify adds no charset parameter to the DICOM media type.
    reply.status(200).header('content-type', type).send(body);
  }
}
