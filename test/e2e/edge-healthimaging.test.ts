/**
 * Edge store-and-forward to AWS HealthImaging (its wire-level fake), through both of the adapter's
 * paths: DICOMweb STOW, and S3 with import jobs, whose outcomes reach the forwarding queue as they
 * would a STOW answer. The real Redis holds the queues (own key prefix).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { HealthImagingFake, startHealthImagingFake } from '../fakes/healthimaging';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/redis-keys';
import { makeTempDir } from '../helpers/temp-dir';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';

const ROOT = '1.2.826.0.1.3680043.10.7812';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const mode of ['dicomweb', 'import-job'] as const) {
  describe(`edge forwarding to HealthImaging (${mode})`, () => {
    let fake: HealthImagingFake;
    let gw: RunningGateway;
    const dir = makeTempDir(`edge-ahi-${mode}`);
    const prefix = uniqueRedisPrefix(`edge-ahi-${mode}`);

    before(async () => {
      fake = await startHealthImagingFake({ importJobDurationMs: 150, stowEnabled: mode === 'dicomweb' });
      const config = {
        defaultStore: 'spool',
        stores: [
          { name: 'spool', kind: 'local', path: join(dir.path, 'spool') },
          {
            name: 'ahi',
            kind: 'healthimaging',
            region: fake.region,
            datastoreId: fake.datastoreId,
            endpoints: { dicomweb: fake.dicomwebEndpoint, control: fake.controlEndpoint, s3: fake.s3Endpoint },
            credentials: { accessKeyId: fake.credentials.accessKeyId, secretAccessKeyEnv: 'TEST_AWS_SECRET', sessionTokenEnv: 'TEST_AWS_SESSION_TOKEN' },
            stow: mode,
            healthCheckIntervalMs: 0,
            retries: { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 },
            ...(mode === 'import-job' ? { importJob: { bucket: fake.bucket, dataAccessRoleArn: fake.dataAccessRoleArn, pollIntervalMs: 50, batchWindowMs: 200 } } : {}),
          },
        ],
        edge: { destinations: [{ store: 'ahi', batchSize: 10, backoff: { baseDelayMs: 200, maxDelayMs: 1000 } }], reconcileIntervalMs: 1000 },
      };
      writeFileSync(join(dir.path, 'gateway.yaml'), stringify(config));
      gw = await startInProcessGateway({
        CONFIG_FILE: join(dir.path, 'gateway.yaml'),
        DATA_DIR: join(dir.path, 'data'),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        TEST_AWS_SECRET: fake.credentials.secretAccessKey,
        TEST_AWS_SESSION_TOKEN: fake.credentials.sessionToken ?? '',
      });
    });
    after(async () => {
      await gw?.stop();
      await fake?.close();
      await deleteRedisKeys(prefix);
      dir.remove();
    });

    test('a study accepted by the edge reaches HealthImaging, each instance confirmed, through a throttled spell', async () => {
      const studyUid = `${ROOT}.${mode === 'dicomweb' ? 1 : 2}`;
      const files = Array.from({ length: 12 }, (_, i) =>
        syntheticInstance({ seed: 7000 + i, rows: 32, columns: 32, studyUid, seriesUid: `${studyUid}.1`, sopInstanceUid: `${studyUid}.1.${i + 1}`, instanceNumber: i + 1, patientId: 'EDGE-AHI' }),
      );
      fake.throttleNext(3, mode === 'dicomweb' ? 'dicomweb' : 'control');
      const { body, contentType } = multipartBody(files);
      const stored = await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
      assert.equal(stored.status, 200, stored.text());
      const deadline = Date.now() + 30_000;
      for (;;) {
        const status = (await send(`${gw.baseUrl}/api/studies/${studyUid}/status`)).json() as { instances: { destinations: Record<string, { state: string }> }[] };
        if (status.instances.length === 12 && status.instances.every((i) => i.destinations.ahi?.state === 'delivered')) break;
        assert.ok(Date.now() < deadline, `not delivered in time: ${JSON.stringify(status.instances.map((i) => i.destinations.ahi))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const held = new Map(fake.instances().filter((i) => i.studyInstanceUid === studyUid).map((i) => [i.sopInstanceUid, i.sha256]));
      assert.equal(held.size, 12);
      for (const [i, file] of files.entries()) assert.equal(held.get(`${studyUid}.1.${i + 1}`), sha(file));
      const ops = fake.requests().map((r) => r.operation);
      if (mode === 'import-job') {
        assert.ok(ops.includes('StartDICOMImportJob') && !ops.includes('StoreDICOM'), ops.join(', '));
      } else {
        assert.ok(ops.includes('StoreDICOM'), ops.join(', '));
      }
    });
  });
}
