/**
 * WADO-RS reads of the embedded store: which instances a URL addresses, their stored bytes, their
 * frames and bulk data by offset, and their DICOM JSON as stored at ingest. Everything is handed
 * out as stored; conversions happen above the stores.
 */
import { ParsedPart10 } from '../../dicom/dataset';
import { parseStoredInstance } from '../../dicom/stored-instance-parser';
import { TS } from '../../dicom/transfer-syntax';
import { InvalidDicom } from '../../dicom/errors';
import { NotFound, StoredDataUnavailable } from '../store-errors';
import {
  InstanceRef,
  MetadataEntry,
  RetrieveScope,
  StoredBulkData,
  StoredFrames,
  StoredInstance,
  TransferSyntaxChoice,
} from '../wado-types';
import { buildInstanceLayout, InstanceLayout } from './instance-layout';
import { LayoutTable } from './layout-table';
import { readBulk, readFrames, ReadContext } from './local-pixel-reads';
import { RetrieveQueries, RetrieveRow } from './retrieve-queries';
import { openStoredFile } from './stored-file';
import { FileHandleCache } from './file-handle-cache';
import type { Database } from 'better-sqlite3';
import { FileHandle, open } from 'node:fs/promises';

/** Instances per metadata page: bounded memory for any study size, few queries for usual ones. */
const METADATA_PAGE = 256;

function describeScope(scope: RetrieveScope): string {
  switch (scope.level) {
    case 'study':
      return `Study ${scope.studyInstanceUid}`;
    case 'series':
      return `Series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid}`;
    case 'instance':
      return `Instance ${scope.sopInstanceUid} of series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid}`;
  }
}

function refOf(row: { study_uid: string; series_uid: string; sop_instance_uid: string }): InstanceRef {
  return { studyInstanceUid: row.study_uid, seriesInstanceUid: row.series_uid, sopInstanceUid: row.sop_instance_uid };
}

export class LocalRetrieve {
  private readonly queries: RetrieveQueries;
  readonly layouts: LayoutTable;

  constructor(
    private readonly root: string,
    db: Database,
  ) {
    this.queries = new RetrieveQueries(db);
    this.layouts = new LayoutTable(db);
  }

  /** Read handles kept open across requests (stored files never change once indexed). */
  readonly handles = new FileHandleCache();

  async metadata(scope: RetrieveScope): Promise<AsyncIterable<MetadataEntry>> {
    const first = this.queries.metadataPage(scope, 0, METADATA_PAGE);
    if (first.length === 0) throw new NotFound(`${describeScope(scope)} is not stored here`);
    const queries = this.queries;
    return (async function* pages() {
      let page = first;
      while (page.length > 0) {
        for (const row of page) yield { ref: refOf(row), json: row.metadata_json };
        if (page.length < METADATA_PAGE) return;
        page = queries.metadataPage(scope, page[page.length - 1].instance_pk, METADATA_PAGE);
      }
    })();
  }

  async retrieve(scope: RetrieveScope, _want: TransferSyntaxChoice): Promise<StoredInstance[]> {
    const rows = this.queries.instances(scope);
    if (rows.length === 0) throw new NotFound(`${describeScope(scope)} is not stored here`);
    const out: StoredInstance[] = [];
    for (const row of rows) out.push(this.describe(row, await this.layoutOf(row)));
    return out;
  }

  async frames(ref: InstanceRef, _want: TransferSyntaxChoice): Promise<StoredFrames> {
    const { row, layout } = await this.find(ref);
    return this.framesOf(row, layout);
  }

  async bulkdata(ref: InstanceRef, path: string): Promise<StoredBulkData> {
    const { row, layout } = await this.find(ref);
    const instance = this.describe(row, layout);
    const ctx: ReadContext = { instance, deflated: row.transfer_syntax_uid === TS.DeflatedExplicitVRLittleEndian };
    const littleEndian = row.transfer_syntax_uid !== TS.ExplicitVRBigEndian;
    const pixel = layout.pixel;
    if (pixel && path === pixel.tag.toString(16).toUpperCase().padStart(8, '0')) {
      if (pixel.native) {
        const range = pixel.native;
        return { kind: 'value', vr: pixel.vr, length: range[1], littleEndian, stream: () => readBulk(ctx, [range]) };
      }
      return { kind: 'pixel-data', frames: this.framesOf(row, layout) };
    }
    const entry = layout.bulk[path];
    if (!entry) throw new NotFound(`Instance ${ref.sopInstanceUid} has no bulk data at ${path}`);
    const ranges = 'at' in entry ? [entry.at] : entry.fragments;
    const length = ranges.reduce((n, [, l]) => n + l, 0);
    return { kind: 'value', vr: entry.vr, length, littleEndian, stream: () => readBulk(ctx, ranges) };
  }

