/**
 * Which destinations an instance received by the edge spool is forwarded to. Decided once, when the
 * instance is stored (one outbox row per destination), so that a later config change does not
 * re-route instances already waiting.
 */
import { EdgeDestinationConfig } from '../config/edge-config';
import { DicomJsonObject } from '../dicom/dicom-json';
import { matchesConditions } from '../dicom/instance-conditions';

/**
 * A destination without routes takes every instance; one with routes takes an instance that
 * matches at least one of them (an empty list therefore takes none; the config loader refuses it).
 * The order of `destinations` is kept.
 */
export function destinationsFor(
  metadata: DicomJsonObject,
  callingClient: string | undefined,
  destinations: readonly EdgeDestinationConfig[],
): EdgeDestinationConfig[] {
  return destinations.filter(
    (destination) => !destination.routes || destination.routes.some((route) => matchesConditions(metadata, route, callingClient)),
  );
}
