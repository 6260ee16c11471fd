/**
 * The STOW-RS exchange with an upstream (PS3.18 10.5), shared by the one-instance upload and the
 * batch: the multipart/related request, streamed from the staged files (never buffered, its
 * Content-Length from their sizes), and the reading of the answer for each instance sent
 * (PS3.18 10.5.3):
 * - in the Referenced SOP Sequence: stored;
 * - in the Failed SOP Sequence: refused, with the upstream's Failure Reason;
 * - in neither (a silent drop), or an answer without a body: a processing failure (0x0110), never
 *   a success.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { DicomJsonObject } from '../../dicom/dicom-json';
import { IncomingInstance, StoreOutcome } from '../dicom-store';
import { InstanceConflict, StorageFull, UpstreamRefused } from '../store-errors';
import { UpstreamClient } from './upstream-client';
import { errorDetail } from './upstream-failures';

export const FAILURE = { processing: 0x0110, duplicate: 0x0111, outOfResources: 0xa700 } as const;
const REFERENCED_SOP_SEQUENCE = '00081199';
const FAILED_SOP_SEQUENCE = '00081198';
const REFERENCED_SOP_INSTANCE_UID = '00081155';
const FAILURE_REASON = '00081197';

/** The upstream's answer to one STOW-RS request. */
export interface StowReply {
  status: number;
  text: string;
  /** The answer as a DICOM JSON object; undefined when it is not one (empty, HTML, ...). */
  answer: DicomJsonObject | undefined;
}

/** POSTs the instances as one multipart/related request and reads the whole (small) answer. */
export async function postInstances(client: UpstreamClient, instances: IncomingInstance[]): Promise<StowReply> {
  const boundary = `gateway-${randomBytes(12).toString('hex')}`;
  const heads = instances.map((instance) =>
    Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${instance.staged.size}\r\n\r\n`, 'latin1'),
  );
  const separator = Buffer.from('\r\n', 'latin1');
  const close = Buffer.from(`--${boundary}--\r\n`, 'latin1');
  // Each part: its head, the file, CRLF (which begins the next delimiter or the close delimiter).
  const length = instances.reduce((sum, instance, i) => sum + heads[i].length + instance.staged.size + separator.length, close.length);
  const body = () => Readable.from(framed(instances, heads, separator, close), { objectMode: false });
  // A signed request (AWS) covers the body's hash: one read of the staged files before sending.
  const payloadSha256 = client.needsPayloadHash ? await sha256Of(framed(instances, heads, separator, close)) : undefined;
  const response = await client.send({
    method: 'POST',
    path: '/studies',
    what: 'store',
    headers: {
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      'content-length': String(length),
      accept: 'application/dicom+json',
    },
    body,
    payloadSha256,
  });
  const text = await client.text(response, 'store');
  return { status: response.status, text, answer: parseObject(text) };
}

/**
 * What the answer says of one instance sent: 'stored', or the error it maps to (InstanceConflict,
 * StorageFull, UpstreamRefused), thrown.
 */
/** An upstream's own reading of a Failed SOP Sequence item (Google tells a conflicting duplicate
 *  by its FailureDetail, not its Failure Reason): the error to throw, or undefined for the
 *  standard reading. */
export type FailureInterpreter = (item: DicomJsonObject, reply: StowReply, named: string) => Error | undefined;

export function outcomeOf(reply: StowReply, sop: string, storeName: string, interpret?: FailureInterpreter): StoreOutcome {
  const { answer, status } = reply;
  const named = `upstream store "${storeName}"`;
  if (findItem(answer?.[REFERENCED_SOP_SEQUENCE], sop)) return { kind: 'stored' };
  const failed = findItem(answer?.[FAILED_SOP_SEQUENCE], sop);
  if (failed) {
    const own = interpret?.(failed, reply, named);
    if (own) throw own;
    const reason = Number(failed[FAILURE_REASON]?.Value?.[0] ?? FAILURE.processing);
    const message = `${named} refused the instance (failure reason 0x${reason.toString(16).toUpperCase().padStart(4, '0')})`;
    if (reason === FAILURE.duplicate) throw new InstanceConflict(`${message}: it holds another instance with this SOP Instance UID`);
    if (reason === FAILURE.outOfResources) throw new StorageFull(`${message}: out of resources`);
    throw new UpstreamRefused(message, reason);
  }
  if (status === 413) throw new StorageFull(`${named} answered 413: the instance is too large for it`);
  const detail = answer ? 'without listing the instance as stored or failed' : errorDetail(reply.text) || 'without a STOW-RS answer';
  throw new UpstreamRefused(`${named} answered ${status} ${detail}: the instance is not confirmed as stored`, FAILURE.processing);
}

async function* framed(instances: IncomingInstance[], heads: Buffer[], separator: Buffer, close: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < instances.length; i++) {
    yield heads[i];
    yield* createReadStream(instances[i].staged.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
    yield separator;
  }
  yield close;
}

async function sha256Of(chunks: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** Bytes of the multipart/related request that carries these instances (its framing included),
 *  at most: each part's Content-Length counted with 20 digits. */
export function stowRequestBytes(instances: readonly IncomingInstance[]): number {
  const boundary = 'gateway-'.length + 24;
  // "--" boundary CRLF "Content-Type: application/dicom" CRLF "Content-Length: " n CRLF CRLF file CRLF
  const perPart = 2 + boundary + 2 + 31 + 2 + 16 + 20 + 4 + 2;
  const close = 2 + boundary + 2 + 2;
  return instances.reduce((sum, i) => sum + perPart + i.staged.size, close);
}

function parseObject(text: string): DicomJsonObject | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as DicomJsonObject) : undefined;
  } catch {
    return undefined;
  }
}

function findItem(sequence: DicomJsonObject[string] | undefined, sop: string): DicomJsonObject | undefined {
  const items = Array.isArray(sequence?.Value) ? sequence!.Value : [];
  return items.find((item): item is DicomJsonObject => {
    const value = (item as DicomJsonObject | null)?.[REFERENCED_SOP_INSTANCE_UID]?.Value?.[0];
    return value === sop;
  });
}
