/**
 * The embedded store: instance files under a root folder and an SQLite index beside them. The
 * default backend, and the durable spool of an edge appliance.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DicomStore, IncomingInstance, StoreCapabilities, StoreOutcome } from '../dicom-store';
import { InconsistentInstance, InstanceConflict, StorageFull } from '../store-errors';
import { instanceRelativePath } from './blob-layout';
import { moveIntoPlace, removeQuietly } from './durable-files';
import { KeyedLock } from './keyed-lock';
import { locatePixelData } from './pixel-data-location';
import { SeriesInOtherStudy, SqliteIndex } from './sqlite-index';

export class LocalStore implements DicomStore {
  readonly kind = 'local';
  readonly capabilities: StoreCapabilities = { stow: true, qido: false, wado: false };
  readonly index: SqliteIndex;
  private readonly locks = new KeyedLock();
  /** Series folders already created: saves a mkdir round trip per instance. */
  private readonly knownDirectories = new Set<string>();

  constructor(
    readonly name: string,
    readonly root: string,
  ) {
    mkdirSync(join(root, 'blobs'), { recursive: true });
    this.index = new SqliteIndex(join(root, 'index.sqlite'));
  }

  async store(instance: IncomingInstance): Promise<StoreOutcome> {
    const { identity } = instance;
    return this.locks.run(identity.sopInstanceUid, async () => {
      const existing = this.index.findInstance(identity.sopInstanceUid);
      if (existing) {
        if (existing.sha256 === instance.staged.sha256) return { kind: 'already-stored' };
        throw new InstanceConflict(
          `SOP Instance ${identity.sopInstanceUid} is already stored with different content; ` +
            'this store refuses to replace instances',
        );
      }
      const relative = instanceRelativePath(identity);
      const absolute = join(this.root, relative);
      try {
        await moveIntoPlace(instance.staged.path, absolute, this.knownDirectories);
        instance.staged.moved = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new StorageFull('The store has no disk space left');
        throw e;
      }
      try {
        this.index.insertInstance({
          identity,
          metadata: instance.metadata,
          filePath: relative,
          fileSize: instance.staged.size,
          sha256: instance.staged.sha256,
          datasetOffset: instance.parsed.datasetOffset,
          pixelData: locatePixelData(instance.parsed),
        });
      } catch (e) {
        // Not indexed means not stored: take the file back out so nothing unindexed lingers.
        await removeQuietly(absolute);
        if (e instanceof SeriesInOtherStudy) throw new InconsistentInstance(e.message);
        if ((e as { code?: string }).code === 'SQLITE_FULL') throw new StorageFull('The index has no disk space left');
        throw e;
      }
      return { kind: 'stored' };
    });
  }

  async close(): Promise<void> {
    this.index.close();
  }
}
