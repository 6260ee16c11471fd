/**
 * The XML of the S3 operations the fake offers: the ListObjectsV2 result, and the DeleteObjects
 * request and result (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html,
 * API_DeleteObjects.html), as far as @aws-sdk/client-s3 reads and writes them.
 */
import { S3Object } from './s3-object-store';

export function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

function xmlUnescape(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot|#\d+|#x[0-9a-f]+);/gi, (_m, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };
    if (named[e]) return named[e];
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

export interface ListPage {
  bucket: string;
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  startAfter?: string;
  continuationToken?: string;
  nextContinuationToken?: string;
  contents: S3Object[];
  commonPrefixes: string[];
}

export function listObjectsV2Xml(page: ListPage): string {
  const el = (name: string, value: string | number | undefined) => (value === undefined ? '' : `<${name}>${xmlEscape(String(value))}</${name}>`);
  const contents = page.contents
    .map((o) => `<Contents>${el('Key', o.key)}${el('LastModified', o.lastModified.toISOString())}${el('ETag', o.etag)}${el('Size', o.size)}<StorageClass>STANDARD</StorageClass></Contents>`)
    .join('');
  const prefixes = page.commonPrefixes.map((p) => `<CommonPrefixes>${el('Prefix', p)}</CommonPrefixes>`).join('');
  return (
    `${HEADER}<ListBucketResult ${NS}>${el('Name', page.bucket)}${el('Prefix', page.prefix)}${el('Delimiter', page.delimiter)}` +
    `${el('StartAfter', page.startAfter)}${el('ContinuationToken', page.continuationToken)}${el('NextContinuationToken', page.nextContinuationToken)}` +
    `${el('KeyCount', page.contents.length + page.commonPrefixes.length)}${el('MaxKeys', page.maxKeys)}${el('IsTruncated', String(page.nextContinuationToken !== undefined))}` +
    `${contents}${prefixes}</ListBucketResult>`
  );
}

/** The keys of a DeleteObjects request and whether it asked for a quiet answer. */
export function parseDeleteRequest(xml: string): { keys: string[]; quiet: boolean } {
  const keys = [...xml.matchAll(/<Object>\s*<Key>([\s\S]*?)<\/Key>/g)].map((m) => xmlUnescape(m[1]));
  return { keys, quiet: /<Quiet>\s*true\s*<\/Quiet>/i.test(xml) };
}

export function deleteResultXml(keys: string[], quiet: boolean): string {
  const deleted = quiet ? '' : keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('');
  return `${HEADER}<DeleteResult ${NS}>${deleted}</DeleteResult>`;
}
