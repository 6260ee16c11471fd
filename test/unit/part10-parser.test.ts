import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import * as dicomParser from 'dicom-parser';
import { DicomDataset, DicomElement, ParsedPart10, Tags, tagToHex } from '../../src/dicom/dataset';
import { InvalidDicom, InvalidDicomKind } from '../../src/dicom/errors';
import { Part10Parser, Part10ParserOptions, parsePart10Buffer, parsePart10Stream } from '../../src/dicom/part10-parser';
import { TS } from '../../src/dicom/transfer-syntax';
import {
  ElementSpec,
  buildPart10,
  elementHeader,
  encapsulateFrames,
  encodeElements,
  encodeFileMeta,
  itemHeader,
  syntheticInstance,
  syntheticPixels,
} from '../fixtures/dicom-builder';

const SAMPLES = '/work/shared/dicom-samples';
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

// ---------------------------------------------------------------------------------------------
// helpers

/** mulberry32: a tiny seeded PRNG, so chunkings are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function parseInChunks(buf: Buffer, seed: number, maxChunk: number, options?: Part10ParserOptions): Promise<ParsedPart10> {
  const random = prng(seed);
  const parser = new Part10Parser(options);
  for (let at = 0; at < buf.length; ) {
    const n = 1 + Math.floor(random() * maxChunk);
    await parser.write(buf.subarray(at, at + n));
    at += n;
  }
  return parser.end();
}

async function rejectsWith(promise: Promise<unknown>, kinds: InvalidDicomKind | InvalidDicomKind[]): Promise<InvalidDicom> {
  const allowed = Array.isArray(kinds) ? kinds : [kinds];
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InvalidDicom, `expected InvalidDicom, got ${String(error)}`);
    assert.ok(allowed.includes(error.kind), `expected ${allowed.join('|')}, got ${error.kind}: ${error.message}`);
    return error;
  }
  assert.fail(`expected InvalidDicom ${allowed.join('|')}, but it resolved`);
}

function el(ds: DicomDataset, tag: number): DicomElement {
  const e = ds.get(tag);
  assert.ok(e, `missing ${tagToHex(tag)}`);
  return e;
}

function text(ds: DicomDataset, tag: number): string {
  return el(ds, tag).value!.toString('utf8').replace(/[\0 ]+$/, '');
}

function dpKey(tag: number): string {
  return 'x' + tagToHex(tag).toLowerCase();
}

/**
 * Compares one data set with what dicom-parser (an independent implementation) found in the same
 * bytes: same tags, same in-memory bytes, same bulk and fragment positions, same items.
 */
function crossCheck(ours: DicomDataset, theirs: dicomParser.DataSet, bytes: Uint8Array, explicit: boolean, path = ''): void {
  // dicom-parser lists meta elements with the data set and item delimiters as elements of items.
  const theirKeys = Object.keys(theirs.elements).filter((k) => !k.startsWith('x0002') && !k.startsWith('xfffee')).sort();
  assert.deepEqual([...ours.keys()].map(dpKey).sort(), theirKeys, `tags at ${path || 'top level'}`);
  for (const [tag, element] of ours) {
    const where = `${path}${tagToHex(tag)}`;
    const other = theirs.elements[dpKey(tag)];
    if (explicit && element.vr !== 'SQ') assert.equal(element.vr, other.vr, `VR of ${where}`);
    if (element.items) {
      assert.equal(element.items.length, other.items?.length ?? 0, `item count of ${where}`);
      element.items.forEach((item, i) => crossCheck(item, other.items![i].dataSet!, bytes, explicit, `${where}[${i}].`));
    } else if (element.bulk) {
      assert.equal(element.bulk.offset, other.dataOffset, `offset of ${where}`);
      assert.equal(element.bulk.length, other.length, `length of ${where}`);
    } else if (element.encapsulated) {
      assert.ok(other.encapsulatedPixelData, `${where} is encapsulated for dicom-parser too`);
      assert.deepEqual(element.encapsulated.basicOffsetTable, other.basicOffsetTable);
      assert.deepEqual(
        element.encapsulated.fragments.map((f) => ({ position: f.offset, length: f.length })),
        other.fragments!.map((f) => ({ position: f.position, length: f.length })),
        `fragments of ${where}`,
      );
    } else {
      assert.ok(element.value, `${where} has a value`);
      assert.deepEqual(element.value, Buffer.from(bytes.subarray(other.dataOffset, other.dataOffset + other.length)), `value of ${where}`);
    }
  }
}

/** Pixel Data bytes at our BulkRefs == the bytes dicom-parser points at. */
function checkPixelBytes(result: ParsedPart10, file: Buffer, theirs: dicomParser.DataSet): void {
  const px = result.dataset.get(Tags.PixelData);
  if (!px) return;
  const base = result.deflated ? inflateRawSync(file.subarray(result.datasetOffset)) : file;
  const other = theirs.elements.x7fe00010;
  const their = (offset: number, length: number) => Buffer.from(theirs.byteArray.subarray(offset, offset + length));
  if (px.bulk) {
    const ours = base.subarray(px.bulk.offset, px.bulk.offset + px.bulk.length);
    assert.deepEqual(ours, their(other.dataOffset, other.length));
  } else {
    const fragments = px.encapsulated!.fragments;
    assert.ok(fragments.length > 0);
    fragments.forEach((f, i) => assert.deepEqual(base.subarray(f.offset, f.offset + f.length), their(other.fragments![i].position, other.fragments![i].length)));
  }
}

