/**
 * A client that stops sending in the middle of a request: the server stays up, what was
 * complete before is stored whole, the cut instance is neither indexed nor left in staging.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { listFiles, readIndex, storeRoot } from '../helpers/store-inspection';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { syntheticInstance } from '../fixtures/dicom-builder';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('STOW-RS client abort', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startInProcessGateway();
  });
  after(async () => {
    await gw.stop();
  });

  for (const framing of ['chunked', 'content-length'] as const) {
    test(`abort in the middle of the second instance (${framing})`, async () => {
      const n = framing === 'chunked' ? 1 : 2;
      const first = syntheticInstance({ studyUid: `1.2.826.0.1.3680043.10.5000.${n}`, seriesUid: `1.2.826.0.1.3680043.10.5000.${n}.1`, sopInstanceUid: `1.2.826.0.1.3680043.10.5000.${n}.1.1`, rows: 256, columns: 256, seed: n });
      const second = syntheticInstance({ studyUid: `1.2.826.0.1.3680043.10.5000.${n}`, seriesUid: `1.2.826.0.1.3680043.10.5000.${n}.1`, sopInstanceUid: `1.2.826.0.1.3680043.10.5000.${n}.1.2`, rows: 256, columns: 256, seed: n + 10 });
      const { body, contentType } = multipartBody([first, second]);
      const cutAt = body.indexOf(second) + Math.floor(second.length / 2);
      const url = new URL(gw.baseUrl);
      const socket = connect(Number(url.port), url.hostname);
      await new Promise<void>((r) => socket.once('connect', () => r()));
      const head =
        `POST /dicomweb/studies HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${contentType}\r\n` +
        (framing === 'chunked' ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${body.length}\r\n\r\n`);
      socket.write(head);
      const payload = body.subarray(0, cutAt);
      socket.write(framing === 'chunked' ? Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n')]) : payload);
      // Let the server take the first instance in, then vanish.
      await waitFor(() => readIndex(gw.dataDir).some((r) => r.sop_instance_uid.endsWith(`5000.${n}.1.1`)));
      socket.destroy();
      await waitFor(() => listFiles(join(gw.dataDir, 'staging')).length === 0);
      const rows = readIndex(gw.dataDir).filter((r) => r.sop_instance_uid.startsWith(`1.2.826.0.1.3680043.10.5000.${n}.`));
      assert.deepEqual(rows.map((r) => r.sop_instance_uid), [`1.2.826.0.1.3680043.10.5000.${n}.1.1`]);
      assert.equal(sha(readFileSync(join(storeRoot(gw.dataDir), rows[0].file_path))), sha(first));
      assert.equal(listFiles(storeRoot(gw.dataDir)).filter((f) => f.includes(`5000.${n}.1.2`)).length, 0);
      // The server is still fine and takes the second instance normally.
      const again = multipartBody([second]);
      const res = await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': again.contentType }, body: again.body });
      assert.equal(res.status, 200);
    });
  }
});
