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
  /** Forgotten while in use: closed by its last release instead of being kept. */
  retired?: boolean;
}

interface Opening {
  promise: Promise<Entry>;
  /** forget() was called while the file was being opened: the entry is not to be kept. */
  forgotten: boolean;
}

export class FileHandleCache {
  /** Map order is recency order: re-inserted on every use. */
  private readonly entries = new Map<string, Entry>();
  private readonly opening = new Map<string, Opening>();

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
        const opening: Opening = { promise: undefined!, forgotten: false };
        opening.promise = this.openEntry(path, opening).finally(() => {
          if (this.opening.get(path) === opening) this.opening.delete(path);
        });
        this.opening.set(path, opening);
        pending = opening;
      }
      entry = await pending.promise;
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
        if (!e.retired) this.evict();
        else if (e.users === 0) void e.handle.close().catch(() => undefined);
      },
    };
  }

  /**
   * The file at `path` was deleted: its handle is not handed out again (a later file at the same
   * path is opened afresh). Reads holding it finish on the unlinked file, which is closed at their
   * last release; an open under way when this is called is closed after its readers instead of
   * being kept.
   */
  forget(path: string): void {
    const opening = this.opening.get(path);
    if (opening) {
      opening.forgotten = true;
      this.opening.delete(path);
    }
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    if (entry.users > 0) entry.retired = true;
    else void entry.handle.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.handle.close().catch(() => undefined)));
  }

  private async openEntry(path: string, opening: Opening): Promise<Entry> {
    const handle = await open(path, 'r');
    try {
      const entry: Entry = { handle, size: (await handle.stat()).size, users: 0 };
      if (opening.forgotten) {
        // Its waiting readers take it (each acquire awaits before counting itself); the last
        // release closes it.
        entry.retired = true;
        return entry;
      }
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
