/**
 * Errors raised while reading DICOM. They say what is wrong with the data, never how to answer
 * over HTTP: the DICOMweb layer maps them to status codes and PS3.18 failure reasons.
 */
export type InvalidDicomKind =
  /** No 128-byte preamble followed by "DICM": not a Part-10 file. */
  | 'not-part10'
  /** File Meta Information missing, malformed, or without a Transfer Syntax UID. */
  | 'bad-meta'
  /** A transfer syntax the gateway does not know how to read. */
  | 'unsupported-transfer-syntax'
  /** The stream ended before the data set did (inside an element, a sequence, or Pixel Data). */
  | 'truncated'
  /** Structurally invalid: impossible lengths, items outside sequences, bad delimiters, bad VR. */
  | 'malformed'
  /** Header values larger than the configured limit (a defence against lying lengths). */
  | 'too-large';

export class InvalidDicom extends Error {
  constructor(
    readonly kind: InvalidDicomKind,
    message: string,
    /** Byte offset in the input where the problem was found, when known. */
    readonly offset?: number,
  ) {
    super(message);
    this.name = 'InvalidDicom';
  }
}
