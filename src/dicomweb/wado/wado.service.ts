/**
 * WADO-RS over HTTP (PS3.18 10.4): checks the URL, asks the store for what it holds, negotiates
 * the representation of every part before the first byte (a 406 is still possible then), and
 * streams the answer. Conversions run here, above the stores, through the encoders of dicom/ and
 * the codec workers of pixels/; rendered images and thumbnails are rendered.service.ts's.
 */
import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG } from '../../config/config.module';
import { GatewayConfig } from '../../config/gateway-config';
import { swapChunks, swapWordSize } from '../../dicom/byte-swap';
import { MetadataCacheService } from '../../cache/metadata-cache.service';
import { StoreRegistry } from '../../stores/registry';
import { DicomStore } from '../../stores/dicom-store';
import { NotFound } from '../../stores/store-errors';
import { relayedFramesAsStored } from './relayed-frames';
import { spooledInstanceBody, spoolRelayedInstance } from './relayed-instance';
import { join } from 'node:path';
import { conversionLimit, upstreamCannotConvert } from './conversion-fallbacks';
import { InstanceRef, isInstanceList, isRelayed, RelayedAnswer, RetrieveScope, StoredFrames, StoredInstance, TransferSyntaxChoice } from '../../stores/wado-types';
import { negotiate } from '../accept';
import { NotAcceptable, ResourceNotFound, warningHeader } from '../errors';
import { formatContentType } from '../multipart/content-type';
import { closeDelimiter, partHeader } from '../multipart/multipart-writer';
import { storeTarget } from '../store-target';
import { sendRelayed } from './relayed-answer';
import { ComposedPart, partOfRelayed, sendComposed } from './composed-retrieve';
import { checkFirstFrame, frameBytesAs } from './frame-body';
import { instanceBody } from './instance-body';
import { DICOM, DICOM_JSON, OCTET_STREAM } from './media-types';
import { collectSmall, metadataChunks } from './metadata-body';
import { AnswerBody, multipartBody, multipartContentType, newBoundary, PlannedPart, sendAnswer, sendBuffer, sendBuffers } from './streamed-answer';
import { describeOffers, instanceOffers, pixelOffers, syntaxName } from './wado-offers';
import { acceptableSyntaxes, Selection, selectRepresentation, WadoRange, wadoRanges } from './wado-negotiation';
import { acceptOf, bulkDataPath, frameNumbers, instanceRef, WadoParams } from './wado-request';
import { PixelCodecs } from '../../pixels/pixel-codecs.service';

const METADATA_TYPES = [DICOM_JSON, 'application/json'];

/** What the client accepts, for the store: transfer syntaxes, and the ranges themselves for a
 *  store that passes them on to its upstream. */
function choiceOf(ranges: WadoRange[]): TransferSyntaxChoice {
  return {
    acceptable: acceptableSyntaxes(ranges),
    ranges: ranges.map((r) => ({ multipart: r.multipart, payload: r.payload, transferSyntax: r.transferSyntax, q: r.q })),
  };
}

/**
 * For a relayed answer: whether the client's preferred representation is a single part. When it
 * accepts only single parts and one is not possible here, 406 (the upstream answer is released).
 */
function wantsSinglePart(ranges: WadoRange[], possible: boolean, discard: () => void): boolean {
  const accepted = ranges.filter((r) => r.q > 0);
  const best = accepted[0];
  if (best && !best.multipart && possible) return true;
  if (accepted.some((r) => r.multipart)) return false;
  discard();
  throw new NotAcceptable('a single-part answer is only possible for one instance, frame or bulk data value; accept multipart/related');
}

function withSyntax(mediaType: string, transferSyntaxUid: string): string {
  return formatContentType(mediaType, { 'transfer-syntax': transferSyntaxUid });
}

