/**
 * STOW-RS requests around hostile content: a hostile instance sent alone (application/dicom) or as
 * one part among valid ones; multipart framing that lies (boundaries missing, duplicated or
 * overlong, part headers that never end, parts declaring huge Content-Lengths, Content-Types that
 * lie, nested multipart); and HTTP framing that lies (Content-Length against the body, broken
 * chunking, hostile request lines and headers).
 */
import { HostileInstance } from './dicom-mutations';
import { smallInstance } from './dicom-sources';
import { Prng } from './prng';
import { buildRequest, RawRequest, RequestSpec } from './raw-http';

export interface FuzzRequest extends RawRequest {
  description: string;
  /** The server may close without an answer (the client never finished its request). */
  mayGoUnanswered?: boolean;
}

const DICOM_MULTIPART = (boundary: string) => `multipart/related; type="application/dicom"; boundary=${boundary}`;

function part(body: Buffer, headers = 'Content-Type: application/dicom\r\n'): Buffer {
  return Buffer.concat([Buffer.from(headers + '\r\n', 'latin1'), body]);
}

function multipart(boundary: string, parts: Buffer[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`--${boundary}\r\n`, 'latin1'), p, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(chunks);
}

function stow(body: Buffer, contentType: string | undefined, extra: Partial<RequestSpec> = {}): Buffer {
  const headers: [string, string | Buffer][] = contentType === undefined ? [] : [['Content-Type', contentType]];
  return buildRequest({ method: 'POST', target: '/dicomweb/studies', body, ...extra, headers: [...headers, ...(extra.headers ?? [])] });
}

