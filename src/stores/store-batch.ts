/**
 * Storing several instances into one store at once (the edge forwarder sends a study's instances
 * in batches): through the store's own `storeBatch` when it has one (one request for many
 * instances), else `store()` one by one, with the same contract either way (see
 * DicomStore.storeBatch): one outcome per instance in order, and a rejection of the whole only when
 * the store is unreachable or too slow, so that the caller retries the whole batch later.
 */
import { BatchItemOutcome, DicomStore, IncomingInstance } from './dicom-store';
import { UpstreamTimeout, UpstreamUnavailable } from './store-errors';

export type { BatchItemOutcome } from './dicom-store';

/** The store cannot be reached, is overloaded or paused, or did not answer in time: nothing was
 *  learnt of the instance itself, and asking again later makes sense. */
export function isStoreOutage(e: unknown): e is UpstreamUnavailable | UpstreamTimeout {
  return e instanceof UpstreamUnavailable || e instanceof UpstreamTimeout;
}

/** Whatever was thrown, as an Error. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Stores `instances` into `store`: one BatchItemOutcome per instance, in the same order. Rejects
 * (UpstreamUnavailable, UpstreamTimeout) only when the store is unreachable or too slow; every
 * other failure is the outcome of the instance it concerns.
 */
export async function storeAll(store: DicomStore, instances: readonly IncomingInstance[]): Promise<BatchItemOutcome[]> {
  if (instances.length === 0) return [];
  if (store.storeBatch) {
    const outcomes = await store.storeBatch([...instances]);
    if (outcomes.length !== instances.length) {
      throw new Error(`store "${store.name}" answered a batch of ${instances.length} instances with ${outcomes.length} outcomes`);
    }
    return outcomes;
  }
  const outcomes: BatchItemOutcome[] = [];
  for (const instance of instances) {
    try {
      outcomes.push({ ok: true, outcome: await store.store(instance) });
    } catch (e) {
      if (isStoreOutage(e)) throw e;
      outcomes.push({ ok: false, error: asError(e) });
    }
  }
  return outcomes;
}
