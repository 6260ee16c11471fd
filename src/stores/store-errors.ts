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

/** A search this store cannot answer as asked (a key its upstream cannot match and the gateway
 *  cannot match on its results): the client's request, refused with 400 and the reason. */
export class UnsupportedSearch extends StoreError {}

/** The study, series, instance or frame asked for does not exist. */
export class NotFound extends StoreError {}

/** No store of that name is configured. */
export class UnknownStore extends NotFound {}

/** A remote store failed to answer usefully; never the client's fault (5xx). */
export class UpstreamFailure extends StoreError {
  constructor(
    message: string,
    /** When asking again makes sense (Retry-After), if known. */
    readonly retryAfterSeconds?: number,
    /** The upstream's HTTP status, when it answered at all. */
    readonly upstreamStatus?: number,
  ) {
    super(message);
  }
}

/** A remote store could not be reached, is overloaded, or its circuit breaker is open (503). */
export class UpstreamUnavailable extends UpstreamFailure {}

/** A remote store did not answer within its time limits (504). */
export class UpstreamTimeout extends UpstreamFailure {}

/** A remote store answered with a server error, a malformed answer, or refused the gateway's own
 *  credentials (502). */
export class UpstreamError extends UpstreamFailure {}

/** A remote store cannot produce the representation asked for (406). */
export class UpstreamNotAcceptable extends StoreError {}

/** A remote store refused to store an instance, with the PS3.18 Table 10.5.3-2 failure reason it
 *  gave (or 0x0110 when it dropped the instance without saying why). */
export class UpstreamRefused extends StoreError {
  constructor(
    message: string,
    readonly failureReason: number,
  ) {
    super(message);
  }
}

/** The instance contradicts what the store holds (e.g. its series belongs to another study). */
export class InconsistentInstance extends StoreError {}

/** Bytes the index says are stored cannot be read (file missing or shorter than indexed): a
 *  fault of the store, never of the request. */
export class StoredDataUnavailable extends StoreError {}
