/**
 * Rendered retrieves through an upstream that renders (PS3.18 10.4.1.1.3: Orthanc, Google Cloud
 * Healthcare): the instance or frame's `rendered` resource, asked with the parameters the gateway
 * parsed (only those, re-written from their values) and the image types the client takes, and
 * relayed as the upstream answers.
 */
import { NotFound, UpstreamNotAcceptable } from '../store-errors';
import { InstanceRef, RelayedAnswer, RenderRequest } from '../wado-types';
import { UpstreamClient } from './upstream-client';
import { errorDetail } from './upstream-failures';
import { scopePath } from './upstream-metadata';
import { relayAnswer } from './upstream-relay';

export function renderQuery(render: RenderRequest): string {
  const params: string[] = [];
  if (render.window) params.push(`window=${render.window.center},${render.window.width},${render.window.function}`);
  if (render.viewport) params.push(`viewport=${[render.viewport.width, render.viewport.height, ...(render.viewport.source ?? [])].join(',')}`);
  if (render.quality !== undefined) params.push(`quality=${render.quality}`);
  return params.length > 0 ? `?${params.join('&')}` : '';
}

/**
 * The image types are asked one at a time, best first (Orthanc refuses an Accept that lists
 * several): an upstream that cannot produce one (406, or 400 as Orthanc answers) is asked the next.
 */
export async function renderedThroughUpstream(client: UpstreamClient, ref: InstanceRef, frame: number | undefined, render: RenderRequest): Promise<RelayedAnswer> {
  const what = 'retrieve of a rendered image';
  const path = `${scopePath({ level: 'instance', ...ref })}${frame !== undefined ? `/frames/${frame}` : ''}/rendered${renderQuery(render)}`;
  const subject = frame !== undefined ? `Frame ${frame} of instance ${ref.sopInstanceUid}` : `Instance ${ref.sopInstanceUid}`;
  let refusal = '';
  for (const accept of render.mediaTypes) {
    const response = await client.send({ method: 'GET', path, headers: { accept }, what });
    if (response.status === 200) return relayAnswer(client, response, what);
    const body = await client.text(response, what);
    const detail = errorDetail(body, response.headers);
    if (response.status === 404) throw new NotFound(`${subject} is not stored here${detail ? ` (${detail})` : ''}`);
    // 400 (an instance without pixels, a syntax it cannot render), 406, 415: not renderable so.
    if (response.status !== 400 && response.status !== 406 && response.status !== 415) throw client.unexpected(response.status, body, what, response.headers);
    refusal = `${accept}: ${detail || response.status}`;
  }
  throw new UpstreamNotAcceptable(`${subject} cannot be rendered as asked by the upstream (${refusal})`);
}
