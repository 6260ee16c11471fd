/**
 * Open read handles of stored instance files, kept for reuse. Stored files never change once
 * indexed, so a handle (and the size checked when it was opened) stays valid; viewers read the
 * same instances again and again (frames of a series, a study and then its frames), and an open,
 * fstat and close per read cost more main-thread time than the read itself (--cpu-prof).
 * Handles in use are never closed; idle ones beyond `capacity` are closed, oldest first.
 */
import { FileHandle, open } from 'node:fs/promises';

interface Entry {
  handle: FileHandle;
  size: number;
  users: number;
}

export class FileHandleCache {
  /** Map order is recency order: re-inserted on every use. */
  private readonly entries = new Map<string, Entry>();
  private readonly opening = new Map<string, Promise<Entry>>();

  constructor(private readonly capacity = 256) {}

  /** A handle and the file's size; call release() exactly once when done with it. */
  async acquire(path: string): Promise<{ handle: FileHandle; size: number; release(): void }> {
    let entry = this.entries.get(path);
    if (entry) {
      this.entries.delete(path);
      this.entries.set(path, entry);
    } else {
      let pending = this.opening.get(path);
      if (!pending) {
        pending = this.openEntry(path).finally(() => this.opening.delete(path));
        this.opening.set(path, pending);
      }
      entry = await pending;
    }
    const e = entry;
    e.users++;
    let released = false;
    return {
      handle: e.handle,
      size: e.size,
      release: () => {
        if (released) return;
        released = true;
        e.users--;
        this.evict();
      },
    };
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.handle.close().catch(() => undefined)));
  }

  private async openEntry(path: string): Promise<Entry> {
    const handle = await open(path, 'r');
    try {
      const entry = { handle, size: (await handle.stat()).size, users: 0 };
      this.entries.set(path, entry);
      this.evict();
      return entry;
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
  }

  private evict(): void {
    if (this.entries.size <= this.capacity) return;
    for (const [path, entry] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      if (entry.users > 0) continue;
      this.entries.delete(path);
      void entry.handle.close().catch(() => undefined);
    }
  }
}
