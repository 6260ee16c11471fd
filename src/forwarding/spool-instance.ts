/**
 * An instance of the spool, made ready to be stored into a destination as if it had just been
 * received: parsed again from its file (the header only costs a read of the file, which the send
 * reads again from the page cache), its bytes offered read-only (a destination copies the spool's
 * file, never moves it). The SHA-256 is the one computed at ingest, so "already there with the same
 * content" is judged against what the client sent.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { toDicomJson } from '../dicom/dicom-json';
import { parsePart10Stream } from '../dicom/part10-parser';
import { IncomingInstance } from '../stores/dicom-store';
import { LocalStore } from '../stores/local/local-store';

export class SpoolInstanceGone extends Error {}

export async function openSpoolInstance(spool: LocalStore, sopInstanceUid: string, inlineBinaryThreshold: number): Promise<IncomingInstance> {
  const row = spool.index.findInstance(sopInstanceUid);
  if (!row) throw new SpoolInstanceGone(`instance ${sopInstanceUid} is no longer in the spool`);
  const path = join(spool.root, row.file_path);
  const parsed = await parsePart10Stream(createReadStream(path, { highWaterMark: 1024 * 1024 }), {
    bulkThreshold: inlineBinaryThreshold,
    acceptBareDataset: true,
  });
  return {
    identity: {
      studyInstanceUid: row.study_uid,
      seriesInstanceUid: row.series_uid,
      sopInstanceUid: row.sop_instance_uid,
      sopClassUid: row.sop_class_uid,
      transferSyntaxUid: row.transfer_syntax_uid,
    },
    parsed,
    metadata: toDicomJson(parsed.dataset, {
      littleEndian: parsed.littleEndian,
      inlineBinaryThreshold,
      bulkDataUri: (tagPath) => `bulkdata/${tagPath}`,
    }),
    staged: { path, size: row.file_size, sha256: row.sha256, readOnly: true },
    open: () => createReadStream(path),
  };
}
