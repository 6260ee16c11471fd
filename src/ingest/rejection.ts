/**
 * Why an instance was not stored. Each reason maps to one PS3.18 failure reason in the STOW
 * response (dicomweb/stow/failure-reasons.ts); the message is for the human reading the log.
 */
import { InstanceIdentity } from '../stores/dicom-store';

export type RejectionReason =
  /** Not a DICOM Part-10 stream, or structurally broken, or cut short. */
  | 'cannot-understand'
  /** A transfer syntax the gateway does not read. */
  | 'unsupported-transfer-syntax'
  /** Required attributes missing or invalid, or inconsistent with the store's content. */
  | 'does-not-match'
  /** The Study Instance UID differs from the one in the request URL. */
  | 'study-mismatch'
  /** Contradicts what the archive holds (e.g. its series belongs to another study). */
  | 'inconsistent-with-archive'
  /** Same SOP Instance UID already stored with different bytes. */
  | 'duplicate-conflict'
  /** Larger than the configured limits, or the disk is full. */
  | 'out-of-resources'
  /** A part of the request that is not application/dicom. */
  | 'unsupported-media-type'
  /** Something failed on our side (a bug or an outage). */
  | 'processing-failure';

export class InstanceRejected extends Error {
  constructor(
    readonly reason: RejectionReason,
    message: string,
    readonly identity?: Partial<InstanceIdentity>,
  ) {
    super(message);
    this.name = 'InstanceRejected';
  }
}
