/**
 * A wire-level fake of a slow cloud DICOMweb store that is still indexing: an HTTP proxy in front
 * of a real DICOMweb server (Orthanc in the tests) that
 *  - waits `latencyMs` before forwarding each request, so before the answer's headers;
 *  - keeps a study first stored through it (STOW) invisible for `visibilityDelayMs`: GETs under
 *    the study answer 404 and QIDO results of it are removed, as a store that has accepted an
 *    upload but not yet indexed it;
 *  - counts the requests it gets.
 *
 * Bodies stream both ways. Only STOW answers and, while some study is hidden, QIDO answers are read
 * whole, since they have to be inspected or filtered, and they are small.
 *
 * Visibility is per study, decided once by the first STOW that brings a study the fake has not
 * seen: the study is "new" (hidden) unless the target already holds instances of it that were not
 * stored through this fake. A study that existed before, or whose delay has passed, stays visible
 * and further instances in it are visible at once. Further STOWs into a study that is still hidden
 * push its deadline to now + visibilityDelayMs, so a study never shows up half indexed.
 * A STOW that brings a new study waits for the STOWs still in flight at the target to answer before
 * deciding, so that instances they stored are not mistaken for older ones.
 * Limits: a STOW answer that is not DICOM JSON hides nothing; QIDO limit/offset count the hidden
 * results the target returned; a GET or search that reaches the target while a STOW of the same
 * study is being stored there, before the fake has read that STOW's answer, sees what the target has.
 */
import { Agent, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse, createServer, request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';

export interface IndexingUpstreamOptions {
  target: string; // the real upstream's DICOMweb root, e.g. orthanc.dicomwebUrl
  latencyMs?: number; // added before the answer's headers are sent (default 0)
  visibilityDelayMs?: number; // a study stored through this proxy (STOW POST) stays invisible this long (default 0)
}

export interface IndexingUpstream {
  url: string; // this proxy's DICOMweb root (same path as target's, e.g. http://127.0.0.1:P/dicom-web)
  counts(): { total: number; metadata: number; qido: number; stow: number; retrieve: number }; // since start or reset
  resetCounts(): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

type Counts = ReturnType<IndexingUpstream['counts']>;
type DicomJson = Record<string, { Value?: unknown[] } | undefined>;

const STUDY_INSTANCE_UID = '0020000D';
const SOP_INSTANCE_UID = '00080018';
const REFERENCED_SOP_SEQUENCE = '00081199';
const REFERENCED_SOP_INSTANCE_UID = '00081155';
const RETRIEVE_URL = '00081190';
const SEARCHES = new Set(['studies', 'series', 'instances']);
// Hop-by-hop headers (RFC 9110 7.6.1) and those the outgoing request sets itself (Host: the target's).
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'host']);

