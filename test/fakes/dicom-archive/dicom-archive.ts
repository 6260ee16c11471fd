/**
 * A fake DICOM archive: instances kept as files in a folder the caller gives, indexed in memory.
 * It is the cloud-neutral core of the wire-level fakes (AWS HealthImaging now, Google Cloud
 * Healthcare later): each cloud layer decides its duplicate policy, the visibility delay of new data,
 * which QIDO keys and limits it allows and how results are ordered; the archive does the DICOM.
 *
 * Versions: an instance stored again with other bytes gets a new version; readers see the newest
 * version that is already visible, so a replacement still "indexing" leaves the old one served.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArchiveNotFound } from './archive-errors';
import { BulkDataLocation, DicomJsonDataset } from './dicom-json';
import { FAILURE, ParsedInstance, parseInstance } from './instance-parser';
import { reencode } from './reencode';

export type DuplicatePolicy = 'replace' | 'conflict';

export interface DicomArchiveOptions {
  storageDir: string;
  /** Same SOP Instance UID, other bytes: 'replace' (AWS import behaviour, default) or 'conflict'. */
  duplicatePolicy?: DuplicatePolicy;
  /** Binary values larger than this become bulk data in the metadata (default 1 MiB). */
  bulkDataThresholdBytes?: number;
  /** Keep a re-encoded copy rather than the bytes received (reencode.ts), as HealthImaging keeps a
   *  transcoded one: what it serves is then never byte for byte what it was sent. */
  reencode?: boolean;
  now?: () => number;
}

export interface IngestOptions {
  /** New data is visible to searches and reads only this long after it was stored (default 0). */
  visibilityDelayMs?: number;
  /** STOW to /studies/{study}: an instance of another study fails with 0xA900. */
  expectedStudyInstanceUid?: string;
}

/** One version of an instance as the archive holds it. */
export interface StoredInstance {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  /** Of the bytes kept (served with transfer-syntax=*). */
  sha256: string;
  /** Of the bytes received: the same unless the archive re-encodes. */
  receivedSha256: string;
  size: number;
  filePath: string;
  version: number;
  /** Increases with every version stored in the archive: orders "last update". */
  sequence: number;
  storedAt: number;
  visibleAt: number;
  metadata: DicomJsonDataset;
  bulk: ReadonlyMap<string, BulkDataLocation>;
  hasPixelData: boolean;
  numberOfFrames: number;
}

export type IngestOutcome =
  | { status: 'stored' | 'replaced' | 'unchanged'; instance: StoredInstance }
  /** Only with duplicatePolicy 'conflict': the instance is held with other bytes. */
  | { status: 'conflict'; instance: StoredInstance; message: string }
  | { status: 'failed'; failureReason: number; message: string; sopInstanceUid?: string; sopClassUid?: string };

export class DicomArchive {
  private readonly entries = new Map<string, StoredInstance[]>();
  private readonly duplicatePolicy: DuplicatePolicy;
  readonly bulkDataThresholdBytes: number;
  private readonly now: () => number;
  private sequence = 0;

  constructor(private readonly options: DicomArchiveOptions) {
    mkdirSync(options.storageDir, { recursive: true });
    this.duplicatePolicy = options.duplicatePolicy ?? 'replace';
    this.bulkDataThresholdBytes = options.bulkDataThresholdBytes ?? 1_048_576;
    this.now = options.now ?? Date.now;
  }

