/**
 * The one bucket of the fake S3: objects as files in a folder, indexed in memory by key, listed in
 * key order as S3 lists them. The import job reads its input and writes its results here directly.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export interface S3Object {
  key: string;
  filePath: string;
  size: number;
  etag: string; // with its quotes, as S3 sends it
  lastModified: Date;
  contentType: string;
  /** Base64 big-endian CRC32 of the content (x-amz-checksum-crc32). */
  crc32: string;
}

export function crc32Base64(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b.toString('base64');
}

export class S3ObjectStore {
  private readonly objects = new Map<string, S3Object>();

  constructor(
    readonly bucket: string,
    private readonly dir: string,
  ) {}

  private fileFor(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex')}.object`);
  }

  /** Moves a received temp file into place as `key`. */
  putFile(key: string, tempPath: string, info: { size: number; md5: string; crc32: number; contentType?: string }): S3Object {
    const filePath = this.fileFor(key);
    renameSync(tempPath, filePath);
    const object: S3Object = {
      key,
      filePath,
      size: info.size,
      etag: `"${info.md5}"`,
      lastModified: new Date(Math.floor(Date.now() / 1000) * 1000),
      contentType: info.contentType ?? 'application/octet-stream',
      crc32: crc32Base64(info.crc32),
    };
    this.objects.set(key, object);
    return object;
  }

  putBytes(key: string, bytes: Buffer, contentType: string): S3Object {
    const temp = `${this.fileFor(key)}.tmp`;
    writeFileSync(temp, bytes);
    return this.putFile(key, temp, { size: bytes.length, md5: createHash('md5').update(bytes).digest('hex'), crc32: crc32(bytes), contentType });
  }

  get(key: string): S3Object | undefined {
    return this.objects.get(key);
  }

  read(key: string): Buffer {
    const object = this.objects.get(key);
    if (!object) throw new Error(`no object ${key}`);
    return readFileSync(object.filePath);
  }

  delete(key: string): void {
    const object = this.objects.get(key);
    if (!object) return;
    this.objects.delete(key);
    rmSync(object.filePath, { force: true });
  }

  /** Objects whose key starts with `prefix`, in key (UTF-8 byte) order, after `startAfter`. */
  list(prefix: string, startAfter = ''): S3Object[] {
    return [...this.objects.values()]
      .filter((o) => o.key.startsWith(prefix) && Buffer.compare(Buffer.from(o.key), Buffer.from(startAfter)) > 0)
      .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }
}
