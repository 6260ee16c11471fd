/**
 * Domain errors thrown by stores. They describe what went wrong; dicomweb/errors.ts decides how
 * each is answered (status code, PS3.18 failure reason).
 */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The SOP Instance UID is already stored with different content (we refuse, never replace). */
export class InstanceConflict extends StoreError {}

/** The store has no room left (disk full, quota). */
export class StorageFull extends StoreError {}

/** The study, series, instance or frame asked for does not exist. */
export class NotFound extends StoreError {}

/** A remote store could not be reached or answered with a server error. */
export class UpstreamUnavailable extends StoreError {
  constructor(message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

/** The instance contradicts what the store holds (e.g. its series belongs to another study). */
export class InconsistentInstance extends StoreError {}

/** Bytes the index says are stored cannot be read (file missing or shorter than indexed): a
 *  fault of the store, never of the request. */
export class StoredDataUnavailable extends StoreError {}
