/**
 * A wire-level fake of AWS HealthImaging for the gateway's HealthImaging adapter tests: three HTTP
 * servers on 127.0.0.1, one per AWS host -
 *   dicomwebEndpoint  = dicom-medical-imaging.{region}.amazonaws.com (DICOMweb under /datastore/{id})
 *   controlEndpoint   = medical-imaging.{region}.amazonaws.com (datastore and import jobs)
 *   s3Endpoint        = S3, path-style, with one bucket for the import path
 * - that verify SigV4 on every request (service `medical-imaging` on the first two, `s3` on S3),
 * answer in AWS's documented shapes and error codes, and let a test inject throttling, failures,
 * latency, an outage and indexing delay. The adapter only gets other endpoint URLs.
 * What is assumed where AWS does not document the behaviour is said where it is implemented.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomArchive } from '../dicom-archive/dicom-archive';
import { ACCOUNT_ID, AwsTestCredentials, identities, randomTemporaryCredentials } from './aws-identity';
import { controlProtocol } from './control-host';
import { dicomwebProtocol } from './dicomweb-host';
import { FakeConfig, FakeState } from './fake-state';
import { FaultInjection, HostName } from './fault-injection';
import { HostServer, RequestRecord, SharedHostState, startHostServer } from './host-server';
import { ImportJobs } from './import-jobs';
import { s3Protocol } from './s3-host';
import { S3ObjectStore } from './s3-object-store';
import { SigV4Verifier } from './sigv4-verifier';

export type { AwsTestCredentials } from './aws-identity';
export type { RequestRecord } from './host-server';
export type { HostName } from './fault-injection';

export interface HealthImagingFakeOptions {
  region?: string; // default 'us-east-1'
  datastoreId?: string; // 32 chars [0-9a-z]; random by default
  credentials?: AwsTestCredentials; // the identity allowed everything; random by default, with a session token
  deniedCredentials?: AwsTestCredentials; // a valid identity allowed nothing (AccessDeniedException); random by default
  stowEnabled?: boolean; // default true; false: StoreDICOM/StoreDICOMStudy are refused with AccessDeniedException
  maxStowBytes?: number; // default 1_000_000_000 (the documented "1 GB" per STOW request)
  qidoMaxLimit?: number; // default 1000
  qidoMaxOffset?: number; // default 1_000_000
  qidoMaxIncludeFields?: number; // default 50
  bulkDataThresholdBytes?: number; // default 1_048_576: binary values larger than 1 MB become BulkDataURIs
  visibilityDelayMs?: number; // default 0: new data (STOW or import) visible to reads and searches only after this
  importJobDurationMs?: number; // default 300: SUBMITTED -> IN_PROGRESS -> COMPLETED takes about this long
  maxConcurrentImportJobs?: number; // default 5: more SUBMITTED/IN_PROGRESS jobs -> 402 ServiceQuotaExceededException
  clockSkewMs?: number; // default 300_000 (5 minutes, as AWS: "Signature expired")
  reencodeOnStore?: boolean; // default false: keep a re-encoded copy (native as Explicit VR LE, own meta), as HealthImaging keeps a transcoded one
  storageDir?: string; // default: a new temp folder, removed by close()
}

export interface HealthImagingFake {
  region: string;
  datastoreId: string;
  credentials: AwsTestCredentials;
  deniedCredentials: AwsTestCredentials;
  dicomwebEndpoint: string;
  controlEndpoint: string;
  s3Endpoint: string;
  bucket: string;
  dataAccessRoleArn: string;
  throttleNext(count: number, host?: HostName): void;
  failNext(count: number, status?: number, host?: HostName): void;
  setLatencyMs(ms: number): void;
  setDown(down: boolean): void;
  setVisibilityDelayMs(ms: number): void;
  requests(): RequestRecord[];
  resetRequests(): void;
  instances(): { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string; sha256: string; visible: boolean }[];
  close(): Promise<void>;
}

const DATASTORE_ID = /^[0-9a-z]{32}$/;

export async function startHealthImagingFake(options: HealthImagingFakeOptions = {}): Promise<HealthImagingFake> {
  const region = options.region ?? 'us-east-1';
  const datastoreId = options.datastoreId ?? randomBytes(16).toString('hex');
  if (!DATASTORE_ID.test(datastoreId)) throw new Error(`healthimaging fake: datastoreId must be 32 characters [0-9a-z], not "${datastoreId}"`);
  const ownsStorage = options.storageDir === undefined;
  const storageDir = options.storageDir ?? mkdtempSync(join(tmpdir(), 'gw-ahi-fake-'));
  const credentials = options.credentials ?? randomTemporaryCredentials();
  const deniedCredentials = options.deniedCredentials ?? randomTemporaryCredentials();
  const suffix = randomBytes(4).toString('hex');
  const config: FakeConfig = {
    region,
    datastoreId,
    datastoreName: `healthimaging-fake-${suffix}`,
    createdAt: Date.now(),
    bucket: `ahi-import-${suffix}`,
    dataAccessRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/HealthImagingImportRole-${suffix}`,
    stowEnabled: options.stowEnabled ?? true,
    maxStowBytes: options.maxStowBytes ?? 1_000_000_000,
    qidoMaxLimit: options.qidoMaxLimit ?? 1000,
    qidoMaxOffset: options.qidoMaxOffset ?? 1_000_000,
    qidoMaxIncludeFields: options.qidoMaxIncludeFields ?? 50,
    importJobDurationMs: options.importJobDurationMs ?? 300,
    clockSkewMs: options.clockSkewMs ?? 300_000,
    scratchDir: join(storageDir, 'scratch'),
    objectsDir: join(storageDir, 's3'),
  };
  mkdirSync(config.scratchDir, { recursive: true });
  mkdirSync(config.objectsDir, { recursive: true });

  const state: FakeState = {
    config,
    archive: new DicomArchive({
      storageDir: join(storageDir, 'instances'),
      duplicatePolicy: 'replace',
      bulkDataThresholdBytes: options.bulkDataThresholdBytes ?? 1_048_576,
      reencode: options.reencodeOnStore ?? false,
    }),
    identities: identities(credentials, deniedCredentials),
    visibilityDelayMs: options.visibilityDelayMs ?? 0,
    dicomwebEndpoint: '',
  };
  const shared: SharedHostState = { latencyMs: 0, down: false, faults: new FaultInjection(), log: [] };
  const verifier = (service: 'medical-imaging' | 's3') => new SigV4Verifier({ region, service, identities: state.identities, clockSkewMs: config.clockSkewMs });
  const store = new S3ObjectStore(config.bucket, config.objectsDir);
  const jobs = new ImportJobs(state, store, options.maxConcurrentImportJobs ?? 5);

  const servers: HostServer[] = [];
  try {
    servers.push(await startHostServer(dicomwebProtocol(state, verifier('medical-imaging')), shared));
    servers.push(await startHostServer(controlProtocol(state, jobs, verifier('medical-imaging')), shared));
    servers.push(await startHostServer(s3Protocol(state, store, verifier('s3')), shared));
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()));
    throw error;
  }
  const [dicomweb, control, s3] = servers;
  state.dicomwebEndpoint = dicomweb.url;

  return {
    region,
    datastoreId,
    credentials,
    deniedCredentials,
    dicomwebEndpoint: dicomweb.url,
    controlEndpoint: control.url,
    s3Endpoint: s3.url,
    bucket: config.bucket,
    dataAccessRoleArn: config.dataAccessRoleArn,
    throttleNext: (count, host) => shared.faults.throttleNext(count, host),
    failNext: (count, status, host) => shared.faults.failNext(count, status, host),
    setLatencyMs: (ms) => {
      shared.latencyMs = Math.max(0, ms);
    },
    setDown: (down) => {
      shared.down = down;
      if (down) servers.forEach((s) => s.dropConnections());
    },
    setVisibilityDelayMs: (ms) => {
      state.visibilityDelayMs = Math.max(0, ms);
    },
    requests: () => shared.log.map((r) => ({ ...r })),
    resetRequests: () => {
      shared.log.length = 0;
    },
    instances: () =>
      state.archive.latestInstances().map(({ instance, visible }) => ({
        studyInstanceUid: instance.studyInstanceUid,
        seriesInstanceUid: instance.seriesInstanceUid,
        sopInstanceUid: instance.sopInstanceUid,
        sha256: instance.sha256,
        visible,
      })),
    close: async () => {
      jobs.stop();
      await Promise.all(servers.map((s) => s.close()));
      if (ownsStorage) rmSync(storageDir, { recursive: true, force: true });
    },
  };
}
