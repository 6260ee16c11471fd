/**
 * One HealthImaging DICOM import job for a set of instances (the path for datastores or instances
 * that DICOMweb STOW cannot take): the staged files written to S3 under a prefix of their own,
 * StartDICOMImportJob with a client token derived from what is imported (so a batch retried after
 * a crash or a timeout finds the job it started before instead of importing twice), the job
 * followed to its end, and each file's outcome read from the job's results (import-results.ts).
 * The input objects are deleted afterwards; the results are kept for the operator (an S3
 * lifecycle rule on the prefix clears them).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Logger } from '@nestjs/common';
import { GetDICOMImportJobCommand, MedicalImagingClient, StartDICOMImportJobCommand } from '@aws-sdk/client-medical-imaging';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { HealthImagingImportJobConfig, UpstreamTimeouts } from '../../config/store-config';
import { BatchItemOutcome, IncomingInstance } from '../dicom-store';
import { UpstreamRefused, UpstreamTimeout } from '../store-errors';
import { sleep } from '../dicomweb/backoff';
import { awsSdkFailure } from './aws-sdk-failures';
import { FileOutcome, manifestSummary, readResultLines, resultFiles } from './import-results';

const UPLOAD_CONCURRENCY = 4;
const PROCESSING_FAILURE = 0x0110;

export interface ImportTarget {
  storeName: string;
  datastoreId: string;
  timeouts: UpstreamTimeouts;
}

export class ImportJobRunner {
  private readonly logger: Logger;

  constructor(
    private readonly target: ImportTarget,
    private readonly job: HealthImagingImportJobConfig,
    private readonly imaging: MedicalImagingClient,
    private readonly s3: S3Client,
  ) {
    this.logger = new Logger(`Store ${target.storeName}`);
  }

  /** One outcome per instance, in order; rejects (UpstreamUnavailable, UpstreamTimeout) when the
   *  job could not be run or followed to its end, so that the caller tries again later. */
  async run(instances: IncomingInstance[]): Promise<BatchItemOutcome[]> {
    const token = clientTokenOf(this.target.datastoreId, instances);
    const base = `${this.job.prefix}${token}/`;
    const keys = instances.map((i) => `${base}input/${i.identity.sopInstanceUid}.dcm`);
    await this.call('upload to S3', () => this.upload(instances, keys));
    const jobId = await this.call('StartDICOMImportJob', () => this.start(token, `${base}input/`, `${base}output/`));
    const ended = await this.follow(jobId);
    if (ended.status === 'FAILED') {
      const error = new UpstreamRefused(`HealthImaging import job ${jobId} failed: ${ended.message ?? 'no reason given'}`, PROCESSING_FAILURE);
      return instances.map(() => ({ ok: false, error }));
    }
    const outcomes = await this.call('reading the import results', () => this.results(`${base}output/`));
    await this.removeInputs(keys);
    return keys.map((key, k): BatchItemOutcome => {
      const outcome = outcomes.get(key);
      const sop = instances[k].identity.sopInstanceUid;
      if (outcome?.ok) return { ok: true, outcome: { kind: 'stored' } };
      const why = outcome ? `the import job refused it (${outcome.reason})` : 'the import job did not report it as imported';
      return { ok: false, error: new UpstreamRefused(`instance ${sop} was not stored in HealthImaging: ${why}`, PROCESSING_FAILURE) };
    });
  }

  private async upload(instances: IncomingInstance[], keys: string[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < instances.length) {
        const k = next++;
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.job.bucket,
            Key: keys[k],
            Body: createReadStream(instances[k].staged.path),
            ContentLength: instances[k].staged.size,
            ContentType: 'application/dicom',
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, instances.length) }, worker));
  }

  private async start(token: string, input: string, output: string): Promise<string> {
    const answer = await this.imaging.send(
      new StartDICOMImportJobCommand({
        datastoreId: this.target.datastoreId,
        clientToken: token,
        jobName: `dicomweb-gateway-${token.slice(0, 16)}`,
        dataAccessRoleArn: this.job.dataAccessRoleArn,
        inputS3Uri: `s3://${this.job.bucket}/${input}`,
        outputS3Uri: `s3://${this.job.bucket}/${output}`,
      }),
    );
    if (!answer.jobId) throw new Error('StartDICOMImportJob answered without a jobId');
    return answer.jobId;
  }

  /** Polls the job (the wait growing to ten times the interval) until it ended or maxWaitMs. */
  private async follow(jobId: string): Promise<{ status: string; message?: string }> {
    const deadline = Date.now() + this.job.maxWaitMs;
    let wait = this.job.pollIntervalMs;
    for (;;) {
      const { jobProperties } = await this.call('GetDICOMImportJob', () =>
        this.imaging.send(new GetDICOMImportJobCommand({ datastoreId: this.target.datastoreId, jobId })),
      );
      const status = jobProperties?.jobStatus;
      if (status === 'COMPLETED' || status === 'FAILED') return { status, message: jobProperties?.message };
      if (Date.now() + wait > deadline) {
        throw new UpstreamTimeout(`upstream store "${this.target.storeName}": import job ${jobId} did not end within ${this.job.maxWaitMs} ms (still ${status})`);
      }
      await sleep(wait);
      wait = Math.min(wait * 1.5, this.job.pollIntervalMs * 10);
    }
  }

  private async results(outputPrefix: string): Promise<Map<string, FileOutcome>> {
    const keys = await this.list(outputPrefix);
    const files = resultFiles(keys);
    if (files.manifest) {
      const summary = manifestSummary(await this.read(files.manifest));
      if (summary) this.logger.log(`import job results: ${summary.imported ?? '?'} of ${summary.scanned ?? '?'} files imported, ${summary.failed ?? 0} failed`);
    }
    const outcomes = new Map<string, FileOutcome>();
    const keyOf = (input: string) => input.replace(/^s3:\/\/[^/]+\//, '');
    for (const key of files.success) readResultLines(await this.read(key), true, keyOf, outcomes);
    for (const key of files.failure) readResultLines(await this.read(key), false, keyOf, outcomes);
    return outcomes;
  }

  private async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.job.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  private async read(key: string): Promise<string> {
    const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.job.bucket, Key: key }));
    return (await answer.Body?.transformToString('utf8')) ?? '';
  }

  /** Best effort: a leftover input object costs storage, not correctness. */
  private async removeInputs(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      await this.s3.send(new DeleteObjectsCommand({ Bucket: this.job.bucket, Delete: { Objects: batch, Quiet: true } })).catch((e: Error) => {
        this.logger.warn(`import inputs not deleted from s3://${this.job.bucket}: ${e.message}`);
      });
    }
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw awsSdkFailure(e, this.target.storeName, what, this.target.timeouts);
    }
  }
}

/** 32 hex digits from the datastore and each instance's UID and content: the same import is
 *  the same token (StartDICOMImportJob's idempotency), another import another token. */
export function clientTokenOf(datastoreId: string, instances: IncomingInstance[]): string {
  const hash = createHash('sha256').update(datastoreId);
  for (const line of instances.map((i) => `${i.identity.sopInstanceUid}:${i.staged.sha256}`).sort()) hash.update(`\n${line}`);
  return hash.digest('hex').slice(0, 32);
}
