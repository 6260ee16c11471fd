/**
 * The lifecycle of each study of each store (DESIGN.md 6), in events.sqlite: `received` from its
 * first instance, `stable` once no instance arrived for the quiet period (or at once when a sender
 * says it is complete), reopened by a late instance and then `updated` when stable again. What the
 * events carry is kept here as the instances arrive: series, modalities, SOP classes, body parts,
 * stations, the highest priority, counts, and one instance's DICOM JSON for attribute filters
 * (it never leaves the gateway).
 */
import { DicomJsonObject } from '../dicom/dicom-json';
import { EventsDatabase, Migration } from './events-database';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'study lifecycle per store, and the log of the events emitted',
    sql: `
      CREATE TABLE study_lifecycle (
        store            TEXT NOT NULL,
        study            TEXT NOT NULL,
        state            TEXT NOT NULL,      -- received | stable
        was_stable       INTEGER NOT NULL DEFAULT 0, -- stable before: the next stability is 'updated'
        first_at         INTEGER NOT NULL,
        last_instance_at INTEGER NOT NULL,
        stable_at        INTEGER,
        instances        INTEGER NOT NULL DEFAULT 0,
        facts            TEXT NOT NULL,      -- JSON: series, modalities, sopClasses, bodyParts, stations
        priority         INTEGER NOT NULL,   -- 0 STAT ... 3 LOW
        sample           TEXT,               -- one instance's DICOM JSON (attribute filters)
        PRIMARY KEY (store, study)
      ) WITHOUT ROWID;
      CREATE INDEX study_lifecycle_quiet ON study_lifecycle(state, last_instance_at);
      CREATE TABLE study_events (
        id     TEXT PRIMARY KEY,
        store  TEXT NOT NULL,
        study  TEXT NOT NULL,
        type   TEXT NOT NULL,
        time   INTEGER NOT NULL,
        event  TEXT NOT NULL                 -- the StudyEvent as delivered
      );
      CREATE INDEX study_events_study ON study_events(store, study, time);
    `,
  },
];

export interface StudyFactsRow {
  store: string;
  study: string;
  state: 'received' | 'stable';
  was_stable: number;
  instances: number;
  facts: string;
  priority: number;
  sample: string | null;
}

export interface Facts {
  series: string[];
  modalities: string[];
  sopClasses: string[];
  bodyParts: string[];
  stations: string[];
}

export interface InstanceFacts {
  series: string;
  modality?: string;
  sopClass: string;
  bodyPart?: string;
  station?: string;
  priority: number;
  metadata: DicomJsonObject;
}

export class StudyLifecycle {
  constructor(private readonly events: EventsDatabase) {
    events.migrate('lifecycle', MIGRATIONS);
  }

  get db() {
    return this.events.db;
  }

  /**
   * Records an instance; returns whether it reopened a stable study. `countOnly`: a result
   * written back by an AI service counts but does not reopen the study (it would trigger the
   * service again).
   */
  noteInstance(store: string, study: string, instance: InstanceFacts, countOnly: boolean, now = Date.now()): { reopened: boolean } {
    return this.db.transaction(() => {
      const row = this.get(store, study);
      const facts: Facts = row ? (JSON.parse(row.facts) as Facts) : { series: [], modalities: [], sopClasses: [], bodyParts: [], stations: [] };
      add(facts.series, instance.series);
      add(facts.modalities, instance.modality);
      add(facts.sopClasses, instance.sopClass);
      add(facts.bodyParts, instance.bodyPart);
      add(facts.stations, instance.station);
      if (!row) {
        this.db
          .prepare(`INSERT INTO study_lifecycle (store, study, state, first_at, last_instance_at, instances, facts, priority, sample)
                    VALUES (?, ?, 'received', ?, ?, 1, ?, ?, ?)`)
          .run(store, study, now, now, JSON.stringify(facts), instance.priority, JSON.stringify(instance.metadata));
        return { reopened: false };
      }
      const reopen = row.state === 'stable' && !countOnly;
      this.db
        .prepare(`UPDATE study_lifecycle SET instances = instances + 1, facts = ?, priority = min(priority, ?),
                    last_instance_at = CASE WHEN ? THEN last_instance_at ELSE ? END,
                    state = CASE WHEN ? THEN 'received' ELSE state END,
                    was_stable = CASE WHEN ? THEN 1 ELSE was_stable END
                  WHERE store = ? AND study = ?`)
        .run(JSON.stringify(facts), instance.priority, countOnly ? 1 : 0, now, reopen ? 1 : 0, reopen ? 1 : 0, store, study);
      return { reopened: reopen };
    })();
  }

  get(store: string, study: string): StudyFactsRow | undefined {
    return this.db.prepare('SELECT * FROM study_lifecycle WHERE store = ? AND study = ?').get(store, study) as StudyFactsRow | undefined;
  }

  /** Studies with no instance for `quietMs`, marked stable now; each with whether it was stable before. */
  settle(quietMs: number, now = Date.now()): StudyFactsRow[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare("SELECT * FROM study_lifecycle WHERE state = 'received' AND last_instance_at <= ? ORDER BY last_instance_at LIMIT 1000")
        .all(now - quietMs) as StudyFactsRow[];
      const mark = this.db.prepare("UPDATE study_lifecycle SET state = 'stable', stable_at = ? WHERE store = ? AND study = ?");
      for (const r of rows) mark.run(now, r.store, r.study);
      return rows;
    })();
  }

  /** A sender says the study is complete: stable now, if it was still receiving. */
  complete(store: string, study: string, now = Date.now()): StudyFactsRow | 'already-stable' | undefined {
    return this.db.transaction(() => {
      const row = this.get(store, study);
      if (!row) return undefined;
      if (row.state === 'stable') return 'already-stable' as const;
      this.db.prepare("UPDATE study_lifecycle SET state = 'stable', stable_at = ? WHERE store = ? AND study = ?").run(now, store, study);
      return row;
    })();
  }

  logEvent(id: string, store: string, study: string, type: string, time: number, event: unknown): void {
    this.db.prepare('INSERT INTO study_events (id, store, study, type, time, event) VALUES (?, ?, ?, ?, ?, ?)').run(id, store, study, type, time, JSON.stringify(event));
  }

  eventsOf(store: string, study: string): { id: string; type: string; time: number }[] {
    return this.db.prepare('SELECT id, type, time FROM study_events WHERE store = ? AND study = ? ORDER BY time, rowid').all(store, study) as { id: string; type: string; time: number }[];
  }
}

function add(list: string[], value: string | undefined): void {
  if (value && !list.includes(value)) list.push(value);
}
