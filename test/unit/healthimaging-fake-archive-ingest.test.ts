/**
 * The fake DICOM archive core (test/fakes/dicom-archive) under the HealthImaging fake: ingest
 * outcomes and failure reasons, the duplicate policies, visibility at visibleAt (a replacement
 * still "indexing" leaves the old version served), and the DICOM JSON it keeps (PS3.18 Annex F).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPart10, syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { samplesDir } from '../helpers/samples';
import { makeTempDir } from '../helpers/temp-dir';
import { DicomArchive } from '../fakes/dicom-archive/dicom-archive';
import { ArchiveNotFound } from '../fakes/dicom-archive/archive-errors';
import { withBulkDataUris } from '../fakes/dicom-archive/dicom-json';

const temp = makeTempDir('ahi-archive');
after(() => temp.remove());
let n = 0;
function archive(options: { duplicatePolicy?: 'replace' | 'conflict'; bulkDataThresholdBytes?: number; now?: () => number } = {}): DicomArchive {
  return new DicomArchive({ storageDir: join(temp.path, `a${n++}`), ...options });
}
const sample = (name: string) => readFileSync(join(samplesDir(), name));

describe('archive ingest', () => {
  test('stores, then reports identical bytes unchanged and other bytes replaced (latest version wins)', () => {
    const a = archive();
    const first = syntheticInstance({ seed: 1 });
    const stored = a.ingest(first);
    assert.equal(stored.status, 'stored');
    assert.equal(a.ingest(first).status, 'unchanged');
    const other = syntheticInstance({ seed: 1, studyDescription: 'edited' });
    const replaced = a.ingest(other);
    assert.equal(replaced.status, 'replaced');
    assert.ok(replaced.status === 'replaced' && replaced.instance.version === 2);
    const [visible] = a.visibleInstances();
    assert.equal(visible.sha256, createHash('sha256').update(other).digest('hex'));
    assert.deepEqual(a.readBytes(visible), other);
  });

  test('the conflict policy refuses other bytes and keeps the first version', () => {
    const a = archive({ duplicatePolicy: 'conflict' });
    const first = syntheticInstance({ seed: 2 });
    a.ingest(first);
    assert.equal(a.ingest(first).status, 'unchanged');
    assert.equal(a.ingest(syntheticInstance({ seed: 2, patientName: 'Other^Name' })).status, 'conflict');
    assert.deepEqual(a.readBytes(a.visibleInstances()[0]), first);
  });

  test('failure reasons: 0xC000 not DICOM, 0xA900 missing UIDs or another study, 0xC122 unknown transfer syntax', () => {
    const a = archive();
    const reason = (bytes: Buffer, options = {}) => {
      const outcome = a.ingest(bytes, options);
      return outcome.status === 'failed' ? outcome.failureReason : outcome.status;
    };
    assert.equal(reason(Buffer.from('this is not DICOM at all, not even 132 bytes')), 0xc000);
    assert.equal(reason(sample('rtstruct.dcm')), 0xc000, 'a data set without the Part-10 preamble');
    const noSeries = buildPart10({ elements: [{ tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' }, { tag: 'SOPInstanceUID', value: '1.2.3.4' }, { tag: 'StudyInstanceUID', value: '1.2.3' }] });
    assert.equal(reason(noSeries), 0xa900);
    assert.equal(reason(syntheticInstance({ seed: 3, transferSyntaxUid: '1.2.3.4.5.6.7' })), 0xc122);
    assert.equal(reason(syntheticInstance({ seed: 4 }), { expectedStudyInstanceUid: '1.2.999' }), 0xa900);
    const truncated = syntheticInstance({ seed: 5 }).subarray(0, 400);
    assert.equal(reason(truncated), 0xc000);
    assert.equal(a.visibleInstances().length, 0);
  });

  test('new data is visible only from visibleAt; a replacement leaves the old version visible until then', () => {
    let now = 1_000_000;
    const a = archive({ now: () => now });
    const first = syntheticInstance({ seed: 6 });
    a.ingest(first, { visibilityDelayMs: 500 });
    assert.equal(a.visibleInstances().length, 0);
    const uids = [uidFromSeed(6, 'study'), uidFromSeed(6, 'series'), uidFromSeed(6, 'instance')] as const;
    assert.throws(() => a.instance(...uids), ArchiveNotFound);
    now += 500;
    assert.equal(a.instance(...uids).version, 1);
    a.ingest(syntheticInstance({ seed: 6, accessionNumber: 'NEW' }), { visibilityDelayMs: 500 });
    assert.equal(a.instance(...uids).version, 1, 'the old version is still served');
    assert.deepEqual(a.latestInstances().map((l) => [l.instance.version, l.visible]), [[2, true]]);
    now += 500;
    assert.equal(a.instance(...uids).version, 2);
  });
});

describe('archive DICOM JSON', () => {
  test('PN as Alphabetic, ISO_IR 100 text as UTF-8, AT as hex, empty values without Value, nested sequences', () => {
    const a = archive();
    const file = buildPart10({
      elements: [
        { tag: 'SpecificCharacterSet', value: 'ISO_IR 100' },
        { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
        { tag: 'SOPInstanceUID', value: '1.2.3.4.1' },
        { tag: 'StudyInstanceUID', value: '1.2.3.4' },
        { tag: 'SeriesInstanceUID', value: '1.2.3.4.2' },
        { tag: 'PatientName', value: Buffer.from('Müller^Jürgen', 'latin1') },
        { tag: 'PatientID', value: '' },
        { tag: 'FrameIncrementPointer', vr: 'AT', value: [0x00181063] },
        { tag: 'ReferencedImageSequence', value: [[{ tag: 'ReferencedSOPClassUID', value: '1.2.840.10008.5.1.4.1.1.2' }, { tag: 'ReferencedSOPInstanceUID', value: '1.2.9' }]] },
      ],
    });
    const outcome = a.ingest(file);
    assert.equal(outcome.status, 'stored');
    const m = a.visibleInstances()[0].metadata;
    assert.deepEqual(m['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Müller^Jürgen' }] });
    assert.deepEqual(m['00100020'], { vr: 'LO' });
    assert.deepEqual(m['00280009'], { vr: 'AT', Value: ['00181063'] });
    const item = (m['00081140'].Value as Record<string, { Value?: unknown[] }>[])[0];
    assert.deepEqual(item['00081155'].Value, ['1.2.9']);
  });

  test('binary values up to the threshold inline, larger ones and Pixel Data as bulk data with an opaque key', () => {
    const a = archive({ bulkDataThresholdBytes: 64 });
    const small = Buffer.alloc(64, 1);
    const large = Buffer.alloc(65, 2);
    a.ingest(
      syntheticInstance({
        seed: 7,
        extraElements: [
          { tag: 0x00091010, vr: 'LO', value: 'FAKE PRIVATE' },
          { tag: 0x00091001, vr: 'OB', value: small },
          { tag: 0x00091002, vr: 'OB', value: large },
        ],
      }),
    );
    const instance = a.visibleInstances()[0];
    assert.deepEqual(instance.metadata['00091001'], { vr: 'OB', InlineBinary: small.toString('base64') });
    const served = withBulkDataUris(instance.metadata, (key) => `https://host/bulk/${key}`);
    assert.match(String(served['00091002'].BulkDataURI), /^https:\/\/host\/bulk\/[0-9a-f]{40}$/);
    assert.match(String(served['7FE00010'].BulkDataURI), /^https:\/\/host\/bulk\/[0-9a-f]{40}$/);
    assert.equal(served['7FE00010'].vr, 'OW');
    assert.equal(instance.bulk.size, 2);
  });
});
