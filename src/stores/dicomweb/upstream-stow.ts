/**
 * STOW-RS through an upstream: each instance staged and validated by ingest is POSTed as one
 * multipart/related part, streamed from its staging file, and the upstream's answer is read for
 * that one instance (stow-protocol.ts: stored, refused with the upstream's Failure Reason, or a
 * silent drop, which is a processing failure 0x0110 and never a success). A batch goes in one
 * request (storeBatch, upstream-stow-batch.ts).
 * Upstreams such as Orthanc answer 200 to a second instance with the same SOP Instance UID and
 * different content, and keep the first: with verifyDuplicates, an instance the upstream already
 * has is compared byte for byte first, so the client gets "already stored" or a conflict (0x0111)
 * as from the embedded store.
 */
import { BatchItemOutcome, IncomingInstance, StoreOutcome } from '../dicom-store';
import { InstanceConflict } from '../store-errors';
import { KeyedLock } from '../local/keyed-lock';
import { skipBody, UpstreamClient } from './upstream-client';
import { hashSinglePart, hashWhole } from './single-part-hash';
import { FailureInterpreter, outcomeOf, postInstances } from './stow-protocol';
import { UpstreamStowBatch } from './upstream-stow-batch';

/** What differs between upstreams in storing. */
export interface UpstreamStowOptions {
  verifyDuplicates: boolean;
  /** Largest STOW request the upstream takes; batches are split below it. */
  maxRequestBytes?: number;
  /** Accept of the duplicate check's instance retrieve: the stored bytes, as the upstream says it
   *  (default multipart/related; type="application/dicom"; transfer-syntax=*). */
  storedBytesAccept?: string;
  /** For an upstream that transcodes what it stores: when the bytes differ, whether the content
   *  is the same after all (then 'already-stored'). */
  compareContent?: (instance: IncomingInstance) => Promise<{ same: boolean; why?: string }>;
  /** The upstream's own reading of its STOW failures. */
  interpretFailure?: FailureInterpreter;
}

const STORED_BYTES = 'multipart/related; type="application/dicom"; transfer-syntax=*';

export class UpstreamStow {
  private readonly locks = new KeyedLock();
  private readonly batches: UpstreamStowBatch;
  private readonly verifyDuplicates: boolean;
  private readonly options: UpstreamStowOptions;

  constructor(
    private readonly client: UpstreamClient,
    private readonly storeName: string,
    options: UpstreamStowOptions | boolean,
  ) {
    this.options = typeof options === 'boolean' ? { verifyDuplicates: options } : options;
    this.verifyDuplicates = this.options.verifyDuplicates;
    const compare = this.verifyDuplicates ? (instance: IncomingInstance) => this.compareWithUpstream(instance) : undefined;
    this.batches = new UpstreamStowBatch(client, storeName, compare, this.options.maxRequestBytes, this.options.interpretFailure);
  }

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

  /**
   * Several instances in one request (DicomStore.storeBatch), with the duplicate checks done per
   * series (upstream-stow-batch.ts). The locks of all its SOP Instances are held throughout, taken
   * in sorted order so that two batches never wait on each other; the same SOP Instance UID twice
   * in the batch goes in a later round, as a second store() would.
   */
  async storeBatch(instances: IncomingInstance[]): Promise<BatchItemOutcome[]> {
    const outcomes: BatchItemOutcome[] = new Array<BatchItemOutcome>(instances.length);
    for (const round of rounds(instances)) {
      const members = round.map((i) => instances[i]);
      const sops = members.map((m) => m.identity.sopInstanceUid);
      const results = await this.withLocks(sops, () => this.batches.store(members));
      round.forEach((index, k) => (outcomes[index] = results[k]));
    }
    return outcomes;
  }

  private async post(instance: IncomingInstance): Promise<StoreOutcome> {
    const reply = await postInstances(this.client, [instance]);
    return outcomeOf(reply, instance.identity.sopInstanceUid, this.storeName, this.options.interpretFailure);
  }

  /** Runs `work` holding the lock of every key, taken one by one in sorted order. */
  private withLocks<T>(keys: string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const take = (i: number): Promise<T> => (i === sorted.length ? work() : this.locks.run(sorted[i], () => take(i + 1)));
    return take(0);
  }

  /** The duplicate check alone, for a store that sends instances some other way (an import
   *  job): as compareWithUpstream, or undefined without verifyDuplicates. */
  async checkHeld(instance: IncomingInstance): Promise<StoreOutcome | undefined> {
    return this.verifyDuplicates ? this.compareWithUpstream(instance) : undefined;
  }

  /** 'already-stored' when the upstream holds these very bytes, InstanceConflict when other bytes,
   *  undefined when it does not hold the instance. */
  private async compareWithUpstream(instance: IncomingInstance): Promise<StoreOutcome | undefined> {
    const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = instance.identity;
    const response = await this.client.send({
      method: 'GET',
      path: `/studies/${studyInstanceUid}/series/${seriesInstanceUid}/instances/${sopInstanceUid}`,
      headers: { accept: this.options.storedBytesAccept ?? STORED_BYTES },
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
    const contentType = String(response.headers['content-type'] ?? '');
    try {
      held = /^\s*multipart\//i.test(contentType)
        ? await hashSinglePart(response.body as AsyncIterable<Buffer>, contentType)
        : await hashWhole(response.body as AsyncIterable<Buffer>);
    } catch (e) {
      throw this.client.failedBody(e, 'duplicate check');
    }
    if (held?.sha256 === instance.staged.sha256) return { kind: 'already-stored' };
    const content = this.options.compareContent ? await this.options.compareContent(instance) : undefined;
    if (content?.same) return { kind: 'already-stored' };
    throw new InstanceConflict(
      `SOP Instance ${sopInstanceUid} is already stored in upstream store "${this.storeName}" with different content` +
        `${content?.why ? ` (${content.why})` : ''}; the gateway refuses to replace instances`,
    );
  }
}

/** Indexes of the batch in rounds where each SOP Instance UID appears once: the n-th occurrence of
 *  a UID goes in round n (almost always a single round). */
function rounds(instances: IncomingInstance[]): number[][] {
  const seen = new Map<string, number>();
  const result: number[][] = [];
  instances.forEach((instance, index) => {
    const sop = instance.identity.sopInstanceUid;
    const round = seen.get(sop) ?? 0;
    seen.set(sop, round + 1);
    (result[round] ??= []).push(index);
  });
  return result;
}