/** A hostile instance delivered alone or among valid ones. */
export function deliverInstance(rng: Prng, tag: string, instance: HostileInstance): FuzzRequest {
  if (rng.chance(0.4)) {
    return { description: `${instance.description}; as application/dicom`, bytes: stow(instance.bytes, 'application/dicom') };
  }
  const boundary = `fuzz-${rng.ascii(12, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
  const before = rng.int(0, 1);
  const after = rng.int(0, 1);
  const parts: Buffer[] = [];
  for (let i = 0; i < before; i++) parts.push(part(smallInstance(`${tag}/before${i}`)));
  parts.push(part(instance.bytes, rng.chance(0.2) ? '' : 'Content-Type: application/dicom\r\n'));
  for (let i = 0; i < after; i++) parts.push(part(smallInstance(`${tag}/after${i}`)));
  const target = rng.chance(0.15) ? `/dicomweb/studies/${rng.pick(['1.2.3', '1.2.840.99999', '..', 'x'.repeat(65)])}` : '/dicomweb/studies';
  return {
    description: `${instance.description}; part ${before + 1} of ${before + 1 + after} to ${target}`,
    bytes: buildRequest({ method: 'POST', target, headers: [['Content-Type', DICOM_MULTIPART(boundary)]], body: multipart(boundary, parts) }),
  };
}

/** Valid instances in a multipart body whose framing lies. */
export function brokenMultipart(rng: Prng, tag: string): FuzzRequest {
  const boundary = `b-${rng.ascii(10, 'abcdefghij0123456789')}`;
  const instances = Array.from({ length: rng.int(1, 3) }, (_, i) => smallInstance(`${tag}/${i}`));
  const good = multipart(boundary, instances.map((i) => part(i)));
  const ct = DICOM_MULTIPART(boundary);
  const kind = rng.pick([
    'no-close', 'no-first', 'doubled', 'other-boundary', 'overlong-boundary', 'odd-boundary', 'header-no-end', 'header-huge',
    'part-length', 'part-type-lie', 'nested', 'body-not-multipart', 'type-missing', 'other-type', 'lf-only', 'close-early',
    'preamble-huge', 'flipped', 'many-empty', 'header-names', 'chunked-seams',
  ] as const);
  const send = (body: Buffer, contentType: string | undefined = ct, extra: Partial<RequestSpec> = {}): FuzzRequest => ({ description: kind, bytes: stow(body, contentType, extra) });
  switch (kind) {
    case 'no-close':
      return send(good.subarray(0, good.lastIndexOf(Buffer.from(`--${boundary}--`))));
    case 'no-first':
      return send(good.subarray(good.indexOf('\r\n') + 2));
    case 'doubled':
      return send(Buffer.concat([Buffer.from(`--${boundary}\r\n`.repeat(rng.int(1, 5))), good]));
    case 'other-boundary':
      return send(good, DICOM_MULTIPART(`${boundary}x`));
    case 'overlong-boundary': {
      const long = rng.ascii(rng.int(71, 400), 'abcdefghijklmnopqrstuvwxyz');
      return send(multipart(long, instances.map((i) => part(i))), DICOM_MULTIPART(long));
    }
    case 'odd-boundary': {
      const odd = rng.pick(['""', '"a b"', 'x; boundary=y', '', '"\u00ff\u00fe"', `"${boundary}`, `${boundary}"`, '--', ' ', ';;;']);
      return send(good, `multipart/related; type="application/dicom"; boundary=${odd}`);
    }
    case 'header-no-end':
      return send(Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nX-Filler: `), Buffer.alloc(rng.int(10, 40000), 0x61)]));
    case 'header-huge':
      return send(Buffer.concat([Buffer.from(`--${boundary}\r\n`), Buffer.from(`X-Big: ${'y'.repeat(rng.int(16000, 70000))}\r\n`), part(instances[0]), Buffer.from(`\r\n--${boundary}--\r\n`)]));
    case 'part-length': {
      const declared = rng.pick(['99999999999999999999', '-1', 'abc', '0', String(2 ** 53), '1e9']);
      return { ...send(multipart(boundary, instances.map((i) => part(i, `Content-Type: application/dicom\r\nContent-Length: ${declared}\r\n`)))), description: `${kind} ${declared}` };
    }
    case 'part-type-lie': {
      const lie = rng.pick([
        ['application/dicom', Buffer.from('{"00100010":{"vr":"PN"}}')],
        ['application/dicom+json', instances[0]],
        ['application/octet-stream', instances[0]],
        ['application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50', instances[0]],
        ['application/dicom;;;', instances[0]],
        ['\u00ff\u00fe', instances[0]],
        ['', instances[0]],
      ] as const);
      return { ...send(multipart(boundary, [part(lie[1] as Buffer, `Content-Type: ${lie[0]}\r\n`)])), description: `${kind} ${JSON.stringify(lie[0])}` };
    }
    case 'nested': {
      const inner = `inner-${boundary}`;
      const nested = multipart(inner, instances.map((i) => part(i)));
      return send(multipart(boundary, [part(nested, `Content-Type: multipart/related; type="application/dicom"; boundary=${inner}\r\n`)]));
    }
    case 'body-not-multipart':
      return send(instances[0]);
    case 'type-missing':
      return send(good, `multipart/related; boundary=${boundary}`);
    case 'other-type':
      return send(good, rng.pick([`multipart/mixed; boundary=${boundary}`, `multipart/related; type="application/dicom+xml"; boundary=${boundary}`, undefined, 'text/plain', 'application/dicom', '*/*', 'multipart/related; type=application/dicom; boundary=']));
    case 'lf-only':
      return send(Buffer.from(good.toString('latin1').replace(/\r\n/g, rng.pick(['\n', '\r', '\r\r\n'])), 'latin1'));
    case 'close-early':
      return send(Buffer.concat([Buffer.from(`--${boundary}--\r\n`), good]));
    case 'preamble-huge':
      return send(Buffer.concat([Buffer.alloc(rng.int(60000, 120000), 0x20), Buffer.from('\r\n'), good]));
    case 'flipped': {
      const bytes = Buffer.from(good);
      const starts: number[] = [];
      for (let at = bytes.indexOf(`--${boundary}`); at >= 0; at = bytes.indexOf(`--${boundary}`, at + 1)) starts.push(at);
      for (let i = rng.int(1, 6); i > 0; i--) bytes[rng.pick(starts) + rng.int(0, boundary.length + 40)] ^= 1 << rng.int(0, 7);
      return send(bytes);
    }
    case 'many-empty':
      return send(multipart(boundary, Array.from({ length: rng.int(50, 300) }, () => part(Buffer.alloc(0)))));
    case 'header-names': {
      const header = rng.pick(['__proto__: x', 'constructor: y', 'Content-Type : application/dicom', ': empty name', 'no colon at all', 'X\u0000Y: z', 'Content-Type: application/dicom\r\nContent-Type: image/jpeg']);
      return { ...send(multipart(boundary, [part(instances[0], `${header}\r\n`)])), description: `${kind} ${JSON.stringify(header)}` };
    }
    case 'chunked-seams': {
      // The same body in chunks of random size (1 byte up): every seam of the boundary search.
      const chunks: Buffer[] = [];
      for (let at = 0; at < good.length; ) {
        const n = Math.min(good.length - at, rng.chance(0.3) ? rng.int(1, 3) : rng.int(1, 300));
        chunks.push(Buffer.from(`${n.toString(16)}\r\n`), good.subarray(at, at + n), Buffer.from('\r\n'));
        at += n;
      }
      chunks.push(Buffer.from('0\r\n\r\n'));
      return send(Buffer.concat(chunks), ct, { contentLength: 'none', headers: [['Transfer-Encoding', 'chunked']] });
    }
  }
}

