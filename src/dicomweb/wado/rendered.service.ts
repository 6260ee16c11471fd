/**
 * Rendered images (PS3.18 10.4.1.1.3) and thumbnails (10.7): relayed from an upstream that
 * renders, else made by the gateway's codecs (rendered-here.ts).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG } from '../../config/config.module';
import { GatewayConfig } from '../../config/gateway-config';
import { PixelCodecs } from '../../pixels/pixel-codecs.service';
import { StoreRegistry } from '../../stores/registry';
import { RetrieveScope } from '../../stores/wado-types';
import { BadRequest } from '../errors';
import { storeTarget } from '../store-target';
import { upstreamCannotConvert } from './conversion-fallbacks';
import { sendRelayed } from './relayed-answer';
import { renderHere, representativeInstance, THUMBNAIL_SIZE } from './rendered-here';
import { renderRequestOf } from './rendered-request';
import { sendBuffer } from './streamed-answer';
import { frameNumbers, instanceRef, WadoParams } from './wado-request';

/** The one frame a rendered resource names; `refusal` says so otherwise. */
function oneFrame(list: string, refusal: string): number {
  const numbers = frameNumbers(list);
  if (numbers.length !== 1) throw new BadRequest(`${refusal}: name exactly one frame number`);
  return numbers[0];
}

@Injectable()
export class RenderedService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly stores: StoreRegistry,
    private readonly codecs: PixelCodecs,
  ) {}

  /**
   * An instance or one frame rendered as an image: by the upstream when it renders, else (or
   * when it cannot render this one) by the gateway's codecs. An instance is rendered as its first
   * frame.
   */
  async rendered(request: FastifyRequest, reply: FastifyReply, params: WadoParams): Promise<void> {
    const ref = instanceRef(params);
    const frame = params.frames !== undefined ? oneFrame(params.frames, 'a rendered frame is one frame') : undefined;
    const render = renderRequestOf(request);
    const { store } = storeTarget(request, this.stores, this.config);
    const what = `rendered ${frame !== undefined ? `frame ${frame} of ` : ''}instance ${ref.sopInstanceUid}`;
    if (store.rendered) {
      try {
        return await sendRelayed(reply, await store.rendered(ref, frame, render), true, what);
      } catch (e) {
        // The upstream cannot render this one (Orthanc answers JPEG 2000 with a 500): made here.
        if (!upstreamCannotConvert(e)) throw e;
      }
    }
    const image = await renderHere(this.codecs, store, ref, frame ?? 1, render);
    return sendBuffer(reply, image.contentType, image.body);
  }

  /** A thumbnail of a study, series, instance or frame, made here: the representative
   *  instance's frame rendered to fit 128 x 128 unless the client gives a viewport. */
  async thumbnail(request: FastifyRequest, reply: FastifyReply, scope: RetrieveScope, frame?: string): Promise<void> {
    const render = renderRequestOf(request);
    render.viewport ??= { width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE };
    const number = frame !== undefined ? oneFrame(frame, 'a frame thumbnail is of one frame') : 1;
    const { store } = storeTarget(request, this.stores, this.config);
    const ref = await representativeInstance(store, scope);
    const image = await renderHere(this.codecs, store, ref, number, render);
    return sendBuffer(reply, image.contentType, image.body);
  }
}
