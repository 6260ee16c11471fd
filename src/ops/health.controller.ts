import { Controller, Get, Inject } from '@nestjs/common';
import { DEFAULT_STORE } from '../stores/store-tokens';
import { DicomStore } from '../stores/dicom-store';
import { LocalStore } from '../stores/local/local-store';

/** Liveness and readiness. Readiness checks that the default store's index answers. */
@Controller('health')
export class HealthController {
  constructor(@Inject(DEFAULT_STORE) private readonly store: DicomStore) {}

  @Get('live')
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(): { status: string; stores: Record<string, string> } {
    let state = 'ok';
    if (this.store instanceof LocalStore) {
      this.store.index.db.prepare('SELECT 1').get(); // throws (-> 500) when the index is unusable
    } else state = 'unknown';
    return { status: 'ok', stores: { [this.store.name]: state } };
  }
}
