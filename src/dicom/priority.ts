/**
 * Clinical priority of an instance (edge forwarding sends STAT first, with reserved capacity).
 *
 * Sources, each giving a level; the highest level found wins, ROUTINE when none gives one:
 * - priority attributes of the instance, at the top level and in the items of the sequences in
 *   which modalities copy the order they were scheduled from (PRIORITY_ATTRIBUTES, REQUEST_SEQUENCES);
 * - operator rules (the edge config): an instance matching a rule gets at least its priority;
 * - a client's explicit request (X-Priority), already authorised by the caller.
 *
 * Pure: no I/O, nothing of ours outside dicom/.
 */
import { DicomJsonObject } from './dicom-json';
import { describeConditions, InstanceConditions, matchesConditions } from './instance-conditions';

export type PriorityLevel = 'STAT' | 'HIGH' | 'ROUTINE' | 'LOW';

/** Highest first. */
export const PRIORITY_LEVELS: readonly PriorityLevel[] = ['STAT', 'HIGH', 'ROUTINE', 'LOW'];

/** Same shape as `PriorityRule` in config/edge-config.ts (dicom/ may not import config/). */
export interface PriorityRule {
  when: InstanceConditions;
  priority: PriorityLevel;
}

export interface PriorityOptions {
  rules: readonly PriorityRule[];
  callingClient?: string;
  requested?: PriorityLevel;
}

export interface PriorityResult {
  level: PriorityLevel;
  /** Every source found, in the order looked at (attributes, rules, request), and every value
   *  ignored; [] when nothing said anything (the level is then ROUTINE). */
  reasons: string[];
}

/** STAT = 0 ... LOW = 3: lower is more urgent (sorts STAT first). */
export function priorityRank(level: PriorityLevel): number {
  return PRIORITY_LEVELS.indexOf(level);
}

export function higherPriority(a: PriorityLevel, b: PriorityLevel): PriorityLevel {
  return priorityRank(a) <= priorityRank(b) ? a : b;
}

/**
 * Terms meaning "do it now". Requested Procedure Priority (0040,1003) is SH with Defined Terms
 * (STAT, HIGH, ROUTINE, MEDIUM, LOW; PS3.3 C.4.11 Requested Procedure Module), so a RIS may put
 * there what its HL7 order said. Taken as STAT:
 * - S: "Stat - with highest priority (e.g. emergency)", HL7 ActPriority (v2 Table 0906); S is
 *   also Stat in HL7 v2 Table 0027, the order priority of TQ1-9 / OBR-27.
 * - EM / EMERGENCY: "calls for immediate action", the same ActPriority table.
 * Deliberately NOT STAT, because the same code systems rank them below STAT (they map to HIGH):
 * - ASAP / A: "as soon as possible, next highest priority after stat" (HL7 v3 ActPriority,
 *   HL7 v2 Table 0027; FHIR request-priority orders routine < urgent < asap < stat).
 * - URGENT / UR: "calls for prompt action" (ActPriority), below asap in FHIR request-priority.
 * Putting them in the reserved STAT lanes would let a busy site's ASAP orders take the capacity kept
 * for the stroke CT; as HIGH they still go before every routine instance.
 */
export const STAT_EQUIVALENTS: readonly string[] = ['STAT', 'S', 'EMERGENCY', 'EM'];

/** Terms of requests and orders (Requested Procedure Priority, Reporting Priority, Study Priority ID). */
const ORDER_TERMS: Readonly<Record<string, PriorityLevel>> = {
  ...Object.fromEntries(STAT_EQUIVALENTS.map((t) => [t, 'STAT' as const])),
  HIGH: 'HIGH',
  ASAP: 'HIGH',
  A: 'HIGH',
  URGENT: 'HIGH',
  UR: 'HIGH',
  ROUTINE: 'ROUTINE',
  R: 'ROUTINE', // HL7 ActPriority / v2 Table 0027
  // PS3.3 lists MEDIUM beside ROUTINE without ranking it. MED is the short form of old senders of
  // the retired Study Priority ID (whose PS3.3 text was not at hand when this was written: HIGH,
  // MED, LOW as remembered). Both are normal work.
  MEDIUM: 'ROUTINE',
  MED: 'ROUTINE',
  LOW: 'LOW',
};

/**
 * Work item priorities use a scale of their own, shifted by one against ours. Enumerated Values of
 * Scheduled Procedure Step Priority (0074,1200), PS3.3 C.30.2 (UPS Scheduled Procedure Information
 * Module), and of the retired General Purpose Scheduled Procedure Step Priority (0040,4003):
 * HIGH "an urgent or emergent work item, equivalent to a STAT request"; MEDIUM "less than HIGH and
 * higher than LOW"; LOW "a routine or non-urgent work item". Other terms fall back to ORDER_TERMS.
 */
const WORK_ITEM_TERMS: Readonly<Record<string, PriorityLevel>> = {
  ...ORDER_TERMS,
  HIGH: 'STAT',
  MEDIUM: 'HIGH',
  LOW: 'ROUTINE',
};

