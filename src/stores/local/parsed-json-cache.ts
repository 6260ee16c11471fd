/**
 * Parsed study_json / series_json by row pk. Parsing them is most of a search's cost once the
 * index has found the rows, and the same studies are asked for again and again (a worklist
 * refreshing, a viewer paging). The JSON of a row never changes after the row is written (later
 * instances only change its counters); created_at tells a row from a later one that took a
 * deleted row's pk.
 *
 * Eviction is CLOCK (second chance): a hit only sets a flag, so the many lookups of a search do
 * not reorder the map; the oldest entry not used since it was last passed over goes first.
 *
 * What is cached is deeply frozen, so it can be handed to every search as it is: nobody can
 * change it, and whoever serializes it may remember the text (qido-response.ts does).
 */
import { DicomJsonObject } from '../../dicom/dicom-json';

export interface CachedLevel {
  createdAt: number;
  /** The row's JSON as stored. */
  stored: DicomJsonObject;
  /** The last answer built from it, and the row state (counters) it was built for. */
  answer?: DicomJsonObject;
  state?: string;
  used: boolean;
}

export class ParsedJsonCache {
  private readonly entries = new Map<number, CachedLevel>();

  constructor(private readonly capacity: number) {}

  get(pk: number): CachedLevel | undefined {
    const entry = this.entries.get(pk);
    if (entry) entry.used = true;
    return entry;
  }

  set(pk: number, createdAt: number, stored: DicomJsonObject): CachedLevel {
    this.entries.delete(pk);
    while (this.entries.size >= this.capacity) {
      const [oldestPk, oldest] = this.entries.entries().next().value!;
      this.entries.delete(oldestPk);
      if (oldest.used) {
        oldest.used = false;
        this.entries.set(oldestPk, oldest);
      }
    }
    const entry: CachedLevel = { createdAt, stored: deepFreeze(stored), used: false };
    this.entries.set(pk, entry);
    return entry;
  }
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
