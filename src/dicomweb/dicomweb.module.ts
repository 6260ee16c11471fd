import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { IngestModule } from '../ingest/ingest.module';
import { StoresModule } from '../stores/stores.module';
import { DicomwebExceptionFilter } from './errors';
import { StowController } from './stow/stow.controller';
import { StowService } from './stow/stow.service';

/** The PS3.18 HTTP surface. */
@Module({
  imports: [StoresModule, IngestModule],
  controllers: [StowController],
  providers: [StowService, { provide: APP_FILTER, useClass: DicomwebExceptionFilter }],
})
export class DicomwebModule {}
