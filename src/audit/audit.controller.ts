/**
 * GET /api/audit (admin): the audit trail, newest first, filtered by study, time, client, action
 * or store, in pages (`limit` up to 1000, `offset`).
 */
import { Controller, Get, Query } from '@nestjs/common';
import { isValidUid } from '../dicom/uid';
import { BadRequest } from '../dicomweb/errors';
import { AuditLog } from './audit-log';
import { AuditAction, AuditRecord } from './audit-record';

const ACTIONS: AuditAction[] = ['qido.search', 'wado.retrieve', 'wado.metadata', 'wado.frames', 'wado.bulkdata', 'wado.rendered', 'stow.store', 'admin'];

@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  list(@Query() query: Record<string, unknown>): { records: AuditRecord[]; more: boolean } {
    const text = (name: string): string | undefined => {
      const v = query[name];
      if (Array.isArray(v)) throw new BadRequest(`${name} is given more than once`);
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const study = text('study');
    if (study !== undefined && !isValidUid(study)) throw new BadRequest('study: not a valid Study Instance UID');
    const time = (name: string) => {
      const v = text(name);
      if (v === undefined) return undefined;
      const ms = Date.parse(v);
      if (Number.isNaN(ms)) throw new BadRequest(`${name}: not a date and time (ISO 8601)`);
      return new Date(ms).toISOString();
    };
    const count = (name: string, fallback: number, max: number) => {
      const v = text(name);
      if (v === undefined) return fallback;
      if (!/^\d{1,9}$/.test(v) || Number(v) > max) throw new BadRequest(`${name}: an integer from 0 to ${max}`);
      return Number(v);
    };
    const action = text('action');
    if (action !== undefined && !ACTIONS.includes(action as AuditAction)) throw new BadRequest(`action: one of ${ACTIONS.join(', ')}`);
    const limit = count('limit', 100, 1000);
    if (limit === 0) throw new BadRequest('limit: at least 1');
    return this.audit.query({
      study,
      since: time('since'),
      until: time('until'),
      client: text('client'),
      action: action as AuditAction | undefined,
      store: text('store'),
      limit,
      offset: count('offset', 0, 100_000_000),
    });
  }
}
