/**
 * A wire-level fake of a Google Cloud Healthcare API DICOM store and of Google's OAuth2 token
 * endpoint, for the gateway's Google adapter tests. Two HTTP servers on 127.0.0.1:
 *   origin   = https://healthcare.googleapis.com (DICOMweb under /v1/projects/.../dicomWeb)
 *   tokenUrl = https://oauth2.googleapis.com/token (the JWT-bearer grant of service accounts)
 * The adapter uses google-auth-library with a key file from createServiceAccountKey() and a
 * transporter that sends the token request to tokenUrl: the real flow runs, and the fake checks
 * what Google checks (the assertion's signature, audience, scope and times; the bearer token,
 * its scope and the account's permission). Tests inject throttling, failures, latency, an outage
 * and a visibility delay. Where Google's behaviour is not documented the choice is said where it
 * is implemented (UNCONFIRMED).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomArchive } from '../dicom-archive/dicom-archive';
import { AccessTokens } from './access-tokens';
import { DicomwebState, dicomwebProtocol } from './dicomweb-host';
import { FakeServer, RequestRecord, SharedServerState, startFakeServer } from './fake-http-server';
import { FaultInjection } from './fault-injection';
import { GcpFakeConfig, dicomWebRoot } from './gcp-config';
import { ServiceAccountKey, ServiceAccounts } from './service-accounts';
import { tokenProtocol } from './token-server';

export type { ServiceAccountKey } from './service-accounts';
export type { RequestRecord } from './fake-http-server';

export interface GcpFakeOptions {
  project?: string; // default 'test-project'
  location?: string; // default 'us-central1'
  dataset?: string; // default 'test-dataset'
  dicomStore?: string; // default 'test-store'
  tokenLifetimeSeconds?: number; // default 3600: access tokens expire after this
  clockSkewSeconds?: number; // default 60: tolerance on the assertion's iat/exp
  visibilityDelayMs?: number; // default 0: stored data visible to reads and searches only after this
  maxStowBytes?: number; // default unlimited (Google's request limit is UNCONFIRMED); over it -> 413
  storageDir?: string; // default a new temp folder, removed by close()
}

export interface GcpFake {
  /** 'http://127.0.0.1:P', standing for https://healthcare.googleapis.com. */
  origin: string;
  /** 'http://127.0.0.1:Q/token' (its own server), standing for https://oauth2.googleapis.com/token. */
  tokenUrl: string;
  /** `${origin}/v1/projects/{p}/locations/{l}/datasets/{d}/dicomStores/{s}/dicomWeb` */
  dicomWebRoot: string;
  project: string;
  location: string;
  dataset: string;
  dicomStore: string;
  /** A new RSA-2048 key pair registered as a service account allowed on the store (role healthcare.dicomEditor);
   *  `denied: true` registers one without any permission on the store (valid tokens, 403 on every DICOMweb call).
   *  An `email` already registered gets another key (the account's permission stays as it is). */
  createServiceAccountKey(options?: { email?: string; denied?: boolean }): ServiceAccountKey;
  /** Forget a key (its tokens stop working; new assertions signed with it are refused). */
  deleteServiceAccountKey(privateKeyId: string): void;
  /** Every access token issued so far expires now. */
  expireAllTokens(): void;
  tokensIssued(): number;
  throttleNext(count: number): void;
  failNext(count: number, status?: number): void;
  setLatencyMs(ms: number): void;
  setDown(down: boolean): void;
  setVisibilityDelayMs(ms: number): void;
  requests(): RequestRecord[];
  resetRequests(): void;
  instances(): { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string; sha256: string; visible: boolean }[];
  close(): Promise<void>;
}

export async function startGcpFake(options: GcpFakeOptions = {}): Promise<GcpFake> {
  const ownsStorage = options.storageDir === undefined;
  const storageDir = options.storageDir ?? mkdtempSync(join(tmpdir(), 'gw-gcp-fake-'));
  const config: GcpFakeConfig = {
    project: options.project ?? 'test-project',
    location: options.location ?? 'us-central1',
    dataset: options.dataset ?? 'test-dataset',
    dicomStore: options.dicomStore ?? 'test-store',
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    clockSkewSeconds: options.clockSkewSeconds ?? 60,
    maxStowBytes: options.maxStowBytes ?? Number.MAX_SAFE_INTEGER,
    scratchDir: join(storageDir, 'scratch'),
    origin: '',
  };
  mkdirSync(config.scratchDir, { recursive: true });
  const accounts = new ServiceAccounts(config.project);
  const tokens = new AccessTokens();
  const state: DicomwebState = {
    config,
    archive: new DicomArchive({ storageDir: join(storageDir, 'instances'), duplicatePolicy: 'conflict' }),
    accounts,
    tokens,
    visibilityDelayMs: Math.max(0, options.visibilityDelayMs ?? 0),
  };
  const shared: SharedServerState = { latencyMs: 0, down: false, faults: new FaultInjection(), log: [] };

  const servers: FakeServer[] = [];
  try {
    servers.push(await startFakeServer(dicomwebProtocol(state), shared, { faultable: true }));
    servers.push(await startFakeServer(tokenProtocol(config, accounts, tokens), shared, { faultable: false }));
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()));
    throw error;
  }
  const [dicomweb, tokenServer] = servers;
  config.origin = dicomweb.url;

  return {
    origin: dicomweb.url,
    tokenUrl: `${tokenServer.url}/token`,
    dicomWebRoot: dicomWebRoot(config),
    project: config.project,
    location: config.location,
    dataset: config.dataset,
    dicomStore: config.dicomStore,
    createServiceAccountKey: (o) => accounts.create(o),
    deleteServiceAccountKey: (id) => accounts.deleteKey(id),
    expireAllTokens: () => tokens.expireAll(),
    tokensIssued: () => tokens.count(),
    throttleNext: (count) => shared.faults.throttleNext(count),
    failNext: (count, status) => shared.faults.failNext(count, status),
    setLatencyMs: (ms) => {
      shared.latencyMs = Math.max(0, ms);
    },
    setDown: (down) => {
      shared.down = down;
      if (down) dicomweb.dropConnections();
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
      await Promise.all(servers.map((s) => s.close()));
      if (ownsStorage) rmSync(storageDir, { recursive: true, force: true });
    },
  };
}
