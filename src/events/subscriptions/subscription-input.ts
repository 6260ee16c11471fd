/**
 * The JSON bodies of /api/subscriptions, checked field by field: every problem found is reported
 * in one 400 (BadRequest), unknown keys included (a typo such as "filter" must not create a
 * subscription that receives everything).
 */
import { BadRequest } from '../../dicomweb/errors';
import { STUDY_EVENT_TYPES, StudyEventType } from '../study-event';
import { parseWebhookUrl } from './ssrf-guard';
import { collectFilters, SubscriptionFilters } from './subscription-filters';

export const MAX_DESCRIPTION_LENGTH = 500;
export const DEFAULT_OVERLAP_SECONDS = 3600;
export const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;

export const SUBSCRIPTION_ID_PATTERN = /^sub_[A-Za-z0-9_-]{22}$/;

export interface CreateSubscriptionInput {
  url: string;
  events: StudyEventType[];
  filters?: SubscriptionFilters;
  description?: string;
}

export interface SubscriptionPatch {
  url?: string;
  events?: StudyEventType[];
  filters?: SubscriptionFilters;
  /** null removes it. */
  description?: string | null;
  status?: 'active' | 'paused';
}

export interface UpdateRequest {
  patch: SubscriptionPatch;
  /** Set when the client asked for a new secret. */
  rotate?: { overlapSeconds: number };
}

const CREATE_KEYS = ['url', 'events', 'filters', 'description'];
const UPDATE_KEYS = ['url', 'events', 'filters', 'description', 'status', 'rotateSecret', 'overlapSeconds'];

export function checkSubscriptionId(id: string): void {
  if (!SUBSCRIPTION_ID_PATTERN.test(id)) throw new BadRequest(`"${id.slice(0, 80)}" is not a subscription id (sub_ followed by 22 URL-safe characters)`);
}

export function parseCreateBody(body: unknown): CreateSubscriptionInput {
  const fields = objectBody(body);
  const problems = unknownKeys(fields, CREATE_KEYS);
  if (fields.url === undefined) problems.push('url: required');
  else collectUrl(fields.url, problems);
  if (fields.events === undefined) problems.push(`events: required (any of ${STUDY_EVENT_TYPES.join(', ')})`);
  const events = fields.events === undefined ? [] : collectEvents(fields.events, problems);
  const filters = fields.filters === undefined ? undefined : collectFilters(fields.filters, 'filters', problems);
  const description = fields.description === undefined ? undefined : collectDescription(fields.description, problems, false);
  if (problems.length > 0) throw new BadRequest(problems.join('; '));
  return { url: fields.url as string, events, filters, description: description ?? undefined };
}

export function parseUpdateBody(body: unknown): UpdateRequest {
  const fields = objectBody(body);
  const problems = unknownKeys(fields, UPDATE_KEYS);
  const patch: SubscriptionPatch = {};
  if (fields.url !== undefined && collectUrl(fields.url, problems)) patch.url = fields.url as string;
  if (fields.events !== undefined) patch.events = collectEvents(fields.events, problems);
  if (fields.filters !== undefined) patch.filters = collectFilters(fields.filters, 'filters', problems);
  if (fields.description !== undefined) patch.description = collectDescription(fields.description, problems, true);
  if (fields.status !== undefined) {
    if (fields.status === 'active' || fields.status === 'paused') patch.status = fields.status;
    else problems.push('status: expected "active" or "paused"');
  }
  let rotate: UpdateRequest['rotate'];
  if (fields.rotateSecret !== undefined && fields.rotateSecret !== true && fields.rotateSecret !== false) problems.push('rotateSecret: expected true or false');
  if (fields.overlapSeconds !== undefined && fields.rotateSecret !== true) problems.push('overlapSeconds: only with rotateSecret: true');
  if (fields.rotateSecret === true) {
    const overlap = fields.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
    if (!isOverlap(overlap)) problems.push(`overlapSeconds: expected an integer from 0 to ${MAX_OVERLAP_SECONDS} (7 days)`);
    else rotate = { overlapSeconds: overlap };
  }
  if (problems.length === 0 && Object.keys(patch).length === 0 && !rotate) {
    problems.push(`nothing to change: give any of ${UPDATE_KEYS.filter((k) => k !== 'overlapSeconds').join(', ')}`);
  }
  if (problems.length > 0) throw new BadRequest(problems.join('; '));
  return { patch, rotate };
}

export function isOverlap(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_OVERLAP_SECONDS;
}

/** Known event types, duplicates removed, in the order given. Throws BadRequest. */
export function parseEvents(value: unknown): StudyEventType[] {
  const problems: string[] = [];
  const events = collectEvents(value, problems);
  if (problems.length > 0) throw new BadRequest(problems.join('; '));
  return events;
}

export function parseDescription(value: unknown): string | undefined {
  const problems: string[] = [];
  const description = collectDescription(value, problems, false);
  if (problems.length > 0) throw new BadRequest(problems.join('; '));
  return description ?? undefined;
}

function collectEvents(value: unknown, problems: string[]): StudyEventType[] {
  const expected = `expected a non-empty array of ${STUDY_EVENT_TYPES.map((t) => `"${t}"`).join(', ')}`;
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`events: ${expected}`);
    return [];
  }
  const out: StudyEventType[] = [];
  for (const v of value) {
    if (typeof v !== 'string' || !(STUDY_EVENT_TYPES as readonly string[]).includes(v)) {
      problems.push(`events: unknown event type ${JSON.stringify(v)?.slice(0, 60)}; ${expected}`);
      continue;
    }
    if (!out.includes(v as StudyEventType)) out.push(v as StudyEventType);
  }
  return out;
}

function collectUrl(value: unknown, problems: string[]): boolean {
  try {
    parseWebhookUrl(value);
    return true;
  } catch (e) {
    problems.push((e as Error).message);
    return false;
  }
}

function collectDescription(value: unknown, problems: string[], nullable: boolean): string | null | undefined {
  if (value === null && nullable) return null;
  if (typeof value !== 'string' || value.length > MAX_DESCRIPTION_LENGTH) {
    problems.push(`description: expected a string of at most ${MAX_DESCRIPTION_LENGTH} characters${nullable ? ' (null removes it)' : ''}`);
    return undefined;
  }
  return value;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('expected a JSON object body (Content-Type: application/json)');
  }
  return body as Record<string, unknown>;
}

function unknownKeys(fields: Record<string, unknown>, known: string[]): string[] {
  return Object.keys(fields)
    .filter((k) => !known.includes(k))
    .map((k) => `unknown field "${k.slice(0, 50)}"; expected any of ${known.join(', ')}`);
}