@Injectable()
export class WadoService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly stores: StoreRegistry,
    private readonly metadataCache: MetadataCacheService,
    private readonly codecs: PixelCodecs,
  ) {}

  /** Study, series or instance as multipart/related; type="application/dicom" (10.4.1.1.1-3). */
  async instances(request: FastifyRequest, reply: FastifyReply, scope: RetrieveScope): Promise<void> {
    const { store } = storeTarget(request, this.stores, this.config);
    const ranges = wadoRanges(acceptOf(request), 'instance');
    let stored: Awaited<ReturnType<DicomStore['retrieve']>>;
    try {
      stored = await store.retrieve(scope, choiceOf(ranges));
    } catch (e) {
      // The upstream cannot convert the instance as asked: fetched as stored, converted here.
      if (!upstreamCannotConvert(e) || scope.level !== 'instance') throw e;
      return this.convertRelayedInstance(reply, store, scope, ranges);
    }
    const what = `retrieve of ${scope.level} ${scope.level === 'study' ? scope.studyInstanceUid : scope.level === 'series' ? scope.seriesInstanceUid : scope.sopInstanceUid}`;
    if (isRelayed(stored)) return sendRelayed(reply, stored, wantsSinglePart(ranges, scope.level === 'instance', stored.discard), what);
    if (isInstanceList(stored)) {
      wantsSinglePart(ranges, false, () => undefined);
      return sendComposed(reply, stored.instances, (ref) => this.instancePart(store, ref, ranges), what);
    }
    const singlePart = scope.level === 'instance' && stored.length === 1;
    const plans = stored.map((instance) => ({ instance, selection: this.selectForInstance(ranges, instance, singlePart) }));
    const only = plans[0];
    if (plans.length === 1) await checkFirstFrame(this.codecs, store, only.instance, only.selection.transferSyntaxUid);
    if (singlePart && !only.selection.multipart) {
      const body = instanceBody(only.instance, only.selection.transferSyntaxUid, { codecs: this.codecs, store: store.name });
      return sendAnswer(reply, withSyntax(only.selection.contentType, only.selection.transferSyntaxUid), body, what);
    }
    const boundary = newBoundary();
    const parts: PlannedPart[] = plans.map(({ instance, selection }) => {
      const body = instanceBody(instance, selection.transferSyntaxUid, { codecs: this.codecs, store: store.name });
      return { headers: { 'Content-Type': withSyntax(DICOM, selection.transferSyntaxUid) }, length: body.length, body: body.chunks };
    });
    return sendAnswer(reply, multipartContentType(boundary, DICOM), multipartBody(boundary, parts), what);
  }

  /** Study, series or instance metadata as application/dicom+json (10.4.1.2, Annex F). */
  async metadata(request: FastifyRequest, reply: FastifyReply, scope: RetrieveScope): Promise<void> {
    const type = negotiate(acceptOf(request), METADATA_TYPES);
    if (!type) throw new NotAcceptable('Metadata is answered as application/dicom+json (or application/json) only; XML metadata is not supported');
    const { store, base } = storeTarget(request, this.stores, this.config);
    if (this.metadataCache.applies(store)) {
      const cached = await this.metadataCache.metadata(store, scope);
      // The body also depends on the public base URL written into its BulkDataURIs.
      const etag = `"${cached.contentHash}.${createHash('sha1').update(base).digest('base64url').slice(0, 10)}"`;
      reply.header('etag', etag);
      if (cached.unconfirmed) reply.header('warning', warningHeader('served from uploads through this gateway; the upstream has not confirmed them yet'));
      if (matchesEtag(request.headers['if-none-match'], etag)) {
        reply.status(304);
        return void reply.send();
      }
      const whole = await collectSmall(metadataChunks(listOf(cached.entries), base));
      if (whole.whole) return sendBuffer(reply, type, whole.whole);
      return sendAnswer(reply, type, { chunks: () => whole.stream! }, `metadata of ${scope.level}`);
    }
    const entries = await store.metadata(scope);
    const answer = await collectSmall(metadataChunks(entries, base));
    if (answer.whole) return sendBuffer(reply, type, answer.whole);
    return sendAnswer(reply, type, { chunks: () => answer.stream! }, `metadata of ${scope.level}`);
  }

  /** Frames of an instance (10.4.1.1.4). */
  async frames(request: FastifyRequest, reply: FastifyReply, params: WadoParams): Promise<void> {
    const ref = instanceRef(params);
    const numbers = frameNumbers(params.frames);
    const { store } = storeTarget(request, this.stores, this.config);
    const ranges = wadoRanges(acceptOf(request), 'pixels');
    let frames: StoredFrames | RelayedAnswer;
    try {
      frames = await store.frames(ref, choiceOf(ranges), numbers);
    } catch (e) {
      // The upstream cannot convert them as asked: the frames as stored, converted here.
      if (!upstreamCannotConvert(e)) throw e;
      frames = await relayedFramesAsStored(store, ref, numbers);
    }
    if (isRelayed(frames)) {
      return sendRelayed(reply, frames, wantsSinglePart(ranges, numbers.length === 1, frames.discard), `frames of instance ${ref.sopInstanceUid}`);
    }
    const count = frames.pixel.numberOfFrames;
    const outside = numbers.find((n) => n > count);
    if (outside !== undefined) {
      throw new ResourceNotFound(`Frame ${outside} does not exist: instance ${ref.sopInstanceUid} has ${count} frame${count === 1 ? '' : 's'}`);
    }
    return this.sendFrames(reply, store.name, ranges, frames, numbers);
  }

  /** A bulk data value named by a BulkDataURI this gateway handed out (10.4.1.1.5). */
  async bulkdata(request: FastifyRequest, reply: FastifyReply, params: WadoParams): Promise<void> {
    const ref = instanceRef(params);
    const path = bulkDataPath(params['*']);
    const { store } = storeTarget(request, this.stores, this.config);
    const ranges = wadoRanges(acceptOf(request), 'pixels');
    const bulk = await store.bulkdata(ref, path, choiceOf(ranges));
    if (isRelayed(bulk)) return sendRelayed(reply, bulk, wantsSinglePart(ranges, true, bulk.discard), `bulk data ${path} of instance ${ref.sopInstanceUid}`);
    if (bulk.kind === 'pixel-data') {
      const count = bulk.frames.pixel.numberOfFrames;
      return this.sendFrames(reply, store.name, ranges, bulk.frames, Array.from({ length: count }, (_, i) => i + 1));
    }
    const selection = selectRepresentation(ranges, [{ mediaType: OCTET_STREAM, transferSyntaxUid: '1.2.840.10008.1.2.1', cost: 0 }], true);
    if (!selection) throw new NotAcceptable('Bulk data is answered as application/octet-stream (multipart/related or single part) only');
    // Values are always little endian in an answer, as in InlineBinary (dicom-json.ts).
    const wordSize = bulk.littleEndian ? 1 : swapWordSize(bulk.vr);
    const part = { length: bulk.length, chunks: () => swapChunks(bulk.stream(), wordSize) };
    const what = `bulk data ${path} of instance ${ref.sopInstanceUid}`;
    if (!selection.multipart) return sendAnswer(reply, OCTET_STREAM, part, what);
    const boundary = newBoundary();
    const body = multipartBody(boundary, [{ headers: { 'Content-Type': OCTET_STREAM }, length: part.length, body: part.chunks }]);
    return sendAnswer(reply, multipartContentType(boundary, OCTET_STREAM), body, what);
  }

  /** An instance of a remote store whose upstream cannot convert it as asked, converted here
   *  from the stored form spooled to disk (relayed-instance.ts). */
  private async convertRelayedInstance(reply: FastifyReply, store: DicomStore, ref: InstanceRef, ranges: WadoRange[]): Promise<void> {
    const { selection, body, release } = await this.spooledPart(store, ref, ranges, true);
    try {
      const what = `retrieve of instance ${ref.sopInstanceUid} (converted here)`;
      if (!selection.multipart) return await sendAnswer(reply, withSyntax(selection.contentType, selection.transferSyntaxUid), body, what);
      const boundary = newBoundary();
      const parts: PlannedPart[] = [{ headers: { 'Content-Type': withSyntax(DICOM, selection.transferSyntaxUid) }, length: body.length, body: body.chunks }];
      return await sendAnswer(reply, multipartContentType(boundary, DICOM), multipartBody(boundary, parts), what);
    } catch (e) {
      await release();
      throw e;
    }
  }

  /** A remote instance spooled, its representation chosen, its body (which deletes the spool
   *  file when it ends) and what deletes the file when the body will not be read. */
  private async spooledPart(store: DicomStore, ref: InstanceRef, ranges: WadoRange[], singlePart: boolean): Promise<{ selection: Selection; body: AnswerBody; release(): Promise<void> }> {
    const spooled = await spoolRelayedInstance(store, ref, join(this.config.dataDir, 'staging'));
    try {
      const selection = this.selectForInstance(ranges, spooled.instance, singlePart);
      const body = spooledInstanceBody(spooled, selection.transferSyntaxUid, { codecs: this.codecs, store: store.name });
      return { selection, body, release: () => spooled.release() };
    } catch (e) {
      await spooled.release();
      throw e;
    }
  }

  /** One instance of a composed study or series answer, as its multipart part. */
  private async instancePart(store: DicomStore, ref: InstanceRef, ranges: WadoRange[]): Promise<ComposedPart> {
    let one: Awaited<ReturnType<DicomStore['retrieve']>>;
    try {
      one = await store.retrieve({ level: 'instance', ...ref }, choiceOf(ranges));
    } catch (e) {
      if (!upstreamCannotConvert(e)) throw e;
      const { selection, body, release } = await this.spooledPart(store, ref, ranges, false);
      return { contentType: withSyntax(DICOM, selection.transferSyntaxUid), body: body.chunks(), release: () => void release() };
    }
    if (isRelayed(one)) return partOfRelayed(one);
    const instance = isInstanceList(one) ? undefined : one[0];
    if (!instance) throw new NotFound(`Instance ${ref.sopInstanceUid} is not stored here`);
    const selection = this.selectForInstance(ranges, instance, false);
    const body = instanceBody(instance, selection.transferSyntaxUid, { codecs: this.codecs, store: store.name });
    return { contentType: withSyntax(DICOM, selection.transferSyntaxUid), body: body.chunks(), release: () => undefined };
  }

  private selectForInstance(ranges: WadoRange[], instance: StoredInstance, singlePart: boolean): Selection {
    const offers = instanceOffers(instance.transferSyntaxUid, instance.bareDataset, instance.pixel);
    const selection = selectRepresentation(ranges, offers, singlePart, instance.lossy ? instance.transferSyntaxUid : undefined);
    if (selection) return selection;
    throw new NotAcceptable(
      `Instance ${instance.ref.sopInstanceUid} is stored as ${syntaxName(instance.transferSyntaxUid)} and cannot be answered as asked ` +
        `(${conversionLimit(instance.transferSyntaxUid, instance.pixel)}); acceptable: multipart/related; ${describeOffers(offers)}`,
    );
  }

  private async sendFrames(reply: FastifyReply, store: string, ranges: WadoRange[], frames: StoredFrames, numbers: number[]): Promise<void> {
    const stored = frames.instance.transferSyntaxUid;
    const offers = pixelOffers(stored, frames.encapsulated, frames.pixel);
    const selection = selectRepresentation(ranges, offers, numbers.length === 1, frames.instance.lossy ? stored : undefined);
    if (!selection) {
      throw new NotAcceptable(
        `The frames of instance ${frames.instance.ref.sopInstanceUid} are stored as ${syntaxName(stored)} and cannot be answered as asked ` +
          `(${conversionLimit(stored, frames.pixel)}); acceptable: multipart/related; ${describeOffers(offers)}`,
      );
    }
    const type = withSyntax(selection.contentType, selection.transferSyntaxUid);
    const boundary = newBoundary();
    const contentType = selection.multipart ? multipartContentType(boundary, selection.contentType) : type;
    if (numbers.length === 1) {
      // The common case of viewers: one read, one buffer, Content-Length.
      const frame = await this.readOne(store, frames, numbers[0], selection.transferSyntaxUid);
      const body = selection.multipart ? [partHeader(boundary, { 'Content-Type': type }, false), frame, closeDelimiter(boundary)] : [frame];
      return sendBuffers(reply, contentType, body);
    }
    const codecs = this.codecs;
    const body: AnswerBody = {
      async *chunks() {
        let afterPart = false;
        for await (const frame of frames.read(numbers)) {
          const bytes = await frameBytesAs(codecs, store, frames, frame, selection.transferSyntaxUid);
          yield partHeader(boundary, { 'Content-Type': type }, afterPart);
          yield bytes;
          afterPart = true;
        }
        yield closeDelimiter(boundary, afterPart);
      },
    };
    return sendAnswer(reply, contentType, body, `frames of instance ${frames.instance.ref.sopInstanceUid}`);
  }

  private async readOne(store: string, frames: StoredFrames, number: number, targetSyntax: string): Promise<Buffer> {
    for await (const frame of frames.read([number])) return frameBytesAs(this.codecs, store, frames, frame, targetSyntax);
    throw new Error(`frame ${number} was not read`);
  }
}

/** If-None-Match (RFC 9110 13.1.2): "*" or a list of entity tags, weak ones compared weakly. */
function matchesEtag(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.trim() === '*') return true;
  return value.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

async function* listOf<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}
