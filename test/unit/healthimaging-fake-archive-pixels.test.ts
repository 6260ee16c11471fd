/**
 * Pixel data in the fake archive core: native frames by arithmetic, encapsulated frames from the
 * Basic Offset Table or one fragment per frame, RLE decoding checked against the uncompressed
 * third-party twin of the same image (MR_small.dcm), instance re-encoding to Explicit VR Little
 * Endian, what cannot be produced, bulk data by key, and the multipart reader and writer.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildPart10, encapsulateFrames, syntheticInstance, syntheticPixels } from '../fixtures/dicom-builder';
import { samplesDir } from '../helpers/samples';
import { makeTempDir } from '../helpers/temp-dir';
import { ArchiveBadRequest, ArchiveNotAcceptable, ArchiveNotFound } from '../fakes/dicom-archive/archive-errors';
import { instanceBulkData } from '../fakes/dicom-archive/bulk-data';
import { readPart10 } from '../fakes/dicom-archive/dcmjs-binding';
import { DicomArchive, StoredInstance } from '../fakes/dicom-archive/dicom-archive';
import { binaryBytes } from '../fakes/dicom-archive/dicom-json';
import { retrieveInstance } from '../fakes/dicom-archive/instance-retrieve';
import { readMultipartRelated, writeMultipartRelated } from '../fakes/dicom-archive/multipart-related';
import { instanceFrames, parseFrameList } from '../fakes/dicom-archive/pixel-frames';

const ELE = '1.2.840.10008.1.2.1';
const temp = makeTempDir('ahi-pixels');
after(() => temp.remove());
let n = 0;
function stored(bytes: Buffer): { archive: DicomArchive; instance: StoredInstance } {
  const archive = new DicomArchive({ storageDir: join(temp.path, `a${n++}`) });
  const outcome = archive.ingest(bytes);
  assert.ok(outcome.status === 'stored', outcome.status === 'failed' ? outcome.message : outcome.status);
  return { archive, instance: outcome.instance };
}
const sample = (name: string) => readFileSync(join(samplesDir(), name));
const pixelsOf = (bytes: Buffer) => binaryBytes(readPart10(bytes).dict['7FE00010']);

function encapsulated(uid: string, frames: Buffer[][], withOffsetTable: boolean): Buffer {
  const { fragments, offsetTable } = encapsulateFrames(frames);
  return buildPart10({
    transferSyntaxUid: uid,
    elements: [
      { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
      { tag: 'SOPInstanceUID', value: `1.2.826.0.1.${n}.${frames.length}` },
      { tag: 'StudyInstanceUID', value: '1.2.826.0.1.7' },
      { tag: 'SeriesInstanceUID', value: '1.2.826.0.1.7.1' },
      { tag: 'SamplesPerPixel', value: 1 },
      { tag: 'NumberOfFrames', value: frames.length },
      { tag: 'Rows', value: 4 },
      { tag: 'Columns', value: 4 },
      { tag: 'BitsAllocated', value: 8 },
    ],
    pixelData: { fragments, offsetTable: withOffsetTable ? offsetTable : undefined },
  });
}

describe('frames', () => {
  test('native frames cut by rows x columns x samples x bits allocated / 8, in the order asked', () => {
    const file = syntheticInstance({ seed: 11, rows: 4, columns: 6, frames: 3 });
    const { archive, instance } = stored(file);
    const all = syntheticPixels(4 * 6 * 3, 11);
    const answer = instanceFrames(instance, archive.readBytes(instance), [3, 1], ELE);
    assert.equal(answer.transferSyntaxUid, ELE);
    assert.deepEqual(answer.frames, [all.subarray(96, 144), all.subarray(0, 48)]);
    assert.throws(() => instanceFrames(instance, archive.readBytes(instance), [4], '*'), ArchiveNotFound);
  });

  test('frame lists: distinct numbers from 1', () => {
    assert.deepEqual(parseFrameList('2,1,3'), [2, 1, 3]);
    for (const bad of ['0', '1,1', 'a', '1,,2', '-1', '1.5']) assert.throws(() => parseFrameList(bad), ArchiveBadRequest, bad);
  });

  test('encapsulated frames from the Basic Offset Table (several fragments each) or one fragment per frame', () => {
    const jpeg = '1.2.840.10008.1.2.4.50';
    const frames = [[Buffer.from('frame-one-a'), Buffer.from('frame-one-b')], [Buffer.from('frame-two')], [Buffer.from('3a'), Buffer.from('3b'), Buffer.from('3c')]];
    const table = stored(encapsulated(jpeg, frames, true));
    const answer = instanceFrames(table.instance, table.archive.readBytes(table.instance), [1, 3], '*');
    assert.equal(answer.transferSyntaxUid, jpeg);
    assert.deepEqual(answer.frames.map(String), ['frame-one-aframe-one-b', '3a3b3c']);
    const perFragment = stored(encapsulated(jpeg, [[Buffer.from('only-1')], [Buffer.from('only-2')]], false));
    assert.deepEqual(instanceFrames(perFragment.instance, perFragment.archive.readBytes(perFragment.instance), [2], jpeg).frames.map(String), ['only-2']);
    assert.throws(() => instanceFrames(table.instance, table.archive.readBytes(table.instance), [1], ELE), ArchiveNotAcceptable, 'JPEG cannot be decoded by the fake');
  });

  test('RLE frames decode to the same pixels as the uncompressed twin of the image', () => {
    const { archive, instance } = stored(sample('MR_small_RLE.dcm'));
    const native = pixelsOf(sample('MR_small.dcm'));
    const answer = instanceFrames(instance, archive.readBytes(instance), [1], ELE);
    assert.equal(answer.transferSyntaxUid, ELE);
    assert.deepEqual(answer.frames[0], native);
    const asStored = instanceFrames(instance, archive.readBytes(instance), [1], '*');
    assert.equal(asStored.transferSyntaxUid, '1.2.840.10008.1.2.5');
    assert.notDeepEqual(asStored.frames[0], native);
  });

  test('RGB RLE frames decode pixel-interleaved (Planar Configuration 0)', () => {
    const { archive, instance } = stored(sample('SC_rgb_rle_2frame.dcm'));
    const [one, two] = instanceFrames(instance, archive.readBytes(instance), [1, 2], ELE).frames;
    assert.equal(one.length, 100 * 100 * 3);
    assert.equal(two.length, 100 * 100 * 3);
    // The image starts with a pure red pixel: interleaved it reads R, G, B = 255, 0, 0 (planar would be R, R, R).
    assert.deepEqual([...one.subarray(0, 3)], [255, 0, 0]);
  });
});

describe('instance retrieve', () => {
  test('Implicit VR Little Endian is re-encoded as Explicit VR Little Endian with the same pixels', () => {
    const { archive, instance } = stored(sample('MR_small_implicit.dcm'));
    const answer = retrieveInstance(instance, ELE, () => archive.readBytes(instance));
    assert.ok('bytes' in answer);
    const reread = readPart10(answer.bytes);
    assert.deepEqual(reread.meta['00020010'].Value, [ELE]);
    assert.deepEqual(binaryBytes(reread.dict['7FE00010']), pixelsOf(sample('MR_small.dcm')));
    assert.deepEqual(reread.dict['00100010'].Value, [{ Alphabetic: 'CompressedSamples^MR1' }]);
  });

  test('RLE is decoded to native; "*" and the stored UID give the stored file; JPEG 2000 cannot become ELE', () => {
    const rle = stored(sample('MR_small_RLE.dcm'));
    const answer = retrieveInstance(rle.instance, ELE, () => rle.archive.readBytes(rle.instance));
    assert.ok('bytes' in answer);
    assert.deepEqual(binaryBytes(readPart10(answer.bytes).dict['7FE00010']), pixelsOf(sample('MR_small.dcm')));
    const j2k = stored(sample('JPEG2000.dcm'));
    assert.deepEqual(retrieveInstance(j2k.instance, '*', () => Buffer.alloc(0)), { transferSyntaxUid: '1.2.840.10008.1.2.4.91', filePath: j2k.instance.filePath });
    assert.equal(retrieveInstance(j2k.instance, '1.2.840.10008.1.2.4.91', () => Buffer.alloc(0)).transferSyntaxUid, '1.2.840.10008.1.2.4.91');
    assert.throws(() => retrieveInstance(j2k.instance, ELE, () => j2k.archive.readBytes(j2k.instance)), ArchiveNotAcceptable);
    assert.throws(() => retrieveInstance(j2k.instance, '1.2.840.10008.1.2.4.50', () => j2k.archive.readBytes(j2k.instance)), ArchiveNotAcceptable);
  });

  test('bulk data by key: a value, and encapsulated Pixel Data as its frames', () => {
    const blob = Buffer.from([...Array(300).keys()].map((i) => i & 0xff));
    const plain = new DicomArchive({ storageDir: join(temp.path, 'bulk'), bulkDataThresholdBytes: 100 });
    const outcome = plain.ingest(syntheticInstance({ seed: 12, extraElements: [{ tag: 0x00091010, vr: 'LO', value: 'FAKE' }, { tag: 0x00091001, vr: 'OB', value: blob }] }));
    assert.ok(outcome.status === 'stored');
    const key = String(outcome.instance.metadata['00091001'].BulkDataURI);
    assert.deepEqual(instanceBulkData(outcome.instance, key, plain.readBytes(outcome.instance)), { kind: 'value', vr: 'OB', bytes: blob });
    assert.throws(() => instanceBulkData(outcome.instance, 'no-such-key', plain.readBytes(outcome.instance)), ArchiveNotFound);
    const rle = stored(sample('SC_rgb_rle_2frame.dcm'));
    const pixels = instanceBulkData(rle.instance, String(rle.instance.metadata['7FE00010'].BulkDataURI), rle.archive.readBytes(rle.instance));
    assert.ok(pixels.kind === 'frames' && pixels.frames.length === 2);
  });
});

describe('multipart/related', () => {
  test('what the writer writes, the reader reads back part by part, whatever the chunking', async () => {
    const parts = [
      { contentType: 'application/dicom', body: Buffer.from('first\r\n--not-a-boundary') },
      { contentType: 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1', body: Buffer.alloc(5000, 7) },
      { contentType: 'application/dicom', body: Buffer.alloc(0) },
    ];
    const { contentType, body } = writeMultipartRelated(parts, 'application/dicom', 'b0undary');
    assert.equal(contentType, 'multipart/related; type="application/dicom"; boundary=b0undary');
    for (const size of [1, 7, 64, body.length]) {
      const chunks = [];
      for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size));
      const read = [];
      for await (const part of readMultipartRelated(Readable.from(chunks), 'b0undary')) read.push(part);
      assert.deepEqual(read.map((p) => p.body), parts.map((p) => p.body), `chunks of ${size}`);
      assert.deepEqual(read.map((p) => p.headers['content-type']), parts.map((p) => p.contentType));
    }
    for (const cut of [5, 20, 100]) {
      const truncated = body.subarray(0, body.length - cut);
      await assert.rejects(async () => {
        for await (const part of readMultipartRelated(Readable.from([truncated]), 'b0undary')) assert.ok(part);
      }, /body ends|boundary line/);
    }
  });
});
