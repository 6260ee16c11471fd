/**
 * A batch of instances to an upstream in one STOW-RS request (DicomStore.storeBatch), for the edge
 * forwarder, which sends a study's instances together:
 * - with verifyDuplicates, which of them the upstream already holds is asked once per series (a
 *   QIDO search of the series' instances by List of UID Matching on their SOP Instance UIDs,
 *   PS3.18 8.3.4.1); only those it holds are fetched and compared byte for byte (already stored, or
 *   InstanceConflict), as store() does for each;
 * - the others go in one multipart/related POST, streamed from their files, and the answer is read
 *   for each instance exactly as for one (stow-protocol.ts). An upstream that finds the request too
 *   large (413) gets it again in halves.
 * An unreachable or silent upstream rejects the whole batch (UpstreamUnavailable, UpstreamTimeout);
 * any other failure is the outcome of the instances it leaves undecided (see DicomStore.storeBatch).
 * Called by UpstreamStow with the locks of the batch's SOP Instances held, each UID once.
 */
import { stat } from 'node:fs/promises';
import { DicomJsonObject } from '../../dicom/dicom-json';
import { BatchItemOutcome, IncomingInstance, StoreOutcome } from '../dicom-store';
import { asError, isStoreOutage } from '../store-batch';
import { StoredDataUnavailable } from '../store-errors';
import { skipBody, UpstreamClient } from './upstream-client';
import { FailureInterpreter, outcomeOf, postInstances, stowRequestBytes, StowReply } from './stow-protocol';

/** SOP Instance UIDs per duplicate-check search (a URL of about 3 KiB). */
const UID_BATCH = 50;
/** Held instances fetched and compared at once. */
const COMPARE_CONCURRENCY = 4;
const SOP_INSTANCE_UID = '00080018';

/** store()'s byte-for-byte check of one instance: 'already-stored', InstanceConflict (thrown), or
 *  undefined when the upstream does not hold it. */
export type CompareWithUpstream = (instance: IncomingInstance) => Promise<StoreOutcome | undefined>;

export class UpstreamStowBatch {
  constructor(
    private readonly client: UpstreamClient,
    private readonly storeName: string,
    /** Set when verifyDuplicates. */
    private readonly compare?: CompareWithUpstream,
    /** Largest request the upstream takes (HealthImaging: 1 GB): batches are split below it. */
    private readonly maxRequestBytes = Number.MAX_SAFE_INTEGER,
    private readonly interpret?: FailureInterpreter,
  ) {}

  /** One outcome per instance, in order; each SOP Instance UID at most once in `instances`. */
  async store(instances: IncomingInstance[]): Promise<BatchItemOutcome[]> {
    const outcomes: (BatchItemOutcome | undefined)[] = new Array<BatchItemOutcome | undefined>(instances.length);
    let pending = await this.readable(instances, outcomes);
    if (this.compare) pending = await this.notHeld(instances, pending, outcomes);
    for (const group of this.bySize(pending, instances)) {
      const posted = await this.post(group.map((i) => instances[i]));
      group.forEach((index, k) => (outcomes[index] = posted[k]));
    }
    return outcomes as BatchItemOutcome[];
  }

  /** The indexes in consecutive groups, each within maxRequestBytes (an instance alone may be over:
   *  the store's caller keeps such instances out). */
  private bySize(indexes: number[], instances: IncomingInstance[]): number[][] {
    const empty = stowRequestBytes([]);
    const groups: number[][] = [];
    let group: number[] = [];
    let bytes = empty;
    for (const index of indexes) {
      const part = stowRequestBytes([instances[index]]) - empty;
      if (group.length > 0 && bytes + part > this.maxRequestBytes) {
        groups.push(group);
        group = [];
        bytes = empty;
      }
      group.push(index);
      bytes += part;
    }
    if (group.length > 0) groups.push(group);
    return groups;
  }

  /** Indexes of the instances whose files are there with their size: one missing file must fail
   *  its instance, not the request that carries the others. */
  private async readable(instances: IncomingInstance[], outcomes: (BatchItemOutcome | undefined)[]): Promise<number[]> {
    const sizes = await Promise.all(instances.map((i) => stat(i.staged.path).then((s) => s.size, (e: Error) => e)));
    return instances.flatMap((instance, index) => {
      const size = sizes[index];
      if (size === instance.staged.size) return [index];
      const why = size instanceof Error ? size.message : `${size} bytes instead of ${instance.staged.size}`;
      const error = new StoredDataUnavailable(`the file of instance ${instance.identity.sopInstanceUid} cannot be sent: ${why}`);
      outcomes[index] = { ok: false, error };
      return [];
    });
  }

