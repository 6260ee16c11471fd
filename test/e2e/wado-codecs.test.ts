/**
 * Transcoding in WADO-RS (PS3.18 8.7.3), judged by other projects' codecs: compressed instances
 * made by dcmtk (JPEG baseline, extended, lossless SV1 and process 14, JPEG-LS lossless and
 * near-lossless, RLE) and OpenJPEG (JPEG 2000 lossless and lossy), and the compressed third-party
 * samples, are decoded by the gateway to the pixels dcmtk's decoders or opj_decompress make of
 * them; native pixels encoded by the gateway (RLE, JPEG 2000 and HTJ2K lossless) are decoded by
 * dcmdrle and opj_decompress back to the very same bytes. Instances answered decoded carry the
 * attributes PS3.3 asks for (Photometric Interpretation, Lossy Image Compression and its method).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompressedSample,
  dcmtkSample,
  decodeWithOpenJpeg,
  NativeImage,
  nativeImage,
  ojphColorCodestream,
  openjpegSample,
  TS_EXPLICIT,
  TS_HTJ2K_LOSSLESS,
  TS_J2K_LOSSLESS,
  TS_JPEG_BASELINE,
  TS_JPEG_EXTENDED,
  TS_JPEG_LOSSLESS_14,
  TS_JPEG_LOSSLESS_SV1,
  TS_JPEG_LS,
  TS_JPEG_LS_NEAR,
  TS_RLE,
} from '../fixtures/codec-samples';
import * as dicomParser from 'dicom-parser';
import { send } from '../helpers/http-client';
import { pydicomFrames, pydicomPixels } from '../helpers/pydicom-judge';
import { sampleFiles } from '../helpers/samples';
import { makeTempDir } from '../helpers/temp-dir';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { getParts, splitMultipart } from '../helpers/wado-client';
import { imageInstance } from '../fixtures/wado-images';
import { uidFromSeed } from '../fixtures/dicom-builder';

const OCTETS_NATIVE = `multipart/related; type="application/octet-stream"; transfer-syntax=${TS_EXPLICIT}`;
const instanceAs = (syntax: string) => `multipart/related; type="application/dicom"; transfer-syntax=${syntax}`;

/** Largest difference between two sample buffers (8- or 16-bit little endian). */
function maxDifference(a: Buffer, b: Buffer, bytesPerSample: number): number {
  assert.equal(a.length, b.length, `${a.length} bytes against ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i += bytesPerSample) {
    const d = bytesPerSample === 2 ? Math.abs(a.readUInt16LE(i) - b.readUInt16LE(i)) : Math.abs(a[i] - b[i]);
    if (d > max) max = d;
  }
  return max;
}

function dump(file: string, tag: string): string {
  const out = execFileSync('dcmdump', ['-q', '+P', tag, file], { encoding: 'utf8' });
  return /\[(.*)\]|=(\S+)/.exec(out)?.slice(1).find((x) => x !== undefined) ?? '';
}

/** The fragments of encapsulated Pixel Data as dicom-parser (another implementation) reads them;
 *  pydicom 2.3 does not know the HTJ2K transfer syntaxes. */
function fragmentsOf(file: string): Buffer[] {
  const ds = dicomParser.parseDicom(readFileSync(file));
  const element = ds.elements.x7fe00010;
  return (element.fragments ?? []).map((_, i) => Buffer.from(dicomParser.readEncapsulatedPixelDataFromFragments(ds, element, i, 1)));
}

describe('WADO-RS transcoding, judged by dcmtk, OpenJPEG and pydicom', () => {
  const dir = makeTempDir('codecs');
  let gw: RunningGateway;
  let mono16: NativeImage;
  let rgb8: NativeImage;
  let mono8: NativeImage;
  const samples: CompressedSample[] = [];
  const urlOf = (study: string, series: string, sop: string) => `${gw.baseUrl}/dicomweb/studies/${study}/series/${series}/instances/${sop}`;
  const sampleUrl = (s: CompressedSample) => urlOf(s.source.study, s.source.series, s.sop);
  const nativeUrl = (n: NativeImage) => urlOf(n.study, n.series, n.sop);

  async function store(file: string): Promise<void> {
    const res = await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: readFileSync(file) });
    assert.equal(res.status, 200, `${file}: ${res.text().slice(0, 300)}`);
  }

  /** The answer's one part, written to a file for the judges. */
  async function retrieveFile(url: string, accept: string, name: string): Promise<string> {
    const { answer, parts } = await getParts(url, accept);
    assert.equal(answer.status, 200, `${name}: ${answer.text().slice(0, 300)}`);
    assert.equal(parts.length, 1);
    const file = join(dir.path, `${name}.answer.dcm`);
    writeFileSync(file, parts[0].body);
    return file;
  }

  before(async () => {
    gw = await startInProcessGateway();
    mono16 = nativeImage(dir.path, 'mono16', { rows: 48, columns: 64, frames: 3, samplesPerPixel: 1, bitsAllocated: 16, seed: 1 });
    rgb8 = nativeImage(dir.path, 'rgb8', { rows: 40, columns: 56, frames: 2, samplesPerPixel: 3, bitsAllocated: 8, seed: 2 });
    mono8 = nativeImage(dir.path, 'mono8', { rows: 40, columns: 56, frames: 2, samplesPerPixel: 1, bitsAllocated: 8, seed: 3 });
    samples.push(
      dcmtkSample(dir.path, mono8, 'jpeg-baseline-mono8', TS_JPEG_BASELINE, 'dcmcjpeg', ['+eb'], 'dcmdjpeg', true),
      dcmtkSample(dir.path, rgb8, 'jpeg-baseline-rgb8', TS_JPEG_BASELINE, 'dcmcjpeg', ['+eb'], 'dcmdjpeg', true),
      dcmtkSample(dir.path, mono8, 'jpeg-extended-mono8', TS_JPEG_EXTENDED, 'dcmcjpeg', ['+ee'], 'dcmdjpeg', true),
      // 12 bits stored: JPEG process 4, decoded through dcmtk's own 12-bit IJG code.
      dcmtkSample(dir.path, mono16, 'jpeg-extended-mono16', TS_JPEG_EXTENDED, 'dcmcjpeg', ['+ee'], 'dcmdjpeg', true),
      dcmtkSample(dir.path, mono16, 'jpeg-sv1-mono16', TS_JPEG_LOSSLESS_SV1, 'dcmcjpeg', ['+e1'], 'dcmdjpeg', false),
      dcmtkSample(dir.path, mono16, 'jpeg-p14-mono16', TS_JPEG_LOSSLESS_14, 'dcmcjpeg', ['+el', '+sv', '6'], 'dcmdjpeg', false),
      dcmtkSample(dir.path, rgb8, 'jpeg-sv1-rgb8', TS_JPEG_LOSSLESS_SV1, 'dcmcjpeg', ['+e1'], 'dcmdjpeg', false),
      dcmtkSample(dir.path, mono16, 'jpegls-mono16', TS_JPEG_LS, 'dcmcjpls', ['+el'], 'dcmdjpls', false),
      dcmtkSample(dir.path, rgb8, 'jpegls-rgb8', TS_JPEG_LS, 'dcmcjpls', ['+el'], 'dcmdjpls', false),
      dcmtkSample(dir.path, mono16, 'jpegls-near-mono16', TS_JPEG_LS_NEAR, 'dcmcjpls', ['+en'], 'dcmdjpls', true),
      dcmtkSample(dir.path, rgb8, 'rle-rgb8', TS_RLE, 'dcmcrle', [], 'dcmdrle', false),
      openjpegSample(dir.path, mono16, 'j2k-lossless-mono16'),
      openjpegSample(dir.path, mono16, 'j2k-lossy-mono16', 20),
    );
    for (const file of [mono16.file, rgb8.file, mono8.file, ...samples.map((s) => s.file)]) await store(file);
  });

  after(async () => {
    await gw?.stop();
    dir.remove();
  });

  test('every compressed sample: each frame decoded equals the reference decode (lossless exactly; lossy JPEG within 1)', async () => {
    for (const sample of samples) {
      const bytesPerSample = sample.source.bitsAllocated / 8;
      for (let f = 1; f <= sample.source.frames; f++) {
        const { answer, parts } = await getParts(`${sampleUrl(sample)}/frames/${f}`, OCTETS_NATIVE);
        assert.equal(answer.status, 200, `${sample.name} frame ${f}: ${answer.text().slice(0, 300)}`);
        assert.match(String(parts[0].contentType), /^application\/octet-stream; transfer-syntax=1\.2\.840\.10008\.1\.2\.1$/);
        const difference = maxDifference(parts[0].body, sample.reference[f - 1], bytesPerSample);
        // libjpeg-turbo and dcmtk's IJG code share the integer IDCT; the color conversion may
        // round one step apart. Everything lossless is bit-exact, lossy JPEG-LS and JPEG 2000 too
        // (their decoders are deterministic by the standard), 12-bit JPEG too (dcmtk decodes it).
        const allowed = sample.syntax === TS_JPEG_BASELINE || sample.syntax === TS_JPEG_EXTENDED ? 1 : 0;
        assert.ok(difference <= allowed, `${sample.name} frame ${f}: differs from the reference by up to ${difference}`);
      }
    }
  });

  test('lossless samples decode to the very pixels the encoder was given', async () => {
    for (const sample of samples.filter((s) => !s.lossy)) {
      for (let f = 1; f <= sample.source.frames; f++) {
        const { parts } = await getParts(`${sampleUrl(sample)}/frames/${f}`, OCTETS_NATIVE);
        assert.ok(parts[0].body.equals(sample.source.pixels[f - 1]), `${sample.name} frame ${f}`);
      }
    }
  });

  test('instances decoded to Explicit VR Little Endian: pydicom reads the reference pixels; the lossy flag and method are set, YBR is RGB', async () => {
    for (const sample of samples) {
      const file = await retrieveFile(sampleUrl(sample), instanceAs(TS_EXPLICIT), sample.name);
      assert.equal(dump(file, '0002,0010'), 'LittleEndianExplicit');
      const pixels = pydicomPixels(file);
      const bytesPerSample = sample.source.bitsAllocated / 8;
      pixels.forEach((frame, i) => assert.ok(maxDifference(frame, sample.reference[i], bytesPerSample) <= (sample.syntax === TS_JPEG_BASELINE || sample.syntax === TS_JPEG_EXTENDED ? 1 : 0), `${sample.name} frame ${i + 1}`));
      if (sample.source.samplesPerPixel === 3) assert.equal(dump(file, '0028,0004'), 'RGB', `${sample.name}: Photometric Interpretation`);
      if (sample.lossy) {
        assert.equal(dump(file, '0028,2110'), '01', `${sample.name}: Lossy Image Compression`);
        assert.match(dump(file, '0028,2114'), /^ISO_/, `${sample.name}: Lossy Image Compression Method`);
      } else {
        assert.notEqual(dump(file, '0028,2110'), '01', `${sample.name}: not lossy`);
      }
      // dcmtk reads it whole.
      execFileSync('dcmdump', ['-q', file], { stdio: 'ignore' });
    }
  });

  test('native pixels encoded by the gateway (RLE, JPEG 2000 and HTJ2K lossless) decode elsewhere to the same bytes', async () => {
    for (const image of [mono16, rgb8, mono8]) {
      const rle = await retrieveFile(nativeUrl(image), instanceAs(TS_RLE), `${image.name}-rle`);
      const decoded = join(dir.path, `${image.name}-rle.dcmdrle.dcm`);
      execFileSync('dcmdrle', [rle, decoded], { stdio: 'ignore' });
      pydicomPixels(decoded).forEach((frame, i) => assert.ok(frame.equals(image.pixels[i]), `${image.name} RLE frame ${i + 1}`));
      for (const syntax of [TS_J2K_LOSSLESS, TS_HTJ2K_LOSSLESS]) {
        const file = await retrieveFile(nativeUrl(image), instanceAs(syntax), `${image.name}-${syntax}`);
        const codestreams = fragmentsOf(file);
        assert.equal(codestreams.length, image.frames, 'one fragment per frame');
        codestreams.forEach((codestream, i) => {
          const pixels = decodeWithOpenJpeg(dir.path, `${image.name}-${syntax}-${i}`, codestream, image.samplesPerPixel);
          assert.ok(pixels.equals(image.pixels[i]), `${image.name} ${syntax} frame ${i + 1}: opj_decompress disagrees`);
        });
        // OpenJPEG's encoder applies the reversible color transform to three components; ours
        // of HTJ2K applies none.
        const photometric = image.samplesPerPixel === 1 ? 'MONOCHROME2' : syntax === TS_J2K_LOSSLESS ? 'YBR_RCT' : 'RGB';
        assert.equal(dump(file, '0028,0004'), photometric, `${image.name} ${syntax}`);
      }
    }
  });

  test('color HTJ2K by OpenJPH\'s ojph_compress, with and without the color transform, decodes to the original RGB', async () => {
    for (const colorTransform of [false, true]) {
      const name = `ojph-rgb-${colorTransform}`;
      const codestream = ojphColorCodestream(dir.path, name, rgb8.pixels[0], rgb8.rows, rgb8.columns, colorTransform);
      const seed = colorTransform ? 7071 : 7070;
      const sop = uidFromSeed(seed, 'instance');
      const file = imageInstance({
        seed,
        rows: rgb8.rows,
        columns: rgb8.columns,
        frames: 1,
        samplesPerPixel: 3,
        bitsAllocated: 8,
        studyUid: rgb8.study,
        seriesUid: rgb8.series,
        transferSyntaxUid: TS_HTJ2K_LOSSLESS,
        pixelData: { fragments: [codestream.length % 2 ? Buffer.concat([codestream, Buffer.alloc(1)]) : codestream] },
      });
      const path = join(dir.path, `${name}.dcm`);
      writeFileSync(path, file);
      await store(path);
      const { answer, parts } = await getParts(`${urlOf(rgb8.study, rgb8.series, sop)}/frames/1`, OCTETS_NATIVE);
      assert.equal(answer.status, 200, answer.text());
      assert.ok(parts[0].body.equals(rgb8.pixels[0]), `color transform ${colorTransform}: the gateway's decode differs from the original`);
    }
  });

  test('frames transcoded from one compressed syntax to another (JPEG-LS to HTJ2K, JPEG 2000 to RLE) stay lossless', async () => {
    const jls = samples.find((s) => s.name === 'jpegls-mono16')!;
    const { answer, parts } = await getParts(`${sampleUrl(jls)}/frames/2`, 'multipart/related; type="image/jphc"');
    assert.equal(answer.status, 200, answer.text());
    assert.match(String(parts[0].contentType), /^image\/jphc; transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.201$/);
    assert.ok(decodeWithOpenJpeg(dir.path, 'jls-to-ht', parts[0].body).equals(jls.source.pixels[1]));
    const j2k = samples.find((s) => s.name === 'j2k-lossless-mono16')!;
    const rle = await retrieveFile(sampleUrl(j2k), instanceAs(TS_RLE), 'j2k-to-rle');
    const decoded = join(dir.path, 'j2k-to-rle.dcmdrle.dcm');
    execFileSync('dcmdrle', [rle, decoded], { stdio: 'ignore' });
    pydicomPixels(decoded).forEach((frame, i) => assert.ok(frame.equals(j2k.source.pixels[i]), `frame ${i + 1}`));
  });

  test('the third-party compressed samples: JPEG 2000, RLE and 12-bit JPEG Extended decoded as pydicom, opj_decompress and dcmdjpeg do', async () => {
    const byName = new Map(sampleFiles().map((s) => [s.name, s.path]));
    for (const name of ['JPEG2000.dcm', 'MR_small_RLE.dcm', 'SC_rgb_rle_2frame.dcm', 'JPGExtended.dcm']) await store(byName.get(name)!);
    const uids = (file: string) => ['0020,000d', '0020,000e', '0008,0018'].map((t) => dump(file, t));
    const [study, series, sop] = uids(byName.get('JPEG2000.dcm')!);
    const frame = await getParts(`${urlOf(study, series, sop)}/frames/1`, OCTETS_NATIVE);
    const reference = decodeWithOpenJpeg(dir.path, 'shared-j2k', pydicomFrames(byName.get('JPEG2000.dcm')!)[0]);
    assert.ok(frame.parts[0].body.equals(reference), 'JPEG2000.dcm as opj_decompress decodes it');
    for (const name of ['MR_small_RLE.dcm', 'SC_rgb_rle_2frame.dcm']) {
      const [st, se, so] = uids(byName.get(name)!);
      const file = await retrieveFile(urlOf(st, se, so), instanceAs(TS_EXPLICIT), name);
      const expected = pydicomPixels(byName.get(name)!);
      pydicomPixels(file).forEach((f, i) => assert.ok(f.equals(expected[i]), `${name} frame ${i + 1}`));
    }
    // 12-bit JPEG Extended: decoded (through dcmdjpeg) as dcmdjpeg decodes the whole file.
    const [st, se, so] = uids(byName.get('JPGExtended.dcm')!);
    const decodedSample = join(dir.path, 'JPGExtended.decoded.dcm');
    execFileSync('dcmdjpeg', [byName.get('JPGExtended.dcm')!, decodedSample]);
    const twelve = await getParts(`${urlOf(st, se, so)}/frames/1`, OCTETS_NATIVE);
    assert.equal(twelve.answer.status, 200, twelve.answer.text().slice(0, 300));
    assert.ok(twelve.parts[0].body.equals(pydicomPixels(decodedSample)[0]), 'JPGExtended.dcm as dcmdjpeg decodes it');
    const asStored = await getParts(`${urlOf(st, se, so)}/frames/1`, 'multipart/related; type="image/jpeg"');
    assert.equal(asStored.answer.status, 200, 'as stored it is still served');
  });

  test('a one-frame request of a multi-frame instance decodes that frame only, and a second request none', async () => {
    const j2k = samples.find((s) => s.name === 'j2k-lossy-mono16')!;
    const decodes = async () => {
      const text = (await send(`${gw.baseUrl}/metrics`)).text();
      return Number(/dicomweb_gateway_codec_jobs_total\{op="decode",outcome="ok"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const hits = async () => Number(/dicomweb_gateway_frame_cache_requests_total\{result="hit"\} (\d+)/.exec((await send(`${gw.baseUrl}/metrics`)).text())?.[1] ?? 0);
    // Frame 3 as HTJ2K was not asked before: one decode (and one encode); then none.
    const before = await decodes();
    const hitsBefore = await hits();
    const url = `${sampleUrl(j2k)}/frames/3`;
    const accept = 'multipart/related; type="image/jphc"';
    const first = await getParts(url, accept);
    assert.equal(first.answer.status, 200);
    const afterFirst = await decodes();
    assert.ok(afterFirst - before <= 1, `${afterFirst - before} decodes for one frame`);
    const second = await getParts(url, accept);
    assert.ok(second.parts[0].body.equals(first.parts[0].body));
    assert.equal(await decodes(), afterFirst, 'the second request is served from the frame cache');
    assert.ok((await hits()) > hitsBefore);
  });

  test('what cannot be produced is 406 with the reason: a lossy encoding, JPEG-LS encoding', async () => {
    for (const accept of ['multipart/related; type="image/jpeg"', instanceAs('1.2.840.10008.1.2.4.80')]) {
      const url = accept.includes('dicom') ? nativeUrl(mono16) : `${nativeUrl(mono16)}/frames/1`;
      const res = await send(url, { headers: { accept } });
      assert.equal(res.status, 406, accept);
      assert.match(String(res.headers.warning), /never compresses lossily/);
    }
  });

  test('a multi-frame transcode streams every frame in order, as several parts of one answer', async () => {
    const res = await send(`${nativeUrl(mono16)}/frames/3,1,2`, { headers: { accept: 'multipart/related; type="image/jp2"' } });
    assert.equal(res.status, 200);
    const parts = await splitMultipart(res);
    assert.deepEqual(
      parts.map((p, i) => decodeWithOpenJpeg(dir.path, `order-${i}`, p.body).equals(mono16.pixels[[2, 0, 1][i]])),
      [true, true, true],
    );
  });
});
