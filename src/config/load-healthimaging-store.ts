/**
 * Reads one `kind: healthimaging` store (AWS HealthImaging): region, datastore, optional static
 * credentials (else the standard AWS chain), endpoint overrides, and the S3 import-job path.
 */
import { AwsCredentialsConfig, HEALTHIMAGING_DEFAULTS, HealthImagingImportJobConfig, HealthImagingStoreConfig } from './store-config';
import { isHttpUrl } from './config-values';
import { Env, FieldReader } from './field-reader';
import { readRemoteConnection, REMOTE_CONNECTION_KEYS } from './load-remote-connection';

const KEYS = ['name', 'kind', 'region', 'datastoreId', 'credentials', 'endpoints', 'stow', 'maxStowRequestBytes', 'qidoLimits', 'importJob', ...REMOTE_CONNECTION_KEYS];
const CREDENTIAL_KEYS = ['accessKeyId', 'accessKeyIdEnv', 'secretAccessKey', 'secretAccessKeyEnv', 'sessionToken', 'sessionTokenEnv'];
const IMPORT_JOB_KEYS = ['bucket', 'prefix', 'dataAccessRoleArn', 'pollIntervalMs', 'maxWaitMs', 'batchWindowMs', 'maxInstancesPerJob'];
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const DATASTORE_ID = /^[0-9a-z]{32}$/;
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/.+$/;
/** S3 bucket names (the general-purpose rules): 3-63 lower-case letters, digits, dots, dashes. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function readHealthImagingStore(r: FieldReader, name: string, env: Env, problems: string[]): HealthImagingStoreConfig {
  r.onlyKeys(KEYS);
  const region = r.string('region', true) ?? '';
  if (region && !REGION.test(region)) problems.push(`${r.label}region: "${region}" is not an AWS region name (e.g. us-east-1)`);
  const datastoreId = r.string('datastoreId', true) ?? '';
  if (datastoreId && !DATASTORE_ID.test(datastoreId)) problems.push(`${r.label}datastoreId: "${datastoreId}" is not 32 lower-case letters and digits`);

  const endpoints = r.child('endpoints', ['dicomweb', 'control', 's3']);
  const endpoint = (key: string, fallback: string | undefined): string | undefined => {
    const value = endpoints.string(key);
    if (value !== undefined && !isHttpUrl(value)) problems.push(`${endpoints.label}${key}: "${value}" is not an http(s) URL`);
    return (value ?? fallback)?.replace(/\/+$/, '');
  };

  const stow = r.string('stow') ?? 'dicomweb';
  if (stow !== 'dicomweb' && stow !== 'import-job') problems.push(`${r.label}stow: "${stow}" is not one of dicomweb, import-job`);
  const importJob = r.has('importJob') ? readImportJob(r.child('importJob', IMPORT_JOB_KEYS), problems) : undefined;
  if (stow === 'import-job' && !importJob) problems.push(`${r.label}importJob: required with stow: import-job (bucket and dataAccessRoleArn)`);

  return {
    name,
    kind: 'healthimaging',
    region,
    datastoreId,
    credentials: r.has('credentials') ? readCredentials(r.child('credentials', CREDENTIAL_KEYS), env) : undefined,
    endpoints: {
      dicomweb: endpoint('dicomweb', `https://dicom-medical-imaging.${region}.amazonaws.com`)!,
      control: endpoint('control', `https://medical-imaging.${region}.amazonaws.com`)!,
      s3: endpoint('s3', undefined),
    },
    stow: stow === 'import-job' ? 'import-job' : 'dicomweb',
    maxStowRequestBytes: r.integer('maxStowRequestBytes', HEALTHIMAGING_DEFAULTS.maxStowRequestBytes, 1024, HEALTHIMAGING_DEFAULTS.maxStowRequestBytes),
    qidoLimits: readQidoLimits(r.child('qidoLimits', ['maxLimit', 'maxOffset', 'maxIncludeFields'])),
    importJob,
    ...readRemoteConnection(r, { verifyDuplicates: true }),
  };
}

function readQidoLimits(r: FieldReader): HealthImagingStoreConfig['qidoLimits'] {
  const d = HEALTHIMAGING_DEFAULTS.qidoLimits;
  return {
    maxLimit: r.integer('maxLimit', d.maxLimit, 1, 100_000),
    maxOffset: r.integer('maxOffset', d.maxOffset, 0, 1_000_000_000),
    maxIncludeFields: r.integer('maxIncludeFields', d.maxIncludeFields, 1, 10_000),
  };
}

function readCredentials(r: FieldReader, env: Env): AwsCredentialsConfig {
  return {
    accessKeyId: r.secret('accessKeyId', 'accessKeyIdEnv', env),
    secretAccessKey: r.secret('secretAccessKey', 'secretAccessKeyEnv', env),
    sessionToken: r.optionalSecret('sessionToken', 'sessionTokenEnv', env),
  };
}

function readImportJob(r: FieldReader, problems: string[]): HealthImagingImportJobConfig {
  const d = HEALTHIMAGING_DEFAULTS.importJob;
  const bucket = r.string('bucket', true) ?? '';
  if (bucket && !BUCKET.test(bucket)) problems.push(`${r.label}bucket: "${bucket}" is not an S3 bucket name`);
  let prefix = r.string('prefix') ?? d.prefix;
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (prefix.startsWith('/')) problems.push(`${r.label}prefix: "${prefix}" must not start with "/"`);
  const dataAccessRoleArn = r.string('dataAccessRoleArn', true) ?? '';
  if (dataAccessRoleArn && !ROLE_ARN.test(dataAccessRoleArn)) problems.push(`${r.label}dataAccessRoleArn: "${dataAccessRoleArn}" is not an IAM role ARN`);
  return {
    bucket,
    prefix,
    dataAccessRoleArn,
    pollIntervalMs: r.integer('pollIntervalMs', d.pollIntervalMs, 10, 600_000),
    maxWaitMs: r.integer('maxWaitMs', d.maxWaitMs, 1_000, 86_400_000),
    batchWindowMs: r.integer('batchWindowMs', d.batchWindowMs, 0, 600_000),
    maxInstancesPerJob: r.integer('maxInstancesPerJob', d.maxInstancesPerJob, 1, 100_000),
  };
}
