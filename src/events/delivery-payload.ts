/**
 * What a subscriber receives for an event: the event itself (identifiers, counts, coded facts, no
 * patient data), the study's DICOMweb URLs on this gateway, and a short-lived token that allows
 * reading that study and storing results into it, nothing else.
 */
import { StudyEvent } from './study-event';

export interface StudyLinks {
  /** The store's DICOMweb root as the subscriber calls it, e.g. https://gw.example/stores/x/dicomweb */
  dicomweb: string;
}

/** The payload as recorded: everything but the access token, which withAccess adds at each send. */
export function deliveryPayload(event: StudyEvent, links: StudyLinks): Record<string, unknown> {
  const study = `${links.dicomweb}/studies/${event.studyInstanceUid}`;
  return {
    id: event.id,
    type: `study.${event.type}`,
    timestamp: event.time,
    data: {
      store: event.store,
      studyInstanceUid: event.studyInstanceUid,
      seriesInstanceUids: event.seriesInstanceUids,
      modalities: event.modalities,
      sopClassUids: event.sopClassUids,
      bodyParts: event.bodyParts,
      stations: event.stations,
      priority: event.priority,
      numberOfSeries: event.series,
      numberOfInstances: event.instances,
      dicomweb: {
        root: links.dicomweb,
        study,
        metadata: `${study}/metadata`,
        // Results (SR, SEG, GSPS, secondary captures) are stored with POST here.
        stow: study,
      },
    },
  };
}

/**
 * The payload with a token minted now for its study: a delivery retried hours later still carries
 * a live token, and no token is ever stored at rest.
 */
export function withAccess(payload: Record<string, unknown>, issue: (store: string, study: string) => { token: string; expiresAt: string }): Record<string, unknown> {
  const data = payload.data as { store?: string; studyInstanceUid?: string } | undefined;
  if (!data?.store || !data.studyInstanceUid) return payload;
  const token = issue(data.store, data.studyInstanceUid);
  return { ...payload, data: { ...data, access: { tokenType: 'Bearer', accessToken: token.token, expiresAt: token.expiresAt, scope: 'study.read study.write' } } };
}
