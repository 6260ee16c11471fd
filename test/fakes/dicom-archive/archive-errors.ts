/**
 * Typed errors of the fake archive. The cloud layer on top (AWS, Google) maps each to its own wire
 * shape and status code; the archive itself knows nothing of HTTP.
 */
export class ArchiveNotFound extends Error {
  override readonly name = 'ArchiveNotFound';
}

/** The representation asked for (a transfer syntax) cannot be produced from what is stored. */
export class ArchiveNotAcceptable extends Error {
  override readonly name = 'ArchiveNotAcceptable';
}

/** A QIDO query the archive refuses: unknown or not allowed key, bad value, limit out of range. */
export class ArchiveInvalidQuery extends Error {
  override readonly name = 'ArchiveInvalidQuery';
}

/** A request about pixel data that cannot be answered as asked (bad frame list, no Pixel Data). */
export class ArchiveBadRequest extends Error {
  override readonly name = 'ArchiveBadRequest';
}
