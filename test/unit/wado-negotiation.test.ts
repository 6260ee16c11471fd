/** Accept negotiation of WADO-RS (PS3.18 8.7.3, 8.7.5): ranges against what can be produced. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { instanceOffers, pixelOffers } from '../../src/dicomweb/wado/wado-offers';
import { acceptableSyntaxes, selectRepresentation, wadoRanges } from '../../src/dicomweb/wado/wado-negotiation';
import { dcmtkJpegAvailable } from '../../src/pixels/dcmtk-jpeg12';

const EVRLE = '1.2.840.10008.1.2.1';
const IMPLICIT = '1.2.840.10008.1.2';
const BIG = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const RLE = '1.2.840.10008.1.2.5';
const J2K = '1.2.840.10008.1.2.4.90';
const JPEG = '1.2.840.10008.1.2.4.50';

const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';
const HTJ2K = '1.2.840.10008.1.2.4.201';
const JPEG_LS = '1.2.840.10008.1.2.4.80';
const MPEG2 = '1.2.840.10008.1.2.4.100';

type Geometry = Parameters<typeof instanceOffers>[2];
const MONO16: Geometry = { rows: 8, columns: 8, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, planarConfiguration: 0, numberOfFrames: 1, photometricInterpretation: 'MONOCHROME2' };

function instance(accept: string | undefined, stored: string, opts: { bare?: boolean; lossy?: boolean; single?: boolean; pixel?: Geometry } = {}) {
  return selectRepresentation(wadoRanges(accept, 'instance'), instanceOffers(stored, opts.bare ?? false, opts.pixel), opts.single ?? false, opts.lossy ? stored : undefined);
}
function pixels(accept: string | undefined, stored: string, encapsulated: boolean, opts: { lossy?: boolean; single?: boolean; pixel?: Geometry } = {}) {
  return selectRepresentation(wadoRanges(accept, 'pixels'), pixelOffers(stored, encapsulated, opts.pixel), opts.single ?? false, opts.lossy ? stored : undefined);
}

describe('WADO-RS Accept negotiation', () => {
  test('no transfer-syntax: Explicit VR Little Endian for native data, whatever it is stored as', () => {
    for (const accept of [undefined, '', '*/*', 'multipart/related; type="application/dicom"', 'multipart/related', 'multipart/*']) {
      for (const stored of [EVRLE, IMPLICIT, BIG, DEFLATED, RLE]) {
        const s = instance(accept, stored);
        assert.equal(s?.transferSyntaxUid, EVRLE, `${accept} / ${stored}`);
        assert.equal(s?.mediaType, 'application/dicom');
        assert.equal(s?.multipart, true);
      }
    }
  });

  test('transfer-syntax=*: as stored, except Implicit VR LE and Big Endian, banned from web services', () => {
    const star = 'multipart/related; type="application/dicom"; transfer-syntax=*';
    assert.equal(instance(star, EVRLE)?.transferSyntaxUid, EVRLE);
    assert.equal(instance(star, RLE)?.transferSyntaxUid, RLE);
    assert.equal(instance(star, J2K)?.transferSyntaxUid, J2K);
    assert.equal(instance(star, DEFLATED)?.transferSyntaxUid, DEFLATED);
    assert.equal(instance(star, IMPLICIT)?.transferSyntaxUid, EVRLE);
    assert.equal(instance(star, BIG)?.transferSyntaxUid, EVRLE);
  });

  test('an explicit transfer syntax is honoured or refused', () => {
    const ask = (ts: string) => `multipart/related; type="application/dicom"; transfer-syntax=${ts}`;
    assert.equal(instance(ask(EVRLE), RLE)?.transferSyntaxUid, EVRLE);
    assert.equal(instance(ask(RLE), RLE)?.transferSyntaxUid, RLE);
    assert.equal(instance(ask(JPEG), J2K), undefined, 'never a lossy encoding');
    assert.equal(instance(ask(EVRLE), J2K)?.transferSyntaxUid, EVRLE, 'JPEG 2000 decoded');
    assert.equal(instance(ask(HTJ2K), J2K, { pixel: MONO16 })?.transferSyntaxUid, HTJ2K, 'and transcoded');
    assert.equal(instance(ask(HTJ2K), EVRLE, { pixel: MONO16 })?.transferSyntaxUid, HTJ2K, 'native pixels encoded');
    assert.equal(instance(ask(JPEG_LS), EVRLE, { pixel: MONO16 }), undefined, 'no JPEG-LS encoder');
    assert.equal(instance(ask(EVRLE), MPEG2), undefined, 'no video decoder');
    assert.equal(instance(ask(IMPLICIT), IMPLICIT), undefined, 'never Implicit VR in web services');
  });

  test('lossy-only pixel data is answered as stored by default (PS3.18 8.7.3); lossless is decoded', () => {
    assert.equal(instance(undefined, JPEG, { lossy: true })?.transferSyntaxUid, JPEG);
    assert.equal(instance(undefined, J2K)?.transferSyntaxUid, EVRLE);
    assert.equal(pixels(undefined, JPEG, true, { lossy: true })?.transferSyntaxUid, JPEG);
    assert.equal(pixels(undefined, J2K, true)?.transferSyntaxUid, EVRLE);
  });

  test('what the codecs cannot decode is not offered: 16-bit JPEG Extended, 12-bit without dcmtk, video', () => {
    const ask = (ts: string) => `multipart/related; type="application/dicom"; transfer-syntax=${ts}`;
    assert.equal(instance(ask(EVRLE), JPEG_EXTENDED, { pixel: MONO16 })?.transferSyntaxUid, dcmtkJpegAvailable() ? EVRLE : undefined, '12 bits stored: through dcmdjpeg');
    assert.equal(instance(ask(EVRLE), JPEG_EXTENDED, { pixel: { ...MONO16, bitsStored: 16 } }), undefined, '16 bits stored: no JPEG process has them');
    assert.equal(instance(ask(EVRLE), JPEG_EXTENDED, { pixel: { ...MONO16, bitsAllocated: 8, bitsStored: 8 } })?.transferSyntaxUid, EVRLE, '8 bits');
    assert.equal(pixels('multipart/related; type="application/octet-stream"', JPEG_EXTENDED, true, { pixel: { ...MONO16, bitsStored: 14 } }), undefined);
  });

  test('frames: compressed media types are offered for what the encoders make', () => {
    assert.deepEqual(
      pixelOffers(EVRLE, false, MONO16).map((o) => `${o.mediaType} ${o.transferSyntaxUid}`),
      [`application/octet-stream ${EVRLE}`, `image/dicom-rle ${RLE}`, `image/jp2 ${J2K}`, `image/jphc ${HTJ2K}`],
    );
    assert.equal(pixels('multipart/related; type="image/jphc"', J2K, true, { pixel: MONO16 })?.transferSyntaxUid, HTJ2K);
    assert.equal(pixels('multipart/related; type="image/jp2"', EVRLE, false, { pixel: MONO16 })?.transferSyntaxUid, J2K);
  });

  test('q-values: the best q wins, then the cheapest conversion; q=0 excludes', () => {
    const a = `multipart/related; type="application/dicom"; transfer-syntax=${EVRLE};q=0.4, multipart/related; type="application/dicom"; transfer-syntax=*;q=0.8`;
    assert.equal(instance(a, RLE)?.transferSyntaxUid, RLE);
    const b = `multipart/related; type="application/dicom"; transfer-syntax=${EVRLE};q=0.9, multipart/related; type="application/dicom"; transfer-syntax=*;q=0.8`;
    assert.equal(instance(b, RLE)?.transferSyntaxUid, EVRLE);
    // The most specific range decides an offer's q: RLE itself at q=0 leaves the decoded form.
    const c = `multipart/related; type="application/dicom"; transfer-syntax=*, multipart/related; type="application/dicom"; transfer-syntax=${RLE};q=0`;
    assert.equal(instance(c, RLE)?.transferSyntaxUid, EVRLE);
    assert.equal(instance('multipart/related; type="application/dicom";q=0', EVRLE), undefined);
    // Equal q: no conversion beats a conversion.
    assert.equal(instance('multipart/related; type="application/dicom"; transfer-syntax=*', RLE)?.transferSyntaxUid, RLE);
  });

  test('single-part media types only where one part is answered', () => {
    const s = instance('application/dicom', EVRLE, { single: true });
    assert.deepEqual([s?.multipart, s?.transferSyntaxUid], [false, EVRLE]);
    assert.equal(instance('application/dicom', EVRLE, { single: false }), undefined);
    assert.equal(instance('application/dicom+json', EVRLE, { single: true }), undefined);
    assert.equal(instance('multipart/related; type="application/dicom+xml"', EVRLE), undefined);
  });

  test('frames: octet-stream for native and as-stored compressed; image types with aliases echoed', () => {
    assert.equal(pixels(undefined, EVRLE, false)?.contentType, 'application/octet-stream');
    assert.equal(pixels(undefined, RLE, true)?.transferSyntaxUid, EVRLE, 'RLE decoded by default');
    const star = pixels('multipart/related; type="application/octet-stream"; transfer-syntax=*', J2K, true);
    assert.deepEqual([star?.mediaType, star?.transferSyntaxUid], ['application/octet-stream', J2K]);
    const jp2 = pixels('multipart/related; type="image/jp2"', J2K, true);
    assert.deepEqual([jp2?.contentType, jp2?.transferSyntaxUid], ['image/jp2', J2K]);
    const rle = pixels('multipart/related; type="image/x-dicom-rle"', RLE, true);
    assert.deepEqual([rle?.contentType, rle?.transferSyntaxUid], ['image/x-dicom-rle', RLE]);
    assert.equal(pixels('multipart/related; type="image/jpeg"', J2K, true), undefined);
    assert.equal(pixels('multipart/related; type="image/jp2"', EVRLE, false), undefined);
    assert.equal(pixels(`multipart/related; type="image/jp2"; transfer-syntax=${JPEG}`, J2K, true), undefined);
  });

  test('quoted commas in a type parameter do not split ranges; the accept query parameter form parses too', () => {
    const ranges = wadoRanges('multipart/related; type="application/dicom"; transfer-syntax="*", application/json;q=0.2', 'instance');
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0].transferSyntax, '*');
  });

  test('acceptable syntaxes for stores that convert natively', () => {
    const ranges = wadoRanges(`multipart/related; type="application/dicom"; transfer-syntax=${JPEG};q=0.5, multipart/related; type="application/dicom"`, 'instance');
    assert.deepEqual(acceptableSyntaxes(ranges), [EVRLE, JPEG]);
  });
});