interface PriorityAttribute {
  key: string;
  keyword: string;
  terms: Readonly<Record<string, PriorityLevel>>;
}

/**
 * Attributes that carry a priority (PS3.6 keywords). Reporting Priority is about the report, but a
 * report can only be written once the images are where the radiologist reads, which is what the
 * edge forwards for. The DIMSE command Priority (0000,0700) is not here: it is about one C-STORE
 * operation, not the patient, and is not part of the data set anyway.
 */
const PRIORITY_ATTRIBUTES: readonly PriorityAttribute[] = [
  // PS3.3 C.4.11 Requested Procedure Module; also a Modality Worklist return key (PS3.4 Annex K).
  { key: '00401003', keyword: 'RequestedProcedurePriority', terms: ORDER_TERMS },
  // Requested Procedure Module: the requested reporting priority.
  { key: '00401009', keyword: 'ReportingPriority', terms: ORDER_TERMS },
  // Retired (the Study Scheduling Module is gone from PS3.3), but some RIS still send it.
  { key: '0032000C', keyword: 'StudyPriorityID', terms: ORDER_TERMS },
  { key: '00741200', keyword: 'ScheduledProcedureStepPriority', terms: WORK_ITEM_TERMS },
  { key: '00404003', keyword: 'GeneralPurposeScheduledProcedureStepPriority', terms: WORK_ITEM_TERMS },
];

/**
 * Sequences whose items describe the order this instance was made for. The Request Attributes
 * Macro (PS3.3 Table 10-9) does not list a priority, but modalities fill the items from the
 * worklist entry and some copy Requested Procedure Priority along; a Scheduled Procedure Step
 * Sequence (PS3.3 C.4.10) item is where a copied worklist or UPS step keeps its own. Looked at one
 * level deep only: deeper items reference other objects, not this instance's order.
 */
const REQUEST_SEQUENCES: readonly { key: string; name: string }[] = [
  { key: '00400275', name: 'Request Attributes Sequence' },
  { key: '00400100', name: 'Scheduled Procedure Step Sequence' },
];

/**
 * The priority term of a header (X-Priority) or of the config: the four levels and the STAT
 * equivalents, any case, surrounding spaces ignored. Undefined for anything else, so that a typo is
 * refused rather than silently routine.
 */
export function parsePriority(value: string): PriorityLevel | undefined {
  const term = value.trim().toUpperCase();
  if ((PRIORITY_LEVELS as readonly string[]).includes(term)) return term as PriorityLevel;
  return STAT_EQUIVALENTS.includes(term) ? 'STAT' : undefined;
}

export function instancePriority(metadata: DicomJsonObject, options: PriorityOptions): PriorityResult {
  let level: PriorityLevel | undefined;
  const reasons: string[] = [];
  const found = (l: PriorityLevel, reason: string): void => {
    level = level === undefined ? l : higherPriority(level, l);
    reasons.push(reason);
  };

  readAttributes(metadata, '', found, reasons);
  for (const sequence of REQUEST_SEQUENCES) {
    for (const item of items(metadata, sequence.key)) readAttributes(item, ` in ${sequence.name}`, found, reasons);
  }
  options.rules.forEach((rule, index) => {
    if (matchesConditions(metadata, rule.when, options.callingClient)) {
      found(rule.priority, `rule ${index + 1} (${describeConditions(rule.when)}) ${rule.priority}`);
    }
  });
  if (options.requested) found(options.requested, `requested by the client ${options.requested}`);
  return { level: level ?? 'ROUTINE', reasons };
}

function readAttributes(
  dataset: DicomJsonObject,
  where: string,
  found: (level: PriorityLevel, reason: string) => void,
  reasons: string[],
): void {
  for (const attribute of PRIORITY_ATTRIBUTES) {
    const name = `${attribute.keyword} (${attribute.key.slice(0, 4)},${attribute.key.slice(4)})`;
    for (const raw of textValues(dataset, attribute.key)) {
      const term = raw.trim().toUpperCase();
      if (term === '') continue;
      const level = attribute.terms[term];
      if (level === undefined) {
        reasons.push(`${name} "${raw.trim()}"${where} ignored: not a known priority`);
      } else {
        // Say what the term became when it is not the level's own name (MEDIUM, ASAP, a UPS HIGH).
        found(level, `${name} ${term}${term === level ? '' : ` (= ${level})`}${where}`);
      }
    }
  }
}

/** String values only: these attributes are CS/SH; anything else in them is not a priority term. */
function textValues(dataset: DicomJsonObject, key: string): string[] {
  return (dataset[key]?.Value ?? []).filter((v): v is string => typeof v === 'string');
}

function items(dataset: DicomJsonObject, key: string): DicomJsonObject[] {
  return (dataset[key]?.Value ?? []).filter(
    (v): v is DicomJsonObject => typeof v === 'object' && v !== null && !Array.isArray(v),
  );
}
