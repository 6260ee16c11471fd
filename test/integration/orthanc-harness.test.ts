/**
 * The Orthanc harness itself: a real Orthanc + DICOMweb plugin starts, stores and finds a study,
 * survives kill -9 + restart with its data, cleans up on stop(), and does not outlive a crashed test.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrthanc } from '../helpers/orthanc';

const CT_SMALL = '/work/shared/dicom-samples/CT_small.dcm';
// Checked with `dcmdump CT_small.dcm`.
const PATIENT_ID = '1CT1';
const STUDY_UID = '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322';
const SOP_INSTANCE_UID = '1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322';

type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

async function stow(dicomwebUrl: string, file: Buffer): Promise<Response> {
  const boundary = `harness-${Date.now()}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return fetch(`${dicomwebUrl}/studies`, {
    method: 'POST',
    headers: {
      'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      Accept: 'application/dicom+json',
    },
    body,
  });
}

async function findStudies(dicomwebUrl: string, patientId: string): Promise<DicomJson[]> {
  const res = await fetch(`${dicomwebUrl}/studies?PatientID=${encodeURIComponent(patientId)}`, {
    headers: { Accept: 'application/dicom+json' },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as DicomJson[];
}

test('Orthanc harness: STOW, QIDO, /proc stats, kill -9 + restart, stop', async () => {
  const orthanc = await startOrthanc();
  try {
    assert.equal(orthanc.baseUrl, `http://127.0.0.1:${orthanc.httpPort}`);
    assert.equal(orthanc.dicomwebUrl, `${orthanc.baseUrl}/dicom-web`);
    assert.notEqual(orthanc.httpPort, orthanc.dicomPort);

    const stored = await stow(orthanc.dicomwebUrl, readFileSync(CT_SMALL));
    assert.equal(stored.status, 200);
    const receipt = (await stored.json()) as DicomJson;
    const referenced = receipt['00081199'].Value as DicomJson[];
    assert.deepEqual(referenced[0]['00081155'].Value, [SOP_INSTANCE_UID]);
    // Host is configured with the port, so the RetrieveURL is usable as is.
    const retrieveUrl = (referenced[0]['00081190'].Value as string[])[0];
    assert.ok(retrieveUrl.startsWith(`${orthanc.dicomwebUrl}/studies/${STUDY_UID}/`), retrieveUrl);

    const found = await findStudies(orthanc.dicomwebUrl, PATIENT_ID);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0]['0020000D'].Value, [STUDY_UID]);

    assert.ok(orthanc.rssBytes() > 1024 * 1024, `rss ${orthanc.rssBytes()}`);
    assert.ok(orthanc.cpuSeconds() > 0, `cpu ${orthanc.cpuSeconds()}`);

    const firstPid = orthanc.pid;
    await orthanc.kill('SIGKILL');
    assert.equal(existsSync(orthanc.storageDir), true);
    await assert.rejects(fetch(`${orthanc.baseUrl}/system`));

    await orthanc.restart();
    assert.notEqual(orthanc.pid, firstPid);
    const again = await findStudies(orthanc.dicomwebUrl, PATIENT_ID);
    assert.deepEqual(again[0]['0020000D'].Value, [STUDY_UID]);
  } finally {
    await orthanc.stop();
  }
  assert.equal(existsSync(orthanc.storageDir), false);
});

/** True while the pid exists and is not a zombie (a container's pid 1 may never reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

// The first case relies on the kernel (setpriv --pdeathsig), the second on the harness's 'exit' handler.
for (const { name, ending } of [
  { name: 'the test process is killed with SIGKILL', ending: 'setInterval(() => {}, 1000);' },
  { name: 'the test process exits without stop()', ending: 'process.exit(0);' },
]) {
  test(`Orthanc does not outlive a test when ${name}`, async () => {
    const harness = resolve(__dirname, '../helpers/orthanc.js');
    const script = `require(${JSON.stringify(harness)}).startOrthanc().then((o) => {
      console.log(JSON.stringify({ pid: o.pid, dir: o.storageDir }));
      ${ending}
    });`;
    const testProcess = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: testProcess.stdout! });
    const [line] = (await once(lines, 'line', { signal: AbortSignal.timeout(40_000) })) as [string];
    const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
    try {
      testProcess.kill('SIGKILL'); // a no-op if it already exited
      const deadline = Date.now() + 10_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(pid), false, `Orthanc ${pid} still running`);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true }); // the dead test could not clean up
    }
  });
}