  ingest(bytes: Buffer, options: IngestOptions = {}): IngestOutcome {
    const parsed = parseInstance(bytes, this.bulkDataThresholdBytes);
    if (!parsed.ok) return { status: 'failed', failureReason: parsed.failureReason, message: parsed.message };
    const instance = parsed.instance;
    const expected = options.expectedStudyInstanceUid;
    if (expected !== undefined && instance.studyInstanceUid !== expected) {
      return {
        status: 'failed',
        failureReason: FAILURE.DataSetDoesNotMatchSopClass,
        message: `StudyInstanceUID ${instance.studyInstanceUid} does not match the study ${expected} of the request`,
        sopInstanceUid: instance.sopInstanceUid,
        sopClassUid: instance.sopClassUid,
      };
    }
    // Duplicates are told by the bytes received, whatever is kept.
    const received = createHash('sha256').update(bytes).digest('hex');
    const versions = this.entries.get(instance.sopInstanceUid) ?? [];
    const latest = versions[versions.length - 1];
    if (latest && latest.receivedSha256 === received) return { status: 'unchanged', instance: latest };
    if (latest && this.duplicatePolicy === 'conflict') {
      return { status: 'conflict', instance: latest, message: `SOP Instance ${instance.sopInstanceUid} is already stored with other content` };
    }
    let kept = bytes;
    let keptInstance = instance;
    if (this.options.reencode) {
      kept = reencode(bytes);
      const again = parseInstance(kept, this.bulkDataThresholdBytes);
      if (!again.ok) throw new Error(`the fake could not read its own re-encoded copy: ${again.message}`);
      keptInstance = again.instance;
    }
    const sha256 = kept === bytes ? received : createHash('sha256').update(kept).digest('hex');
    const stored = this.write(kept, sha256, keptInstance, (latest?.version ?? 0) + 1, options.visibilityDelayMs ?? 0, received);
    versions.push(stored);
    this.entries.set(instance.sopInstanceUid, versions);
    return { status: latest ? 'replaced' : 'stored', instance: stored };
  }

  private write(bytes: Buffer, sha256: string, parsed: ParsedInstance, version: number, delayMs: number, receivedSha256: string): StoredInstance {
    const filePath = join(this.options.storageDir, `${sha256}.dcm`);
    const staging = `${filePath}.${process.pid}.${this.sequence}.tmp`;
    writeFileSync(staging, bytes);
    renameSync(staging, filePath);
    const storedAt = this.now();
    return {
      studyInstanceUid: parsed.studyInstanceUid,
      seriesInstanceUid: parsed.seriesInstanceUid,
      sopInstanceUid: parsed.sopInstanceUid,
      sopClassUid: parsed.sopClassUid,
      transferSyntaxUid: parsed.transferSyntaxUid,
      sha256,
      receivedSha256,
      size: bytes.length,
      filePath,
      version,
      sequence: ++this.sequence,
      storedAt,
      visibleAt: storedAt + Math.max(0, delayMs),
      metadata: parsed.metadata,
      bulk: new Map(parsed.bulk.map((b) => [b.key, b])),
      hasPixelData: parsed.hasPixelData,
      numberOfFrames: parsed.numberOfFrames,
    };
  }

  /** The version of each instance that readers see now (instances with none visible are left out). */
  visibleInstances(): StoredInstance[] {
    const now = this.now();
    const out: StoredInstance[] = [];
    for (const versions of this.entries.values()) {
      for (let i = versions.length - 1; i >= 0; i--) {
        if (versions[i].visibleAt <= now) {
          out.push(versions[i]);
          break;
        }
      }
    }
    return out;
  }

  /** The newest version of every instance, visible or not, for test inspection. */
  latestInstances(): { instance: StoredInstance; visible: boolean }[] {
    const now = this.now();
    return [...this.entries.values()].map((versions) => {
      const instance = versions[versions.length - 1];
      return { instance, visible: versions.some((v) => v.visibleAt <= now) };
    });
  }

  instance(studyInstanceUid: string, seriesInstanceUid: string, sopInstanceUid: string): StoredInstance {
    const found = this.visibleInstances().find(
      (i) => i.sopInstanceUid === sopInstanceUid && i.seriesInstanceUid === seriesInstanceUid && i.studyInstanceUid === studyInstanceUid,
    );
    if (!found) throw new ArchiveNotFound(`instance ${sopInstanceUid} of series ${seriesInstanceUid} of study ${studyInstanceUid} not found`);
    return found;
  }

  series(studyInstanceUid: string, seriesInstanceUid: string): StoredInstance[] {
    const found = this.visibleInstances().filter((i) => i.seriesInstanceUid === seriesInstanceUid && i.studyInstanceUid === studyInstanceUid);
    if (found.length === 0) throw new ArchiveNotFound(`series ${seriesInstanceUid} of study ${studyInstanceUid} not found`);
    return found;
  }

  study(studyInstanceUid: string): StoredInstance[] {
    const found = this.visibleInstances().filter((i) => i.studyInstanceUid === studyInstanceUid);
    if (found.length === 0) throw new ArchiveNotFound(`study ${studyInstanceUid} not found`);
    return found;
  }

  readBytes(instance: StoredInstance): Buffer {
    return readFileSync(instance.filePath);
  }
}
