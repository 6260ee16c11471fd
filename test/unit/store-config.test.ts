import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { ConfigError } from '../../src/config/gateway-config';
import { DicomwebStoreConfig, GcpStoreConfig, HealthImagingStoreConfig } from '../../src/config/store-config';
import { makeTempDir } from '../helpers/temp-dir';

function withYaml<T>(yaml: string, run: (file: string) => T): T {
  const dir = makeTempDir('stores-cfg');
  try {
    const file = join(dir.path, 'gateway.yaml');
    writeFileSync(file, yaml);
    return run(file);
  } finally {
    dir.remove();
  }
}

function problems(yaml: string, env: Record<string, string> = {}): string[] {
  return withYaml(yaml, (file) => {
    try {
      loadConfig({ CONFIG_FILE: file, DATA_DIR: '/tmp/gw-data', ...env });
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.problems;
    }
    assert.fail('expected a ConfigError');
  });
}

test('without a stores list: one local store named default under DATA_DIR, as before', () => {
  const c = loadConfig({ DATA_DIR: '/tmp/gw-data' });
  assert.deepEqual(c.stores, [{ name: 'default', kind: 'local', path: '/tmp/gw-data/stores/default' }]);
  assert.equal(c.defaultStore, 'default');
});

test('a local store, an Orthanc upstream and an OAuth2 upstream with its secret from the environment', () => {
  const yaml = `
defaultStore: edge
stores:
  - name: edge
    kind: local
  - name: archive
    kind: local
    path: /srv/archive
  - name: orthanc
    kind: dicomweb
    url: http://orthanc:8042/dicom-web/
    percentEncodeQuery: false
    auth: { type: basic, username: gateway, passwordEnv: ORTHANC_PASSWORD }
    timeouts: { connectMs: 1000, firstByteMs: 5000 }
    retries: { attempts: 2 }
    circuitBreaker: { failureThreshold: 3, openMs: 2000 }
  - name: azure
    kind: dicomweb
    url: https://ws-dicom.dicom.azurehealthcareapis.com/v1
    auth:
      type: oauth2
      tokenUrl: https://login.microsoftonline.com/tenant/oauth2/token
      clientId: gateway-app
      clientSecretEnv: AZURE_SECRET
      audience: https://dicom.healthcareapis.azure.com
`;
  const c = withYaml(yaml, (file) => loadConfig({ CONFIG_FILE: file, DATA_DIR: '/tmp/gw-data', ORTHANC_PASSWORD: 'pw-1', AZURE_SECRET: 's3cret' }));
  assert.equal(c.defaultStore, 'edge');
  assert.deepEqual(c.stores.map((s) => [s.name, s.kind]), [['edge', 'local'], ['archive', 'local'], ['orthanc', 'dicomweb'], ['azure', 'dicomweb']]);
  assert.equal((c.stores[0] as { path: string }).path, '/tmp/gw-data/stores/edge');
  assert.equal((c.stores[1] as { path: string }).path, '/srv/archive');
  const orthanc = c.stores[2] as DicomwebStoreConfig;
  assert.equal(orthanc.url, 'http://orthanc:8042/dicom-web');
  assert.equal(orthanc.percentEncodeQuery, false);
  assert.deepEqual(orthanc.auth, { type: 'basic', username: 'gateway', password: 'pw-1' });
  assert.deepEqual(orthanc.timeouts, { connectMs: 1000, firstByteMs: 5000, idleMs: 60_000 });
  assert.deepEqual(orthanc.retries, { attempts: 2, baseDelayMs: 100, maxDelayMs: 2000 });
  assert.deepEqual(orthanc.circuitBreaker, { failureThreshold: 3, openMs: 2000 });
  assert.equal(orthanc.verifyDuplicates, true);
  const azure = c.stores[3] as DicomwebStoreConfig;
  assert.equal(azure.percentEncodeQuery, true);
  assert.deepEqual(azure.auth, {
    type: 'oauth2',
    tokenUrl: 'https://login.microsoftonline.com/tenant/oauth2/token',
    clientId: 'gateway-app',
    clientSecret: 's3cret',
    scope: undefined,
    audience: 'https://dicom.healthcareapis.azure.com',
  });
});

