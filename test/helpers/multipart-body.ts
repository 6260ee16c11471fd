/** Builds multipart/related request bodies the way DICOMweb clients send them. */
export interface TestPart {
  body: Buffer;
  /** undefined: application/dicom; null: no Content-Type header at all. */
  contentType?: string | null;
}

export function multipartBody(parts: (Buffer | TestPart)[], boundary = 'test-boundary-7d3f0c'): {
  body: Buffer;
  contentType: string;
} {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const part: TestPart = Buffer.isBuffer(p) ? { body: p } : p;
    const type = part.contentType === undefined ? 'application/dicom' : part.contentType;
    chunks.push(Buffer.from(`--${boundary}\r\n${type === null ? '' : `Content-Type: ${type}\r\n`}\r\n`));
    chunks.push(part.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
  };
}
