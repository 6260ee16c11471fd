/**
 * The embedded store: instance files under a root folder and an SQLite index beside them. The
 * default backend, and the durable spool of an edge appliance.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DicomStore, IncomingInstance, StoreCapabilities, StoreHealth, StoreOutcome } from '../dicom-store';
import { InconsistentInstance, InstanceConflict, StorageFull } from '../store-errors';
import { instanceRelativePath } from './blob-layout';
import { moveIntoPlace, removeQuietly } from './durable-files';
import { KeyedLock } from './keyed-lock';
import { locatePixelData } from './pixel-data-location';
import { SeriesInOtherStudy, SqliteIndex } from './sqlite-index';
import { QidoQuery, QidoResult } from '../qido-query';
import { LocalSearch } from './local-search';
import { InstanceRef, MetadataEntry, RetrieveScope, StoredBulkData, StoredFrames, StoredInstance, TransferSyntaxChoice } from '../wado-types';
import { LocalRetrieve } from './local-retrieve';

export class LocalStore implements DicomStore {
  readonly kind = 'local';
  readonly capabilities: StoreCapabilities = { stow: true, qido: true, wado: true };
  readonly index: SqliteIndex;
  private readonly locks = new KeyedLock();
  /** Series folders already created: saves a mkdir round trip per instance. */
  private readonly knownDirectories = new Set<string>();
  private searcher?: LocalSearch;
  private retriever?: LocalRetrieve;

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
      // Where frames and bulk data are (WADO-RS), indexed in the same transaction as the instance.
      const layout = await this.retrieval().layoutForIngest(instance.parsed, absolute);
      try {
        this.index.db.transaction(() => {
          this.index.insertInstance({
            identity,
            metadata: instance.metadata,
            filePath: relative,
            fileSize: instance.staged.size,
            sha256: instance.staged.sha256,
            datasetOffset: instance.parsed.datasetOffset,
            pixelData: locatePixelData(instance.parsed),
          });
          if (layout) this.retrieval().layouts.saveForSop(identity.sopInstanceUid, layout);
        })();
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

  search(query: QidoQuery): Promise<QidoResult> {
    return (this.searcher ??= new LocalSearch(this.index.db)).search(query);
  }

  metadata(scope: RetrieveScope): Promise<AsyncIterable<MetadataEntry>> {
    return this.retrieval().metadata(scope);
  }

  retrieve(scope: RetrieveScope, want: TransferSyntaxChoice): Promise<StoredInstance[]> {
    return this.retrieval().retrieve(scope, want);
  }

  frames(ref: InstanceRef, want: TransferSyntaxChoice): Promise<StoredFrames> {
    return this.retrieval().frames(ref, want);
  }

  bulkdata(ref: InstanceRef, tagPath: string): Promise<StoredBulkData> {
    return this.retrieval().bulkdata(ref, tagPath);
  }

  /** Healthy while the index answers a query. */
  health(): StoreHealth {
    const checkedAt = new Date().toISOString();
    try {
      this.index.db.prepare('SELECT 1').get();
      return { status: 'healthy', checkedAt };
    } catch (e) {
      return { status: 'unhealthy', detail: `the index does not answer: ${(e as Error).message}`, checkedAt };
    }
  }

  private retrieval(): LocalRetrieve {
    return (this.retriever ??= new LocalRetrieve(this.root, this.index.db));
  }

  async close(): Promise<void> {
    await this.retriever?.handles.closeAll();
    this.index.close();
  }
}