test('every problem names the store and the key, all at once, and never shows a secret', () => {
  const found = problems(
    `
stores:
  - name: Bad_Name
    kind: local
  - name: twin
    kind: local
  - name: twin
    kind: local
  - name: x
    kind: ftp
  - name: aws
    kind: healthimaging
  - name: up
    kind: dicomweb
    url: ftp://nope
    pasword: typo
    timeouts: { connectMs: -1 }
    auth: { type: basic, username: u, password: inline-secret, passwordEnv: PW }
  - name: up2
    kind: dicomweb
    auth: { type: bearer, tokenEnv: MISSING_TOKEN }
`,
  );
  const expect = [
    /stores\[0\] \(Bad_Name\): name: "Bad_Name" must be/,
    /stores\[2\] \(twin\): name: another store already has this name/,
    /stores\[3\] \(x\): kind: "ftp" is not one of local, dicomweb, healthimaging, gcp/,
    /stores\[4\] \(aws\): region: required/,
    /stores\[4\] \(aws\): datastoreId: required/,
    /stores\[5\] \(up\): url: "ftp:\/\/nope" is not an http\(s\) URL/,
    /stores\[5\] \(up\): pasword: unknown key/,
    /stores\[5\] \(up\): timeouts\.connectMs: "-1" is not an integer/,
    /stores\[5\] \(up\): auth\.password: give either password or passwordEnv, not both/,
    /stores\[6\] \(up2\): url: required/,
    /stores\[6\] \(up2\): auth\.tokenEnv: the environment variable MISSING_TOKEN is not set/,
    /defaultStore: required when several stores are listed/,
  ];
  for (const re of expect) assert.ok(found.some((p) => re.test(p)), `${re} in:\n${found.join('\n')}`);
  assert.ok(!found.join('\n').includes('inline-secret'), 'a secret never appears in a message');
});

test('defaultStore must name a listed store; a single store is the default without saying so', () => {
  assert.ok(problems('defaultStore: nope\nstores:\n  - { name: a, kind: local }\n').some((p) => /defaultStore: "nope" is not the name of a listed store \(a\)/.test(p)));
  const c = withYaml('stores:\n  - { name: only, kind: local }\n', (file) => loadConfig({ CONFIG_FILE: file, DATA_DIR: '/tmp/gw-data' }));
  assert.equal(c.defaultStore, 'only');
  assert.ok(problems('stores: []\n').some((p) => /stores: expected a non-empty list/.test(p)));
});

test('a HealthImaging store: defaults, endpoints for the region, static credentials from the environment', () => {
  const yaml = `
stores:
  - name: ahi
    kind: healthimaging
    region: eu-west-1
    datastoreId: 0123456789abcdef0123456789abcdef
    credentials: { accessKeyIdEnv: AHI_KEY, secretAccessKeyEnv: AHI_SECRET }
  - name: ahi-import
    kind: healthimaging
    region: us-east-1
    datastoreId: ffffffffffffffffffffffffffffffff
    endpoints: { dicomweb: "http://127.0.0.1:9001/", control: "http://127.0.0.1:9002", s3: "http://127.0.0.1:9003" }
    stow: import-job
    importJob: { bucket: my-imports, prefix: gw, dataAccessRoleArn: "arn:aws:iam::123456789012:role/ahi-import" }
defaultStore: ahi
`;
  const c = withYaml(yaml, (file) => loadConfig({ CONFIG_FILE: file, DATA_DIR: '/tmp/gw-data', AHI_KEY: 'AKIDEXAMPLE', AHI_SECRET: 'shh' }));
  const [ahi, imports] = c.stores as HealthImagingStoreConfig[];
  assert.equal(ahi.endpoints.dicomweb, 'https://dicom-medical-imaging.eu-west-1.amazonaws.com');
  assert.equal(ahi.endpoints.control, 'https://medical-imaging.eu-west-1.amazonaws.com');
  assert.equal(ahi.endpoints.s3, undefined);
  assert.deepEqual(ahi.credentials, { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'shh', sessionToken: undefined });
  assert.equal(ahi.stow, 'dicomweb');
  assert.equal(ahi.maxStowRequestBytes, 1_000_000_000);
  assert.equal(ahi.verifyDuplicates, true);
  assert.equal(imports.credentials, undefined, 'no credentials: the standard AWS chain');
  assert.equal(imports.endpoints.dicomweb, 'http://127.0.0.1:9001');
  assert.equal(imports.stow, 'import-job');
  assert.equal(imports.importJob?.prefix, 'gw/');
  assert.equal(imports.importJob?.pollIntervalMs, 2_000);
});

