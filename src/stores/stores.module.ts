import { Module } from '@nestjs/common';
import { StoreRegistry } from './registry';

/** The configured stores, by name (registry.ts). */
@Module({
  providers: [StoreRegistry],
  exports: [StoreRegistry],
})
export class StoresModule {}
