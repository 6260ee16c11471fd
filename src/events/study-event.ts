/**
 * A study lifecycle event (DESIGN.md 6), as delivered to subscribers: identifiers, counts and
 * coded facts only, never a patient name or any other PHI beyond the UIDs.
 */
import { DicomJsonObject } from '../dicom/dicom-json';

export const STUDY_EVENT_TYPES = ['stable', 'updated', 'forwarded', 'results-received'] as const;
export type StudyEventType = (typeof STUDY_EVENT_TYPES)[number];

export interface StudyEvent {
  /** Unique; the subscriber's idempotency key (webhook-id). */
  id: string;
  type: StudyEventType;
  /** ISO 8601. */
  time: string;
  /** The store holding the study. */
  store: string;
  studyInstanceUid: string;
  seriesInstanceUids: string[];
  modalities: string[];
  sopClassUids: string[];
  bodyParts: string[];
  stations: string[];
  /** STAT, HIGH, ROUTINE or LOW. */
  priority: string;
  series: number;
  instances: number;
}

/**
 * What a subscription's filters are matched against: the event, and the DICOM JSON of one of the
 * study's instances for filters on any attribute. The sample never leaves the gateway.
 */
export interface StudyFacts {
  event: StudyEvent;
  sample?: DicomJsonObject;
}
