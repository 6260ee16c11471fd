/**
 * A study or series retrieve composed of instance retrieves, for stores that have no such
 * resource (InstanceList: HealthImaging offers instance retrieve only). The answer is one
 * multipart/related; type="application/dicom" of the instances in the store's order, each part
 * the one part of its instance's own answer, streamed; the next instances are asked for while one
 * is being sent, so the upstream's latency is paid once, not once per instance. Only a few answers
 * are open at a time, each bounded by its connection's read-ahead, so memory stays constant
 * whatever the study's size.
 *
 * The first instance is opened before the answer starts (its failure is still a clean status); an
 * instance that has gone since the listing is left out; any other failure later aborts the answer.
 */
import type { FastifyReply } from 'fastify';
import { NotFound, UpstreamError } from '../../stores/store-errors';
import { InstanceRef, RelayedAnswer } from '../../stores/wado-types';
import { parseContentType } from '../multipart/content-type';
import { MultipartError, readMultipart } from '../multipart/multipart-reader';
import { closeDelimiter, newBoundary, partHeader } from '../multipart/multipart-writer';
import { DICOM } from './media-types';
import { normalized } from './relayed-answer';
import { AnswerBody, multipartContentType, sendAnswer } from './streamed-answer';

/** One instance's part: its Content-Type and bytes; release() when it will not be read. */
export interface ComposedPart {
  contentType: string;
  body: AsyncIterable<Buffer>;
  release(): void;
}

/** Instance answers asked for ahead of the one being sent. */
const LOOKAHEAD = 2;

export async function sendComposed(reply: FastifyReply, refs: InstanceRef[], open: (ref: InstanceRef) => Promise<ComposedPart>, what: string): Promise<void> {
  const boundary = newBoundary();
  const pending: (Promise<ComposedPart | undefined> | undefined)[] = new Array(refs.length);
  const start = (i: number) => {
    if (i >= refs.length || pending[i]) return;
    // An instance removed since the listing: left out (undefined), not a failure of the study.
    const p = open(refs[i]).catch((e: unknown) => {
      if (e instanceof NotFound) return undefined;
      throw e;
    });
    p.catch(() => undefined); // observed when awaited
    pending[i] = p;
  };
  const release = (from: number) => {
    for (let k = from; k < refs.length; k++) void pending[k]?.then((p) => p?.release(), () => undefined);
  };
  const body: AnswerBody = {
    async *chunks() {
      let sent = 0;
      let i = 0;
      try {
        for (; i < refs.length; i++) {
          for (let k = 0; k <= LOOKAHEAD; k++) start(i + k);
          const part = await pending[i];
          if (!part) continue;
          yield partHeader(boundary, { 'Content-Type': part.contentType }, sent > 0);
          sent++;
          yield* part.body;
        }
        if (sent === 0) throw new NotFound(`${what}: none of its instances is stored here any more`);
        yield closeDelimiter(boundary, true);
      } finally {
        release(i + 1);
      }
    },
  };
  return sendAnswer(reply, multipartContentType(boundary, DICOM), body, what);
}

/** The one part of an upstream's answer for one instance: the answer itself when single-part. */
export async function partOfRelayed(answer: RelayedAnswer): Promise<ComposedPart> {
  const outer = parseContentType(answer.contentType);
  const label = (type: string | undefined) => (answer.relabel ? answer.relabel.part(type) : type ? normalized(type) : DICOM);
  if (outer?.mediaType !== 'multipart/related') {
    return { contentType: label(answer.contentType), body: answer.body, release: () => answer.discard() };
  }
  const boundary = outer.params.boundary;
  if (!boundary) {
    answer.discard();
    throw new UpstreamError('the upstream answered a multipart message without a boundary');
  }
  const parts = readMultipart(answer.body, boundary, { onStop: 'destroy' });
  let first;
  try {
    first = await parts.next();
  } catch (e) {
    throw e instanceof MultipartError ? new UpstreamError(`the upstream's multipart answer is broken: ${e.message}`) : e;
  }
  if (first.done) {
    answer.discard();
    throw new UpstreamError('the upstream answered a multipart message without any part');
  }
  const part = first.value;
  return {
    contentType: label(part.contentType),
    body: (async function* () {
      try {
        yield* part.body as AsyncIterable<Buffer>;
      } finally {
        await parts.return(undefined);
      }
    })(),
    release: () => answer.discard(),
  };
}
