/**
 * Test-side WADO-RS helpers: GET with an Accept header and split a multipart/related answer into
 * its parts with the gateway's own reader (itself tested against hand-made bodies), plus a STOW.
 */
import { Readable } from 'node:stream';
import { parseContentType } from '../../src/dicomweb/multipart/content-type';
import { readMultipart } from '../../src/dicomweb/multipart/multipart-reader';
import { HttpAnswer, send } from './http-client';
import { multipartBody } from './multipart-body';

export interface AnswerPart {
  contentType?: string;
  body: Buffer;
}

export async function splitMultipart(answer: HttpAnswer): Promise<AnswerPart[]> {
  const ct = parseContentType(String(answer.headers['content-type']));
  if (ct?.mediaType !== 'multipart/related' || !ct.params.boundary) throw new Error(`not multipart/related: ${answer.headers['content-type']}`);
  const parts: AnswerPart[] = [];
  for await (const part of readMultipart(Readable.from([answer.body]), ct.params.boundary)) {
    const chunks: Buffer[] = [];
    for await (const c of part.body) chunks.push(c as Buffer);
    parts.push({ contentType: part.contentType, body: Buffer.concat(chunks) });
  }
  return parts;
}

export async function get(url: string, accept?: string): Promise<HttpAnswer> {
  return send(url, { headers: accept === undefined ? {} : { accept } });
}

export async function getParts(url: string, accept?: string): Promise<{ answer: HttpAnswer; parts: AnswerPart[] }> {
  const answer = await get(url, accept);
  if (answer.status !== 200) throw new Error(`GET ${url} -> ${answer.status}: ${answer.text().slice(0, 500)}`);
  return { answer, parts: await splitMultipart(answer) };
}

/** STOWs the files; returns the Retrieve URL of each stored instance. */
export async function stow(baseUrl: string, files: Buffer[]): Promise<string[]> {
  const { body, contentType } = multipartBody(files);
  const res = await send(`${baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
  if (res.status !== 200) throw new Error(`STOW -> ${res.status}: ${res.text().slice(0, 500)}`);
  return (res.json()['00081199'].Value as Record<string, { Value: string[] }>[]).map((r) => r['00081190'].Value[0]);
}

/** A Retrieve URL with the host replaced by the test gateway's (they agree unless a test sets a public URL). */
export function local(url: string, baseUrl: string): string {
  return url.replace(/^https?:\/\/[^/]+(\/[^/]*)*?\/dicomweb\//, `${baseUrl}/dicomweb/`);
}
