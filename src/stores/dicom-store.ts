/**
 * The port every storage backend implements. Controllers talk only to this; a store never sees an
 * HTTP request. What a backend cannot do natively is done above the stores, in one place.
 *
 * It grows issue by issue: store (STOW) first; search (QIDO) and retrieve (WADO) follow.
 */
import { Readable } from 'node:stream';
import { ParsedPart10 } from '../dicom/dataset';
import { DicomJsonObject } from '../dicom/dicom-json';

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

export interface DicomStore {
  readonly name: string;
  readonly kind: string;
  readonly capabilities: StoreCapabilities;
  /**
   * Stores one instance. Resolves only once the instance is durable. Throws a StoreError subclass
   * (InstanceConflict, StorageFull, ...) when this one instance cannot be stored.
   */
  store(instance: IncomingInstance): Promise<StoreOutcome>;
  close(): Promise<void>;
}
