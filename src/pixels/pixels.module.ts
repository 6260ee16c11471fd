import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { PixelCodecs } from './pixel-codecs.service';

/** Transcoding and rendering of pixel data, in a pool of codec workers (pixel-codecs.service.ts). */
@Module({
  imports: [MetricsModule],
  providers: [PixelCodecs],
  exports: [PixelCodecs],
})
export class PixelsModule {}
