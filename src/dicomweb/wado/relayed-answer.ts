/**
 * Sending an answer a remote store relays from its upstream (RelayedAnswer), streamed as it
 * arrives with backpressure:
 * - a multipart/related answer framed as PS3.18 8.7.3 says (`type` a bare media type) goes out
 *   byte for byte, with the upstream's Content-Length, through a native pipe (piped-answer.ts);
 * - one framed otherwise is re-framed part by part, parsed with the multipart reader and written
 *   with the writer. Orthanc puts the transfer syntax inside the quoted `type` of frame answers
 *   (`type="application/octet-stream; transfer-syntax=..."`) and a Content-Location with its own
 *   URL in each part; the re-framed answer has a bare `type` and parts with their Content-Type
 *   only, so a client never sees the upstream's address;
 * - a client that asked for a single part (application/dicom, image/jpeg...) gets the one part's
 *   body with that part's Content-Type.
 * An upstream that fails in the middle aborts the client's response (streamed-answer.ts), so a
 * cut answer never looks complete.
 */
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { RelayedAnswer } from '../../stores/wado-types';
import { formatContentType, parseContentType } from '../multipart/content-type';
import { MultipartError, MultipartPart, readMultipart } from '../multipart/multipart-reader';
import { closeDelimiter, newBoundary, partHeader } from '../multipart/multipart-writer';
import { PartHeaderRewriter } from '../multipart/part-header-rewriter';
import { pipeAnswer } from './piped-answer';
import { AnswerBody, multipartContentType, sendAnswer } from './streamed-answer';
import { UpstreamError } from '../../stores/store-errors';

/** RFC 2046 bchars, as the writer checks them: the upstream's boundary is echoed in a header. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** Standard answers with a Content-Length go out byte for byte; false re-frames every answer. */
const PASS_THROUGH = true;

export async function sendRelayed(reply: FastifyReply, answer: RelayedAnswer, singlePart: boolean, what: string): Promise<void> {
  const outer = parseContentType(answer.contentType);
  if (outer?.mediaType !== 'multipart/related' || !outer.params.boundary) {
    // A single-part answer from the upstream: as it is, or as the one part of a multipart answer.
    const type = answer.relabel ? answer.relabel.part(answer.contentType) : normalized(answer.contentType);
    if (singlePart) return pipeAnswer(reply, type, answer.length, answer.body, what);
    const boundary = newBoundary();
    return sendAnswer(reply, multipartContentType(boundary, bareType(type)), wrapped(boundary, type, answer.body), what);
  }
  const boundary = outer.params.boundary;
  if (!BOUNDARY.test(boundary)) {
    answer.discard();
    throw new UpstreamError(`${what}: the upstream's multipart boundary is not valid (RFC 2046)`);
  }
  if (singlePart) return sendFirstPart(reply, answer, boundary, what);
  const payload = outer.params.type;
  if (PASS_THROUGH && !answer.relabel && payload !== undefined && !payload.includes(';') && answer.length !== undefined) {
    return pipeAnswer(reply, answer.contentType, answer.length, answer.body, what);
  }
  // Orthanc writes `type="application/octet-stream; transfer-syntax=..."`: the media type only.
  const type = answer.relabel?.outer ?? (payload ? bareType(payload) : 'application/octet-stream');
  const relabel = answer.relabel;
  const rewriter = new PartHeaderRewriter(boundary, (headers) => {
    const out = partHeaders(headers, type);
    if (relabel) out['Content-Type'] = relabel.part(headers['content-type']);
    return out;
  });
  // A plain pipe, not stream.pipeline: pipeline builds an AbortError (a DOMException with its
  // stack) for every answer it finishes, 2% of the gateway's CPU for relayed frames. Errors of
  // either side are passed on by hand: an upstream failure aborts the answer, a client gone
  // stops the upstream.
  answer.body.on('error', (e) => rewriter.destroy(e));
  rewriter.on('close', () => {
    if (!answer.body.readableEnded) answer.body.destroy();
  });
  answer.body.pipe(rewriter);
  try {
    return await pipeAnswer(reply, multipartContentType(boundary, type), undefined, rewriter, what);
  } catch (e) {
    if (e instanceof MultipartError) throw new UpstreamError(`${what}: the upstream's multipart answer is broken: ${e.message}`);
    throw e;
  }
}

/** What each relayed part keeps: its Content-Type (normalized) and Content-Length, nothing that
 *  names the upstream (Orthanc adds a Content-Location with its own URL to every frame). */
function partHeaders(headers: Record<string, string>, defaultType: string): Record<string, string> {
  const out: Record<string, string> = { 'Content-Type': headers['content-type'] ? normalized(headers['content-type']) : defaultType };
  const length = headers['content-length'];
  if (length !== undefined && /^\d{1,15}$/.test(length)) out['Content-Length'] = length;
  return out;
}

async function sendFirstPart(reply: FastifyReply, answer: RelayedAnswer, upstreamBoundary: string, what: string): Promise<void> {
  const iterator = parts(answer, upstreamBoundary);
  const first = await iterator.next();
  if (first.done) {
    answer.discard();
    throw new UpstreamError(`${what}: the upstream answered a multipart message without any part`);
  }
  const part = first.value;
  const declared = part.headers['content-length'];
  const body: AnswerBody = {
    length: declared !== undefined && /^\d{1,15}$/.test(declared) ? Number(declared) : undefined,
    async *chunks() {
      try {
        yield* part.body as AsyncIterable<Buffer>;
      } finally {
        // One part was asked for; whatever follows is not read.
        await iterator.return(undefined);
      }
    },
  };
  const type = answer.relabel ? answer.relabel.part(part.contentType) : part.contentType ? normalized(part.contentType) : 'application/octet-stream';
  return sendAnswer(reply, type, body, what);
}

/** The upstream's parts; a framing error is the upstream's fault, reported as such. */
async function* parts(answer: RelayedAnswer, boundary: string): AsyncGenerator<MultipartPart> {
  try {
    for await (const part of readMultipart(answer.body, boundary, { onStop: 'destroy' })) yield part;
  } catch (e) {
    if (e instanceof MultipartError) throw new UpstreamError(`the upstream's multipart answer is broken: ${e.message}`);
    throw e;
  }
}

function wrapped(boundary: string, type: string, body: Readable): AnswerBody {
  return {
    async *chunks() {
      yield partHeader(boundary, { 'Content-Type': type }, false);
      yield* body as AsyncIterable<Buffer>;
      yield closeDelimiter(boundary);
    },
  };
}

/** A Content-Type re-written from its parsed form: printable, canonical, no stray parameters. */
export function normalized(contentType: string): string {
  const parsed = parseContentType(contentType);
  if (!parsed) return 'application/octet-stream';
  const ts = parsed.params['transfer-syntax'];
  return formatContentType(parsed.mediaType, ts && /^[0-9.]{1,64}$/.test(ts) ? { 'transfer-syntax': ts } : {});
}

function bareType(contentType: string): string {
  return parseContentType(contentType)?.mediaType ?? 'application/octet-stream';
}
