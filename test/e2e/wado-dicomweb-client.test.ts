/**
 * Interoperability with the npm dicomweb-client (what OHIF uses), in Node through the xhr2
 * XMLHttpRequest polyfill: study and series metadata, an instance, and frames (default and
 * transfer-syntax=*) come back with the right bytes; and the public base URL (configured, or from
 * a trusted proxy's Forwarded / X-Forwarded-* headers) is what every BulkDataURI starts with.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sampleFiles } from '../helpers/samples';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { send } from '../helpers/http-client';
import { pydicomFrames } from '../helpers/pydicom-judge';
import { stow } from '../helpers/wado-client';

// eslint-disable-next-line @typescript-eslint/no-require-imports
(globalThis as Record<string, unknown>).XMLHttpRequest = require('xhr2');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { api } = require('dicomweb-client') as { api: { DICOMwebClient: new (o: { url: string }) => DicomwebClient } };

interface DicomwebClient {
  retrieveStudyMetadata(o: object): Promise<Record<string, { Value?: unknown[]; BulkDataURI?: string }>[]>;
  retrieveSeriesMetadata(o: object): Promise<Record<string, { Value?: unknown[]; BulkDataURI?: string }>[]>;
  retrieveInstance(o: object): Promise<ArrayBuffer>;
  retrieveInstanceFrames(o: object): Promise<ArrayBuffer[]>;
}

const sample = (name: string) => sampleFiles().find((s) => s.name === name)!.path;
const CT_STUDY = '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322';
const CT_SERIES = '1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322';
const CT_SOP = '1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322';

describe('dicomweb-client against the gateway', () => {
  let gw: RunningGateway;
  let client: DicomwebClient;
  before(async () => {
    gw = await startInProcessGateway();
    await stow(gw.baseUrl, [readFileSync(sample('CT_small.dcm')), readFileSync(sample('SC_rgb_rle_2frame.dcm'))]);
    client = new api.DICOMwebClient({ url: `${gw.baseUrl}/dicomweb` });
  });
  after(async () => gw.stop());

  test('retrieveStudyMetadata and retrieveSeriesMetadata', async () => {
    const study = await client.retrieveStudyMetadata({ studyInstanceUID: CT_STUDY });
    assert.equal(study.length, 1);
    assert.equal(study[0]['00080018'].Value![0], CT_SOP);
    assert.equal(study[0]['7FE00010'].BulkDataURI, `${gw.baseUrl}/dicomweb/studies/${CT_STUDY}/series/${CT_SERIES}/instances/${CT_SOP}/bulkdata/7FE00010`);
    const series = await client.retrieveSeriesMetadata({ studyInstanceUID: CT_STUDY, seriesInstanceUID: CT_SERIES });
    assert.deepEqual(series, study);
  });

  test('retrieveInstance: the stored file', async () => {
    const bytes = await client.retrieveInstance({ studyInstanceUID: CT_STUDY, seriesInstanceUID: CT_SERIES, sopInstanceUID: CT_SOP });
    assert.ok(Buffer.from(bytes).equals(readFileSync(sample('CT_small.dcm'))));
  });

  test('retrieveInstanceFrames: default (native) and transfer-syntax=* (RLE as stored)', async () => {
    const ct = await client.retrieveInstanceFrames({ studyInstanceUID: CT_STUDY, seriesInstanceUID: CT_SERIES, sopInstanceUID: CT_SOP, frameNumbers: [1] });
    assert.deepEqual(ct.map((f) => Buffer.from(f)), pydicomFrames(sample('CT_small.dcm')));
    const md = await client.retrieveStudyMetadata({ studyInstanceUID: studyOf('SC_rgb_rle_2frame.dcm') });
    const rle = {
      studyInstanceUID: md[0]['0020000D'].Value![0] as string,
      seriesInstanceUID: md[0]['0020000E'].Value![0] as string,
      sopInstanceUID: md[0]['00080018'].Value![0] as string,
    };
    const stored = await client.retrieveInstanceFrames({ ...rle, frameNumbers: [2, 1], mediaTypes: [{ mediaType: 'application/octet-stream', transferSyntaxUID: '*' }] });
    const expected = pydicomFrames(sample('SC_rgb_rle_2frame.dcm'));
    assert.deepEqual(stored.map((f) => Buffer.from(f)), [expected[1], expected[0]]);
  });
});

/** Study Instance UID of an Explicit VR Little Endian sample: (0020,000D) "UI", length, value. */
function studyOf(name: string): string {
  const ds = readFileSync(sample(name));
  const at = ds.indexOf(Buffer.from([0x20, 0x00, 0x0d, 0x00, 0x55, 0x49]));
  return ds.toString('latin1', at + 8, at + 8 + ds.readUInt16LE(at + 6)).replace(/\0$/, '');
}

describe('public URLs in BulkDataURIs', () => {
  const ct = readFileSync(sample('CT_small.dcm'));
  const metadataUri = async (env: Record<string, string>, headers: Record<string, string>) => {
    const gw = await startInProcessGateway(env);
    try {
      await stow(gw.baseUrl, [ct]);
      const res = await send(`${gw.baseUrl}/dicomweb/studies/${CT_STUDY}/metadata`, { headers });
      return res.json()[0]['7FE00010'].BulkDataURI as string;
    } finally {
      await gw.stop();
    }
  };
  const path = `/dicomweb/studies/${CT_STUDY}/series/${CT_SERIES}/instances/${CT_SOP}/bulkdata/7FE00010`;

  test('configured PUBLIC_BASE_URL wins', async () => {
    assert.equal(await metadataUri({ PUBLIC_BASE_URL: 'https://pacs.example.org/gw' }, { 'x-forwarded-host': 'evil.example' }), `https://pacs.example.org/gw${path}`);
  });
  test('a trusted proxy: Forwarded, then X-Forwarded-*', async () => {
    assert.equal(await metadataUri({ TRUST_PROXY: 'true' }, { forwarded: 'for=1.2.3.4;proto=https;host=viewer.example.org' }), `https://viewer.example.org${path}`);
    assert.equal(
      await metadataUri({ TRUST_PROXY: 'true' }, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'edge.example.org:8443', 'x-forwarded-prefix': '/pacs' }),
      `https://edge.example.org:8443/pacs${path}`,
    );
  });
  test('an untrusted proxy is ignored: the Host the client used', async () => {
    assert.equal(await metadataUri({}, { 'x-forwarded-host': 'evil.example', host: 'gateway.local:9000' }), `http://gateway.local:9000${path}`);
  });
});
