/**
 * Reads an instance file of the embedded store by offset. The path comes from the index, is
 * relative to the store root and is checked to stay inside it, so a damaged index row can never
 * make the gateway read a file outside the store.
 */
import { resolve, sep } from 'node:path';
import { OpenedBytes } from '../wado-types';
import { StoredDataUnavailable } from '../store-errors';
import { FileHandleCache } from './file-handle-cache';
import { READ_BUFFER_BYTES, takeReadBuffer } from '../read-buffers';

/** Large enough that a 1 GB study is a few thousand reads, small enough to stay off the heap's
 *  large-object churn under many concurrent downloads. */
const CHUNK_BYTES = 1024 * 1024;

export function storedFilePath(root: string, relative: string): string {
  const base = resolve(root);
  const absolute = resolve(base, relative);
  if (!absolute.startsWith(base + sep)) throw new StoredDataUnavailable(`index path ${JSON.stringify(relative)} leaves the store`);
  return absolute;
}

/**
 * Opens a stored file of `size` bytes (as indexed). A missing file, or one shorter than the index
 * says, is a StoredDataUnavailable at open, so the answer can fail before it starts.
 */
export async function openStoredFile(root: string, relative: string, size: number, what: string, handles: FileHandleCache): Promise<OpenedBytes> {
  const path = storedFilePath(root, relative);
  let lease: Awaited<ReturnType<FileHandleCache['acquire']>>;
  try {
    lease = await handles.acquire(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StoredDataUnavailable(`the stored file of ${what} cannot be opened (${code ?? (e as Error).message})`);
  }
  const fh = lease.handle;
  if (lease.size < size) {
    lease.release();
    throw new StoredDataUnavailable(`the stored file of ${what} has ${lease.size} bytes, the index says ${size}`);
  }
  let closed = false;
  const readExactly = async (buffer: Buffer, position: number): Promise<void> => {
    let done = 0;
    while (done < buffer.length) {
      const { bytesRead } = await fh.read(buffer, done, buffer.length - done, position + done);
      if (bytesRead === 0) throw new StoredDataUnavailable(`the stored file of ${what} ends at byte ${position + done}, before the indexed ${size}`);
      done += bytesRead;
    }
  };
  const check = (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > size) {
      throw new StoredDataUnavailable(`bytes ${offset}..${offset + length} of ${what} are outside its ${size} stored bytes`);
    }
  };
  return {
    size,
    async *stream(offset: number, length: number) {
      check(offset, length);
      for (let position = offset, left = length; left > 0; ) {
        const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, left));
        await readExactly(buffer, position);
        position += buffer.length;
        left -= buffer.length;
        yield buffer;
      }
    },
    async *streamToSend(offset: number, length: number) {
      check(offset, length);
      for (let position = offset, left = length; left > 0; ) {
        const buffer = takeReadBuffer(Math.min(READ_BUFFER_BYTES, left));
        await readExactly(buffer, position);
        position += buffer.length;
        left -= buffer.length;
        yield buffer;
      }
    },
    async readToSend(offset: number, length: number) {
      check(offset, length);
      const buffer = length <= READ_BUFFER_BYTES ? takeReadBuffer(length) : Buffer.allocUnsafe(length);
      await readExactly(buffer, offset);
      return buffer;
    },
    async read(offset: number, length: number) {
      check(offset, length);
      const buffer = Buffer.allocUnsafe(length);
      await readExactly(buffer, offset);
      return buffer;
    },
    async close() {
      if (closed) return;
      closed = true;
      lease.release();
    },
  };
}
