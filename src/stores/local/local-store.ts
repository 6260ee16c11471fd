/**
 * The embedded store: instance files under a root folder and an SQLite index beside them. The
 * default backend, and the durable spool of an edge appliance.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DicomStore, IncomingInstance, StoreCapabilities, StoreHealth, StoreOutcome } from '../dicom-store';
import { InconsistentInstance, InstanceConflict, StorageFull } from '../store-errors';
import { instanceRelativePath } from './blob-layout';
import { copyIntoPlace, moveIntoPlace, removeQuietly } from './durable-files';
import { KeyedLock } from './keyed-lock';
import { locatePixelData } from './pixel-data-location';
import { SeriesInOtherStudy, SqliteIndex } from './sqlite-index';
import { QidoQuery, QidoResult } from '../qido-query';
import { LocalSearch } from './local-search';
import { InstanceRef, MetadataEntry, RetrieveScope, StoredBulkData, StoredFrames, StoredInstance, TransferSyntaxChoice } from '../wado-types';
import { LocalRetrieve } from './local-retrieve';
import { deleteInstanceRows, forgetRetrieveCaches, removeStoredFile } from './instance-deletion';

/**
 * Work that must commit or fail with the indexing of an instance (the edge outbox): `withinIndexing`
 * runs inside the SQLite transaction (synchronous; throwing refuses the instance), `afterCommit`
 * once the instance is durable and indexed (never throws back into the upload).
 */
export interface IndexParticipant {
  withinIndexing(instance: IncomingInstance): void;
  afterCommit?(instance: IncomingInstance): void;
}

export class LocalStore implements DicomStore {
  readonly kind = 'local';
  readonly capabilities: StoreCapabilities = { stow: true, qido: true, wado: true };
  readonly index: SqliteIndex;
  private readonly locks = new KeyedLock();
  /** Series folders already created: saves a mkdir round trip per instance. */
  private readonly knownDirectories = new Set<string>();
  private readonly participants: IndexParticipant[] = [];
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
        if (instance.staged.readOnly) {
          // Someone else's file (the edge spool): copied, never moved.
          await copyIntoPlace(instance.staged.path, absolute, this.knownDirectories);
        } else {
          await moveIntoPlace(instance.staged.path, absolute, this.knownDirectories);
          instance.staged.moved = true;
        }
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
          for (const participant of this.participants) participant.withinIndexing(instance);
        })();
      } catch (e) {
        // Not indexed means not stored: take the file back out so nothing unindexed lingers.
        await removeQuietly(absolute);
        if (e instanceof SeriesInOtherStudy) throw new InconsistentInstance(e.message);
        if ((e as { code?: string }).code === 'SQLITE_FULL') throw new StorageFull('The index has no disk space left');
        throw e;
      }
      for (const participant of this.participants) participant.afterCommit?.(instance);
      return { kind: 'stored' };
    });
  }

  addIndexParticipant(participant: IndexParticipant): void {
    this.participants.push(participant);
  }

  /**
   * Deletes a stored instance (edge retention: forwarded, so its disk space is freed); false when
   * it is not stored. The index then is as if it had never been stored (instance-deletion.ts).
   * Under the instance's lock, so it never interleaves with a store() of the same SOP Instance.
   *
   * The rows go first, in one transaction, the file after: a crash in between leaves an orphan
   * file (no row points at it, nothing serves it), never a row without its file. Nothing collects
   * such orphans (the staging sweep only empties the staging folder); they are harmless, and
   * storing the same instance again renames its new file over the orphan. A failing unlink is
   * thrown (the disk space was not freed) with the rows already gone: the same orphan.
   */
  async deleteInstance(sopInstanceUid: string): Promise<boolean> {
    return this.locks.run(sopInstanceUid, async () => {
      const deleted = deleteInstanceRows(this.index.db, sopInstanceUid);
      if (!deleted) return false;
      // Before the unlink: no reader is handed the cached handle of a file that is going away.
      if (this.retriever) forgetRetrieveCaches(this.retriever, this.root, deleted);
      await removeStoredFile(this.root, deleted.filePath);
      return true;
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