export async function startIndexingUpstream(options: IndexingUpstreamOptions): Promise<IndexingUpstream> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') throw new Error(`indexing upstream: only http targets, not ${options.target}`);
  const root = target.pathname.replace(/\/+$/, '');
  const delayMs = options.visibilityDelayMs ?? 0;
  let latencyMs = options.latencyMs ?? 0;
  let counts: Counts = zeroCounts();
  const agent = new Agent({ keepAlive: true });

  const visible = new Set<string>();
  const hiddenUntil = new Map<string, number>();
  /** Studies whose visibility is being decided; their GETs and STOWs wait for the decision. */
  const deciding = new Map<string, Promise<void>>();
  /** SOP Instance UIDs stored through this fake, per study: these do not make a study "existing". */
  const storedHere = new Map<string, Set<string>>();
  /** STOWs forwarded whose answers are not yet read: the target may hold instances they do not list yet. */
  const unregistered = new Set<Promise<void>>();

  function isHidden(study: string): boolean {
    const until = hiddenUntil.get(study);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    hiddenUntil.delete(study);
    visible.add(study);
    return false;
  }

  function anyHidden(): boolean {
    for (const study of [...hiddenUntil.keys()]) isHidden(study);
    return hiddenUntil.size > 0;
  }

  async function decided(study: string): Promise<void> {
    for (let pending = deciding.get(study); pending; pending = deciding.get(study)) await pending;
  }

  /** After a STOW stored instances of `study`: hide it if it is new, keep a hidden one hidden longer. */
  async function settle(study: string): Promise<void> {
    await decided(study);
    if (isHidden(study)) {
      hiddenUntil.set(study, Date.now() + delayMs);
      return;
    }
    if (visible.has(study)) return;
    const decision = (async () => {
      const present = await instancesInTarget(study);
      // Taken after the search answered: every STOW that had stored into the study by then has
      // either registered its instances or is in this set, so waiting for it is enough.
      await Promise.all([...unregistered]);
      const mine = storedHere.get(study);
      if (present.some((sop) => !mine?.has(sop))) visible.add(study);
      else hiddenUntil.set(study, Date.now() + delayMs);
    })();
    deciding.set(study, decision);
    try {
      await decision;
    } finally {
      deciding.delete(study);
    }
  }

  /** The SOP Instance UIDs the target holds in the study (not counted: the fake's own request). */
  async function instancesInTarget(study: string): Promise<string[]> {
    try {
      const answer = await exchange(`${root}/studies/${study}/instances?includefield=${SOP_INSTANCE_UID}`);
      if (answer.status !== 200) return [];
      return (JSON.parse(answer.body.toString('utf8')) as DicomJson[]).map((r) => String(r[SOP_INSTANCE_UID]?.Value?.[0] ?? ''));
    } catch {
      return [];
    }
  }

  function exchange(path: string): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: target.hostname, port: target.port, path, agent, headers: { accept: 'application/dicom+json' } }, (res) => {
        readAll(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const pathname = (req.url ?? '/').split('?')[0];
    const below = pathname === root || pathname.startsWith(`${root}/`) ? pathname.slice(root.length) : undefined;
    const segments = below === undefined ? [] : below.split('/').filter(Boolean);
    const reading = method === 'GET' || method === 'HEAD';
    const last = segments[segments.length - 1];
    const isSearch = reading && SEARCHES.has(last);
    const studyInPath = segments[0] === 'studies' ? segments[1] : undefined;

    counts.total++;
    if (method === 'POST') counts.stow++;
    else if (reading && last === 'metadata') counts.metadata++;
    else if (isSearch) counts.qido++;
    else if (reading) counts.retrieve++;

    const latency = latencyMs;
    if (latency > 0) await sleep(latency);
    if (res.destroyed) return;

    if (reading && studyInPath && delayMs > 0) {
      await decided(studyInPath);
      if (isHidden(studyInPath)) {
        req.resume();
        const body = JSON.stringify({ error: 'Study not found', detail: `indexing-upstream fake: study ${studyInPath} is not indexed yet` });
        res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(method === 'HEAD' ? undefined : body);
        return;
      }
    }

    const isStow = method === 'POST' && segments[0] === 'studies' && segments.length <= 2 && delayMs > 0;
    const filterSearch = isSearch && delayMs > 0;
    // The fake reads these answers, so it asks the target for them uncompressed.
    const headers = forwardedHeaders(req.headers, filterSearch || isStow ? ['accept-encoding'] : []);

    let registered: (() => void) | undefined;
    if (isStow) {
      const done = new Promise<void>((resolve) => (registered = resolve));
      unregistered.add(done);
      done.then(() => unregistered.delete(done));
    }
    const upstreamReq = httpRequest({ host: target.hostname, port: target.port, method, path: req.url, headers, agent });
    const fail = (err: Error) => {
      registered?.();
      if (!res.headersSent) {
        const body = JSON.stringify({ error: 'Bad Gateway', detail: `indexing-upstream fake: ${err.message}` });
        res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.destroy(err);
      }
    };
    upstreamReq.on('error', fail);
    // The client going away ends the exchange with the target too.
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    pipeline(req, upstreamReq, (err) => {
      if (err) upstreamReq.destroy(err);
    });

    upstreamReq.on('response', (upstreamRes) => {
      const status = upstreamRes.statusCode ?? 502;
      const outHeaders = forwardedHeaders(upstreamRes.headers);
      if (isStow) {
        readAll(upstreamRes)
          .then(async (body) => {
            const stored = storedStudies(body, upstreamRes.headers['content-type'], studyInPath);
            for (const [study, sops] of stored) {
              const known = storedHere.get(study) ?? new Set<string>();
              for (const sop of sops) known.add(sop);
              storedHere.set(study, known);
            }
            registered?.();
            for (const study of stored.keys()) await settle(study);
            res.writeHead(status, upstreamRes.statusMessage, outHeaders);
            res.end(body);
          })
          .catch(fail);
        return;
      }
      // Read whole only while something is (or may become) hidden; otherwise it streams.
      const mayHide = deciding.size > 0 || anyHidden();
      if (filterSearch && mayHide && status === 200 && isJson(upstreamRes.headers['content-type']) && !upstreamRes.headers['content-encoding']) {
        readAll(upstreamRes)
          .then(async (body) => {
            await Promise.all([...deciding.values()]);
            const out = anyHidden() ? withoutHidden(body, isHidden) : body;
            res.writeHead(status, upstreamRes.statusMessage, { ...outHeaders, 'content-length': out.length });
            res.end(out);
          })
          .catch(fail);
        return;
      }
      if (method === 'DELETE' && studyInPath && status < 300) {
        // A deleted study starts over: its next STOW is decided afresh.
        for (const states of [visible, hiddenUntil, storedHere]) states.delete(studyInPath);
      }
      res.writeHead(status, upstreamRes.statusMessage, outHeaders);
      pipeline(upstreamRes, res, () => undefined);
    });
  }

  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    handle(req, res).catch((err: Error) => res.destroy(err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${root}`,
    counts: () => ({ ...counts }),
    resetCounts: () => {
      counts = zeroCounts();
    },
    setLatency: (ms: number) => {
      latencyMs = ms;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      agent.destroy();
    },
  };
}

function zeroCounts(): Counts {
  return { total: 0, metadata: 0, qido: 0, stow: 0, retrieve: 0 };
}

function forwardedHeaders(headers: IncomingHttpHeaders, drop: string[] = []): OutgoingHttpHeaders {
  // Headers named in Connection are hop-by-hop too.
  const listed = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name) && !listed.includes(name) && !drop.includes(name)) out[name] = value;
  }
  return out;
}

/** Study UID -> SOP Instance UIDs the STOW answer lists as stored (Referenced SOP Sequence). */
function storedStudies(body: Buffer, contentType: string | undefined, studyInUrl: string | undefined): Map<string, Set<string>> {
  const stored = new Map<string, Set<string>>();
  if (!isJson(contentType)) return stored;
  let answer: DicomJson;
  try {
    answer = JSON.parse(body.toString('utf8')) as DicomJson;
  } catch {
    return stored;
  }
  const topStudy = studyOfUrl(answer[RETRIEVE_URL]?.Value?.[0]) ?? studyInUrl;
  for (const item of (answer[REFERENCED_SOP_SEQUENCE]?.Value ?? []) as DicomJson[]) {
    const study = studyOfUrl(item[RETRIEVE_URL]?.Value?.[0]) ?? topStudy;
    if (!study) continue;
    const sops = stored.get(study) ?? new Set<string>();
    const sop = item[REFERENCED_SOP_INSTANCE_UID]?.Value?.[0];
    if (typeof sop === 'string') sops.add(sop);
    stored.set(study, sops);
  }
  return stored;
}

function studyOfUrl(url: unknown): string | undefined {
  return typeof url === 'string' ? /\/studies\/([^/?#]+)/.exec(url)?.[1] : undefined;
}

function withoutHidden(body: Buffer, isHidden: (study: string) => boolean): Buffer {
  let results: unknown;
  try {
    results = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (!Array.isArray(results)) return body;
  const kept = (results as DicomJson[]).filter((r) => {
    const study = r?.[STUDY_INSTANCE_UID]?.Value?.[0];
    return typeof study !== 'string' || !isHidden(study);
  });
  return kept.length === results.length ? body : Buffer.from(JSON.stringify(kept));
}

function isJson(contentType: string | undefined): boolean {
  return /^application\/(dicom\+)?json\b/i.test(contentType ?? '');
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
