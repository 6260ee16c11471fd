/**
 * The S3 import-job path of the HealthImaging adapter against the wire-level fake: instances
 * written to S3, StartDICOMImportJob with an idempotent client token, the job followed to its
 * end, each file's outcome read from the job's results, the inputs deleted; instances arriving
 * together share one job; a file the job refuses fails alone, with the job's reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MedicalImagingClient, ListDICOMImportJobsCommand } from '@aws-sdk/client-medical-imaging';
import { S3Client } from '@aws-sdk/client-s3';
import { ImportJobRunner } from '../../src/stores/healthimaging/import-job-runner';
import { IncomingInstance } from '../../src/stores/dicom-store';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { HealthImagingFake } from '../fakes/healthimaging';
import { HealthImagingSetup, startHealthImagingGateway } from '../helpers/healthimaging-gateway';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { makeTempDir } from '../helpers/temp-dir';

const ROOT = '1.2.826.0.1.3680043.10.7900';

function stow(base: string, files: Buffer[]) {
  const { body, contentType } = multipartBody(files);
  return send(`${base}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
}

function instance(n: number, i: number, size = 16): Buffer {
  const studyUid = `${ROOT}.${n}`;
  return syntheticInstance({ seed: n * 100 + i, rows: size, columns: size, studyUid, seriesUid: `${studyUid}.1`, sopInstanceUid: `${studyUid}.1.${i}`, instanceNumber: i, patientId: `IMP-${n}` });
}

function importLines(fake: HealthImagingFake, extra: string[] = []): string[] {
  return [
    'stow: import-job',
    'importJob:',
    `  bucket: ${fake.bucket}`,
    '  prefix: gateway-imports',
    `  dataAccessRoleArn: "${fake.dataAccessRoleArn}"`,
    '  pollIntervalMs: 50',
    '  batchWindowMs: 300',
    ...extra,
  ];
}

describe('healthimaging import jobs through the gateway', () => {
  let setup: HealthImagingSetup;
  before(async () => {
    setup = await startHealthImagingGateway({ importJobDurationMs: 200, stowEnabled: false }, { storeLines: (fake) => importLines(fake) });
  });
  after(() => setup?.close());

  test('a STOW goes through S3 and one import job; the answer waits for the job and lists each instance', async () => {
    setup.fake.resetRequests();
    const res = await stow(setup.dicomweb, [instance(1, 1), instance(1, 2), instance(1, 3)]);
    assert.equal(res.status, 200, res.text());
    assert.equal(res.json()['00081199'].Value.length, 3);
    const ops = setup.fake.requests().map((r) => r.operation);
    assert.equal(ops.filter((o) => o === 'PutObject').length, 3, ops.join(', '));
    assert.equal(ops.filter((o) => o === 'StartDICOMImportJob').length, 1);
    assert.ok(ops.includes('GetDICOMImportJob'));
    assert.ok(!ops.includes('StoreDICOM'), 'DICOMweb STOW is not used');
    assert.equal(setup.fake.instances().filter((i) => i.studyInstanceUid === `${ROOT}.1`).length, 3);
    const metadata = await send(`${setup.dicomweb}/studies/${ROOT}.1/series/${ROOT}.1.1/metadata`, { headers: { accept: 'application/dicom+json' } });
    assert.equal((metadata.json() as unknown[]).length, 3);
  });

  test('STOW requests arriving together share one job; the same instance again is found already stored, with no job', async () => {
    setup.fake.resetRequests();
    const [a, b] = await Promise.all([stow(setup.dicomweb, [instance(2, 1)]), stow(setup.dicomweb, [instance(3, 1), instance(3, 2)])]);
    assert.equal(a.status, 200, a.text());
    assert.equal(b.status, 200, b.text());
    assert.equal(setup.fake.requests().filter((r) => r.operation === 'StartDICOMImportJob').length, 1);
    setup.fake.resetRequests();
    const again = await stow(setup.dicomweb, [instance(2, 1)]);
    assert.equal(again.status, 200, again.text());
    assert.equal(setup.fake.requests().filter((r) => r.operation === 'StartDICOMImportJob').length, 0);
  });

  test('a throttled control plane is retried by the SDK: the import still completes', async () => {
    setup.fake.throttleNext(2, 'control');
    const res = await stow(setup.dicomweb, [instance(4, 1)]);
    assert.equal(res.status, 200, res.text());
  });
});

describe('healthimaging import job runner', () => {
  let setup: HealthImagingSetup;
  let runner: ImportJobRunner;
  let imaging: MedicalImagingClient;
  let s3: S3Client;
  const dir = makeTempDir('ahi-import-runner');
  before(async () => {
    setup = await startHealthImagingGateway({ importJobDurationMs: 100 });
    const { region, credentials } = setup.fake;
    imaging = new MedicalImagingClient({ region, credentials, endpoint: setup.fake.controlEndpoint });
    s3 = new S3Client({ region, credentials, endpoint: setup.fake.s3Endpoint, forcePathStyle: true });
    runner = new ImportJobRunner(
      { storeName: 'ahi', datastoreId: setup.fake.datastoreId, timeouts: { connectMs: 1000, firstByteMs: 5000, idleMs: 5000 } },
      { bucket: setup.fake.bucket, prefix: 'runner/', dataAccessRoleArn: setup.fake.dataAccessRoleArn, pollIntervalMs: 30, maxWaitMs: 20_000, batchWindowMs: 0, maxInstancesPerJob: 100 },
      imaging,
      s3,
    );
  });
  after(async () => {
    imaging?.destroy();
    s3?.destroy();
    await setup?.close();
    dir.remove();
  });

  function staged(name: string, bytes: Buffer, sop: string): IncomingInstance {
    const path = join(dir.path, name);
    writeFileSync(path, bytes);
    const identity = { studyInstanceUid: `${ROOT}.9`, seriesInstanceUid: `${ROOT}.9.1`, sopInstanceUid: sop, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxUid: '1.2.840.10008.1.2.1' };
    return { identity, staged: { path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), readOnly: true } } as unknown as IncomingInstance;
  }

  test('each file gets its own outcome: the one the job refuses fails with the job reason, the other is stored', async () => {
    const good = staged('good.dcm', instance(9, 1), `${ROOT}.9.1.1`);
    const junk = staged('junk.dcm', Buffer.from('not a DICOM file at all, which the import job refuses'), `${ROOT}.9.1.2`);
    const outcomes = await runner.run([good, junk]);
    assert.deepEqual(outcomes[0], { ok: true, outcome: { kind: 'stored' } });
    assert.equal(outcomes[1].ok, false);
    assert.match((outcomes[1] as { error: Error }).error.message, /refused it \(ValidationException/);
    assert.ok(setup.fake.instances().some((i) => i.sopInstanceUid === `${ROOT}.9.1.1`));
    const leftovers = setup.fake.requests().filter((r) => r.operation === 'DeleteObjects');
    assert.equal(leftovers.length, 1, 'the inputs are deleted');
  });

  test('the same import again finds the job it started (the same client token), with the same outcomes', async () => {
    const good = staged('good2.dcm', instance(9, 3), `${ROOT}.9.1.3`);
    const before = await imaging.send(new ListDICOMImportJobsCommand({ datastoreId: setup.fake.datastoreId }));
    const first = await runner.run([good]);
    const second = await runner.run([good]);
    assert.deepEqual(first, second);
    const afterJobs = await imaging.send(new ListDICOMImportJobsCommand({ datastoreId: setup.fake.datastoreId }));
    assert.equal((afterJobs.jobSummaries?.length ?? 0) - (before.jobSummaries?.length ?? 0), 1, 'one job for both runs');
  });
});
