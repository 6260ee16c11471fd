/**
 * Types of the retrieve half of the DicomStore port (WADO-RS, PS3.18 10.4). A store hands out
 * what it holds, as it holds it: stored bytes, frame bytes, DICOM JSON text. Converting between
 * transfer syntaxes and framing answers is done once, above the stores (dicomweb/wado/ with the
 * encoders of dicom/), so every backend gets it without copying it.
 */
import { Readable } from 'node:stream';
import { RandomAccessBytes } from '../dicom/random-access';
import { PixelGeometry } from '../dicom/pixel-geometry';

export interface InstanceRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

/** What a retrieve or metadata request addresses; UIDs are validated (PS3.5 9.1) before. */
export type RetrieveScope =
  | { level: 'study'; studyInstanceUid: string }
  | { level: 'series'; studyInstanceUid: string; seriesInstanceUid: string }
  | ({ level: 'instance' } & InstanceRef);

/** One representation a client accepts (from its Accept header, PS3.18 8.7.3). */
export interface AcceptedRepresentation {
  /** Asked as multipart/related (else a single-part answer). */
  multipart: boolean;
  /** Payload media type, canonical ('application/dicom', 'image/jpeg') or a range ('image/*', '*\/*'). */
  payload: string;
  /** undefined: the default transfer syntax; '*': any. */
  transferSyntax?: string;
  q: number;
}

/**
 * Transfer syntaxes a client accepts, best first ('*': any). The local store returns what it
 * holds whatever this says; a remote store passes `ranges` on so its upstream converts natively.
 */
export interface TransferSyntaxChoice {
  acceptable: string[];
  /** The client's accepted representations, in its order. */
  ranges?: AcceptedRepresentation[];
}

/**
 * An answer produced by a remote store's upstream, streamed on as it arrives (never buffered
 * whole): the upstream did the conversions. dicomweb/wado re-frames it when its multipart framing
 * is not standard and unwraps it when the client asked for a single part.
 */
export interface RelayedAnswer {
  kind: 'relayed';
  /** Content-Type of the upstream's answer, as it sent it. */
  contentType: string;
  /** Content-Length, when the upstream sent one. */
  length?: number;
  /** Errors (instead of ending) when the upstream stops in the middle. */
  body: Readable;
  /** Releases the upstream connection when the body will not be read (to its end). */
  discard(): void;
  /** The media types to answer with, when the upstream labels its parts otherwise (HealthImaging
   *  sends compressed frames as application/octet-stream parts): `part` maps each part's (or a
   *  single-part answer's) Content-Type, `outer` is the multipart answer's `type`. */
  relabel?: { outer: string; part(contentType: string | undefined): string };
}

export function isRelayed(value: unknown): value is RelayedAnswer {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'relayed';
}

/**
 * The answer of a store that cannot retrieve a study or series in one piece (HealthImaging): its
 * instances, in order. dicomweb/wado retrieves each one and frames them into one answer, so a
 * client sees no difference (composed-retrieve.ts).
 */
export interface InstanceList {
  kind: 'instance-list';
  instances: InstanceRef[];
}

export function isInstanceList(value: unknown): value is InstanceList {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'instance-list';
}

/** Stored bytes opened for reading; close() releases the file (or connection). */
export interface OpenedBytes extends RandomAccessBytes {
  /** Like stream(), in buffers of stores/read-buffers.ts: for bytes sent to a socket unchanged,
   *  each chunk handed to releaseSent() once written. */
  streamToSend?(offset: number, length: number): AsyncIterable<Buffer>;
  /** Like read(), in a buffer of stores/read-buffers.ts when it fits: same contract. */
  readToSend?(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** One stored instance, before any byte of it is read. */
export interface StoredInstance {
  ref: InstanceRef;
  sopClassUid: string;
  /** Transfer syntax of the stored bytes. */
  transferSyntaxUid: string;
  /** Stored as a bare data set, without preamble and File Meta Information (PS3.10 7.1). */
  bareDataset: boolean;
  /** Size of the stored bytes. */
  size: number;
  /** Where the data set starts in the stored bytes (after the File Meta Information). */
  datasetOffset: number;
  /** The pixel data exists only in lossy compressed form (Lossy Image Compression "01", or a
   *  lossy-only transfer syntax): PS3.18 8.7.3 then lets it be answered as stored by default. */
  lossy: boolean;
  /** Native Pixel Data value position in the stored bytes (a header parser may skip it unread). */
  nativePixelData?: { offset: number; length: number };
  /** The Pixel Data's geometry, when the store knows it without reading the file: which
   *  conversions are possible is decided with it before the answer starts. */
  pixel?: PixelGeometry;
  open(): Promise<OpenedBytes>;
}

/** DICOM JSON of one instance as stored: BulkDataURIs are relative ("bulkdata/<tag path>"). */
export interface MetadataEntry {
  ref: InstanceRef;
  json: string;
}

/** Image Pixel attributes of an instance, and its Pixel Data element. */
export interface PixelDescription extends PixelGeometry {
  /** VR of the Pixel Data element as stored (OB, OW, OF, OD). */
  vr: string;
}

/** One frame's bytes as stored: native pixels (in the stored byte order) or the compressed
 *  codestream (its fragments joined, PS3.18 8.7.3.3.2). */
export interface StoredFrame {
  number: number;
  bytes: Buffer;
}

/** The frames of one instance. */
export interface StoredFrames {
  instance: StoredInstance;
  pixel: PixelDescription;
  /** True when frames are compressed codestreams (encapsulated Pixel Data). */
  encapsulated: boolean;
  /** Byte order of native frame bytes (false only for Explicit VR Big Endian). */
  littleEndian: boolean;
  /** Reads the frames (1-based numbers, already checked against numberOfFrames) in that order. */
  read(numbers: number[]): AsyncIterable<StoredFrame>;
}

/** A bulk data value (PS3.18 10.4.1.1.5). */
export type StoredBulkData =
  /** A value read from the stored bytes, in the stored byte order. */
  | { kind: 'value'; vr: string; length: number; littleEndian: boolean; stream(): AsyncIterable<Buffer> }
  /** The top-level Pixel Data: served frame by frame. */
  | { kind: 'pixel-data'; frames: StoredFrames };

/**
 * A rendered resource asked for (PS3.18 10.4.1.1.3, 8.3.5.1), its parameters already checked: the
 * media types the client takes, best first, and the presentation parameters, in canonical form.
 */
export interface RenderRequest {
  /** image/jpeg, image/png, image/gif..., best first. */
  mediaTypes: string[];
  window?: { center: number; width: number; function: 'linear' | 'linear-exact' | 'sigmoid' };
  /** Output size, and optionally the source region (sx, sy, sw, sh) to render. */
  viewport?: { width: number; height: number; source?: [number, number, number, number] };
  /** 1-100, for lossy media types. */
  quality?: number;
}
