/**
 * A federated store over the embedded store, a real Orthanc and the Google Cloud fake (issue 15):
 * disjoint studies, a study in two members with different attributes (the preferred one wins), a
 * study split across two members (counts, metadata and retrieve assembled from both), paging
 * across members, a slow member, a member down, STOW to the write member, and per-member read
 * scopes with real signed tokens.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import IORedis from 'ioredis';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { FederatedSetup, startFederatedGateway } from '../helpers/federated-gateway';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { orthancAvailable } from '../helpers/orthanc';
import { TEST_REDIS_URL } from '../helpers/redis-keys';
import { splitMultipart } from '../helpers/wado-client';
import { startTestIdp, TestIdp } from '../helpers/jwks-server';
import { parsePart10Buffer } from '../../src/dicom/part10-parser';

const ROOT = '1.2.826.0.1.3680043.10.7815';
type Json = Record<string, { vr: string; Value?: unknown[] }>;
const JSON_ACCEPT = { accept: 'application/dicom+json' };

/** Instances of one study: `series` of them with `perSeries` instances each. */
function study(n: number, options: { series?: number[]; perSeries?: number; description?: string; patient?: string } = {}): Buffer[] {
  const out: Buffer[] = [];
  for (const s of options.series ?? [1]) {
    for (let i = 1; i <= (options.perSeries ?? 2); i++) {
      out.push(
        syntheticInstance({
          seed: n * 1000 + s * 10 + i,
          rows: 16,
          columns: 16,
          studyUid: `${ROOT}.${n}`,
          seriesUid: `${ROOT}.${n}.${s}`,
          sopInstanceUid: `${ROOT}.${n}.${s}.${i}`,
          seriesNumber: s,
          instanceNumber: i,
          patientId: options.patient ?? `FED-${n}`,
          studyDescription: options.description ?? `study ${n}`,
          studyDate: `2024010${n % 10}`,
        }),
      );
    }
  }
  return out;
}

async function stowTo(url: string, files: Buffer[], headers: Record<string, string> = {}) {
  const { body, contentType } = multipartBody(files);
  return send(`${url}/studies`, { method: 'POST', headers: { 'content-type': contentType, ...JSON_ACCEPT, ...headers }, body });
}

const uidOf = (m: Json) => String(m['0020000D'].Value![0]);

