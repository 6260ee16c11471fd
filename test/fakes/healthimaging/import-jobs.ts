/**
 * DICOM import jobs of the fake datastore: StartDICOMImportJob's validation and idempotency
 * (same clientToken and input: the same job; same token, other input: ConflictException), and the
 * job's life SUBMITTED -> IN_PROGRESS -> COMPLETED | FAILED over about importJobDurationMs. The
 * work itself runs at the IN_PROGRESS step (import-job-runner.ts).
 *
 * As in AWS's examples, a job's outputS3Uri (GetDICOMImportJob, ListDICOMImportJobs) is the one
 * given with `{datastoreId}-DicomImport-{jobId}/` appended: the folder the results are in.
 */
import { randomBytes } from 'node:crypto';
import { accessDenied } from './auth-answers';
import { awsErrors } from './aws-errors';
import { AwsIdentity } from './aws-identity';
import { FakeState } from './fake-state';
import { ImageSets, runImport, splitS3Uri } from './import-job-runner';
import { S3ObjectStore } from './s3-object-store';

export type JobStatus = 'SUBMITTED' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface ImportJob {
  jobId: string;
  jobName: string;
  jobStatus: JobStatus;
  datastoreId: string;
  dataAccessRoleArn: string;
  submittedAt: number;
  endedAt?: number;
  inputS3Uri: string;
  outputS3Uri: string;
  message?: string;
  clientToken: string;
  /** What the job was started with, to tell an idempotent retry from a conflicting one. */
  request: string;
}

export interface StartRequest {
  jobName?: unknown;
  dataAccessRoleArn?: unknown;
  clientToken?: unknown;
  inputS3Uri?: unknown;
  outputS3Uri?: unknown;
  inputOwnerAccountId?: unknown;
}

const ROLE_ARN = /^arn:aws(-[^:]+)?:iam::\d{12}:role\/.+$/;
const CLIENT_TOKEN = /^[A-Za-z0-9._-]{1,64}$/;
const S3_URI = /^s3:\/\/[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9](\/.*)?$/;

export class ImportJobs {
  private readonly jobs = new Map<string, ImportJob>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly imageSets: ImageSets;

  constructor(
    private readonly state: FakeState,
    private readonly store: S3ObjectStore,
    private readonly maxConcurrent: number,
  ) {
    this.imageSets = new ImageSets(state.config.datastoreId);
  }

  start(body: StartRequest, caller: AwsIdentity): ImportJob {
    const config = this.state.config;
    const text = (name: keyof StartRequest, required: boolean): string | undefined => {
      const v = body[name];
      if (v === undefined || v === null) {
        if (required) throw awsErrors.validation(`1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`);
        return undefined;
      }
      if (typeof v !== 'string') throw awsErrors.validation(`${name} must be a string`);
      return v;
    };
    const clientToken = text('clientToken', true)!;
    const dataAccessRoleArn = text('dataAccessRoleArn', true)!;
    const inputS3Uri = text('inputS3Uri', true)!;
    const outputS3Uri = text('outputS3Uri', true)!;
    const jobName = text('jobName', false);
    const owner = text('inputOwnerAccountId', false);
    if (!CLIENT_TOKEN.test(clientToken)) throw awsErrors.validation(`clientToken must match [A-Za-z0-9._-]{1,64}`);
    if (!ROLE_ARN.test(dataAccessRoleArn)) throw awsErrors.validation(`dataAccessRoleArn "${dataAccessRoleArn}" is not an IAM role ARN`);
    if (jobName !== undefined && (jobName.length < 1 || jobName.length > 64)) throw awsErrors.validation('jobName must be 1 to 64 characters');
    if (owner !== undefined && !/^\d{12}$/.test(owner)) throw awsErrors.validation('inputOwnerAccountId must be 12 digits');
    for (const [name, uri] of [['inputS3Uri', inputS3Uri], ['outputS3Uri', outputS3Uri]] as const) {
      if (!S3_URI.test(uri)) throw awsErrors.validation(`${name} "${uri}" is not an s3://bucket/prefix URI`);
      if (splitS3Uri(uri).bucket !== config.bucket) throw awsErrors.validation(`${name} "${uri}" is not in the bucket ${config.bucket} (the only one this fake has)`);
    }
    if (!outputS3Uri.endsWith('/')) throw awsErrors.validation(`outputS3Uri "${outputS3Uri}" must end with "/"`);
    // The caller must be allowed to pass the role to HealthImaging; only the fake's own role is.
    if (dataAccessRoleArn !== config.dataAccessRoleArn) throw accessDenied(caller, 'iam:PassRole', dataAccessRoleArn);

    const request = JSON.stringify({ jobName, dataAccessRoleArn, inputS3Uri, outputS3Uri, owner });
    const earlier = [...this.jobs.values()].find((j) => j.clientToken === clientToken);
    if (earlier) {
      if (earlier.request !== request) throw awsErrors.conflict(`clientToken ${clientToken} was already used for another import job`);
      return earlier;
    }
    const active = [...this.jobs.values()].filter((j) => j.jobStatus === 'SUBMITTED' || j.jobStatus === 'IN_PROGRESS').length;
    if (active >= this.maxConcurrent) throw awsErrors.quota(`At most ${this.maxConcurrent} import jobs can run at the same time`);

    const jobId = randomBytes(16).toString('hex');
    const job: ImportJob = {
      jobId,
      jobName: jobName ?? jobId,
      jobStatus: 'SUBMITTED',
      datastoreId: config.datastoreId,
      dataAccessRoleArn,
      submittedAt: Date.now(),
      inputS3Uri,
      outputS3Uri: `${outputS3Uri}${config.datastoreId}-DicomImport-${jobId}/`,
      clientToken,
      request,
    };
    this.jobs.set(jobId, job);
    this.schedule(job);
    return job;
  }

  private later(ms: number, step: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      step();
    }, ms);
    this.timers.add(timer);
  }

  private schedule(job: ImportJob): void {
    const duration = this.state.config.importJobDurationMs;
    this.later(duration / 3, () => {
      job.jobStatus = 'IN_PROGRESS';
      let result: ReturnType<typeof runImport>;
      try {
        result = runImport({ jobId: job.jobId, datastoreId: job.datastoreId, inputS3Uri: job.inputS3Uri, jobOutputS3Uri: job.outputS3Uri }, this.state, this.store, this.imageSets);
      } catch (error) {
        result = { ok: false, message: `The import failed: ${(error as Error).message}` };
      }
      this.later((duration * 2) / 3, () => {
        job.jobStatus = result.ok ? 'COMPLETED' : 'FAILED';
        if (!result.ok) job.message = result.message;
        job.endedAt = Date.now();
      });
    });
  }

  get(jobId: string): ImportJob {
    const job = this.jobs.get(jobId);
    if (!job) throw awsErrors.notFound(`Import job ${jobId} does not exist`);
    return job;
  }

  /** Newest first. */
  list(status?: JobStatus): ImportJob[] {
    return [...this.jobs.values()].reverse().filter((j) => !status || j.jobStatus === status);
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
