/**
 * STOW-RS through an upstream: each instance staged and validated by ingest is POSTed as one
 * multipart/related part, streamed from its staging file, and the upstream's answer is read for
 * that one instance (PS3.18 10.5.3):
 * - in the Referenced SOP Sequence: stored;
 * - in the Failed SOP Sequence: refused, with the upstream's Failure Reason;
 * - in neither (a silent drop), or an answer without a body: a processing failure (0x0110), never
 *   a success.
 * Upstreams such as Orthanc answer 200 to a second instance with the same SOP Instance UID and
 * different content, and keep the first: with verifyDuplicates, an instance the upstream already
 * has is compared byte for byte first, so the client gets "already stored" or a conflict (0x0111)
 * as from the embedded store.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { DicomJsonObject } from '../../dicom/dicom-json';
import { IncomingInstance, StoreOutcome } from '../dicom-store';
import { InstanceConflict, StorageFull, UpstreamRefused } from '../store-errors';
import { KeyedLock } from '../local/keyed-lock';
import { skipBody, UpstreamClient } from './upstream-client';
import { errorDetail } from './upstream-failures';
import { hashSinglePart } from './single-part-hash';

const FAILURE = { processing: 0x0110, duplicate: 0x0111, outOfResources: 0xa700 } as const;
const REFERENCED_SOP_SEQUENCE = '00081199';
const FAILED_SOP_SEQUENCE = '00081198';
const REFERENCED_SOP_INSTANCE_UID = '00081155';
const FAILURE_REASON = '00081197';

export class UpstreamStow {
  private readonly locks = new KeyedLock();

  constructor(
    private readonly client: UpstreamClient,
    private readonly storeName: string,
    private readonly verifyDuplicates: boolean,
  ) {}

  store(instance: IncomingInstance): Promise<StoreOutcome> {
    // One upload of a SOP Instance at a time, so a duplicate check is not raced by its twin.
    return this.locks.run(instance.identity.sopInstanceUid, async () => {
      if (this.verifyDuplicates) {
        const existing = await this.compareWithUpstream(instance);
        if (existing) return existing;
      }
      return this.post(instance);
    });
  }

  private async post(instance: IncomingInstance): Promise<StoreOutcome> {
    const sop = instance.identity.sopInstanceUid;
    const boundary = `gateway-${randomBytes(12).toString('hex')}`;
    const head = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${instance.staged.size}\r\n\r\n`, 'latin1');
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
    const response = await this.client.send({
      method: 'POST',
      path: '/studies',
      what: 'store',
      headers: {
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
        'content-length': String(head.length + instance.staged.size + tail.length),
        accept: 'application/dicom+json',
      },
      body: () => Readable.from(framed(head, instance.staged.path, tail), { objectMode: false }),
    });
    const text = await this.client.text(response, 'store');
    const answer = parseObject(text);
    const named = `upstream store "${this.storeName}"`;
    if (inSequence(answer?.[REFERENCED_SOP_SEQUENCE], sop)) return { kind: 'stored' };
    const failed = findItem(answer?.[FAILED_SOP_SEQUENCE], sop);
    if (failed) {
      const reason = Number(failed[FAILURE_REASON]?.Value?.[0] ?? FAILURE.processing);
      const message = `${named} refused the instance (failure reason 0x${reason.toString(16).toUpperCase().padStart(4, '0')})`;
      if (reason === FAILURE.duplicate) throw new InstanceConflict(`${message}: it holds another instance with this SOP Instance UID`);
      if (reason === FAILURE.outOfResources) throw new StorageFull(`${message}: out of resources`);
      throw new UpstreamRefused(message, reason);
    }
    if (response.status === 413) throw new StorageFull(`${named} answered 413: the instance is too large for it`);
    const detail = answer ? 'without listing the instance as stored or failed' : errorDetail(text) || 'without a STOW-RS answer';
    throw new UpstreamRefused(`${named} answered ${response.status} ${detail}: the instance is not confirmed as stored`, FAILURE.processing);
  }

  /** 'already-stored' when the upstream holds these very bytes, InstanceConflict when other bytes,
   *  undefined when it does not hold the instance. */
  private async compareWithUpstream(instance: IncomingInstance): Promise<StoreOutcome | undefined> {
    const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = instance.identity;
    const response = await this.client.send({
      method: 'GET',
      path: `/studies/${studyInstanceUid}/series/${seriesInstanceUid}/instances/${sopInstanceUid}`,
      headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      what: 'duplicate check',
    });
    if (response.status === 404) {
      await skipBody(response.body);
      return undefined;
    }
    if (response.status !== 200) {
      const text = await this.client.text(response, 'duplicate check');
      throw this.client.unexpected(response.status, text, 'duplicate check');
    }
    let held: { sha256: string; size: number } | undefined;
    try {
      held = await hashSinglePart(response.body as AsyncIterable<Buffer>, String(response.headers['content-type'] ?? ''));
    } catch (e) {
      throw this.client.failedBody(e, 'duplicate check');
    }
    if (held?.sha256 === instance.staged.sha256) return { kind: 'already-stored' };
    throw new InstanceConflict(
      `SOP Instance ${sopInstanceUid} is already stored in upstream store "${this.storeName}" with different content; ` +
        'the gateway refuses to replace instances',
    );
  }
}

async function* framed(head: Buffer, path: string, tail: Buffer): AsyncGenerator<Buffer> {
  yield head;
  yield* createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
  yield tail;
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

function inSequence(sequence: DicomJsonObject[string] | undefined, sop: string): boolean {
  return findItem(sequence, sop) !== undefined;
}