describe('federated store over local, Orthanc and the Google fake', { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
  let setup: FederatedSetup;

  before(async () => {
    setup = await startFederatedGateway({ memberTimeoutMs: 1_000 });
    const put = async (store: string, files: Buffer[]) => assert.equal((await stowTo(setup.url(store), files)).status, 200, store);
    await put('site', study(1)); // only in site
    await put('pacs', study(2)); // only in pacs
    await put('cloud', study(3)); // only in cloud
    await put('site', study(4, { description: 'as the site has it' })); // in two members,
    await put('pacs', study(4, { description: 'as the PACS has it' })); // different attributes
    await put('site', study(5, { series: [1], perSeries: 2 })); // split: series 1 at the site,
    await put('cloud', study(5, { series: [2], perSeries: 3 })); // series 2 in the cloud
  });
  after(() => setup?.close());

  const search = (path: string, store = 'everywhere', headers: Record<string, string> = {}) => send(`${setup.url(store)}${path}`, { headers: { ...JSON_ACCEPT, ...headers } });

  test('a search fans out to every member: each study once, the preferred member\'s attributes, counts of the union', async () => {
    const res = await search(`/studies?PatientID=FED-*&includefield=00081030&includefield=00201206&includefield=00201208&includefield=00080061`);
    assert.equal(res.status, 200, res.text());
    assert.equal(res.headers.warning, undefined, 'every member answered');
    const studies = res.json() as Json[];
    assert.deepEqual(studies.map(uidOf).sort(), [1, 2, 3, 4, 5].map((n) => `${ROOT}.${n}`));
    const four = studies.find((s) => uidOf(s) === `${ROOT}.4`)!;
    assert.deepEqual(four['00081030'].Value, ['as the site has it'], 'site is preferred over pacs');
    const five = studies.find((s) => uidOf(s) === `${ROOT}.5`)!;
    assert.deepEqual(five['00201206'].Value, [2], 'series of both members');
    assert.deepEqual(five['00201208'].Value, [5], 'instances of both members');
    assert.deepEqual(four['00201208'].Value, [2], 'the same instances in two members count once');
  });

  test('limit and offset page across the members: the pages together are the whole answer, in a stable order', async () => {
    const whole = ((await search('/studies?PatientID=FED-*')).json() as Json[]).map(uidOf);
    const paged: string[] = [];
    for (let offset = 0; offset < 6; offset += 2) {
      const page = await search(`/studies?PatientID=FED-*&limit=2&offset=${offset}`);
      assert.equal(page.status, 200);
      paged.push(...(page.json() as Json[]).map(uidOf));
    }
    assert.deepEqual(paged, whole);
    assert.equal(new Set(paged).size, 5);
    const series = ((await search(`/studies/${ROOT}.5/series`)).json() as Json[]).map((s) => String(s['0020000E'].Value![0])).sort();
    assert.deepEqual(series, [`${ROOT}.5.1`, `${ROOT}.5.2`], 'series of a split study from both members');
    const one = await search(`/studies/${ROOT}.1/series`);
    assert.equal(one.status, 200);
    assert.equal((one.json() as Json[]).length, 1);
    assert.equal(one.headers.warning, undefined, 'members without the study have no series of it: not a failure');
  });

  test('WADO goes to the member holding the study: instance, frames and metadata of studies in one member each', async () => {
    for (const [n, store] of [[2, 'pacs'], [3, 'cloud'], [1, 'site']] as const) {
      const path = `/studies/${ROOT}.${n}/series/${ROOT}.${n}.1/instances/${ROOT}.${n}.1.1`;
      const instance = await send(`${setup.url('everywhere')}${path}`, { headers: { accept: 'multipart/related; type="application/dicom"' } });
      assert.equal(instance.status, 200, `${store}: ${instance.text().slice(0, 200)}`);
      const [part] = await splitMultipart(instance);
      assert.equal((await parsePart10Buffer(part.body)).transferSyntaxUid, '1.2.840.10008.1.2.1');
      const frame = await send(`${setup.url('everywhere')}${path}/frames/1`, { headers: { accept: 'multipart/related; type="application/octet-stream"' } });
      assert.equal(frame.status, 200, `${store} frame`);
      assert.equal((await splitMultipart(frame))[0].body.length, 16 * 16 * 2);
      const metadata = await search(`${path}/metadata`);
      assert.equal(metadata.status, 200);
      assert.equal((metadata.json() as Json[])[0]['00080018'].Value![0], `${ROOT}.${n}.1.1`);
    }
    assert.equal((await search(`/studies/${ROOT}.99/metadata`)).status, 404, 'in no member: 404');
  });

  test('a study split across members: its metadata and its retrieve are assembled from both', async () => {
    const metadata = await search(`/studies/${ROOT}.5/metadata`);
    assert.equal(metadata.status, 200);
    assert.deepEqual((metadata.json() as Json[]).map((m) => String(m['00080018'].Value![0])).sort(), [
      `${ROOT}.5.1.1`,
      `${ROOT}.5.1.2`,
      `${ROOT}.5.2.1`,
      `${ROOT}.5.2.2`,
      `${ROOT}.5.2.3`,
    ]);
    const retrieve = await send(`${setup.url('everywhere')}/studies/${ROOT}.5`, { headers: { accept: 'multipart/related; type="application/dicom"' } });
    assert.equal(retrieve.status, 200);
    const parts = await splitMultipart(retrieve);
    assert.equal(parts.length, 5);
    const series2 = await send(`${setup.url('everywhere')}/studies/${ROOT}.5/series/${ROOT}.5.2`, { headers: { accept: 'multipart/related; type="application/dicom"' } });
    assert.equal((await splitMultipart(series2)).length, 3, 'a series in one member only');
    const overlapping = await search(`/studies/${ROOT}.4/metadata`);
    assert.equal((overlapping.json() as Json[]).length, 2, 'the same instances in two members once');
    assert.deepEqual((overlapping.json() as Json[]).map((m) => m['00081030'].Value![0]), ['as the site has it', 'as the site has it']);
  });

  test('where studies are is remembered in Redis, under the run\'s prefix', async () => {
    const redis = new IORedis(TEST_REDIS_URL);
    try {
      const members = await redis.smembers(`${setup.redisPrefix}:federated:everywhere:study:${ROOT}.5`);
      assert.deepEqual(members.sort(), ['cloud', 'site']);
      assert.ok((await redis.pttl(`${setup.redisPrefix}:federated:everywhere:study:${ROOT}.5`)) > 0, 'with a TTL');
    } finally {
      redis.disconnect();
    }
  });

  test('a slow member is left out after the member timeout, with a Warning naming it and the metric counting it', async () => {
    setup.cloud.setLatencyMs(3_000);
    try {
      const started = Date.now();
      const res = await search('/studies?PatientID=FED-*');
      const took = Date.now() - started;
      assert.equal(res.status, 200);
      assert.ok(took < 2_000, `answered after ${took} ms (member timeout 1000 ms)`);
      assert.match(String(res.headers.warning), /member store 'cloud' of 'everywhere' did not answer in time/);
      assert.deepEqual((res.json() as Json[]).map(uidOf).sort(), [1, 2, 4, 5].map((n) => `${ROOT}.${n}`), 'the others\' matches are there');
      const metrics = (await send(`${setup.gateway.baseUrl}/metrics`)).text();
      assert.match(metrics, /dicomweb_gateway_federated_member_failures_total\{store="everywhere",member="cloud",reason="timeout"\} [1-9]/);
    } finally {
      setup.cloud.setLatencyMs(0);
    }
  });

  test('a member down: searches carry a Warning; what only it holds is 5xx, what others hold still comes', async () => {
    // A study only the cloud holds, never searched through the view: where it is is not known.
    assert.equal((await stowTo(setup.url('cloud'), study(8))).status, 200);
    setup.cloud.setDown(true);
    try {
      const unknown = await search(`/studies/${ROOT}.8/metadata`);
      assert.equal(unknown.status, 503, 'not a 404: the member that did not answer may hold it');
      assert.match(String(unknown.headers.warning), /in none of the members of 'everywhere' that answered; 'cloud' did not/);
      const res = await search('/studies?PatientID=FED-*');
      assert.equal(res.status, 200);
      assert.match(String(res.headers.warning), /member store 'cloud' of 'everywhere' failed/);
      const onlyCloud = await search(`/studies/${ROOT}.3/series/${ROOT}.3.1/instances/${ROOT}.3.1.1/metadata`);
      assert.ok(onlyCloud.status >= 500 && onlyCloud.status !== 500, `${onlyCloud.status}: an upstream status, not an internal error`);
      const elsewhere = await search(`/studies/${ROOT}.2/metadata`);
      assert.equal(elsewhere.status, 200);
    } finally {
      setup.cloud.setDown(false);
    }
  });

  test('STOW to the federated store goes to its write member; a view without one refuses STOW with 405', async () => {
    const res = await stowTo(setup.url('everywhere'), study(6));
    assert.equal(res.status, 200, res.text());
    assert.equal(((await search('/studies?StudyInstanceUID=' + `${ROOT}.6`, 'site')).json() as Json[]).length, 1, 'stored at the site');
    assert.equal(((await search(`/studies/${ROOT}.6/metadata`)).json() as Json[]).length, 2, 'and readable through the view');
    const refused = await stowTo(setup.url('view'), study(7));
    assert.equal(refused.status, 405);
    assert.match(String(refused.headers.allow), /GET/);
    assert.match(String(refused.headers.warning), /federated view without a write member/);
  });
});

