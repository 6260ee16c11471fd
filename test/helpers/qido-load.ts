/** Loads Part-10 files into a gateway through STOW-RS, ten per request. */
import assert from 'node:assert/strict';
import { send } from './http-client';
import { multipartBody } from './multipart-body';

export async function stowAll(dicomwebUrl: string, files: Buffer[]): Promise<void> {
  for (let i = 0; i < files.length; i += 10) {
    const { body, contentType } = multipartBody(files.slice(i, i + 10));
    const res = await send(`${dicomwebUrl}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
    assert.equal(res.status, 200, res.text());
  }
}
