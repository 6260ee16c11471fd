/**
 * Metadata answers (PS3.18 F): stored DICOM JSON text with BulkDataURIs made absolute, no parse
 * per request; and every BulkDataURI the JSON writer hands out has a stored position (the layout
 * paths are the BulkDataURI paths, nested sequences included).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toDicomJson } from '../../src/dicom/dicom-json';
import { stringifyDicomJson } from '../../src/dicom/dicom-json-stringify';
import { parsePart10Buffer } from '../../src/dicom/part10-parser';
import { metadataChunks } from '../../src/dicomweb/wado/metadata-body';
import { buildInstanceLayout } from '../../src/stores/local/instance-layout';
import { buildPart10, syntheticPixels } from '../fixtures/dicom-builder';

async function text(chunks: AsyncIterable<Buffer>): Promise<string> {
  let out = '';
  for await (const c of chunks) out += c.toString('utf8');
  return out;
}

async function* entries(list: { sop: string; json: string }[]) {
  for (const e of list) yield { ref: { studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: e.sop }, json: e.json };
}

describe('WADO-RS metadata', () => {
  test('BulkDataURIs get the public instance URL; values that look alike are untouched', async () => {
    const a = stringifyDicomJson({
      '00081030': { vr: 'LO', Value: ['"BulkDataURI":"bulkdata/ in a value'] },
      '7FE00010': { vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' },
    });
    const b = stringifyDicomJson({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'A^B' }] } });
    const out = JSON.parse(await text(metadataChunks(entries([{ sop: '1.2.3.4', json: a }, { sop: '1.2.3.5', json: b }]), 'https://pacs.example.org/x"y/dicomweb')));
    assert.equal(out.length, 2);
    assert.equal(out[0]['7FE00010'].BulkDataURI, 'https://pacs.example.org/x"y/dicomweb/studies/1.2/series/1.2.3/instances/1.2.3.4/bulkdata/7FE00010');
    assert.equal(out[0]['00081030'].Value[0], '"BulkDataURI":"bulkdata/ in a value');
    assert.deepEqual(out[1], { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'A^B' }] } });
    assert.equal(await text(metadataChunks(entries([]), 'http://h/dicomweb')), '[]');
  });

  test('every BulkDataURI of the JSON writer has a position in the instance layout', async () => {
    const file = buildPart10({
      elements: [
        { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
        { tag: 'SOPInstanceUID', value: '1.2.3.4' },
        { tag: 'StudyInstanceUID', value: '1.2' },
        { tag: 'SeriesInstanceUID', value: '1.2.3' },
        { tag: 'IconImageSequence', value: [[{ tag: 'Rows', value: 16 }, { tag: 'Columns', value: 16 }, { tag: 'BitsAllocated', value: 8 }, { tag: 'PixelData', vr: 'OB', value: syntheticPixels(128, 2) }]] },
        { tag: 'EncapsulatedDocument', vr: 'OB', value: syntheticPixels(2000, 4) },
        { tag: 'SmallestImagePixelValue', vr: 'US', value: 0 },
        { tag: 'Rows', value: 8 },
        { tag: 'Columns', value: 8 },
        { tag: 'BitsAllocated', value: 16 },
        { tag: 'SamplesPerPixel', value: 1 },
        { tag: 0x00091002, vr: 'OB', value: Buffer.alloc(20) },
      ],
      pixelData: { native: syntheticPixels(64, 1) },
    });
    const parsed = await parsePart10Buffer(file, { bulkThreshold: 64 });
    const metadata = toDicomJson(parsed.dataset, { littleEndian: true, inlineBinaryThreshold: 64, bulkDataUri: (p) => `bulkdata/${p}` });
    const uris: string[] = [];
    JSON.stringify(metadata, (k, v) => (k === 'BulkDataURI' && uris.push(v.slice('bulkdata/'.length)), v));
    const layout = await buildInstanceLayout(parsed, async () => Buffer.alloc(0));
    assert.deepEqual(uris.filter((u) => u !== '7FE00010').sort(), Object.keys(layout.bulk).sort());
    assert.deepEqual(uris.sort(), ['00420011', '00880200/0/7FE00010', '7FE00010']);
    assert.equal(metadata['00091002'].InlineBinary, Buffer.alloc(20).toString('base64'));
    const [offset, length] = layout.pixel!.native!;
    assert.ok(file.subarray(offset, offset + length).equals(syntheticPixels(64, 1)));
    assert.deepEqual(layout.pixel!.geometry, { rows: 8, columns: 8, samplesPerPixel: 1, bitsAllocated: 16, planarConfiguration: 0, numberOfFrames: 1, bitsStored: 16, pixelRepresentation: 0 });
  });
});