  /** Of `pending`, the indexes of the instances the upstream does not hold; the outcome of the
   *  others (already stored, conflict, a failed check) is set. */
  private async notHeld(instances: IncomingInstance[], pending: number[], outcomes: (BatchItemOutcome | undefined)[]): Promise<number[]> {
    const bySeries = new Map<string, number[]>();
    for (const index of pending) {
      const { studyInstanceUid, seriesInstanceUid } = instances[index].identity;
      const key = `/studies/${studyInstanceUid}/series/${seriesInstanceUid}/instances`;
      const list = bySeries.get(key) ?? [];
      list.push(index);
      bySeries.set(key, list);
    }
    const toCompare: number[] = [];
    const absent = new Set<number>();
    for (const [path, indexes] of bySeries) {
      for (let i = 0; i < indexes.length; i += UID_BATCH) {
        const chunk = indexes.slice(i, i + UID_BATCH);
        const held = await this.heldOf(path, chunk.map((index) => instances[index].identity.sopInstanceUid));
        for (const index of chunk) {
          if (!held || held.has(instances[index].identity.sopInstanceUid)) toCompare.push(index);
          else absent.add(index);
        }
      }
    }
    for (const index of await this.compareAll(instances, toCompare, outcomes)) absent.add(index);
    return pending.filter((index) => absent.has(index));
  }

  /**
   * Which of `uids` the upstream holds in the series at `path`; undefined when it cannot tell (the
   * search failed, or the answer is not one), so each is then checked on its own. A 404 or 204
   * (no such study or series) or an empty answer: none held.
   */
  private async heldOf(path: string, uids: string[]): Promise<Set<string> | undefined> {
    const query = `${SOP_INSTANCE_UID}=${uids.join(',')}&includefield=${SOP_INSTANCE_UID}&limit=${uids.length}`;
    const what = 'duplicate check (search)';
    let value: unknown;
    try {
      const response = await this.client.send({ method: 'GET', path: `${path}?${query}`, headers: { accept: 'application/dicom+json' }, what });
      if (response.status === 404 || response.status === 204) {
        await skipBody(response.body);
        return new Set();
      }
      const text = await this.client.text(response, what);
      if (response.status !== 200) return undefined;
      if (text.trim() === '') return new Set();
      value = JSON.parse(text);
    } catch (e) {
      if (isStoreOutage(e)) throw e;
      return undefined;
    }
    if (!Array.isArray(value)) return undefined;
    const wanted = new Set(uids);
    const held = new Set<string>();
    for (const item of value) {
      const uid = (item as DicomJsonObject | null)?.[SOP_INSTANCE_UID]?.Value?.[0];
      if (typeof uid !== 'string') return undefined;
      // An upstream that ignored the UID list answers with other instances, cut at the limit:
      // those asked for may be beyond it.
      if (!wanted.has(uid)) {
        if (value.length >= uids.length) return undefined;
        continue;
      }
      held.add(uid);
    }
    return held;
  }

  /** Compares the instances at `indexes` with the upstream's copies; returns those it does not
   *  hold after all. An outage stops the comparisons and rejects, once those under way are done. */
  private async compareAll(instances: IncomingInstance[], indexes: number[], outcomes: (BatchItemOutcome | undefined)[]): Promise<number[]> {
    const absent: number[] = [];
    let outage: { error: unknown } | undefined;
    let next = 0;
    const worker = async () => {
      while (!outage && next < indexes.length) {
        const index = indexes[next++];
        try {
          const existing = await this.compare!(instances[index]);
          if (existing) outcomes[index] = { ok: true, outcome: existing };
          else absent.push(index);
        } catch (e) {
          if (isStoreOutage(e)) outage ??= { error: e };
          else outcomes[index] = { ok: false, error: asError(e) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(COMPARE_CONCURRENCY, indexes.length) }, worker));
    if (outage) throw outage.error;
    return absent;
  }

  /** One POST for all `instances` (in halves after a 413); the outcome of each from the answer. */
  private async post(instances: IncomingInstance[]): Promise<BatchItemOutcome[]> {
    let reply: StowReply;
    try {
      reply = await postInstances(this.client, instances);
    } catch (e) {
      if (isStoreOutage(e)) throw e;
      const error = asError(e);
      return instances.map(() => ({ ok: false, error }));
    }
    if (reply.status === 413 && instances.length > 1) {
      const half = Math.ceil(instances.length / 2);
      return [...(await this.post(instances.slice(0, half))), ...(await this.post(instances.slice(half)))];
    }
    return instances.map((instance): BatchItemOutcome => {
      try {
        return { ok: true, outcome: outcomeOf(reply, instance.identity.sopInstanceUid, this.storeName, this.interpret) };
      } catch (e) {
        return { ok: false, error: asError(e) };
      }
    });
  }
}