describe('federated store: a client sees only the members it may read', { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
  let setup: FederatedSetup;
  let idp: TestIdp;

  before(async () => {
    idp = await startTestIdp();
    setup = await startFederatedGateway({
      env: { AUTH_MODE: 'required', AUTH_JWT_ISSUER: idp.issuer, AUTH_JWT_AUDIENCE: idp.audience, AUTH_JWT_JWKS_URL: idp.jwksUrl },
    });
    const writer = { authorization: `Bearer ${await idp.sign({ scope: 'dicomweb:write' })}` };
    assert.equal((await stowTo(setup.url('site'), study(11), writer)).status, 200);
    assert.equal((await stowTo(setup.url('pacs'), study(12), writer)).status, 200);
    assert.equal((await stowTo(setup.url('cloud'), study(13), writer)).status, 200);
  });
  after(async () => {
    await setup?.close();
    await idp?.close();
  });

  test('read on the view and two of its members: the third member\'s studies are neither found nor retrieved', async () => {
    const token = await idp.sign({ scope: 'dicomweb:read:everywhere dicomweb:read:site dicomweb:read:cloud' });
    const headers = { ...JSON_ACCEPT, authorization: `Bearer ${token}` };
    const res = await send(`${setup.url('everywhere')}/studies?PatientID=FED-*`, { headers });
    assert.equal(res.status, 200, res.text());
    assert.deepEqual((res.json() as Json[]).map(uidOf).sort(), [`${ROOT}.11`, `${ROOT}.13`]);
    assert.equal((await send(`${setup.url('everywhere')}/studies/${ROOT}.12/metadata`, { headers })).status, 404, 'the PACS study does not exist for this client');
    const all = await idp.sign({ scope: 'dicomweb:read' });
    const everything = await send(`${setup.url('everywhere')}/studies?PatientID=FED-*`, { headers: { ...JSON_ACCEPT, authorization: `Bearer ${all}` } });
    assert.deepEqual((everything.json() as Json[]).map(uidOf).sort(), [`${ROOT}.11`, `${ROOT}.12`, `${ROOT}.13`]);
    const noView = await idp.sign({ scope: 'dicomweb:read:site' });
    assert.equal((await send(`${setup.url('everywhere')}/studies`, { headers: { ...JSON_ACCEPT, authorization: `Bearer ${noView}` } })).status, 403, 'the view itself needs read');
  });
});
