/**
 * The import path of the HealthImaging fake driven by AWS's own clients:
 * @aws-sdk/client-s3 puts, gets, lists and deletes objects on the fake bucket, and
 * @aws-sdk/client-medical-imaging runs GetDatastore and a DICOM import job to COMPLETED, whose
 * manifest, success.ndjson and failure.ndjson are where HealthImaging writes them. Also the job
 * API's validation, idempotency and errors as the SDK surfaces them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetDICOMImportJobCommand,
  GetDatastoreCommand,
  ListDICOMImportJobsCommand,
  MedicalImagingClient,
  StartDICOMImportJobCommand,
} from '@aws-sdk/client-medical-imaging';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { HealthImagingFake, startHealthImagingFake } from '../fakes/healthimaging';
import { fakeClient } from '../fakes/healthimaging/test-client/fake-clients';

let fake: HealthImagingFake;
let s3: S3Client;
let mi: MedicalImagingClient;
before(async () => {
  fake = await startHealthImagingFake({ importJobDurationMs: 90 });
  const common = { region: fake.region, credentials: fake.credentials, maxAttempts: 1 };
  s3 = new S3Client({ ...common, endpoint: fake.s3Endpoint, forcePathStyle: true });
  mi = new MedicalImagingClient({ ...common, endpoint: fake.controlEndpoint });
});
after(async () => {
  s3.destroy();
  mi.destroy();
  await fake.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function text(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: fake.bucket, Key: key }));
  return object.Body!.transformToString();
}

async function finished(jobId: string): Promise<{ jobStatus?: string; outputS3Uri?: string; message?: string; endedAt?: Date }> {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const { jobProperties } = await mi.send(new GetDICOMImportJobCommand({ datastoreId: fake.datastoreId, jobId }));
    seen.add(jobProperties!.jobStatus!);
    if (jobProperties!.jobStatus === 'COMPLETED' || jobProperties!.jobStatus === 'FAILED') {
      assert.ok(seen.has('SUBMITTED') || seen.has('IN_PROGRESS'), 'the job was seen before it ended');
      return jobProperties!;
    }
    await sleep(10);
  }
  throw new Error('the import job did not end');
}

describe('S3 with @aws-sdk/client-s3', () => {
  test('PutObject (stream with ContentLength, and a Buffer), GetObject, ListObjectsV2, DeleteObject(s)', async () => {
    const streamed = Buffer.alloc(200_000, 3);
    await s3.send(new PutObjectCommand({ Bucket: fake.bucket, Key: 's3test/streamed.bin', Body: Readable.from([streamed.subarray(0, 70_000), streamed.subarray(70_000)]), ContentLength: streamed.length }));
    const put = await s3.send(new PutObjectCommand({ Bucket: fake.bucket, Key: 's3test/dir/buffer file.txt', Body: Buffer.from('hello s3') }));
    assert.match(put.ETag ?? '', /^"[0-9a-f]{32}"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: fake.bucket, Key: 's3test/streamed.bin' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), streamed);
    assert.equal(await text('s3test/dir/buffer file.txt'), 'hello s3');
    const head = await s3.send(new HeadObjectCommand({ Bucket: fake.bucket, Key: 's3test/streamed.bin' }));
    assert.equal(head.ContentLength, streamed.length);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: fake.bucket, Prefix: 's3test/' }));
    assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.Size]), [['s3test/dir/buffer file.txt', 8], ['s3test/streamed.bin', 200_000]]);
    const paged = await s3.send(new ListObjectsV2Command({ Bucket: fake.bucket, Prefix: 's3test/', MaxKeys: 1 }));
    assert.equal(paged.IsTruncated, true);
    const rest = await s3.send(new ListObjectsV2Command({ Bucket: fake.bucket, Prefix: 's3test/', ContinuationToken: paged.NextContinuationToken }));
    assert.deepEqual(rest.Contents?.map((o) => o.Key), ['s3test/streamed.bin']);
    await s3.send(new DeleteObjectCommand({ Bucket: fake.bucket, Key: 's3test/streamed.bin' }));
    const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: fake.bucket, Delete: { Objects: [{ Key: 's3test/dir/buffer file.txt' }] } }));
    assert.deepEqual(deleted.Deleted?.map((d) => d.Key), ['s3test/dir/buffer file.txt']);
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: fake.bucket, Prefix: 's3test/' }))).KeyCount, 0);
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: fake.bucket, Key: 's3test/streamed.bin' })), { name: 'NoSuchKey' });
    await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: 'another-bucket' })), { name: 'NoSuchBucket' });
  });
});

describe('import jobs with @aws-sdk/client-medical-imaging', () => {
  test('GetDatastore', async () => {
    const { datastoreProperties } = await mi.send(new GetDatastoreCommand({ datastoreId: fake.datastoreId }));
    assert.equal(datastoreProperties?.datastoreStatus, 'ACTIVE');
    assert.equal(datastoreProperties?.datastoreArn, `arn:aws:medical-imaging:${fake.region}:123456789012:datastore/${fake.datastoreId}`);
    assert.ok(datastoreProperties?.createdAt instanceof Date);
    await assert.rejects(mi.send(new GetDatastoreCommand({ datastoreId: 'f'.repeat(32) })), { name: 'ResourceNotFoundException' });
  });

  test('a job of a few instances and one bad file ends COMPLETED with manifest, success and failure files', async () => {
    const files = [1, 2, 3].map((i) => syntheticInstance({ seed: 60 + i, studyUid: uidFromSeed(60, 'study'), seriesUid: uidFromSeed(60, 'series'), instanceNumber: i, rows: 8, columns: 8 }));
    for (const [i, file] of files.entries()) await s3.send(new PutObjectCommand({ Bucket: fake.bucket, Key: `import/in/nested/${i}.dcm`, Body: file }));
    await s3.send(new PutObjectCommand({ Bucket: fake.bucket, Key: 'import/in/readme.txt', Body: Buffer.from('not DICOM') }));

    const started = await mi.send(new StartDICOMImportJobCommand({ datastoreId: fake.datastoreId, dataAccessRoleArn: fake.dataAccessRoleArn, inputS3Uri: `s3://${fake.bucket}/import/in/`, outputS3Uri: `s3://${fake.bucket}/import/out/`, jobName: 'three-and-a-bad-one' }));
    assert.equal(started.jobStatus, 'SUBMITTED');
    assert.match(started.jobId ?? '', /^[0-9a-z]{32}$/);
    const job = await finished(started.jobId!);
    assert.equal(job.jobStatus, 'COMPLETED');
    assert.ok(job.endedAt instanceof Date);
    const folder = `import/out/${fake.datastoreId}-DicomImport-${started.jobId}/`;
    assert.equal(job.outputS3Uri, `s3://${fake.bucket}/${folder}`);

    const { jobSummary } = JSON.parse(await text(`${folder}job-output-manifest.json`));
    assert.equal(jobSummary.jobId, started.jobId);
    assert.equal(jobSummary.successOutputS3Uri, `s3://${fake.bucket}/${folder}SUCCESS/`);
    assert.equal(jobSummary.failureOutputS3Uri, `s3://${fake.bucket}/${folder}FAILURE/`);
    assert.deepEqual([jobSummary.numberOfScannedFiles, jobSummary.numberOfImportedFiles, jobSummary.numberOfFilesWithCustomerError, jobSummary.numberOfFilesWithServerError, jobSummary.numberOfGeneratedImageSets], [4, 3, 1, 0, 1]);
    assert.equal(jobSummary.imageSetsSummary.length, 1);
    assert.equal(jobSummary.imageSetsSummary[0].numberOfMatchedSOPInstances, 3);
    assert.equal(jobSummary.imageSetsSummary[0].isPrimary, true);

    const success = (await text(`${folder}SUCCESS/success.ndjson`)).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(success.map((s) => s.inputFile).sort(), ['import/in/nested/0.dcm', 'import/in/nested/1.dcm', 'import/in/nested/2.dcm']);
    assert.deepEqual(success[0].importResponse, { imageSetId: jobSummary.imageSetsSummary[0].imageSetId, imageSetVersion: 1, isPrimary: true });
    const failure = (await text(`${folder}FAILURE/failure.ndjson`)).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(failure.map((f) => [f.inputFile, f.exception.exceptionType]), [['import/in/readme.txt', 'ValidationException']]);

    const found = await fakeClient(fake).get(`/studies/${uidFromSeed(60, 'study')}/series/${uidFromSeed(60, 'series')}/instances`);
    assert.equal(found.json<unknown[]>().length, 3, 'imported instances are searchable');
  });

  test('an empty input prefix ends FAILED with a message', async () => {
    const started = await mi.send(new StartDICOMImportJobCommand({ datastoreId: fake.datastoreId, dataAccessRoleArn: fake.dataAccessRoleArn, inputS3Uri: `s3://${fake.bucket}/nothing-here/`, outputS3Uri: `s3://${fake.bucket}/import/out/` }));
    const job = await finished(started.jobId!);
    assert.equal(job.jobStatus, 'FAILED');
    assert.match(job.message ?? '', /No DICOM files/);
  });

  test('clientToken: the same input is the same job; other input with it is ConflictException', async () => {
    const input = { datastoreId: fake.datastoreId, dataAccessRoleArn: fake.dataAccessRoleArn, inputS3Uri: `s3://${fake.bucket}/import/in/`, outputS3Uri: `s3://${fake.bucket}/import/again/`, clientToken: 'token-1' };
    const first = await mi.send(new StartDICOMImportJobCommand(input));
    const retry = await mi.send(new StartDICOMImportJobCommand(input));
    assert.equal(retry.jobId, first.jobId);
    await assert.rejects(mi.send(new StartDICOMImportJobCommand({ ...input, outputS3Uri: `s3://${fake.bucket}/import/other/` })), { name: 'ConflictException' });
    await finished(first.jobId!);
  });

  test('validation: another role is AccessDenied, another bucket or a bad token ValidationException, an unknown job ResourceNotFound', async () => {
    const base = { datastoreId: fake.datastoreId, dataAccessRoleArn: fake.dataAccessRoleArn, inputS3Uri: `s3://${fake.bucket}/import/in/`, outputS3Uri: `s3://${fake.bucket}/import/out/` };
    await assert.rejects(mi.send(new StartDICOMImportJobCommand({ ...base, dataAccessRoleArn: 'arn:aws:iam::123456789012:role/SomeoneElse' })), { name: 'AccessDeniedException' });
    await assert.rejects(mi.send(new StartDICOMImportJobCommand({ ...base, inputS3Uri: 's3://another-bucket/in/' })), { name: 'ValidationException' });
    await assert.rejects(mi.send(new StartDICOMImportJobCommand({ ...base, clientToken: 'bad token!' })), { name: 'ValidationException' });
    await assert.rejects(mi.send(new GetDICOMImportJobCommand({ datastoreId: fake.datastoreId, jobId: 'a'.repeat(32) })), { name: 'ResourceNotFoundException' });
  });

  test('ListDICOMImportJobs filters by status and pages with maxResults and nextToken', async () => {
    const all = await mi.send(new ListDICOMImportJobsCommand({ datastoreId: fake.datastoreId }));
    assert.ok((all.jobSummaries?.length ?? 0) >= 3);
    const failed = await mi.send(new ListDICOMImportJobsCommand({ datastoreId: fake.datastoreId, jobStatus: 'FAILED' }));
    assert.ok(failed.jobSummaries?.every((j) => j.jobStatus === 'FAILED') && failed.jobSummaries.length >= 1);
    const page = await mi.send(new ListDICOMImportJobsCommand({ datastoreId: fake.datastoreId, maxResults: 1 }));
    assert.equal(page.jobSummaries?.length, 1);
    assert.ok(page.nextToken);
    const next = await mi.send(new ListDICOMImportJobsCommand({ datastoreId: fake.datastoreId, maxResults: 1, nextToken: page.nextToken }));
    assert.notEqual(next.jobSummaries?.[0].jobId, page.jobSummaries?.[0].jobId);
    assert.equal(page.jobSummaries?.[0].jobId, all.jobSummaries?.[0].jobId, 'newest first');
  });

  test('the denied identity cannot use the control plane', async () => {
    const denied = new MedicalImagingClient({ region: fake.region, credentials: fake.deniedCredentials, endpoint: fake.controlEndpoint, maxAttempts: 1 });
    try {
      await assert.rejects(denied.send(new GetDatastoreCommand({ datastoreId: fake.datastoreId })), (error: Error) => {
        assert.equal(error.name, 'AccessDeniedException');
        assert.match(error.message, /not authorized to perform: medical-imaging:GetDatastore/);
        return true;
      });
    } finally {
      denied.destroy();
    }
  });
});
