/**
 * A sender that knows a study is complete says so (it becomes stable at once instead of after the
 * quiet period); and the events a study has had, for operators.
 */
import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { isValidUid } from '../dicom/uid';
import { BadRequest } from '../dicomweb/errors';
import { StoreRegistry } from '../stores/registry';
import { NotFound } from '../stores/store-errors';
import { StudyEventsService } from './study-events.service';

@Controller('api/studies')
export class StudyEventsController {
  constructor(
    private readonly events: StudyEventsService,
    private readonly stores: StoreRegistry,
  ) {}

  /** `?store=name`, the default store without it. */
  @Post(':study/complete')
  @HttpCode(202)
  async complete(@Param('study') study: string, @Query('store') store?: string) {
    const name = this.checked(study, store);
    const outcome = await this.events.complete(name, study);
    if (outcome === 'unknown') throw new NotFound(`no instance of study ${study} was stored through this gateway in store "${name}"`);
    return { studyInstanceUid: study, store: name, outcome };
  }

  @Get(':study/events')
  list(@Param('study') study: string, @Query('store') store?: string) {
    const name = this.checked(study, store);
    const row = this.events.lifecycleOf(name, study);
    if (!row) throw new NotFound(`no instance of study ${study} was stored through this gateway in store "${name}"`);
    return { studyInstanceUid: study, store: name, state: row.state, instances: row.instances, events: this.events.eventsOf(name, study) };
  }

  private checked(study: string, store: string | undefined): string {
    if (!isValidUid(study)) throw new BadRequest(`"${study.slice(0, 80)}" is not a valid Study Instance UID`);
    return this.stores.get(store).name; // 404 for an unknown store
  }
}
