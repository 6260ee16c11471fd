import { Controller, Get } from '@nestjs/common';
import { StoreRegistry, StoreSummary } from '../stores/registry';

/** The configured stores: name, kind, capabilities and current health (never a setting or secret). */
@Controller('api/stores')
export class StoresController {
  constructor(private readonly stores: StoreRegistry) {}

  @Get()
  list(): StoreSummary[] {
    return this.stores.list();
  }
}