/** dicom-parser of a whole file. For deflated files its inflater returns only the inflated data
 *  set, so its offsets count from there like ours do. */
function dicomParserOf(file: Buffer): dicomParser.DataSet {
  return dicomParser.parseDicom(file, { inflater: (bytes, position) => inflateRawSync(bytes.subarray(position)) });
}

/** rtstruct.dcm has no preamble or meta (a bare implicit VR data set): give it a Part-10 header. */
function wrapBareDataset(bare: Buffer, transferSyntaxUid: string): Buffer {
  const preamble = Buffer.alloc(132);
  preamble.write('DICM', 128, 'latin1');
  return Buffer.concat([preamble, encodeFileMeta(transferSyntaxUid, [], { mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.481.3', mediaStorageSopInstanceUid: '1.2.3' }), bare]);
}

function loadSamples(): { name: string; file: Buffer }[] {
  return readdirSync(SAMPLES)
    .filter((n) => n.endsWith('.dcm'))
    .sort()
    .map((name) => {
      const raw = readFileSync(join(SAMPLES, name));
      const isPart10 = raw.length >= 132 && raw.toString('latin1', 128, 132) === 'DICM';
      return { name, file: isPart10 ? raw : wrapBareDataset(raw, TS.ImplicitVRLittleEndian) };
    });
}

/**
 * Cut positions where the data set ends exactly between two top-level elements: such a prefix
 * is a structurally complete file. From dicom-parser's element positions (header = 8 bytes, or
 * 12 for explicit VR with a 4-byte length); returns element start -> tag.
 */
function topLevelStarts(theirs: dicomParser.DataSet, explicit: boolean): Map<number, string> {
  const starts = new Map<number, string>();
  for (const [key, e] of Object.entries(theirs.elements)) {
    if (key.startsWith('x0002')) continue;
    const header = explicit && LONG_LENGTH_VRS.has(e.vr ?? '') ? 12 : 8;
    starts.set(e.dataOffset - header, key);
  }
  return starts;
}

// ---------------------------------------------------------------------------------------------

describe('Part10Parser: third-party samples', () => {
  const samples = loadSamples();

  it('finds the samples', () => assert.ok(samples.length >= 11, `samples in ${SAMPLES}`));

  it('refuses the bare data set rtstruct.dcm (no preamble) as not-part10', async () => {
    await rejectsWith(parsePart10Buffer(readFileSync(join(SAMPLES, 'rtstruct.dcm'))), 'not-part10');
  });

  for (const { name, file } of samples) {
    describe(name, () => {
      it('parses whole and in random small chunks with the same result', async () => {
        const whole = await parsePart10Buffer(file);
        assert.equal(whole.fileLength, file.length);
        for (const [seed, max] of [[1, 7], [2, 64], [3, 1000], [4, 1]]) {
          assert.deepEqual(await parseInChunks(file, seed, max), whole, `seed ${seed}, chunks <= ${max}`);
        }
      });

      it('agrees with dicom-parser on every element, offset and fragment', async () => {
        const ours = await parsePart10Buffer(file);
        const theirs = dicomParserOf(file);
        crossCheck(ours.dataset, theirs, theirs.byteArray, ours.explicitVr);
        const metaTheirs = Object.keys(theirs.elements).filter((k) => k.startsWith('x0002')).sort();
        assert.deepEqual([...ours.meta.keys()].map(dpKey).sort(), metaTheirs);
        for (const [tag, e] of ours.meta) {
          const o = theirs.elements[dpKey(tag)];
          assert.deepEqual(e.value, file.subarray(o.dataOffset, o.dataOffset + o.length));
        }
        assert.equal(text(ours.meta, Tags.TransferSyntaxUID), ours.transferSyntaxUid);
        assert.ok(ours.meta.has(Tags.MediaStorageSOPClassUID) && ours.meta.has(Tags.MediaStorageSOPInstanceUID));
        checkPixelBytes(ours, file, theirs);
      });

      it('refuses every truncation (every 31st byte, the first 400, the last 300)', async () => {
        const full = await parsePart10Buffer(file);
        const cuts = new Set<number>();
        for (let i = 0; i < file.length; i += 31) cuts.add(i);
        for (let i = 0; i < Math.min(400, file.length); i++) cuts.add(i);
        for (let i = Math.max(0, file.length - 300); i < file.length; i++) cuts.add(i);
        const theirs = dicomParserOf(file);
        const starts = full.deflated ? new Map<number, string>() : topLevelStarts(theirs, full.explicitVr);
        // A deflated file can only be cut "completely" after the end of its deflate stream.
        const deflateEnd = full.deflated
          ? full.datasetOffset + (inflateRawSync(file.subarray(full.datasetOffset), { info: true }) as unknown as { engine: { bytesWritten: number } }).engine.bytesWritten
          : Infinity;
        let resolved = 0;
        for (const cut of cuts) {
          const prefix = file.subarray(0, cut);
          let result: ParsedPart10 | undefined;
          try {
            result = await parsePart10Buffer(prefix);
          } catch (error) {
            assert.ok(error instanceof InvalidDicom, `cut ${cut}: ${String(error)}`);
            assert.ok(['truncated', 'not-part10', 'bad-meta'].includes(error.kind), `cut ${cut}: ${error.kind} ${error.message}`);
            continue;
          }
          resolved++;
          if (full.deflated) {
            assert.ok(cut >= deflateEnd, `cut ${cut} inside the deflate stream resolved`);
            continue;
          }
          // Only a cut between two top-level elements may look complete; then exactly the
          // elements before the cut are there.
          assert.ok(starts.has(cut) && cut > full.datasetOffset, `cut ${cut} is not at a top-level element boundary`);
          const expected = [...starts.entries()].filter(([start]) => start < cut).map(([, key]) => key).sort();
          assert.deepEqual([...result.dataset.keys()].map(dpKey).sort(), expected);
        }
        assert.ok(resolved < cuts.size / 10, `${resolved} of ${cuts.size} cuts resolved`);
      });
    });
  }

  it('parses the bare rtstruct.dcm data set once wrapped in a Part-10 header (nested sequences)', async () => {
    const file = samples.find((s) => s.name === 'rtstruct.dcm')!.file;
    const ours = await parsePart10Buffer(file);
    assert.equal(ours.transferSyntaxUid, TS.ImplicitVRLittleEndian);
    const roiContours = el(ours.dataset, 0x30060039).items!;
    assert.ok(roiContours.length > 0 && el(roiContours[0], 0x30060040).items!.length > 0);
  });
});

// ---------------------------------------------------------------------------------------------

function nested(depth: number, undefinedLength: boolean): ElementSpec[] {
  const leaf: ElementSpec[] = [{ tag: 'CodeValue', value: `LEAF${depth}` }, { tag: 'CodeMeaning', value: 'deepest' }];
  let items: ElementSpec[] = leaf;
  for (let d = 1; d <= depth; d++) {
    items = [{ tag: 'CodeValue', value: `L${d}` }, { tag: 'ConceptNameCodeSequence', value: [items], undefinedLength }];
  }
  return [
    { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.88.33' },
    { tag: 'SOPInstanceUID', value: '1.2.3.4' },
    { tag: 'ContentSequence', value: [items, [{ tag: 'CodeValue', value: 'SECOND' }]], undefinedLength },
    { tag: 'PatientName', value: 'Nest^Ed' },
  ];
}

function depthOf(ds: DicomDataset): number {
  const seq = ds.get(0x0040a730) ?? ds.get(0x0040a043);
  return seq?.items?.length ? 1 + depthOf(seq.items[0]) : 0;
}

describe('Part10Parser: generated structures', () => {
  for (const uid of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian, TS.DeflatedExplicitVRLittleEndian]) {
    for (const undefinedLength of [true, false]) {
      it(`nested sequences 5 deep, ${undefinedLength ? 'undefined' : 'defined'} lengths, ${uid}`, async () => {
        const file = buildPart10({ transferSyntaxUid: uid, elements: nested(5, undefinedLength) });
        const ours = await parsePart10Buffer(file);
        assert.equal(depthOf(ours.dataset), 6);
        assert.equal(text(ours.dataset, Tags.PatientName), 'Nest^Ed');
        let item = el(ours.dataset, 0x0040a730).items![0];
        for (let d = 5; d >= 1; d--) {
          assert.equal(text(item, 0x00080100), `L${d}`);
          item = el(item, 0x0040a043).items![0];
        }
        assert.equal(text(item, 0x00080100), 'LEAF5');
        assert.equal(text(el(ours.dataset, 0x0040a730).items![1], 0x00080100), 'SECOND');
        assert.deepEqual(await parseInChunks(file, 9, 5), ours);
        const theirs = dicomParserOf(file);
        crossCheck(ours.dataset, theirs, theirs.byteArray, ours.explicitVr);
      });
    }
  }

  it('defined-length sequence with undefined-length items and vice versa', async () => {
    for (const [seq, items] of [[false, true], [true, false]]) {
      const file = buildPart10({
        elements: [
          { tag: 'SOPInstanceUID', value: '1.2' },
          { tag: 'ReferencedSeriesSequence', undefinedLength: seq, undefinedLengthItems: items, value: [[{ tag: 'SeriesInstanceUID', value: '1.2.3' }], [{ tag: 'SeriesInstanceUID', value: '1.2.4' }]] },
          { tag: 'PatientID', value: 'X' },
        ],
      });
      const ours = await parsePart10Buffer(file);
      assert.deepEqual(el(ours.dataset, 0x00081115).items!.map((i) => text(i, Tags.SeriesInstanceUID)), ['1.2.3', '1.2.4']);
      assert.equal(text(ours.dataset, Tags.PatientID), 'X');
    }
  });

  it('empty sequences and empty items, defined and undefined length', async () => {
    for (const undefinedLength of [true, false]) {
      const file = buildPart10({
        elements: [
          { tag: 'SOPInstanceUID', value: '1.2' },
          { tag: 'ReferencedStudySequence', vr: 'SQ', value: [], undefinedLength },
          { tag: 'ReferencedPatientSequence', value: [[]], undefinedLength },
          { tag: 'PatientID', value: 'X' },
        ],
      });
      const ours = await parsePart10Buffer(file);
      assert.deepEqual(el(ours.dataset, 0x00081110), { tag: 0x00081110, vr: 'SQ', items: [] });
      assert.deepEqual(el(ours.dataset, 0x00081120).items, [new Map()]);
      assert.equal(text(ours.dataset, Tags.PatientID), 'X');
    }
  });

  it('UN of undefined length is read as an implicit VR little endian sequence (PS3.5 6.2.2)', async () => {
    const file = buildPart10({
      elements: [
        { tag: 'SOPInstanceUID', value: '1.2' },
        { tag: 0x00091010, vr: 'UN', value: [[{ tag: 'PatientID', value: 'INNER' }, { tag: 'Rows', value: 7 }]] },
        { tag: 'PatientID', value: 'OUTER' },
      ],
    });
    const ours = await parsePart10Buffer(file);
    const seq = el(ours.dataset, 0x00091010);
    assert.equal(seq.vr, 'SQ');
    assert.equal(text(seq.items![0], Tags.PatientID), 'INNER');
    assert.equal(el(seq.items![0], Tags.Rows).vr, 'US');
    assert.equal(el(seq.items![0], Tags.Rows).value!.readUInt16LE(0), 7);
    assert.equal(text(ours.dataset, Tags.PatientID), 'OUTER');
  });

  it('encapsulated Pixel Data: empty Basic Offset Table, several fragments', async () => {
    const fragments = [Buffer.alloc(10, 1), Buffer.alloc(0), Buffer.alloc(4000, 3)];
    const file = buildPart10({ transferSyntaxUid: '1.2.840.10008.1.2.4.50', elements: [{ tag: 'SOPInstanceUID', value: '1.2' }], pixelData: { fragments } });
    const ours = await parsePart10Buffer(file);
    const px = el(ours.dataset, Tags.PixelData);
    assert.deepEqual(px.encapsulated!.basicOffsetTable, []);
    assert.deepEqual(px.encapsulated!.fragments.map((f) => file.subarray(f.offset, f.offset + f.length)), fragments);
    crossCheck(ours.dataset, dicomParserOf(file), file, true);
  });

  it('encapsulated Pixel Data: Basic Offset Table and several fragments per frame, then trailing elements', async () => {
    const frames = [[Buffer.alloc(100, 1), Buffer.alloc(50, 2)], [Buffer.alloc(70, 3)], [Buffer.alloc(20, 4), Buffer.alloc(20, 5), Buffer.alloc(2, 6)]];
    const { fragments, offsetTable } = encapsulateFrames(frames);
    const file = buildPart10({
      transferSyntaxUid: TS.RLELossless,
      elements: [{ tag: 'SOPInstanceUID', value: '1.2' }, { tag: 'NumberOfFrames', value: 3 }, { tag: 0xfffcfffc, vr: 'OB', value: Buffer.alloc(6) }],
      pixelData: { fragments, offsetTable },
    });
    const ours = await parsePart10Buffer(file);
    const enc = el(ours.dataset, Tags.PixelData).encapsulated!;
    assert.deepEqual(enc.basicOffsetTable, [0, 166, 244]);
    assert.deepEqual(enc.fragments.map((f) => file.subarray(f.offset, f.offset + f.length)), fragments);
    // The offset table points at each frame's first item header, counted from the first fragment item.
    const firstItem = enc.fragments[0].offset - 8;
    assert.deepEqual(enc.basicOffsetTable.map((o) => enc.fragments.findIndex((f) => f.offset - 8 - firstItem === o)), [0, 2, 3]);
    assert.deepEqual(el(ours.dataset, 0xfffcfffc).value, Buffer.alloc(6));
    crossCheck(ours.dataset, dicomParserOf(file), file, true);
    assert.deepEqual(await parseInChunks(file, 5, 3), ours);
  });

  it('keeps elements after native Pixel Data (Data Set Trailing Padding) and records bulk by position', async () => {
    const native = syntheticPixels(32 * 32, 3);
    const file = buildPart10({
      elements: [
        { tag: 'SOPInstanceUID', value: '1.2' },
        { tag: 'RedPaletteColorLookupTableData', vr: 'OW', value: Buffer.alloc(2048, 9) },
        { tag: 'GreenPaletteColorLookupTableData', vr: 'OW', value: Buffer.alloc(1024, 8) },
        { tag: 0xfffcfffc, vr: 'OB', value: Buffer.alloc(16) },
      ],
      pixelData: { native },
    });
    const ours = await parsePart10Buffer(file);
    const px = el(ours.dataset, Tags.PixelData);
    assert.deepEqual(file.subarray(px.bulk!.offset, px.bulk!.offset + px.bulk!.length), native);
    const red = el(ours.dataset, 0x00281201).bulk!;
    assert.deepEqual(file.subarray(red.offset, red.offset + red.length), Buffer.alloc(2048, 9));
    assert.deepEqual(el(ours.dataset, 0x00281202).value, Buffer.alloc(1024, 8)); // == threshold: in memory
    assert.deepEqual(el(ours.dataset, 0xfffcfffc).value, Buffer.alloc(16));
    // A lower threshold sends the small one to bulk too; Pixel Data is bulk even when tiny.
    const low = await parsePart10Buffer(file, { bulkThreshold: 8 });
    assert.ok(el(low.dataset, 0x00281202).bulk && el(low.dataset, 0xfffcfffc).bulk);
    const tiny = await parsePart10Buffer(buildPart10({ elements: [{ tag: 'SOPInstanceUID', value: '1.2' }], pixelData: { native: Buffer.alloc(4) } }));
    assert.ok(el(tiny.dataset, Tags.PixelData).bulk);
  });

  it('Float and Double Float Pixel Data are bulk however small', async () => {
    const file = buildPart10({
      elements: [
        { tag: 'SOPInstanceUID', value: '1.2' },
        { tag: 0x7fe00008, vr: 'OF', value: [1.5, 2.5] },
        { tag: 0x7fe00009, vr: 'OD', value: [3.5] },
      ],
    });
    const ours = await parsePart10Buffer(file);
    assert.deepEqual(el(ours.dataset, 0x7fe00008).bulk!.length, 8);
    const od = el(ours.dataset, 0x7fe00009).bulk!;
    assert.equal(file.readDoubleLE(od.offset), 3.5);
  });

  it('implicit VR: an undefined-length element is a sequence, even a private one', async () => {
    const file = buildPart10({
      transferSyntaxUid: TS.ImplicitVRLittleEndian,
      elements: [
        { tag: 'SOPInstanceUID', value: '1.2' },
        { tag: 0x00091010, vr: 'SQ', value: [[{ tag: 'PatientID', value: 'IN' }], []] },
        { tag: 'PatientID', value: 'OUT' },
      ],
    });
    const ours = await parsePart10Buffer(file);
    const seq = el(ours.dataset, 0x00091010);
    assert.equal(seq.vr, 'SQ');
    assert.equal(seq.items!.length, 2);
    assert.equal(text(seq.items![0], Tags.PatientID), 'IN');
    assert.equal(text(ours.dataset, Tags.PatientID), 'OUT');
  });

  it('accepts odd value lengths', async () => {
    const file = buildPart10({
      elements: [
        { tag: 'SOPInstanceUID', value: Buffer.from('1.2.3') },
        { tag: 'PatientName', value: Buffer.from('Odd') },
        { tag: 0x00091001, vr: 'OB', value: Buffer.from([1, 2, 3]) },
        { tag: 'PatientID', value: 'EVEN' },
      ],
      pixelData: { native: Buffer.alloc(3, 7) },
    });
    const ours = await parsePart10Buffer(file);
    assert.equal(text(ours.dataset, Tags.SOPInstanceUID), '1.2.3');
    assert.deepEqual(el(ours.dataset, 0x00091001).value, Buffer.from([1, 2, 3]));
    assert.deepEqual(el(ours.dataset, Tags.PixelData).bulk!.length, 3);
    assert.equal(text(ours.dataset, Tags.PatientID), 'EVEN');
  });

  it('does not depend on the File Meta Information group length', async () => {
    const elements: ElementSpec[] = [{ tag: 'SOPInstanceUID', value: '1.2' }, { tag: 'PatientID', value: 'X' }];
    const right = await parsePart10Buffer(buildPart10({ elements }));
    for (const groupLength of ['omit', 10, 5000] as const) {
      const ours = await parsePart10Buffer(buildPart10({ elements, meta: { groupLength } }));
      assert.deepEqual(ours.dataset, right.dataset, `group length ${groupLength}`);
      assert.equal(ours.meta.has(Tags.FileMetaInformationGroupLength), groupLength !== 'omit');
    }
  });

  it('synthetic instances in every native syntax carry the same attributes and pixels', async () => {
    for (const uid of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian, TS.DeflatedExplicitVRLittleEndian]) {
      const file = syntheticInstance({ seed: 42, rows: 16, columns: 8, frames: 2, patientName: 'Müller^Jürgen', transferSyntaxUid: uid });
      const ours = await parsePart10Buffer(file);
      assert.equal(ours.transferSyntaxUid, uid);
      assert.equal(text(ours.dataset, Tags.PatientName), 'Müller^Jürgen');
      assert.equal(text(ours.dataset, Tags.SOPClassUID), '1.2.840.10008.5.1.4.1.1.2');
      assert.equal(text(ours.meta, Tags.MediaStorageSOPInstanceUID), text(ours.dataset, Tags.SOPInstanceUID));
      const rows = el(ours.dataset, Tags.Rows).value!;
      assert.equal(ours.littleEndian ? rows.readUInt16LE(0) : rows.readUInt16BE(0), 16);
      const bulk = el(ours.dataset, Tags.PixelData).bulk!;
      const base = ours.deflated ? inflateRawSync(file.subarray(ours.datasetOffset)) : file;
      assert.deepEqual(base.subarray(bulk.offset, bulk.offset + bulk.length), syntheticPixels(16 * 8 * 2, 42, ours.littleEndian));
      assert.deepEqual(await parseInChunks(file, 11, 13), ours);
    }
    assert.deepEqual(syntheticInstance({ seed: 5 }), syntheticInstance({ seed: 5 }));
    assert.notDeepEqual(syntheticInstance({ seed: 5 }), syntheticInstance({ seed: 6 }));
  });
});

// ---------------------------------------------------------------------------------------------

/** A Part-10 file whose data set is `body` verbatim (explicit VR LE unless told otherwise). */
function rawFile(body: Buffer, transferSyntaxUid: string = TS.ExplicitVRLittleEndian): Buffer {
  const preamble = Buffer.alloc(132);
  preamble.write('DICM', 128, 'latin1');
  return Buffer.concat([preamble, encodeFileMeta(transferSyntaxUid, []), body]);
}

const SOP = encodeElements([{ tag: 'SOPInstanceUID', value: '1.2' }], EXPLICIT_LE);

describe('Part10Parser: broken input', () => {
  it('not-part10: empty, shorter than 132 bytes, no DICM', async () => {
    await rejectsWith(parsePart10Buffer(Buffer.alloc(0)), 'not-part10');
    await rejectsWith(parsePart10Buffer(Buffer.alloc(131)), 'not-part10');
    await rejectsWith(parsePart10Buffer(Buffer.alloc(400)), 'not-part10');
    const parser = new Part10Parser();
    await rejectsWith(parser.write(Buffer.alloc(200)), 'not-part10'); // known at once
  });

  it('bad-meta and unsupported-transfer-syntax', async () => {
    const dicm = Buffer.alloc(132);
    dicm.write('DICM', 128, 'latin1');
    await rejectsWith(parsePart10Buffer(dicm), 'bad-meta');
    await rejectsWith(parsePart10Buffer(Buffer.concat([dicm, SOP])), 'bad-meta');
    const noTs = encodeElements([{ tag: 0x00020002, vr: 'UI', value: '1.2' }], EXPLICIT_LE);
    await rejectsWith(parsePart10Buffer(Buffer.concat([dicm, noTs, SOP])), 'bad-meta');
    const badVr = Buffer.concat([dicm, Buffer.from([2, 0, 0x10, 0, 0x7a, 0x7a, 2, 0, 0x31, 0]), SOP]);
    await rejectsWith(parsePart10Buffer(badVr), 'bad-meta');
    await rejectsWith(parsePart10Buffer(rawFile(SOP, '1.2.3.4.5')), 'unsupported-transfer-syntax');
  });

  it('truncated: meta only, empty data set, half a header', async () => {
    await rejectsWith(parsePart10Buffer(rawFile(Buffer.alloc(0))), 'truncated');
    await rejectsWith(parsePart10Buffer(rawFile(SOP.subarray(0, 5))), 'truncated');
  });

  it('truncated: a huge declared length (0x7FFFFFF0) on a short file', async () => {
    const header = elementHeader(0x00091001, 'OB', 0x7ffffff0, EXPLICIT_LE);
    await rejectsWith(parsePart10Buffer(rawFile(Buffer.concat([SOP, header, Buffer.alloc(100)]))), 'truncated');
    const px = elementHeader(Tags.PixelData, 'OW', 0x7ffffff0, EXPLICIT_LE);
    await rejectsWith(parsePart10Buffer(rawFile(Buffer.concat([SOP, px, Buffer.alloc(100)]))), 'truncated');
    // Implicit VR: the same length on a private (UN) element.
    const implicit = Buffer.concat([encodeElements([{ tag: 'SOPInstanceUID', value: '1.2' }], { explicitVr: false, littleEndian: true }), elementHeader(0x00091001, undefined, 0x7ffffff0, EXPLICIT_LE)]);
    await rejectsWith(parsePart10Buffer(rawFile(implicit, TS.ImplicitVRLittleEndian)), 'truncated');
  });

  it('too-large: a huge declared length on a value that would be kept in memory', async () => {
    const header = elementHeader(0x00080081, 'UT', 0x7ffffff0, EXPLICIT_LE);
    const parser = new Part10Parser();
    await rejectsWith(parser.write(rawFile(Buffer.concat([SOP, header, Buffer.alloc(100)]))), 'too-large');
    const many = encodeElements([{ tag: 'SOPInstanceUID', value: '1.2' }, { tag: 'PatientComments', value: 'x'.repeat(5000) }], EXPLICIT_LE);
    await rejectsWith(parsePart10Buffer(rawFile(many), { maxInMemoryBytes: 4000 }), 'too-large');
  });

  it('truncated: inside an undefined-length sequence, item, or encapsulated Pixel Data', async () => {
    const seqFile = buildPart10({ elements: nested(3, true) });
    const cutSeq = seqFile.subarray(0, seqFile.length - 30); // before the closing delimiters
    await rejectsWith(parsePart10Buffer(cutSeq), 'truncated');
    const enc = buildPart10({ transferSyntaxUid: TS.RLELossless, elements: [{ tag: 'SOPInstanceUID', value: '1.2' }], pixelData: { fragments: [Buffer.alloc(64)] } });
    await rejectsWith(parsePart10Buffer(enc.subarray(0, enc.length - 8)), 'truncated'); // no sequence delimiter
    await rejectsWith(parsePart10Buffer(enc.subarray(0, enc.length - 20)), 'truncated'); // inside the fragment
  });

  it('malformed: a lying length inside a defined-length item', async () => {
    const inner = Buffer.concat([elementHeader(Tags.PatientID, 'LO', 100, EXPLICIT_LE), Buffer.from('ABCD')]);
    const body = Buffer.concat([
      SOP,
      elementHeader(0x00081115, 'SQ', 8 + inner.length, EXPLICIT_LE),
      itemHeader(Tags.Item, inner.length, EXPLICIT_LE),
      inner,
      Buffer.alloc(200), // enough bytes follow: the length is refused for not fitting its item
    ]);
    await rejectsWith(parsePart10Buffer(rawFile(body)), 'malformed');
  });

  it('malformed: an item longer than its defined-length sequence, a sequence delimiter in a defined one', async () => {
    const value = encodeElements([{ tag: 'PatientID', value: 'AB' }], EXPLICIT_LE);
    const itemTooLong = Buffer.concat([SOP, elementHeader(0x00081115, 'SQ', 8 + value.length, EXPLICIT_LE), itemHeader(Tags.Item, value.length + 2, EXPLICIT_LE), value, Buffer.alloc(10)]);
    await rejectsWith(parsePart10Buffer(rawFile(itemTooLong)), 'malformed');
    const delimiterInDefined = Buffer.concat([SOP, elementHeader(0x00081115, 'SQ', 8, EXPLICIT_LE), itemHeader(Tags.SequenceDelimitationItem, 0, EXPLICIT_LE)]);
    await rejectsWith(parsePart10Buffer(rawFile(delimiterInDefined)), 'malformed');
    const leftover = Buffer.concat([SOP, elementHeader(0x00081115, 'SQ', 12, EXPLICIT_LE), itemHeader(Tags.Item, 0, EXPLICIT_LE), Buffer.alloc(4), value]);
    await rejectsWith(parsePart10Buffer(rawFile(leftover)), 'malformed');
  });

  it('malformed: items and delimiters where they do not belong', async () => {
    for (const stray of [Tags.Item, Tags.ItemDelimitationItem, Tags.SequenceDelimitationItem, 0xfffee0ff]) {
      await rejectsWith(parsePart10Buffer(rawFile(Buffer.concat([SOP, itemHeader(stray, 0, EXPLICIT_LE), SOP]))), 'malformed');
    }
    // A data element directly inside a sequence (not in an item).
    const inSeq = Buffer.concat([SOP, elementHeader(0x00081115, 'SQ', 0xffffffff, EXPLICIT_LE), encodeElements([{ tag: 'PatientID', value: 'AB' }], EXPLICIT_LE)]);
    await rejectsWith(parsePart10Buffer(rawFile(inSeq)), 'malformed');
    // A non-item tag inside encapsulated Pixel Data.
    const px = Buffer.concat([SOP, elementHeader(Tags.PixelData, 'OB', 0xffffffff, EXPLICIT_LE), itemHeader(Tags.Item, 0, EXPLICIT_LE), encodeElements([{ tag: 'PatientID', value: 'AB' }], EXPLICIT_LE)]);
    await rejectsWith(parsePart10Buffer(rawFile(px, TS.RLELossless)), 'malformed');
    // An Item Delimitation Item in a defined-length item.
    const delim = Buffer.concat([SOP, elementHeader(0x00081115, 'SQ', 16, EXPLICIT_LE), itemHeader(Tags.Item, 8, EXPLICIT_LE), itemHeader(Tags.ItemDelimitationItem, 0, EXPLICIT_LE)]);
    await rejectsWith(parsePart10Buffer(rawFile(delim)), 'malformed');
  });

  it('malformed: unknown VR, undefined length on a non-sequence VR', async () => {
    const badVr = Buffer.concat([SOP, Buffer.from([0x10, 0, 0x10, 0, 0x51, 0x51, 2, 0, 0x41, 0x42])]);
    await rejectsWith(parsePart10Buffer(rawFile(badVr)), 'malformed');
    const undefinedLo = Buffer.concat([SOP, elementHeader(Tags.PatientID, 'UT', 0xffffffff, EXPLICIT_LE), Buffer.alloc(100)]);
    await rejectsWith(parsePart10Buffer(rawFile(undefinedLo)), 'malformed');
  });

  it('malformed: a damaged deflate stream; truncated: a cut one', async () => {
    const file = syntheticInstance({ transferSyntaxUid: TS.DeflatedExplicitVRLittleEndian });
    const ok = await parsePart10Buffer(file);
    const damaged = Buffer.from(file);
    damaged.fill(0xff, ok.datasetOffset, ok.datasetOffset + 40);
    await rejectsWith(parsePart10Buffer(damaged), 'malformed');
    await rejectsWith(parseInChunks(damaged, 1, 50), 'malformed');
    await rejectsWith(parsePart10Buffer(file.subarray(0, file.length - 100)), 'truncated');
    // A complete deflate stream of a cut data set.
    const cutBody = deflateRawSync(encodeElements([{ tag: 'SOPInstanceUID', value: '1.2' }], EXPLICIT_LE).subarray(0, 11));
    await rejectsWith(parsePart10Buffer(rawFile(cutBody, TS.DeflatedExplicitVRLittleEndian)), 'truncated');
  });

  it('a bad deflated data set is refused by write(), before end()', async () => {
    const body = deflateRawSync(Buffer.concat([SOP, itemHeader(Tags.Item, 0, EXPLICIT_LE), Buffer.alloc(256 * 1024)]));
    const parser = new Part10Parser();
    await rejectsWith(parser.write(rawFile(body, TS.DeflatedExplicitVRLittleEndian)), 'malformed');
  });

  it('write() after end() is a usage error', async () => {
    const parser = new Part10Parser();
    await parser.write(syntheticInstance());
    await parser.end();
    await assert.rejects(parser.write(Buffer.alloc(1)), (e) => !(e instanceof InvalidDicom));
  });

  it('errors are sticky: later write() and end() reject with the same error', async () => {
    const parser = new Part10Parser();
    const error = await rejectsWith(parser.write(Buffer.alloc(300)), 'not-part10');
    await assert.rejects(parser.write(Buffer.alloc(10)), (e) => e === error);
    await assert.rejects(parser.end(), (e) => e === error);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Part10Parser: streaming', () => {
  it('parsePart10Stream reads a Readable', async () => {
    const file = syntheticInstance({ seed: 3, rows: 128, columns: 128 });
    const ours = await parsePart10Stream(Readable.from([file.subarray(0, 1000), file.subarray(1000)]));
    assert.deepEqual(ours, await parsePart10Buffer(file));
  });

  it('streams 300 MB of native Pixel Data in 64 KiB chunks with bounded memory', async (t) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const pixelLength = 300 * 1024 * 1024;
    const head = buildPart10({ elements: [{ tag: 'SOPInstanceUID', value: '1.2' }, { tag: 'Rows', value: 10240 }, { tag: 'Columns', value: 15360 }] });
    const pxHeader = elementHeader(Tags.PixelData, 'OW', pixelLength, EXPLICIT_LE);
    const tail = encodeElements([{ tag: 0xfffcfffc, vr: 'OB', value: Buffer.alloc(8, 1) }], EXPLICIT_LE);
    const chunk = 64 * 1024;

    const run = async (cutAt?: number) => {
      const parser = new Part10Parser();
      await parser.write(Buffer.concat([head, pxHeader]));
      gc();
      const baseline = process.memoryUsage().arrayBuffers;
      let peakBuffered = 0;
      let peakArrayBuffers = 0;
      let sent = 0;
      const total = cutAt ?? pixelLength;
      for (let i = 0; sent < total; i++) {
        const n = Math.min(chunk, total - sent);
        await parser.write(Buffer.alloc(n, i)); // fresh buffers: retained ones would add up
        sent += n;
        peakBuffered = Math.max(peakBuffered, parser.bufferedBytes);
        if (i % 512 === 0) {
          // Backing stores are freed by a concurrent sweeper: collect, let it run, collect again.
          gc();
          await new Promise((resolve) => setImmediate(resolve));
          gc();
          peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers - baseline);
        }
      }
      if (cutAt === undefined) await parser.write(tail);
      return { result: parser.end(), peakBuffered, peakArrayBuffers };
    };

    const { result, peakBuffered, peakArrayBuffers } = await run();
    const ours = await result;
    t.diagnostic(`peak buffered in the parser: ${peakBuffered} bytes; peak array buffer growth: ${peakArrayBuffers} bytes`);
    assert.equal(peakBuffered, 0, 'Pixel Data is skipped as it arrives');
    assert.ok(peakArrayBuffers < 16 * 1024 * 1024, `array buffers grew by ${peakArrayBuffers} bytes`);
    assert.deepEqual(el(ours.dataset, Tags.PixelData).bulk, { offset: head.length + 12, length: pixelLength });
    assert.deepEqual(el(ours.dataset, 0xfffcfffc).value, Buffer.alloc(8, 1));
    assert.equal(ours.fileLength, head.length + 12 + pixelLength + tail.length);

    const cut = await run(pixelLength / 2 + 3);
    await rejectsWith(cut.result, 'truncated');
  });
});