  private framesOf(row: RetrieveRow, layout: InstanceLayout): StoredFrames {
    const pixel = layout.pixel;
    const what = `Instance ${row.sop_instance_uid}`;
    if (!pixel) throw new NotFound(`${what} has no Pixel Data, so no frames`);
    if (pixel.framesError) throw new NotFound(`${what}: its frames cannot be located in the stored Pixel Data (${pixel.framesError})`);
    const instance = this.describe(row, layout);
    const ctx: ReadContext = { instance, deflated: row.transfer_syntax_uid === TS.DeflatedExplicitVRLittleEndian };
    return {
      instance,
      pixel: { ...pixel.geometry, vr: pixel.vr },
      encapsulated: pixel.frames !== undefined,
      littleEndian: row.transfer_syntax_uid !== TS.ExplicitVRBigEndian,
      read: (numbers) => readFrames(ctx, pixel, numbers),
    };
  }

  private async find(ref: InstanceRef): Promise<{ row: RetrieveRow; layout: InstanceLayout }> {
    const row = this.queries.instance(ref);
    if (!row) throw new NotFound(`${describeScope({ level: 'instance', ...ref })} is not stored here`);
    return { row, layout: await this.layoutOf(row) };
  }

  private describe(row: RetrieveRow, layout: InstanceLayout): StoredInstance {
    const deflated = row.transfer_syntax_uid === TS.DeflatedExplicitVRLittleEndian;
    const native = layout.pixel?.native;
    return {
      ref: refOf(row),
      sopClassUid: row.sop_class_uid,
      transferSyntaxUid: row.transfer_syntax_uid,
      // A Part-10 file has at least a 132-byte preamble before its data set.
      bareDataset: row.dataset_offset === 0,
      size: row.file_size,
      datasetOffset: row.dataset_offset,
      lossy: layout.lossy,
      nativePixelData: native && !deflated ? { offset: native[0], length: native[1] } : undefined,
      pixel: layout.pixel?.geometry,
      open: () => openStoredFile(this.root, row.file_path, row.file_size, `instance ${row.sop_instance_uid}`, this.handles),
    };
  }

  /**
   * The layout of an instance being stored, from the header parsed at ingest (the file is read
   * only for an Extended Offset Table kept on disk or to find frame starts). Undefined when it
   * cannot be built: it is then built on first read, so a failure here never fails a STOW.
   */
  async layoutForIngest(parsed: ParsedPart10, absolutePath: string): Promise<InstanceLayout | undefined> {
    let handle: FileHandle | undefined;
    try {
      return await buildInstanceLayout(parsed, async (offset, length) => {
        handle ??= await open(absolutePath, 'r');
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      });
    } catch {
      return undefined;
    } finally {
      await handle?.close();
    }
  }

  /** The stored layout, or (an instance indexed before schema version 3) computed now, once. */
  private async layoutOf(row: RetrieveRow): Promise<InstanceLayout> {
    const known = this.layouts.parse(row.instance_pk, row.layout);
    if (known) return known;
    const file = await openStoredFile(this.root, row.file_path, row.file_size, `instance ${row.sop_instance_uid}`, this.handles);
    try {
      // Threshold 0: every binary value is located, whatever threshold the metadata was made with.
      let parsed: ParsedPart10;
      try {
        parsed = await parseStoredInstance(file, { bulkThreshold: 0 });
      } catch (e) {
        // It was parsed at ingest: failing now means the file changed under the store.
        if (e instanceof InvalidDicom) throw new StoredDataUnavailable(`the stored file of instance ${row.sop_instance_uid} no longer parses: ${e.message}`);
        throw e;
      }
      const layout = await buildInstanceLayout(parsed, (offset, length) => file.read(offset, length));
      this.layouts.save(row.instance_pk, layout);
      return layout;
    } finally {
      await file.close();
    }
  }
}
