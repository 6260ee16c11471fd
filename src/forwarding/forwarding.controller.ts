/**
 * The operator's view of edge forwarding: queue state per destination, the forwarding state of
 * each instance of a study, and retrying what was parked. Controllers only delegate.
 */
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { isValidUid } from '../dicom/uid';
import { PRIORITY_LEVELS } from '../dicom/priority';
import { BadRequest } from '../dicomweb/errors';
import { ForwardingService } from './forwarding.service';

@Controller('api')
export class ForwardingController {
  constructor(private readonly forwarding: ForwardingService) {}

  @Get('forwarding')
  status() {
    return this.forwarding.status();
  }

  @Get('studies/:study/status')
  study(@Param('study') study: string) {
    if (!isValidUid(study)) throw new BadRequest(`"${study.slice(0, 80)}" is not a valid Study Instance UID`);
    const { priority, rows } = this.forwarding.studyRows(study);
    const instances = new Map<string, { sopInstanceUid: string; seriesInstanceUid: string; destinations: Record<string, unknown> }>();
    for (const row of rows) {
      const entry = instances.get(row.sop_instance_uid) ?? { sopInstanceUid: row.sop_instance_uid, seriesInstanceUid: row.series_instance_uid, destinations: {} };
      entry.destinations[row.destination] = {
        state: row.state,
        priority: PRIORITY_LEVELS[row.priority],
        attempts: row.attempts,
        reason: row.last_error ?? undefined,
        outcome: row.outcome ?? undefined,
        deliveredAt: row.delivered_at ? new Date(row.delivered_at).toISOString() : undefined,
        nextAttemptAt: row.state === 'pending' && row.next_attempt_at > Date.now() ? new Date(row.next_attempt_at).toISOString() : undefined,
        spoolCopyReleasedAt: row.released_at ? new Date(row.released_at).toISOString() : undefined,
      };
      instances.set(row.sop_instance_uid, entry);
    }
    return { studyInstanceUid: study, priority, instances: [...instances.values()] };
  }

  /** Body or query: { study?, destination? }; neither retries every parked instance. */
  @Post('forwarding/retry')
  @HttpCode(200)
  retry(@Body() body: unknown, @Query('study') qStudy?: string, @Query('destination') qDestination?: string) {
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const study = (fields.study ?? qStudy) as unknown;
    const destination = (fields.destination ?? qDestination) as unknown;
    if (study !== undefined && (typeof study !== 'string' || !isValidUid(study))) throw new BadRequest('study: expected a valid Study Instance UID');
    if (destination !== undefined && typeof destination !== 'string') throw new BadRequest('destination: expected a store name');
    return this.forwarding.retry({ study: study as string | undefined, destination: destination as string | undefined });
  }
}
