/**
 * Pieces of the Google fake's rendered answers and STOW XML, without a server: the PNG writer
 * read back by an independent decoder, the JPEG writer read back by dcmtk, the VOI window functions at the edges PS3.3 C.11.2.1.2
 * defines, the grayscale pipeline (rescale, signed values, MONOCHROME1, the frame's own range when
 * there is no window), RGB of either planar configuration, and DICOM XML of a STOW answer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DicomJsonDataset } from '../fakes/dicom-archive/dicom-json';
import { toNativeDicomModel } from '../fakes/gcp/dicom-xml';
import { encodeJpeg } from '../fakes/gcp/jpeg-encoder';
import { encodePng } from '../fakes/gcp/png-encoder';
import { applyWindow, parseWindowParameter, renderFrame } from '../fakes/gcp/pixel-rendering';
import { decodeJpegWithDcmtk, imageDifference } from '../fakes/gcp/test-client/dcmtk-jpeg-decoder';
import { decodePng } from '../fakes/gcp/test-client/png-decoder';

const us = (values: number[]) => {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(v & 0xffff, i * 2));
  return b;
};
const meta = (extra: DicomJsonDataset): DicomJsonDataset => ({
  '00280002': { vr: 'US', Value: [1] },
  '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
  '00280010': { vr: 'US', Value: [1] },
  '00280011': { vr: 'US', Value: [4] },
  '00280100': { vr: 'US', Value: [16] },
  '00280101': { vr: 'US', Value: [12] },
  '00280103': { vr: 'US', Value: [0] },
  ...extra,
});

describe('PNG writer', () => {
  test('gray and RGB images decode to the same pixels', () => {
    const gray = Buffer.from([...Array(12).keys()].map((i) => i * 20));
    assert.deepEqual(decodePng(encodePng(4, 3, 1, gray)), { width: 4, height: 3, channels: 1, pixels: gray });
    const rgb = Buffer.from([...Array(18).keys()].map((i) => 255 - i * 13));
    assert.deepEqual(decodePng(encodePng(3, 2, 3, rgb)), { width: 3, height: 2, channels: 3, pixels: rgb });
    assert.throws(() => encodePng(2, 2, 1, Buffer.alloc(3)));
  });
});

describe('JPEG writer (read back with dcmtk)', () => {
  test('gray and RGB of sizes that are no multiple of 8 decode close to the input', () => {
    const gray = Buffer.from([...Array(37 * 21).keys()].map((i) => Math.round((((i % 37) + Math.floor(i / 37)) * 255) / 57)));
    const decodedGray = decodeJpegWithDcmtk(encodeJpeg(37, 21, 1, gray, 95));
    assert.deepEqual([decodedGray.width, decodedGray.height, decodedGray.channels], [37, 21, 1]);
    assert.ok(imageDifference(decodedGray.pixels, gray).max <= 4);
    const rgb = Buffer.from([...Array(13 * 9 * 3).keys()].map((i) => (i * 7) % 256 > 128 ? 200 : 40));
    const decodedRgb = decodeJpegWithDcmtk(encodeJpeg(13, 9, 3, rgb, 100));
    assert.deepEqual([decodedRgb.width, decodedRgb.height, decodedRgb.channels], [13, 9, 3]);
    assert.ok(imageDifference(decodedRgb.pixels, rgb).mean < 12, 'hard colour edges: only the mean is close');
    assert.throws(() => encodeJpeg(2, 2, 1, Buffer.alloc(3)));
  });
});

describe('VOI window', () => {
  test('LINEAR: 0 at and below c - 0.5 - (w-1)/2, 255 above c - 0.5 + (w-1)/2, linear between', () => {
    const w = { center: 40, width: 400, fn: 'linear' as const };
    assert.equal(applyWindow(40 - 0.5 - 199.5, w), 0);
    assert.equal(applyWindow(-1000, w), 0);
    assert.equal(applyWindow(40 - 0.5 + 199.5 + 0.001, w), 255);
    assert.equal(applyWindow(40, w), Math.round(((40 - 39.5) / 399 + 0.5) * 255));
  });

  test('LINEAR_EXACT and SIGMOID', () => {
    const exact = { center: 100, width: 50, fn: 'linear-exact' as const };
    assert.equal(applyWindow(75, exact), 0);
    assert.equal(applyWindow(125.01, exact), 255);
    assert.equal(applyWindow(100, exact), 128);
    assert.equal(applyWindow(100, { center: 100, width: 50, fn: 'sigmoid' }), 128);
    assert.equal(applyWindow(0, { center: 100, width: 50, fn: 'sigmoid' }), Math.round(255 / (1 + Math.exp(8))));
  });

  test('the window parameter: center,width[,function]; anything else is refused', () => {
    assert.deepEqual(parseWindowParameter('40,400'), { center: 40, width: 400, fn: 'linear' });
    assert.deepEqual(parseWindowParameter('-600,1500,LINEAR-EXACT'), { center: -600, width: 1500, fn: 'linear-exact' });
    assert.equal(parseWindowParameter(undefined), undefined);
    for (const bad of ['40', '40,0', 'a,b', '40,400,gamma', '40,400,linear,1', '40,0.5']) assert.throws(() => parseWindowParameter(bad), /window/, bad);
  });
});

describe('grayscale and colour frames', () => {
  test('rescale, the instance window, MONOCHROME1 inverted, a requested window winning', () => {
    const m = meta({ '00281052': { vr: 'DS', Value: [-1024] }, '00281053': { vr: 'DS', Value: [1] }, '00281050': { vr: 'DS', Value: [40] }, '00281051': { vr: 'DS', Value: [400] } });
    const frame = us([0, 1064, 1100, 4095]);
    const expected = [-1024, 40, 76, 3071].map((x) => applyWindow(x, { center: 40, width: 400, fn: 'linear' }));
    assert.deepEqual([...renderFrame(m, frame, undefined).pixels], expected);
    const inverted = renderFrame({ ...m, '00280004': { vr: 'CS', Value: ['MONOCHROME1'] } }, frame, undefined);
    assert.deepEqual([...inverted.pixels], expected.map((v) => 255 - v));
    const asked = renderFrame(m, frame, { center: 1000, width: 2000, fn: 'linear' });
    assert.deepEqual([...asked.pixels], [-1024, 40, 76, 3071].map((x) => applyWindow(x, { center: 1000, width: 2000, fn: 'linear' })));
  });

  test('signed 12-bit values and no window at all: the frame range end to end; bits above Bits Stored are ignored', () => {
    const m = meta({ '00280103': { vr: 'US', Value: [1] } });
    // 0xF800 is -2048 in 12 bits once the high nibble (not stored) is masked; 0x07FF is 2047.
    const rendered = renderFrame(m, us([0xf800, 0x0000, 0x07ff, 0x1000 | 0x0000]), undefined);
    assert.deepEqual([...rendered.pixels], [0, 128, 255, 128]);
  });

  test('8-bit RGB, pixel- or plane-interleaved, comes out pixel-interleaved; other colour is refused', () => {
    const m = meta({ '00280002': { vr: 'US', Value: [3] }, '00280004': { vr: 'CS', Value: ['RGB'] }, '00280100': { vr: 'US', Value: [8] }, '00280011': { vr: 'US', Value: [2] } });
    const interleaved = Buffer.from([1, 2, 3, 4, 5, 6]);
    assert.deepEqual(renderFrame(m, interleaved, undefined), { width: 2, height: 1, channels: 3, pixels: interleaved });
    const planar = renderFrame({ ...m, '00280006': { vr: 'US', Value: [1] } }, Buffer.from([1, 4, 2, 5, 3, 6]), undefined);
    assert.deepEqual(planar.pixels, interleaved);
    assert.throws(() => renderFrame({ ...m, '00280004': { vr: 'CS', Value: ['YBR_FULL'] } }, interleaved, undefined), /RGB/);
  });
});

describe('DICOM XML of a STOW answer', () => {
  test('keywords, numbered values, items, and a private element with its creator as an attribute', () => {
    const xml = toNativeDicomModel({
      '00081190': { vr: 'UR', Value: ['https://x/studies/1.2'] },
      '00081198': { vr: 'SQ', Value: [{ '00081197': { vr: 'US', Value: [272] }, '00090010': { vr: 'LO', Value: ['GOOGLE'] }, '00090097': { vr: 'LT', Value: ['a < b & c'] } }] },
    });
    assert.equal(
      xml,
      '<NativeDicomModel><DicomAttribute tag="00081190" vr="UR" keyword="RetrieveURL"><Value number="1">https://x/studies/1.2</Value></DicomAttribute>' +
        '<DicomAttribute tag="00081198" vr="SQ" keyword="FailedSOPSequence"><Item number="1"><DicomAttribute tag="00081197" vr="US" keyword="FailureReason"><Value number="1">272</Value></DicomAttribute>' +
        '<DicomAttribute tag="00090097" vr="LT" keyword="FailureDetail" privateCreator="GOOGLE"><Value number="1">a &lt; b &amp; c</Value></DicomAttribute></Item></DicomAttribute></NativeDicomModel>',
    );
  });
});
