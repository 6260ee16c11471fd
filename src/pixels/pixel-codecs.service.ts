/**
 * The gateway's one way to convert and render pixels: a pool of codec workers (codec-pool.ts)
 * behind a bounded cache of converted frames (decoded-frame-cache.ts), with metrics. Every store
 * kind's frames come through here, so each gets the same conversions.
 */
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { PixelGeometry } from '../dicom/pixel-geometry';
import { TS } from '../dicom/transfer-syntax';
import { METRICS } from '../metrics/metrics.module';
import { codecOf } from './codec-catalog';
import { CodecPool } from './codec-pool';
import { DecodedFrameCache } from './decoded-frame-cache';
import { FrameFormat } from './frame-format';
import { RenderJob } from './render/render-job';

export function frameFormatOf(g: PixelGeometry): FrameFormat {
  return {
    rows: g.rows,
    columns: g.columns,
    samplesPerPixel: g.samplesPerPixel,
    bitsAllocated: g.bitsAllocated,
    bitsStored: g.bitsStored ?? g.bitsAllocated,
    pixelRepresentation: g.pixelRepresentation ?? 0,
    planarConfiguration: g.planarConfiguration,
    photometricInterpretation: g.photometricInterpretation ?? (g.samplesPerPixel === 1 ? 'MONOCHROME2' : 'RGB'),
  };
}

/** Where a frame comes from, for the cache: the store, the instance, the frame number. */
export interface FrameIdentity {
  store: string;
  sopInstanceUid: string;
  frame: number;
}

@Injectable()
export class PixelCodecs implements OnModuleDestroy {
  readonly pool: CodecPool;
  private readonly cache: DecodedFrameCache;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(METRICS) registry: Registry) {
    const jobs = new Counter({
      name: 'dicomweb_gateway_codec_jobs_total',
      help: 'Codec worker jobs, by operation (decode, encode, render) and outcome (ok, corrupt, failed)',
      labelNames: ['op', 'outcome'],
      registers: [registry],
    });
    const seconds = new Histogram({
      name: 'dicomweb_gateway_codec_job_seconds',
      help: 'Time a codec worker spent on one job, by operation',
      labelNames: ['op'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
    this.pool = new CodecPool({
      size: config.pixels.workers,
      observe: (op, outcome, s) => {
        jobs.inc({ op, outcome });
        seconds.observe({ op }, s);
      },
    });
    this.cache = new DecodedFrameCache(config.pixels.frameCacheBytes);
    const cache = this.cache;
    const pool = this.pool;
    new Counter({
      name: 'dicomweb_gateway_frame_cache_requests_total',
      help: 'Converted frames asked of the cache, by result (hit, miss)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, cache.hits);
        this.inc({ result: 'miss' }, cache.misses);
      },
    });
    new Gauge({
      name: 'dicomweb_gateway_frame_cache_bytes',
      help: 'Bytes of converted frames held in the cache',
      registers: [registry],
      collect() {
        this.set(cache.size);
      },
    });
    new Gauge({
      name: 'dicomweb_gateway_codec_queue_jobs',
      help: 'Codec jobs waiting for a worker',
      registers: [registry],
      collect() {
        this.set(pool.waiting);
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.close();
  }

  /**
   * A frame in the target syntax: `bytes` are native little endian pixels when `from` is a
   * native syntax, else a codestream of `from`. Cached by identity and target.
   */
  convert(identity: FrameIdentity | undefined, from: string, target: string, bytes: Buffer, format: FrameFormat): Promise<Buffer> {
    const work = () => this.convertUncached(from, target, bytes, format);
    if (!identity) return work();
    return this.cache.get(`${identity.store}\u0000${identity.sopInstanceUid}\u0000${identity.frame}\u0000${target}`, work);
  }

  /** Native pixels of a frame (cached as its Explicit VR Little Endian conversion). */
  native(identity: FrameIdentity | undefined, from: string, bytes: Buffer, format: FrameFormat): Promise<Buffer> {
    if (!codecOf(from)) return Promise.resolve(bytes);
    return this.convert(identity, from, TS.ExplicitVRLittleEndian, bytes, format);
  }

  render(pixels: Buffer, format: FrameFormat, job: RenderJob): Promise<Buffer> {
    return this.pool.run({ op: 'render', render: job, format, bytes: pixels });
  }

  private async convertUncached(from: string, target: string, bytes: Buffer, format: FrameFormat): Promise<Buffer> {
    const source = codecOf(from);
    const native = source ? await this.pool.run({ op: 'decode', codec: source.decoder, format, bytes }) : bytes;
    if (target === TS.ExplicitVRLittleEndian) return native;
    const encoder = codecOf(target)?.encoder;
    if (!encoder) throw new Error(`no encoder for ${target} (negotiation should not have chosen it)`);
    // Decoded pixels of other codecs are interleaved; RLE's keep the stored planar configuration.
    const planar = source && source.decoder !== 'rle' ? 0 : format.planarConfiguration;
    return this.pool.run({ op: 'encode', codec: encoder, format: { ...format, planarConfiguration: planar }, bytes: native });
  }
}
