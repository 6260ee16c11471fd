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
  InstanceRef,
  MetadataEntry,
  RelayedAnswer,
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
  staged: { path: string; size: number; sha256: string; moved?: boolean };
  open(): Readable;
}

export type StoreOutcome =
  /** Newly stored and durable. */
  | { kind: 'stored' }
  /** The store already held this SOP Instance UID with identical bytes: nothing was written. */
  | { kind: 'already-stored' };

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
}

export interface DicomStore {
  readonly name: string;
  readonly kind: string;
  readonly capabilities: StoreCapabilities;
  /**
   * Stores one instance. Resolves only once the instance is durable. Throws a StoreError subclass
   * (InstanceConflict, StorageFull, ...) when this one instance cannot be stored.
   */
  store(instance: IncomingInstance): Promise<StoreOutcome>;
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
  /** Every instance in scope, in series and instance number order, ready to be opened. */
  retrieve(scope: RetrieveScope, want: TransferSyntaxChoice): Promise<StoredInstance[] | RelayedAnswer>;
  /** The frames of one instance; `numbers` (1-based, in the order asked) for stores that relay. */
  frames(ref: InstanceRef, want: TransferSyntaxChoice, numbers: number[]): Promise<StoredFrames | RelayedAnswer>;
  /** One bulk data value, by the tag path of its BulkDataURI ("7FE00010", "00540016/0/00181074"). */
  bulkdata(ref: InstanceRef, tagPath: string, want: TransferSyntaxChoice): Promise<StoredBulkData | RelayedAnswer>;
  /** Current health, as last found out (a remote store probes in the background). */
  health(): StoreHealth;
  close(): Promise<void>;
}
