/**
 * An upstream's answer as a RelayedAnswer, once its first bytes arrived: a failure before them is
 * still a clean 5xx for the client; a body that breaks later counts against the upstream (circuit
 * breaker, health), and whoever sends it on aborts the client's answer.
 */
import { IncomingHttpHeaders } from 'node:http';
import { firstChunk } from '../first-chunk';
import { RelayedAnswer } from '../wado-types';
import { releaseBody, UpstreamClient, UpstreamResponse } from './upstream-client';

export async function relayAnswer(client: UpstreamClient, response: UpstreamResponse, what: string): Promise<RelayedAnswer> {
  const body = response.body;
  try {
    const first = await firstChunk(body);
    if (first) body.unshift(first);
  } catch (e) {
    throw client.failedBody(e, what);
  }
  body.once('error', (e) => {
    if ((e as { code?: string }).code !== 'UND_ERR_ABORTED') client.failedBody(e, what);
  });
  return {
    kind: 'relayed',
    contentType: String(response.headers['content-type'] ?? 'application/octet-stream'),
    length: contentLength(response.headers),
    body,
    discard: () => releaseBody(body),
  };
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length'];
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}
