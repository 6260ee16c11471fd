/**
 * The parameters of a rendered retrieve (PS3.18 8.3.5.1 and Table 8.3.5-1), checked before any
 * store sees them: the rendered media types the client accepts (JPEG by default, 8.7.4), window
 * (center, width and function), viewport (width, height, optionally the source region) and
 * quality. A malformed or impossible value is a 400 naming it; only parsed values go on, so no
 * client text reaches an upstream.
 */
import type { FastifyRequest } from 'fastify';
import { RenderRequest } from '../../stores/wado-types';
import { parseAccept } from '../accept';
import { BadRequest, NotAcceptable } from '../errors';
import { acceptOf, quoted } from './wado-request';

/** The rendered media types of PS3.18 Table 8.7.4-1 that an image can be answered in. */
const RENDERED_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/jp2'];
const WINDOW_FUNCTIONS = new Set(['linear', 'linear-exact', 'sigmoid']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const MAX_SIZE = 16_384;

export function renderRequestOf(request: FastifyRequest): RenderRequest {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const one = (name: string): string | undefined => {
    const value = query[name];
    if (Array.isArray(value)) throw new BadRequest(`${name} is given more than once`);
    return typeof value === 'string' ? value : undefined;
  };
  const render: RenderRequest = { mediaTypes: mediaTypes(acceptOf(request)) };
  const window = one('window');
  if (window !== undefined) render.window = parseWindow(window);
  const viewport = one('viewport');
  if (viewport !== undefined) render.viewport = parseViewport(viewport);
  const quality = one('quality');
  if (quality !== undefined) {
    if (!/^\d{1,3}$/.test(quality) || Number(quality) < 1 || Number(quality) > 100) throw new BadRequest(`quality=${quoted(quality)}: expected an integer from 1 to 100`);
    render.quality = Number(quality);
  }
  return render;
}

/** The rendered image types the client takes, best first; JPEG when it names none (8.7.4). */
function mediaTypes(accept: string | undefined): string[] {
  const ranges = parseAccept(accept).filter((r) => r.q > 0);
  const out: string[] = [];
  for (const range of ranges) {
    for (const type of RENDERED_IMAGE_TYPES) {
      const takes = range.type === '*/*' || range.type === 'image/*' || range.type === type;
      // A wildcard takes them in the table's order: JPEG, the standard's default, first.
      if (takes && !out.includes(type)) out.push(type);
    }
  }
  if (out.length === 0) throw new NotAcceptable(`rendered images are answered as ${RENDERED_IMAGE_TYPES.join(', ')}; the Accept header takes none of them`);
  return out;
}

function parseWindow(text: string): NonNullable<RenderRequest['window']> {
  const [center, width, fn, ...rest] = text.split(',');
  if (rest.length > 0 || center === undefined || width === undefined || !NUMBER.test(center) || !NUMBER.test(width)) {
    throw new BadRequest(`window=${quoted(text)}: expected center,width[,function]`);
  }
  if (Number(width) <= 0) throw new BadRequest(`window=${quoted(text)}: the width must be positive`);
  const windowFunction = (fn ?? 'linear').toLowerCase();
  if (!WINDOW_FUNCTIONS.has(windowFunction)) throw new BadRequest(`window=${quoted(text)}: the function must be linear, linear-exact or sigmoid`);
  return { center: Number(center), width: Number(width), function: windowFunction as 'linear' | 'linear-exact' | 'sigmoid' };
}

function parseViewport(text: string): NonNullable<RenderRequest['viewport']> {
  const parts = text.split(',');
  if ((parts.length !== 2 && parts.length !== 6) || !parts.every((p) => /^\d{1,6}$/.test(p))) {
    throw new BadRequest(`viewport=${quoted(text)}: expected vw,vh or vw,vh,sx,sy,sw,sh (non-negative integers)`);
  }
  const [width, height, ...source] = parts.map(Number);
  if (width < 1 || height < 1 || width > MAX_SIZE || height > MAX_SIZE) throw new BadRequest(`viewport=${quoted(text)}: the size must be 1 to ${MAX_SIZE} pixels`);
  return source.length === 4 ? { width, height, source: source as [number, number, number, number] } : { width, height };
}
