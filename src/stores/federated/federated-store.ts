/**
 * A federated store (kind `federated`): one DICOMweb view over other named stores, its members,
 * in an order of preference. Nothing is copied between them.
 * - QIDO fans out to the members (federated-search.ts).
 * - WADO goes to the members that hold the study: known from search results and STOW
 *   (study-locations.ts, in Redis), else found by asking every member for the study at once. An
 *   instance, its frames and bulk data come from the first holder that has it; the metadata and
 *   the retrieve of a study or series held by several members are assembled from all of them, the
 *   preferred member's copy of an instance winning.
 * - STOW goes to the write member, if one is configured.
 * - A client sees only the members it may read (per-store read scopes, auth/principal.ts); with
 *   none of them readable, nothing exists here for it.
 */
import { FederatedStoreConfig } from '../../config/store-config';
import { currentRequestContext } from '../../logging/request-context';
import { BatchItemOutcome, DicomStore, IncomingInstance, StoreCapabilities, StoreHealth, StoreOutcome } from '../dicom-store';
import { QidoQuery, QidoResult } from '../qido-query';
import { storeAll } from '../store-batch';
import { NotFound, StoreError, UpstreamUnavailable } from '../store-errors';
import {
  InstanceList,
  InstanceRef,
  MetadataEntry,
  RelayedAnswer,
  RetrieveScope,
  StoredBulkData,
  StoredFrames,
  StoredInstance,
  TransferSyntaxChoice,
} from '../wado-types';
import { federatedSearch, instanceQuery, MemberFailure, MemberTimeout, withTimeout } from './federated-search';
import { StudyLocations } from './study-locations';

/** A store that cannot take STOW (no write member). */
export class ReadOnlyStore extends StoreError {}

export interface FederatedDependencies {
  members: DicomStore[];
  locations: StudyLocations;
  onMemberFailure(failure: MemberFailure): void;
}

const STUDY_INSTANCE_UID = 0x0020000d;

export class FederatedStore implements DicomStore {
  readonly kind = 'federated';
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  readonly stowConcurrency?: number;
  private readonly members: DicomStore[];
  private readonly writer?: DicomStore;

  constructor(
    private readonly config: FederatedStoreConfig,
    private readonly deps: FederatedDependencies,
  ) {
    this.name = config.name;
    this.members = deps.members;
    this.writer = config.writeMember ? this.members.find((m) => m.name === config.writeMember) : undefined;
    this.capabilities = { stow: this.writer !== undefined, qido: true, wado: true };
    this.stowConcurrency = this.writer?.stowConcurrency;
    if (this.writer?.storeBatch) this.storeBatch = (instances) => this.storeBatchOnWriter(instances);
  }

  /** The members this request's client may read, in order of preference. */
  private readable(): DicomStore[] {
    const mayRead = currentRequestContext()?.mayRead;
    return mayRead ? this.members.filter((m) => mayRead(m.name)) : this.members;
  }

  private requireWriter(): DicomStore {
    if (!this.writer) throw new ReadOnlyStore(`store "${this.name}" is a federated view without a write member; store into one of its members (${this.members.map((m) => m.name).join(', ')})`);
    return this.writer;
  }

  async store(instance: IncomingInstance): Promise<StoreOutcome> {
    const writer = this.requireWriter();
    const outcome = await writer.store(instance);
    await this.deps.locations.add(instance.identity.studyInstanceUid, [writer.name]);
    return outcome;
  }

  storeBatch?: (instances: IncomingInstance[]) => Promise<BatchItemOutcome[]>;

  private async storeBatchOnWriter(instances: IncomingInstance[]): Promise<BatchItemOutcome[]> {
    const writer = this.requireWriter();
    const outcomes = await storeAll(writer, instances);
    const studies = new Set(instances.filter((_, i) => outcomes[i].ok).map((i) => i.identity.studyInstanceUid));
    await Promise.all([...studies].map((s) => this.deps.locations.add(s, [writer.name])));
    return outcomes;
  }

  search(query: QidoQuery): Promise<QidoResult> {
    return federatedSearch(this.readable(), query, {
      storeName: this.name,
      timeoutMs: this.config.memberTimeoutMs,
      maxMatchesPerMember: this.config.maxMatchesPerMember,
      onFailure: (f) => this.deps.onMemberFailure(f),
      onLocations: (locations) => {
        for (const [study, members] of locations) void this.deps.locations.add(study, members);
      },
    });
  }

  /**
   * The readable members holding the study, in order of preference: the remembered ones, else
   * every readable member asked at once (within the member timeout). NotFound when none has it.
   */
  private async holders(study: string): Promise<DicomStore[]> {
    const readable = this.readable();
    const known = new Set(await this.deps.locations.get(study));
    const remembered = readable.filter((m) => known.has(m.name));
    if (remembered.length > 0) return remembered;
    const query: QidoQuery = {
      level: 'study',
      conditions: [{ attribute: { tag: STUDY_INSTANCE_UID }, vr: 'UI', level: 'study', anyOf: [{ kind: 'single', value: study }] }],
      returnTags: [],
      includeAll: false,
      fuzzy: false,
      limit: 1,
      offset: 0,
    };
    const silent: string[] = [];
    const found = await Promise.all(
      readable.map((m) =>
        withTimeout(m.search(query), this.config.memberTimeoutMs, `store "${m.name}"`).then(
          (r) => r.matches.length > 0,
          (e: unknown) => {
            const timeout = e instanceof MemberTimeout;
            this.deps.onMemberFailure({ member: m.name, reason: timeout ? 'timeout' : 'error', detail: e instanceof Error ? e.message : String(e) });
            silent.push(m.name);
            return false;
          },
        ),
      ),
    );
    const holders = readable.filter((_, i) => found[i]);
    if (holders.length === 0 && silent.length > 0) {
      // It may be in a member that did not answer: not a 404, which a client would believe.
      throw new UpstreamUnavailable(`Study ${study} is in none of the members of "${this.name}" that answered; ${silent.map((n) => `"${n}"`).join(', ')} did not`, 5);
    }
    if (holders.length === 0) throw new NotFound(`Study ${study} is not stored in any member of "${this.name}" readable here`);
    await this.deps.locations.add(study, holders.map((m) => m.name));
    return holders;
  }

