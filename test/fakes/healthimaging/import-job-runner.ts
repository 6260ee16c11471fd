/**
 * What a DICOM import job does once it runs: reads every object under the input prefix of the
 * fake bucket, ingests each through the archive as STOW does (same visibility delay, same
 * replace-on-reimport), and writes its results where HealthImaging documents them
 * ("understanding-import-jobs"): under `{outputS3Uri}{datastoreId}-DicomImport-{jobId}/` a
 * job-output-manifest.json with the jobSummary, SUCCESS/success.ndjson and FAILURE/failure.ndjson,
 * one line per input file, `inputFile` being the object key as in AWS's examples.
 */
import { createHash } from 'node:crypto';
import { FakeState } from './fake-state';
import { S3ObjectStore } from './s3-object-store';

export interface ImportInput {
  jobId: string;
  datastoreId: string;
  inputS3Uri: string;
  /** `{outputS3Uri}{datastoreId}-DicomImport-{jobId}/` */
  jobOutputS3Uri: string;
}

export type ImportResult = { ok: true } | { ok: false; message: string };

/** The primary image set of each series and its version, kept across jobs. */
export class ImageSets {
  private readonly sets = new Map<string, { imageSetId: string; version: number }>();

  constructor(private readonly datastoreId: string) {}

  /** The image set of a series, its version raised once per job that changed it. */
  touch(study: string, series: string, touchedInThisJob: Set<string>): { imageSetId: string; version: number } {
    const key = `${study}/${series}`;
    let set = this.sets.get(key);
    if (!set) {
      set = { imageSetId: createHash('sha256').update(`${this.datastoreId}/${key}`).digest('hex').slice(0, 32), version: 0 };
      this.sets.set(key, set);
    }
    if (!touchedInThisJob.has(key)) {
      set.version++;
      touchedInThisJob.add(key);
    }
    return set;
  }
}

export function splitS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return m ? { bucket: m[1], prefix: m[2] } : { bucket: '', prefix: '' };
}

export function runImport(job: ImportInput, state: FakeState, store: S3ObjectStore, imageSets: ImageSets): ImportResult {
  const { prefix } = splitS3Uri(job.inputS3Uri);
  const inputs = store.list(prefix).filter((o) => !o.key.endsWith('/'));
  if (inputs.length === 0) return { ok: false, message: `No DICOM files found under ${job.inputS3Uri}` };

  const success: string[] = [];
  const failure: string[] = [];
  const touched = new Set<string>();
  const matched = new Map<string, { imageSetId: string; imageSetVersion: number; numberOfMatchedSOPInstances: number }>();
  for (const object of inputs) {
    const outcome = state.archive.ingest(store.read(object.key), { visibilityDelayMs: state.visibilityDelayMs });
    if (outcome.status === 'failed' || outcome.status === 'conflict') {
      failure.push(JSON.stringify({ inputFile: object.key, exception: { exceptionType: 'ValidationException', message: outcome.message } }));
      continue;
    }
    const i = outcome.instance;
    const set = imageSets.touch(i.studyInstanceUid, i.seriesInstanceUid, touched);
    const summary = matched.get(set.imageSetId) ?? { imageSetId: set.imageSetId, imageSetVersion: set.version, numberOfMatchedSOPInstances: 0 };
    summary.numberOfMatchedSOPInstances++;
    matched.set(set.imageSetId, summary);
    success.push(JSON.stringify({ inputFile: object.key, importResponse: { imageSetId: set.imageSetId, imageSetVersion: set.version, isPrimary: true } }));
  }

  const out = splitS3Uri(job.jobOutputS3Uri).prefix;
  const manifest = {
    jobSummary: {
      jobId: job.jobId,
      datastoreId: job.datastoreId,
      inputS3Uri: job.inputS3Uri,
      outputS3Uri: job.jobOutputS3Uri,
      successOutputS3Uri: `${job.jobOutputS3Uri}SUCCESS/`,
      failureOutputS3Uri: `${job.jobOutputS3Uri}FAILURE/`,
      // The fake imports nothing "with a warning", so it never writes WARNING/warning.ndjson.
      warningsOutputS3Uri: `${job.jobOutputS3Uri}WARNING/`,
      numberOfScannedFiles: inputs.length,
      numberOfImportedFiles: success.length,
      numberOfFilesWithCustomerError: failure.length,
      numberOfFilesWithServerError: 0,
      numberOfGeneratedImageSets: matched.size,
      imageSetsSummary: [...matched.values()].map((s) => ({ ...s, isPrimary: true })),
    },
  };
  // Result files are written only when they have lines, so readers must not count on both.
  if (success.length > 0) store.putBytes(`${out}SUCCESS/success.ndjson`, Buffer.from(success.join('\n') + '\n'), 'application/x-ndjson');
  if (failure.length > 0) store.putBytes(`${out}FAILURE/failure.ndjson`, Buffer.from(failure.join('\n') + '\n'), 'application/x-ndjson');
  store.putBytes(`${out}job-output-manifest.json`, Buffer.from(JSON.stringify(manifest, null, 2)), 'application/json');
  return { ok: true };
}
