/**
 * The Explicit VR Little Endian encoder (PS3.5 A.2) and the RLE Lossless decoder (PS3.5 G): files
 * made by the test builder in Implicit VR, Big Endian and RLE come out as Explicit VR Little Endian
 * files that parse back to the same values (read in their own byte order) and the same pixels.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DicomDataset } from '../../src/dicom/dataset';
import { encodeExplicitLittleEndian } from '../../src/dicom/explicit-le-encoder';
import { parsePart10Buffer } from '../../src/dicom/part10-parser';
import { bufferBytes } from '../../src/dicom/random-access';
import { decodeRleFrame } from '../../src/dicom/rle-decoder';
import { parseStoredInstance } from '../../src/dicom/stored-instance-parser';
import { TS } from '../../src/dicom/transfer-syntax';
import { toDicomJson } from '../../src/dicom/dicom-json';
import { buildPart10, ElementSpec, syntheticPixels } from '../fixtures/dicom-builder';

/** PackBits (PS3.5 G.3.1): runs of 3+ equal bytes replicated, the rest literal. */
function packBits(bytes: Buffer): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    let run = 1;
    while (i + run < bytes.length && run < 128 && bytes[i + run] === bytes[i]) run++;
    if (run >= 3) {
      out.push(257 - run, bytes[i]);
      i += run;
      continue;
    }
    const start = i;
    while (i < bytes.length && i - start < 128 && !(i + 2 < bytes.length && bytes[i] === bytes[i + 1] && bytes[i] === bytes[i + 2])) i++;
    out.push(i - start - 1, ...bytes.subarray(start, i));
  }
  if (out.length % 2) out.push(0x80); // a no-op keeps segments even
  return Buffer.from(out);
}

/** RLE frame of little endian native pixels with interleaved samples. */
function rleFrame(pixels: Buffer, samples: number, bytesPerSample: number): Buffer {
  const count = pixels.length / (samples * bytesPerSample);
  const segments: Buffer[] = [];
  for (let s = 0; s < samples; s++) {
    for (let b = bytesPerSample - 1; b >= 0; b--) {
      const seg = Buffer.alloc(count);
      for (let p = 0; p < count; p++) seg[p] = pixels[(p * samples + s) * bytesPerSample + b];
      segments.push(packBits(seg));
    }
  }
  const header = Buffer.alloc(64);
  header.writeUInt32LE(segments.length, 0);
  let at = 64;
  segments.forEach((seg, k) => {
    header.writeUInt32LE(at, 4 + 4 * k);
    at += seg.length;
  });
  return Buffer.concat([header, ...segments]);
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of it) chunks.push(c);
  return Buffer.concat(chunks);
}

async function transcode(file: Buffer): Promise<Buffer> {
  const source = bufferBytes(file);
  const parsed = await parseStoredInstance(source, { bulkThreshold: 16 });
  return collect(encodeExplicitLittleEndian({ parsed, source, sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: '1.2.3.4' }));
}

const json = (ds: DicomDataset, littleEndian: boolean) => toDicomJson(ds, { littleEndian });

