import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CacheModule } from '../cache/cache.module';
import { EventsModule } from '../events/events.module';
import { StudyTokenGuard } from '../events/tokens/study-token.guard';
import { TokensModule } from '../events/tokens/tokens.module';
import { IngestModule } from '../ingest/ingest.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PixelsModule } from '../pixels/pixels.module';
import { StoresModule } from '../stores/stores.module';
import { DicomwebExceptionFilter } from './errors';
import { StowController } from './stow/stow.controller';
import { StowService } from './stow/stow.service';
import { QidoController } from './qido/qido.controller';
import { QidoService } from './qido/qido.service';
import { WadoController } from './wado/wado.controller';
import { WadoService } from './wado/wado.service';
import { RenderedService } from './wado/rendered.service';

/** The PS3.18 HTTP surface. */
@Module({
  imports: [StoresModule, IngestModule, CacheModule, EventsModule, TokensModule, MetricsModule, PixelsModule],
  controllers: [StowController, QidoController, WadoController],
  providers: [
    StowService,
    QidoService,
    WadoService,
    RenderedService,
    { provide: APP_FILTER, useClass: DicomwebExceptionFilter },
    // Study tokens (Authorization: Bearer) on the DICOMweb routes only; other routes pass through it.
    { provide: APP_GUARD, useClass: StudyTokenGuard },
  ],
})
export class DicomwebModule {}