test('a HealthImaging store: bad values are named, the import job is required for stow: import-job', () => {
  const found = problems(`
stores:
  - name: ahi
    kind: healthimaging
    region: Europe
    datastoreId: not-an-id
    stow: sometimes
    endpoints: { dicomweb: "ftp://x" }
    credentials: { accessKeyId: AKID, secretAccessKey: inline-aws-secret, secretAccessKeyEnv: ALSO }
  - name: ahi2
    kind: healthimaging
    region: us-west-2
    datastoreId: 0123456789abcdef0123456789abcdef
    stow: import-job
  - name: ahi3
    kind: healthimaging
    region: us-west-2
    datastoreId: 0123456789abcdef0123456789abcdef
    importJob: { bucket: "Bad Bucket", dataAccessRoleArn: "role/x" }
defaultStore: ahi
`);
  const expect = [
    /stores\[0\] \(ahi\): region: "Europe" is not an AWS region name/,
    /stores\[0\] \(ahi\): datastoreId: "not-an-id" is not 32 lower-case letters and digits/,
    /stores\[0\] \(ahi\): stow: "sometimes" is not one of dicomweb, import-job/,
    /stores\[0\] \(ahi\): endpoints\.dicomweb: "ftp:\/\/x" is not an http\(s\) URL/,
    /stores\[0\] \(ahi\): credentials\.secretAccessKey: give either secretAccessKey or secretAccessKeyEnv, not both/,
    /stores\[1\] \(ahi2\): importJob: required with stow: import-job/,
    /stores\[2\] \(ahi3\): importJob\.bucket: "Bad Bucket" is not an S3 bucket name/,
    /stores\[2\] \(ahi3\): importJob\.dataAccessRoleArn: "role\/x" is not an IAM role ARN/,
  ];
  for (const re of expect) assert.ok(found.some((p) => re.test(p)), `${re} in:\n${found.join('\n')}`);
  assert.ok(!found.join('\n').includes('inline-aws-secret'), 'a secret never appears in a message');
});