const elements = (pixelRepresentation: number): ElementSpec[] => [
  { tag: 'SpecificCharacterSet', value: 'ISO_IR 192' },
  { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
  { tag: 'SOPInstanceUID', value: '1.2.3.4' },
  { tag: 'PatientName', value: 'Ünïcode^Nâme' },
  { tag: 'StudyInstanceUID', value: '1.2.3' },
  { tag: 'SeriesInstanceUID', value: '1.2.3.1' },
  { tag: 'ImagePositionPatient', value: ['1.5', '-2', '3e2'] },
  { tag: 'FrameIncrementPointer', vr: 'AT', value: [0x00181063] },
  { tag: 'ReferencedImageSequence', value: [[{ tag: 'ReferencedSOPClassUID', value: '1.2.840.10008.5.1.4.1.1.2' }, { tag: 'ReferencedFrameNumber', value: '1' }], []] },
  { tag: 'RealWorldValueMappingSequence', value: [[{ tag: 'RealWorldValueFirstValueMapped', value: 0 }, { tag: 'RealWorldValueSlope', vr: 'FD', value: 0.25 }]] },
  { tag: 0x00091010, vr: 'UN', value: Buffer.from('private bytes!') },
  { tag: 'SamplesPerPixel', value: 1 },
  { tag: 'PhotometricInterpretation', value: 'MONOCHROME2' },
  { tag: 'Rows', value: 4 },
  { tag: 'Columns', value: 4 },
  { tag: 'BitsAllocated', value: 16 },
  { tag: 'BitsStored', value: 16 },
  { tag: 'HighBit', value: 15 },
  { tag: 'PixelRepresentation', value: pixelRepresentation },
  { tag: 'SmallestImagePixelValue', vr: 'US', value: 3 },
  { tag: 'LUTData', vr: 'OW', value: syntheticPixels(40, 5) },
];

describe('Explicit VR Little Endian encoder', () => {
  for (const [name, ts] of [['Implicit VR Little Endian', TS.ImplicitVRLittleEndian], ['Explicit VR Big Endian', TS.ExplicitVRBigEndian]] as const) {
    test(`${name}: same values, same pixels, explicit VRs`, async () => {
      const pixels = syntheticPixels(16, 9, ts === TS.ImplicitVRLittleEndian);
      const input = buildPart10({ transferSyntaxUid: ts, elements: elements(1), pixelData: { native: pixels } });
      const out = await transcode(input);
      const before = await parsePart10Buffer(input);
      const after = await parsePart10Buffer(out);
      assert.equal(after.transferSyntaxUid, TS.ExplicitVRLittleEndian);
      assert.equal(after.meta.get(0x00020003)?.value?.toString('latin1').replace(/\0$/, ''), '1.2.3.4');
      const a = json(before.dataset, before.littleEndian);
      const b = json(after.dataset, true);
      delete a['7FE00010'];
      delete b['7FE00010'];
      if (ts === TS.ImplicitVRLittleEndian) {
        // Pixel Representation 1: pixel-valued "US or SS" attributes become SS (PS3.5 A.1).
        assert.equal(after.dataset.get(0x00280106)?.vr, 'SS');
        assert.equal(b['00280106'].vr, 'SS');
        a['00280106'] = b['00280106'];
        const mapping = (a['00409096'].Value as Record<string, { vr: string }>[])[0];
        assert.equal((b['00409096'].Value as Record<string, { vr: string }>[])[0]['00409216'].vr, 'SS', 'in items too');
        mapping['00409216'].vr = 'SS';
        assert.equal(after.dataset.get(0x00091010)?.vr, 'UN');
        assert.equal(after.dataset.get(0x7fe00010)?.vr, 'OW');
      }
      assert.deepEqual(b, a);
      const px = after.dataset.get(0x7fe00010)!.bulk!;
      assert.ok(out.subarray(px.offset, px.offset + px.length).equals(ts === TS.ImplicitVRLittleEndian ? pixels : Buffer.from(pixels).swap16()));
    });
  }

  test('group lengths are dropped; sequences get undefined lengths; huge short-VR values become UN', async () => {
    const big = 'x'.repeat(70000);
    const input = buildPart10({
      transferSyntaxUid: TS.ImplicitVRLittleEndian,
      elements: [...elements(0).slice(0, 6), { tag: 0x00100000, vr: 'UL', value: 12 }, { tag: 'PatientComments', vr: 'LT', value: 'ok' }, { tag: 'StudyDescription', vr: 'LO', value: big }],
    });
    const after = await parsePart10Buffer(await transcode(input));
    assert.equal(after.dataset.has(0x00100000), false);
    assert.equal(after.dataset.get(0x00081030)?.vr, 'UN');
    assert.equal(after.dataset.get(0x00081030)?.value?.length ?? after.dataset.get(0x00081030)?.bulk?.length, 70000);
  });

  test('RLE Lossless decodes to native pixels; offset tables removed', async () => {
    const rgb = Buffer.from(Array.from({ length: 6 * 5 * 3 * 2 }, (_, i) => (i * 7) % 256));
    const frames = [rgb.subarray(0, 90), rgb.subarray(90)];
    const input = buildPart10({
      transferSyntaxUid: TS.RLELossless,
      elements: [
        ...elements(0).slice(0, 6),
        { tag: 'SamplesPerPixel', value: 3 },
        { tag: 'PhotometricInterpretation', value: 'RGB' },
        { tag: 'PlanarConfiguration', value: 0 },
        { tag: 'NumberOfFrames', value: '2' },
        { tag: 'Rows', value: 5 },
        { tag: 'Columns', value: 6 },
        { tag: 'BitsAllocated', value: 8 },
        { tag: 'BitsStored', value: 8 },
        { tag: 'HighBit', value: 7 },
        { tag: 'PixelRepresentation', value: 0 },
      ],
      pixelData: { fragments: frames.map((f) => rleFrame(f, 3, 1)) },
    });
    const out = await transcode(input);
    const after = await parsePart10Buffer(out);
    const px = after.dataset.get(0x7fe00010)!;
    assert.equal(px.vr, 'OB');
    assert.ok(out.subarray(px.bulk!.offset, px.bulk!.offset + 180).equals(rgb));
  });
});

describe('RLE Lossless decoder (PS3.5 G)', () => {
  const g = { rows: 8, columns: 8, samplesPerPixel: 1, bitsAllocated: 16, planarConfiguration: 0, numberOfFrames: 1 };
  test('16-bit: most significant byte segment first, output little endian', () => {
    const pixels = syntheticPixels(64, 3);
    assert.ok(decodeRleFrame(rleFrame(pixels, 1, 2), g).equals(pixels));
  });
  test('RGB with Planar Configuration 1 comes out planar', () => {
    const interleaved = Buffer.from(Array.from({ length: 4 * 3 }, (_, i) => i * 10));
    const planar = Buffer.from([0, 30, 60, 90, 10, 40, 70, 100, 20, 50, 80, 110]);
    const geometry = { rows: 2, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, planarConfiguration: 1, numberOfFrames: 1 };
    assert.ok(decodeRleFrame(rleFrame(interleaved, 3, 1), geometry).equals(planar));
  });
  test('malformed frames are refused with a reason', () => {
    assert.throws(() => decodeRleFrame(Buffer.alloc(10), g), /no 64-byte header/);
    const wrongCount = rleFrame(syntheticPixels(64, 3), 1, 2);
    wrongCount.writeUInt32LE(3, 0);
    assert.throws(() => decodeRleFrame(wrongCount, g), /3 segments/);
    const short = rleFrame(syntheticPixels(64, 3), 1, 2).subarray(0, 80);
    assert.throws(() => decodeRleFrame(short, g), /decodes to|do not fit/);
  });
});
