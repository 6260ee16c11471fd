/**
 * A real Orthanc (DICOMweb plugin) as the judge of interoperability: configured with the gateway
 * as a DICOMweb server (DicomWeb.Servers), it queries and retrieves a study from it; and the same
 * files stored in Orthanc and in the gateway come back from both as equal data sets (group 0002
 * aside), as pydicom reads them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { orthancAvailable, RunningOrthanc, startOrthanc } from '../helpers/orthanc';
import { sampleFiles } from '../helpers/samples';
import { makeTempDir } from '../helpers/temp-dir';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { multipartBody } from '../helpers/multipart-body';
import { pydicomCompare } from '../helpers/pydicom-judge';
import { getParts, local, stow } from '../helpers/wado-client';

const STAR = 'multipart/related; type="application/dicom"; transfer-syntax=*';

async function orthancStow(orthanc: RunningOrthanc, file: Buffer): Promise<void> {
  const { body, contentType } = multipartBody([file]);
  const res = await fetch(`${orthanc.dicomwebUrl}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
  assert.equal(res.status, 200, await res.text());
}

describe('Orthanc and the gateway', { skip: !orthancAvailable() && 'Orthanc with its DICOMweb plugin is not installed' }, () => {
  let gw: RunningGateway;
  let orthanc: RunningOrthanc;
  let tmp: { path: string; remove(): void };
  before(async () => {
    gw = await startInProcessGateway();
    orthanc = await startOrthanc({ extraConfig: { DicomWeb: { Servers: { gateway: [`${gw.baseUrl}/dicomweb/`] } } } });
    tmp = makeTempDir('wado-orthanc');
  });
  after(async () => {
    await orthanc?.stop();
    await gw?.stop();
    tmp?.remove();
  });

  test('Orthanc retrieves a study from the gateway (WADO-RS through DicomWeb.Servers)', async () => {
    const ct = readFileSync(sampleFiles().find((s) => s.name === 'CT_small.dcm')!.path);
    const study = '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322';
    await stow(gw.baseUrl, [ct]);
    const retrieve = await fetch(`${orthanc.baseUrl}/dicom-web/servers/gateway/retrieve`, {
      method: 'POST',
      body: JSON.stringify({ Resources: [{ Study: study }] }),
    });
    assert.equal(retrieve.status, 200, await retrieve.text());
    const instances = (await (await fetch(`${orthanc.baseUrl}/instances?expand`)).json()) as { ID: string; MainDicomTags: Record<string, string> }[];
    assert.equal(instances.length, 1);
    const file = Buffer.from(await (await fetch(`${orthanc.baseUrl}/instances/${instances[0].ID}/file`)).arrayBuffer());
    assert.ok(file.equals(ct), 'Orthanc holds the very bytes the gateway holds');
    // Orthanc's generic proxy GET: the gateway's metadata through Orthanc.
    const proxied = await fetch(`${orthanc.baseUrl}/dicom-web/servers/gateway/get`, {
      method: 'POST',
      body: JSON.stringify({ Uri: `/studies/${study}/metadata` }),
    });
    assert.equal(proxied.status, 200);
    const metadata = (await proxied.json()) as Record<string, { Value?: string[] }>[];
    assert.equal(metadata[0]['0020000D'].Value![0], study);
  });

  test('the same files retrieve from Orthanc and from the gateway as equal data sets', async (t) => {
    for (const sample of sampleFiles()) {
      // Several MR_small* files share one SOP Instance UID: each gets a fresh pair of stores.
      const pairGw = await startInProcessGateway();
      const pairOrthanc = await startOrthanc();
      try {
        const bytes = readFileSync(sample.path);
        const [url] = await stow(pairGw.baseUrl, [bytes]);
        const path = new URL(url).pathname.replace(/^\/dicomweb/, '');
        try {
          await orthancStow(pairOrthanc, bytes);
        } catch (e) {
          // A bare data set: Orthanc refuses what the gateway keeps (and serves as Part-10).
          if (sample.name === 'rtstruct.dcm') {
            t.diagnostic(`${sample.name}: Orthanc refused it (${(e as Error).message.slice(0, 80)})`);
            continue;
          }
          throw e;
        }
        const fromGateway = (await getParts(local(url, pairGw.baseUrl), STAR)).parts[0].body;
        const fromOrthanc = (await getParts(`${pairOrthanc.dicomwebUrl}${path}`, STAR)).parts[0].body;
        const a = join(tmp.path, `${sample.name}.gateway.dcm`);
        const b = join(tmp.path, `${sample.name}.orthanc.dcm`);
        writeFileSync(a, fromGateway);
        writeFileSync(b, fromOrthanc);
        const judged = pydicomCompare(b, a);
        assert.ok(judged.ok, `${sample.name}: ${judged.problems.join('; ')}`);
      } finally {
        await pairOrthanc.stop();
        await pairGw.stop();
      }
    }
  });
});