test('a Google Cloud Healthcare store: a key file or its JSON in a variable, else ADC; endpoint overrides; bad keys named, never shown', () => {
  const dir = makeTempDir('gcp-cfg');
  try {
    const key = { type: 'service_account', client_email: 'gw@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----\n', private_key_id: 'k1' };
    const keyFile = join(dir.path, 'sa.json');
    writeFileSync(keyFile, JSON.stringify(key));
    writeFileSync(join(dir.path, 'not-a-key.json'), JSON.stringify({ type: 'authorized_user' }));
    const yaml = `
stores:
  - { name: g1, kind: gcp, project: my-project, location: us-central1, dataset: imaging, dicomStore: main, credentials: { keyFile: "${keyFile}" } }
  - name: g2
    kind: gcp
    project: p2
    location: europe-west4
    dataset: d
    dicomStore: s
    credentials: { keyJsonEnv: GCP_KEY_JSON }
    endpoint: "http://127.0.0.1:9100/"
    tokenUrl: http://127.0.0.1:9101/token
    tokenRefreshMarginMs: 1000
    qidoMaxLimits: { study: 10 }
  - { name: g3, kind: gcp, project: p3, location: l, dataset: d, dicomStore: s }
defaultStore: g1
`;
    const c = withYaml(yaml, (file) => loadConfig({ CONFIG_FILE: file, DATA_DIR: '/tmp/gw-data', GCP_KEY_JSON: JSON.stringify(key) }));
    const [g1, g2, g3] = c.stores as GcpStoreConfig[];
    assert.equal(g1.endpoint, 'https://healthcare.googleapis.com');
    assert.deepEqual(g1.scopes, ['https://www.googleapis.com/auth/cloud-healthcare']);
    assert.equal(JSON.parse(g1.serviceAccountKey!.json).client_email, key.client_email);
    assert.equal(g1.verifyDuplicates, false, 'Google refuses a conflicting duplicate itself');
    assert.deepEqual(g1.qidoMaxLimits, { study: 5000, series: 5000, instance: 50000 });
    assert.equal(g2.endpoint, 'http://127.0.0.1:9100');
    assert.equal(g2.tokenUrl, 'http://127.0.0.1:9101/token');
    assert.deepEqual(g2.qidoMaxLimits, { study: 10, series: 5000, instance: 50000 });
    assert.equal(g3.serviceAccountKey, undefined, 'Application Default Credentials');
    const found = problems(`
stores:
  - { name: b1, kind: gcp, project: "bad project", location: l, dataset: d, dicomStore: s, credentials: { keyFile: /nonexistent/sa.json } }
  - { name: b2, kind: gcp, project: p, location: l, dataset: d, dicomStore: s, credentials: { keyFile: "${join(dir.path, 'not-a-key.json')}" } }
  - { name: b3, kind: gcp, project: p, location: l, dataset: d, credentials: { keyJsonEnv: NOT_SET }, tokenUrl: "ftp://x" }
defaultStore: b1
`);
    const expect = [
      /stores\[0\] \(b1\): project: "bad project" is not a Google Cloud resource id/,
      /stores\[0\] \(b1\): credentials\.keyFile: cannot be read \(ENOENT\)/,
      /stores\[1\] \(b2\): credentials: the key file .* is not a service account key/,
      /stores\[2\] \(b3\): dicomStore: required/,
      /stores\[2\] \(b3\): credentials\.keyJsonEnv: the environment variable NOT_SET is not set/,
      /stores\[2\] \(b3\): tokenUrl: "ftp:\/\/x" is not an http\(s\) URL/,
    ];
    for (const re of expect) assert.ok(found.some((p) => re.test(p)), `${re} in:\n${found.join('\n')}`);
    assert.ok(!found.join('\n').includes('secret-key-material'));
  } finally {
    dir.remove();
  }
});

test('a federated store: its members in order, a write member, defaults', () => {
  const yaml = `
defaultStore: all
stores:
  - { name: site, kind: local }
  - { name: pacs, kind: dicomweb, url: "http://pacs:8042/dicom-web" }
  - name: all
    kind: federated
    members: [pacs, site]
    writeMember: site
    memberTimeoutMs: 1500
`;
  const c = withYaml(yaml, (file) => loadConfig({ CONFIG_FILE: file, DATA_DIR: '/tmp/gw-data' }));
  assert.deepEqual(c.stores.find((s) => s.name === 'all'), {
    name: 'all',
    kind: 'federated',
    members: ['pacs', 'site'],
    writeMember: 'site',
    memberTimeoutMs: 1500,
    maxMatchesPerMember: 5000,
    locationTtlMs: 86_400_000,
  });
});

test('a federated store: unknown, repeated, federated or missing members, a write member that is not one', () => {
  const found = problems(`
defaultStore: site
stores:
  - { name: site, kind: local }
  - { name: a, kind: federated, members: [site, nowhere], writeMember: elsewhere }
  - { name: b, kind: federated, members: [a, site, site] }
  - { name: c, kind: federated, members: [] }
  - { name: d, kind: federated, members: [site], memberTimeoutMs: 0, sideways: 1 }
`);
  const has = (pattern: RegExp) => assert.ok(found.some((p) => pattern.test(p)), `${pattern} in:\n${found.join('\n')}`);
  has(/\(a\): members: "nowhere" is not the name of a listed store/);
  has(/\(a\): writeMember: "elsewhere" is not one of the members/);
  has(/\(b\): members: "a" is federated itself/);
  has(/\(b\): members: a store is named twice/);
  has(/\(c\): members: a non-empty list/);
  has(/\(d\): memberTimeoutMs/);
  has(/\(d\): sideways: unknown key/);
});
