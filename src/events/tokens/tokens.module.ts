import { Module } from '@nestjs/common';
import { EventsDatabaseModule } from '../events-database.module';
import { StudyTokenService } from './study-token.service';

/**
 * Study-scoped tokens (study-token.service.ts). Their enforcement, StudyTokenGuard
 * (study-token.guard.ts), is registered by the DICOMweb module, the only routes it concerns.
 */
@Module({
  imports: [EventsDatabaseModule],
  providers: [StudyTokenService],
  exports: [StudyTokenService],
})
export class TokensModule {}
