/**
 * The port every storage backend implements. Controllers talk only to this; a store never sees an
 * HTTP request. What a backend cannot do natively is done above the stores, in one place.
 *
 * It grows issue by issue: store (STOW) first; search (QIDO) and retrieve (WADO) follow.
 */
import { Readable } from 'node:stream';
import { ParsedPart10 } from '../dicom/dataset';
import { DicomJsonObject } from '../dicom/dicom-json';
import { QidoQuery, QidoResult } from './qido-query';
import {
  InstanceList,
  InstanceRef,
  MetadataEntry,
  RelayedAnswer,
  RenderRequest,
  RetrieveScope,
  StoredBulkData,
  StoredFrames,
  StoredInstance,
  TransferSyntaxChoice,
} from './wado-types';

/** The UIDs that identify an instance, validated (PS3.5 9.1) before any store sees them. */
export interface InstanceIdentity {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
}

/**
 * One instance on its way into a store: parsed once by ingest/, its bytes already staged on local
 * disk (fsynced), so every store can read them as often as it needs without re-parsing.
 */
export interface IncomingInstance {
  identity: InstanceIdentity;
  /** Header and element positions (Pixel Data by offset, never in memory). */
  parsed: ParsedPart10;
  /** DICOM JSON of the whole instance; BulkDataURIs are relative ("bulkdata/<tag path>"). */
  metadata: DicomJsonObject;
  /** The staged Part-10 file. A store that moves it away (instead of copying) sets `moved`. */
  staged: {
    path: string;
    size: number;
    sha256: string;
    moved?: boolean;
    /** The file belongs to someone else (the edge spool): a store must copy it, never move or
     *  delete it (and so never sets `moved`). */
    readOnly?: boolean;
  };
  open(): Readable;
  /** Who sent it and how, for routing and priority (edge forwarding); absent for internal copies. */
  context?: IngestContext;
}

export interface IngestContext {
  /** The client's authenticated name, else its IP address. */
  callingClient?: string;
  /** A priority the client asked for (X-Priority header), as sent: the edge decides whether this
   *  client may ask for one. */
  requestedPriority?: string;
  /** The instance was stored with a study token, i.e. a result written back by an AI service. */
  viaStudyToken?: boolean;
}

export type StoreOutcome =
  /** Newly stored and durable. */
  | { kind: 'stored' }
  /** The store already held this SOP Instance UID with identical bytes: nothing was written. */
  | { kind: 'already-stored' };

/**
 * The outcome of one instance of a batch (DicomStore.storeBatch, storeAll in store-batch.ts): what
 * `store()` would have resolved with, or the error it would have thrown.
 */
export type BatchItemOutcome = { ok: true; outcome: StoreOutcome } | { ok: false; error: Error };

export interface StoreCapabilities {
  stow: boolean;
  qido: boolean;
  wado: boolean;
}

/** What a store knows of its own health, without waiting on anything (GET /api/stores). */
export interface StoreHealth {
  status: 'healthy' | 'unhealthy' | 'unknown';
  /** Why, for a human; never a secret. */
  detail?: string;
  /** When it was last found out (ISO 8601). */
  checkedAt?: string;
  /** Remote stores: the state of the circuit breaker. */
  circuit?: 'closed' | 'open' | 'half-open';
  /** Remote stores: failed calls to the upstream since start, by kind. */
  failures?: Record<string, number>;
}

export interface DicomStore {
  readonly name: string;
  readonly kind: string;
  readonly capabilities: StoreCapabilities;
  /** How many instances of one STOW request it takes at once (default 1, one after another): a
   *  remote store hides its latency so, a store that batches needs it to batch. */
  readonly stowConcurrency?: number;
  /**
   * Stores one instance. Resolves only once the instance is durable. Throws a StoreError subclass
   * (InstanceConflict, StorageFull, ...) when this one instance cannot be stored.
   */
  store(instance: IncomingInstance): Promise<StoreOutcome>;
  /**
   * Optional: stores several instances in fewer round trips than one `store()` each (a remote store
   * sends them in one request). Callers use `storeAll()` (store-batch.ts), which falls back to
   * `store()` one by one for a store without it. The contract:
   * - It resolves with exactly one BatchItemOutcome per instance, in the order given. An entry is
   *   what `store()` would have given for that instance: `{ ok: true, outcome }` once it is durable
   *   (or was already held with identical bytes), `{ ok: false, error }` with the StoreError
   *   `store()` would have thrown (InstanceConflict, StorageFull, UpstreamRefused, ...). The failure
   *   of one instance never fails the others.
   * - A failure of the whole request that says nothing of any one instance and means "try again
   *   later" - the store cannot be reached, is overloaded or paused (UpstreamUnavailable), or did
   *   not answer in time (UpstreamTimeout) - rejects the promise as a whole with that error, so the
   *   caller retries the whole batch. Some instances may have been stored before it happened:
   *   storing again is safe (they come back as already-stored).
   * - Any other failure of a request (UpstreamError: a 5xx, a broken connection, an answer that
   *   cannot be read) is given as the `error` of every instance that request left undecided; it
   *   does not reject the promise.
   * - The same SOP Instance UID twice in one batch is handled as two `store()` calls in turn.
   * - Staged files are treated as by `store()`: never moved when `readOnly`, and `moved` set on
   *   each one a store did move.
   */
  storeBatch?(instances: IncomingInstance[]): Promise<BatchItemOutcome[]>;
  /**
   * QIDO-RS search (PS3.18 10.6): matches in a stable order, already paged. A promise of a page
   * rather than a stream: a page is bounded by the server's maximum limit, and whether more
   * matches exist (a Warning header) must be known before the answer starts.
   */
  search(query: QidoQuery): Promise<QidoResult>;
  /**
   * WADO-RS (PS3.18 10.4), see wado-types.ts. Each resolves only once the addressed resource is
   * known to exist (NotFound otherwise), so an answer can still fail cleanly before it starts.
   * A store holding the bytes hands them out as stored, read lazily, and they are converted above
   * the stores; a remote store may instead relay its upstream's answer (RelayedAnswer), in which
   * the upstream did the conversions.
   */
  /** The stored DICOM JSON of every instance in scope (BulkDataURIs relative). */
  metadata(scope: RetrieveScope): Promise<AsyncIterable<MetadataEntry>>;
  /** Every instance in scope, in series and instance number order, ready to be opened; or, for a
   *  study or series a store cannot answer whole, the list of its instances (InstanceList). */
  retrieve(scope: RetrieveScope, want: TransferSyntaxChoice): Promise<StoredInstance[] | RelayedAnswer | InstanceList>;
  /** The frames of one instance; `numbers` (1-based, in the order asked) for stores that relay. */
  frames(ref: InstanceRef, want: TransferSyntaxChoice, numbers: number[]): Promise<StoredFrames | RelayedAnswer>;
  /** One bulk data value, by the tag path of its BulkDataURI ("7FE00010", "00540016/0/00181074"). */
  bulkdata(ref: InstanceRef, tagPath: string, want: TransferSyntaxChoice): Promise<StoredBulkData | RelayedAnswer>;
  /** Optional: an instance (its first frame) or one frame rendered as an image by the store's
   *  upstream (PS3.18 10.4.1.1.3); absent where the store cannot render. */
  rendered?(ref: InstanceRef, frame: number | undefined, render: RenderRequest): Promise<RelayedAnswer>;
  /** Current health, as last found out (a remote store probes in the background). */
  health(): StoreHealth;
  close(): Promise<void>;
}