  /**
   * `fn` on the first holder that has the object: NotFound moves on to the next (the member is
   * not forgotten for the study: in a split study it holds other series); another failure too,
   * but it is what the client gets when no holder answers.
   */
  private async routed<T>(study: string, fn: (member: DicomStore) => Promise<T>): Promise<T> {
    let firstFailure: unknown;
    for (const member of await this.holders(study)) {
      try {
        return await fn(member);
      } catch (e) {
        if (!(e instanceof NotFound)) firstFailure ??= e;
      }
    }
    throw firstFailure ?? new NotFound(`the object asked for is not in any member of "${this.name}" holding study ${study}`);
  }

  async metadata(scope: RetrieveScope): Promise<AsyncIterable<MetadataEntry>> {
    if (scope.level === 'instance') return this.routed(scope.studyInstanceUid, (m) => m.metadata(scope));
    const holders = await this.holders(scope.studyInstanceUid);
    if (holders.length === 1) return holders[0].metadata(scope);
    // Every holder's instances, the preferred copy of each; a holder without this series is skipped.
    const answers = await Promise.all(holders.map((m) => m.metadata(scope).catch((e: unknown) => (e instanceof NotFound ? undefined : Promise.reject(e)))));
    if (answers.every((a) => a === undefined)) throw new NotFound(`the ${scope.level} is not in any member of "${this.name}"`);
    return (async function* () {
      const seen = new Set<string>();
      for (const answer of answers) {
        if (!answer) continue;
        for await (const entry of answer) {
          if (seen.has(entry.ref.sopInstanceUid)) continue;
          seen.add(entry.ref.sopInstanceUid);
          yield entry;
        }
      }
    })();
  }

  async retrieve(scope: RetrieveScope, want: TransferSyntaxChoice): Promise<StoredInstance[] | RelayedAnswer | InstanceList> {
    if (scope.level === 'instance') return this.routed(scope.studyInstanceUid, (m) => m.retrieve(scope, want));
    const holders = await this.holders(scope.studyInstanceUid);
    if (holders.length === 1) return holders[0].retrieve(scope, want);
    // Held by several: the union of their instances, each retrieved from the first holder that
    // has it (dicomweb/wado composes them into one answer).
    const seen = new Set<string>();
    const instances: InstanceRef[] = [];
    for (const member of holders) {
      const result = await member
        .search(instanceQuery(scope.studyInstanceUid, scope.level === 'series' ? scope.seriesInstanceUid : undefined, this.config.maxMatchesPerMember))
        .catch((e: unknown) => (e instanceof NotFound ? undefined : Promise.reject(e)));
      for (const m of result?.matches ?? []) {
        const sop = m.instance?.['00080018']?.Value?.[0];
        const series = m.series?.['0020000E']?.Value?.[0] ?? m.instance?.['0020000E']?.Value?.[0];
        if (typeof sop !== 'string' || typeof series !== 'string' || seen.has(sop)) continue;
        seen.add(sop);
        instances.push({ studyInstanceUid: scope.studyInstanceUid, seriesInstanceUid: series, sopInstanceUid: sop });
      }
    }
    if (instances.length === 0) throw new NotFound(`the ${scope.level} is not in any member of "${this.name}"`);
    return { kind: 'instance-list', instances };
  }

  frames(ref: InstanceRef, want: TransferSyntaxChoice, numbers: number[]): Promise<StoredFrames | RelayedAnswer> {
    return this.routed(ref.studyInstanceUid, (m) => m.frames(ref, want, numbers));
  }

  bulkdata(ref: InstanceRef, tagPath: string, want: TransferSyntaxChoice): Promise<StoredBulkData | RelayedAnswer> {
    return this.routed(ref.studyInstanceUid, (m) => m.bulkdata(ref, tagPath, want));
  }

  health(): StoreHealth {
    const unhealthy = this.members.filter((m) => m.health().status === 'unhealthy').map((m) => m.name);
    if (unhealthy.length === this.members.length) return { status: 'unhealthy', detail: `every member is unhealthy (${unhealthy.join(', ')})`, checkedAt: new Date().toISOString() };
    return {
      status: 'healthy',
      detail: unhealthy.length > 0 ? `searches leave out unhealthy members: ${unhealthy.join(', ')}` : `members: ${this.members.map((m) => m.name).join(', ')}`,
      checkedAt: new Date().toISOString(),
    };
  }

  async close(): Promise<void> {
    // The members are closed by the registry, which owns them.
    await this.deps.locations.close();
  }
}