/** HTTP framing that lies: Content-Length against the body, chunking, request line and headers. */
export function brokenHttp(rng: Prng, tag: string): FuzzRequest {
  const instance = smallInstance(tag);
  const kind = rng.pick([
    'length-more', 'length-less', 'length-garbage', 'length-twice', 'length-and-chunked', 'chunk-size', 'chunk-unfinished', 'length-huge',
    'te-gzip', 'expect', 'many-headers', 'header-huge', 'header-bytes', 'obs-fold', 'no-host', 'version', 'method', 'target',
  ] as const);
  const post = (extra: Partial<RequestSpec> = {}) =>
    buildRequest({ method: 'POST', target: '/dicomweb/studies', body: instance, ...extra, headers: [['Content-Type', 'application/dicom'], ...(extra.headers ?? [])] });
  switch (kind) {
    case 'length-more': {
      const more = rng.int(1, 100000);
      return { description: `Content-Length ${more} more than sent, then the client stops`, bytes: post({ contentLength: instance.length + more }), stallMs: rng.int(50, 400), mayGoUnanswered: true };
    }
    case 'length-less': {
      const less = rng.int(1, instance.length - 1);
      return { description: `Content-Length ${less} less than sent (the rest reads as another request)`, bytes: post({ contentLength: instance.length - less }), mayGoUnanswered: true };
    }
    case 'length-garbage': {
      const v = rng.pick(['abc', '-1', '1e3', '0x10', ' ', '18446744073709551616', '１２']);
      return { description: `Content-Length ${JSON.stringify(v)}`, bytes: post({ contentLength: v }), mayGoUnanswered: true };
    }
    case 'length-twice':
      return { description: 'two different Content-Lengths', bytes: post({ headers: [['Content-Length', String(instance.length + 10)]] }), mayGoUnanswered: true };
    case 'length-and-chunked':
      return { description: 'Content-Length and Transfer-Encoding: chunked', bytes: post({ headers: [['Transfer-Encoding', 'chunked']] }), mayGoUnanswered: true };
    case 'chunk-size': {
      const size = rng.pick(['zz', 'FFFFFFFFFFFFFFFF', '-5', '1;ext=\u00ff', '', '7fffffff']);
      return { description: `chunk size ${JSON.stringify(size)}`, bytes: post({ contentLength: 'none', headers: [['Transfer-Encoding', 'chunked']], body: Buffer.concat([Buffer.from(`${size}\r\n`, 'latin1'), instance.subarray(0, 100), Buffer.from('\r\n0\r\n\r\n')]) }), stallMs: 200, mayGoUnanswered: true };
    }
    case 'chunk-unfinished': {
      const half = instance.subarray(0, rng.int(1, instance.length - 1));
      return { description: 'chunked body that stops without its last chunk', bytes: post({ contentLength: 'none', headers: [['Transfer-Encoding', 'chunked']], body: Buffer.concat([Buffer.from(`${half.length.toString(16)}\r\n`), half, Buffer.from('\r\n')]) }), stallMs: rng.int(50, 300), mayGoUnanswered: true };
    }
    case 'length-huge':
      return { description: 'Content-Length of a terabyte, little sent', bytes: post({ contentLength: 2 ** 40, body: instance.subarray(0, 200) }), stallMs: 200, mayGoUnanswered: true };
    case 'te-gzip':
      return { description: 'Transfer-Encoding: gzip', bytes: post({ contentLength: 'none', headers: [['Transfer-Encoding', rng.pick(['gzip', 'gzip, chunked', 'identity', 'chunked, chunked'])]] }), stallMs: 200, mayGoUnanswered: true };
    case 'expect':
      return { description: 'Expect: 100-continue', bytes: post({ headers: [['Expect', rng.pick(['100-continue', '200-ok', 'x'])]] }), mayGoUnanswered: true };
    case 'many-headers':
      return { description: 'hundreds of headers', bytes: post({ headers: Array.from({ length: rng.int(100, 3000) }, (_, i) => [`X-H${i}`, 'v'] as [string, string]) }), mayGoUnanswered: true };
    case 'header-huge':
      return { description: 'one header of 20-100 KB', bytes: post({ headers: [['X-Big', 'z'.repeat(rng.int(20000, 100000))]] }), mayGoUnanswered: true };
    case 'header-bytes': {
      const value = Buffer.from(rng.pick([[0x00], [0x7f], [0xff, 0xfe], [0x0b], [0x1b, 0x24, 0x42], [0xc3, 0x28]]));
      return { description: `header value with bytes ${value.toString('hex')}`, bytes: post({ headers: [['X-Odd', Buffer.concat([Buffer.from('a'), value, Buffer.from('b')])]] }), mayGoUnanswered: true };
    }
    case 'obs-fold':
      return { description: 'obsolete header line folding', bytes: post({ headers: [['X-Folded', 'one\r\n two']] }), mayGoUnanswered: true };
    case 'no-host': {
      const raw = post({}).toString('latin1').replace('Host: 127.0.0.1\r\n', '');
      return { description: 'no Host header', bytes: Buffer.from(raw, 'latin1'), mayGoUnanswered: true };
    }
    case 'version': {
      const v = rng.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1.1', 'http/1.1', 'HTTP/9']);
      return { description: `version ${v}`, bytes: Buffer.from(post({}).toString('latin1').replace(' HTTP/1.1\r\n', ` ${v}\r\n`), 'latin1'), mayGoUnanswered: true };
    }
    case 'method': {
      const m = rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'get', 'G ET', 'PROPFIND', 'HEAD']);
      return { description: `method ${m}`, bytes: post({ method: m }), mayGoUnanswered: true };
    }
    case 'target': {
      const t = rng.pick(['http://evil.example/dicomweb/studies', '*', '/dicomweb/studies?x', '//dicomweb//studies', '/stores/nope/dicomweb/studies', '/stores/default/dicomweb/studies', '/dicomweb/studies/1.2.3/', '/DICOMWEB/STUDIES']);
      return { description: `STOW target ${t}`, bytes: post({ target: t }), mayGoUnanswered: true };
    }
  }
}
