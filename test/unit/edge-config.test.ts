import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { ConfigError, GatewayConfig } from '../../src/config/gateway-config';
import { EDGE_DEFAULTS, EdgeConfig } from '../../src/config/edge-config';
import { makeTempDir } from '../helpers/temp-dir';

const STORES = `
defaultStore: edge
stores:
  - { name: edge, kind: local }
  - { name: archive, kind: local }
  - { name: cloud, kind: dicomweb, url: "http://cloud.example/dicom-web" }
`;

function load(yaml: string): GatewayConfig {
  const dir = makeTempDir('edge-cfg');
  try {
    const file = join(dir.path, 'gateway.yaml');
    writeFileSync(file, yaml);
    return loadConfig({ CONFIG_FILE: file, DATA_DIR: '/tmp/gw-data' });
  } finally {
    dir.remove();
  }
}

function edgeOf(edgeYaml: string, stores = STORES): EdgeConfig | undefined {
  return load(stores + edgeYaml).edge;
}

/** The problems of a config whose only faults are in its edge section. */
function problems(edgeYaml: string, stores = STORES): string[] {
  try {
    load(stores + edgeYaml);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

const ONE_DESTINATION = 'edge:\n  destinations:\n    - store: cloud\n';

test('without an edge section the edge is off', () => {
  assert.equal(edgeOf(''), undefined);
  assert.equal(loadConfig({ DATA_DIR: '/tmp/gw-data' }).edge, undefined);
});

test('the full example: every key read, regexes case-insensitive, single strings as lists', () => {
  const edge = edgeOf(`
edge:
  spool: archive
  destinations:
    - store: cloud
      routes:
        - modality: [CT, MR]
          callingClient: [ct-scanner-1]
          station: CT01
          attributes: { StudyDescription: "stroke|code", "00080080": "^General" }
        - { modality: US }
      retention: { mode: keep-days, days: 7 }
      batchSize: 50
      maxAttempts: 3
      backoff: { baseDelayMs: 500, maxDelayMs: 60000 }
      statConcurrency: 4
      routineConcurrency: 1
    - store: edge
      retention: { mode: delete-after-confirmed }
  priorityRules:
    - when: { modality: [CT], attributes: { StudyDescription: "stroke|code" } }
      priority: stat
    - when: { callingClient: er-router }
      priority: High
  priorityHeaderClients: ["*"]
  reconcileIntervalMs: 10000
  retentionIntervalMs: 120000
`);
  assert.deepEqual(edge, {
    spool: 'archive',
    destinations: [
      {
        store: 'cloud',
        routes: [
          {
            modality: ['CT', 'MR'],
            callingClient: ['ct-scanner-1'],
            station: ['CT01'],
            attributes: { StudyDescription: /stroke|code/i, '00080080': /^General/i },
          },
          { modality: ['US'] },
        ],
        retention: { mode: 'keep-days', days: 7 },
        batchSize: 50,
        maxAttempts: 3,
        backoff: { baseDelayMs: 500, maxDelayMs: 60_000 },
        statConcurrency: 4,
        routineConcurrency: 1,
      },
      {
        store: 'edge',
        retention: { mode: 'delete-after-confirmed' },
        batchSize: 20,
        maxAttempts: 10,
        backoff: { baseDelayMs: 1000, maxDelayMs: 300_000 },
        statConcurrency: 2,
        routineConcurrency: 2,
      },
    ],
    priorityRules: [
      { when: { modality: ['CT'], attributes: { StudyDescription: /stroke|code/i } }, priority: 'STAT' },
      { when: { callingClient: ['er-router'] }, priority: 'HIGH' },
    ],
    priorityHeaderClients: ['*'],
    reconcileIntervalMs: 10_000,
    retentionIntervalMs: 120_000,
  });
  // The compiled patterns do what the YAML says.
  assert.equal(edge!.destinations[0].routes![0].attributes!.StudyDescription.test('HEAD STROKE'), true);
  assert.equal('routes' in edge!.destinations[1], false, 'no routes key when none were given');
});

test('defaults: the default store is the spool, retention keep, limits from EDGE_DEFAULTS, no rules, no header clients', () => {
  assert.deepEqual(edgeOf(ONE_DESTINATION), {
    spool: 'edge',
    destinations: [
      {
        store: 'cloud',
        retention: { mode: 'keep' },
        batchSize: EDGE_DEFAULTS.batchSize,
        maxAttempts: EDGE_DEFAULTS.maxAttempts,
        backoff: { baseDelayMs: 1_000, maxDelayMs: 300_000 },
        statConcurrency: 2,
        routineConcurrency: 2,
      },
    ],
    priorityRules: [],
    priorityHeaderClients: [],
    reconcileIntervalMs: 30_000,
    retentionIntervalMs: 60_000,
  });
  // Whichever store is the default one.
  assert.equal(edgeOf(ONE_DESTINATION, STORES.replace('defaultStore: edge', 'defaultStore: archive'))!.spool, 'archive');
});

test('the other retention modes, and a bare mode name', () => {
  const retention = (yaml: string) => edgeOf(`edge:\n  destinations:\n    - store: cloud\n      retention: ${yaml}\n`)!.destinations[0].retention;
  assert.deepEqual(retention('{ mode: disk-watermark, minFreeBytes: 10737418240 }'), { mode: 'disk-watermark', minFreeBytes: 10_737_418_240 });
  assert.deepEqual(retention('{ mode: keep }'), { mode: 'keep' });
  assert.deepEqual(retention('delete-after-confirmed'), { mode: 'delete-after-confirmed' });
  assert.deepEqual(retention('keep'), { mode: 'keep' });
});

test('edge itself: not a mapping, no destinations, an empty list', () => {
  assert.deepEqual(problems('edge:\n'), ['edge: expected a mapping (spool, destinations, priorityRules, ...)']);
  assert.deepEqual(problems('edge: [cloud]\n'), ['edge: expected a mapping (spool, destinations, priorityRules, ...)']);
  assert.deepEqual(problems('edge:\n  spool: edge\n'), ['edge.destinations: required']);
  assert.deepEqual(problems('edge:\n  destinations: []\n'), ['edge.destinations: expected a non-empty list of destinations']);
  assert.deepEqual(problems('edge:\n  destinations: cloud\n'), ['edge.destinations: expected a list']);
});

test('unknown keys at every level are problems', () => {
  assert.deepEqual(
    problems(`edge:
  retenton: keep
  destinations:
    - store: cloud
      batchsize: 3
      backoff: { baseDelay: 5 }
      retention: { mode: keep, days: 3 }
      routes:
        - { modality: CT, aet: X }
  priorityRules:
    - { when: { modality: CT }, priority: STAT, note: x }
`),
    [
      'edge.retenton: unknown key (expected one of spool, destinations, priorityRules, priorityHeaderClients, reconcileIntervalMs, retentionIntervalMs)',
      'edge.destinations[0] (cloud): batchsize: unknown key (expected one of store, routes, retention, batchSize, maxAttempts, backoff, statConcurrency, routineConcurrency)',
      'edge.destinations[0] (cloud): routes[0].aet: unknown key (expected one of modality, callingClient, station, attributes)',
      'edge.destinations[0] (cloud): backoff.baseDelay: unknown key (expected one of baseDelayMs, maxDelayMs)',
      'edge.destinations[0] (cloud): retention.days: unknown key (expected one of mode)',
      'edge.priorityRules[0]: note: unknown key (expected one of when, priority)',
    ],
  );
});

test('the spool: a configured store, and a local one', () => {
  assert.deepEqual(problems('edge:\n  spool: nope\n  destinations:\n    - store: cloud\n'), [
    'edge.spool: "nope" is not the name of a configured store (edge, archive, cloud)',
  ]);
  assert.deepEqual(problems('edge:\n  spool: cloud\n  destinations:\n    - store: archive\n'), [
    'edge.spool: "cloud" is a dicomweb store; the spool must be a local store',
  ]);
  const cloudDefault = STORES.replace('defaultStore: edge', 'defaultStore: cloud');
  assert.deepEqual(problems('edge:\n  destinations:\n    - store: archive\n', cloudDefault), [
    'edge.spool: not given, and the default store "cloud" is a dicomweb store; name a local store as the spool',
  ]);
});

test('destinations: a configured store, not the spool, each once', () => {
  assert.deepEqual(
    problems(`edge:
  destinations:
    - store: nope
    - store: edge
    - store: cloud
    - store: cloud
    - { batchSize: 3 }
    - cloud
`),
    [
      'edge.destinations[0] (nope): store: "nope" is not the name of a configured store (edge, archive, cloud)',
      'edge.destinations[1] (edge): store: "edge" is the spool itself',
      'edge.destinations[3] (cloud): store: another destination already names this store',
      'edge.destinations[4]: store: required',
      'edge.destinations[5]: expected a mapping with at least store',
    ],
  );
});

test('out-of-range integers name their path', () => {
  assert.deepEqual(
    problems(`edge:
  destinations:
    - store: cloud
      batchSize: 0
      maxAttempts: 1001
      statConcurrency: 65
      routineConcurrency: two
      backoff: { baseDelayMs: 0, maxDelayMs: 90000000 }
  reconcileIntervalMs: 999
  retentionIntervalMs: -5
`),
    [
      'edge.destinations[0] (cloud): backoff.baseDelayMs: "0" is not an integer between 1 and 3600000',
      'edge.destinations[0] (cloud): backoff.maxDelayMs: "90000000" is not an integer between 1 and 86400000',
      'edge.destinations[0] (cloud): batchSize: "0" is not an integer between 1 and 1000',
      'edge.destinations[0] (cloud): maxAttempts: "1001" is not an integer between 1 and 1000',
      'edge.destinations[0] (cloud): statConcurrency: "65" is not an integer between 1 and 64',
      'edge.destinations[0] (cloud): routineConcurrency: "two" is not an integer between 1 and 64',
      'edge.reconcileIntervalMs: "999" is not an integer between 1000 and 86400000',
      'edge.retentionIntervalMs: "-5" is not an integer between 1000 and 86400000',
    ],
  );
  assert.deepEqual(problems(`${ONE_DESTINATION}      backoff: { baseDelayMs: 5000, maxDelayMs: 1000 }\n`), [
    'edge.destinations[0] (cloud): backoff.maxDelayMs: 1000 is smaller than backoff.baseDelayMs 5000',
  ]);
});

test('retention: mode, its parameter and its range', () => {
  const bad = (retention: string) => problems(`${ONE_DESTINATION}      retention: ${retention}\n`);
  assert.deepEqual(bad('{ mode: keep-days, days: 0 }'), ['edge.destinations[0] (cloud): retention.days: "0" is not an integer between 1 and 36500']);
  assert.deepEqual(bad('{ mode: keep-days }'), ['edge.destinations[0] (cloud): retention.days: required for keep-days']);
  assert.deepEqual(bad('keep-days'), ['edge.destinations[0] (cloud): retention.days: required for keep-days']);
  assert.deepEqual(bad('{ mode: disk-watermark }'), ['edge.destinations[0] (cloud): retention.minFreeBytes: required for disk-watermark']);
  assert.deepEqual(bad('{ mode: disk-watermark, minFreeBytes: 0 }'), [
    'edge.destinations[0] (cloud): retention.minFreeBytes: "0" is not an integer between 1 and 9007199254740991',
  ]);
  assert.deepEqual(bad('{ mode: forever }'), [
    'edge.destinations[0] (cloud): retention.mode: "forever" is not one of delete-after-confirmed, keep-days, disk-watermark, keep',
  ]);
  assert.deepEqual(bad('{ days: 3 }'), [
    'edge.destinations[0] (cloud): retention.mode: required',
  ]);
  assert.deepEqual(bad('7'), ['edge.destinations[0] (cloud): retention: expected a mode name or a mapping with mode']);
});

test('routes: non-empty, each with a condition, lists of strings, known attributes, valid regexes', () => {
  const bad = (routes: string) => problems(`${ONE_DESTINATION}      routes: ${routes}\n`);
  assert.deepEqual(bad('[]'), ['edge.destinations[0] (cloud): routes: expected a non-empty list (leave routes out to take every instance)']);
  assert.deepEqual(bad('[{}]'), ['edge.destinations[0] (cloud): routes[0]: needs at least one of modality, callingClient, station, attributes']);
  assert.deepEqual(bad('[CT]'), ['edge.destinations[0] (cloud): routes[0]: expected a mapping']);
  assert.deepEqual(bad('{ modality: CT }'), ['edge.destinations[0] (cloud): routes: expected a list']);
  assert.deepEqual(bad('[{ modality: [] }]'), ['edge.destinations[0] (cloud): routes[0].modality: expected at least one value (leave the key out to accept any)']);
  assert.deepEqual(bad('[{ station: [CT01, ""] }]'), ['edge.destinations[0] (cloud): routes[0].station: expected a list of non-empty strings']);
  assert.deepEqual(bad('[{ callingClient: { a: 1 } }]'), ['edge.destinations[0] (cloud): routes[0].callingClient: expected a list of non-empty strings']);
  assert.deepEqual(bad('[{ attributes: {} }]'), ['edge.destinations[0] (cloud): routes[0].attributes: expected at least one keyword or tag']);
  assert.deepEqual(bad('[{ attributes: [StudyDescription] }]'), ['edge.destinations[0] (cloud): routes[0].attributes: expected a mapping']);
  assert.deepEqual(
    bad('[{ attributes: { StudyDescripton: x, studydescription: x, "0008103": x, ReferencedSeriesSequence: x, PixelData: x, StudyID: [a] } }]'),
    [
      'edge.destinations[0] (cloud): routes[0].attributes.StudyDescripton: not a DICOM keyword (e.g. StudyDescription) or tag (8 hex digits, e.g. 00081030)',
      'edge.destinations[0] (cloud): routes[0].attributes.studydescription: not a DICOM keyword (e.g. StudyDescription) or tag (8 hex digits, e.g. 00081030)',
      'edge.destinations[0] (cloud): routes[0].attributes.0008103: not a DICOM keyword (e.g. StudyDescription) or tag (8 hex digits, e.g. 00081030)',
      'edge.destinations[0] (cloud): routes[0].attributes.ReferencedSeriesSequence: its VR is SQ: it has no text value to match',
      'edge.destinations[0] (cloud): routes[0].attributes.PixelData: its VR is OW: it has no text value to match',
      'edge.destinations[0] (cloud): routes[0].attributes.StudyID: expected a regular expression (a string)',
    ],
  );
  const invalid = bad('[{ attributes: { StudyDescription: "stroke(" } }]');
  assert.equal(invalid.length, 1);
  assert.match(invalid[0], /^edge\.destinations\[0\] \(cloud\): routes\[0\]\.attributes\.StudyDescription: "stroke\(" is not a valid regular expression: .*Unterminated group/);
});

test('priority rules: when required and not empty, a known priority', () => {
  assert.deepEqual(
    problems(`${ONE_DESTINATION}  priorityRules:
    - { priority: STAT }
    - { when: {}, priority: STAT }
    - { when: { modality: CT }, priority: URGENTE }
    - { when: { modality: CT } }
    - { when: { attributes: { StudyDescription: "(" } }, priority: HIGH }
    - STAT
`).map((p) => p.replace(/: Invalid regular expression.*$/, ': …')),
    [
      'edge.priorityRules[0]: when: required (the conditions, as in a route)',
      'edge.priorityRules[1]: when: needs at least one of modality, callingClient, station, attributes',
      'edge.priorityRules[2]: priority: "URGENTE" is not one of STAT, HIGH, ROUTINE, LOW (or S, EMERGENCY, EM for STAT)',
      'edge.priorityRules[3]: priority: required',
      'edge.priorityRules[4]: when.attributes.StudyDescription: "(" is not a valid regular expression: …',
      'edge.priorityRules[5]: expected a mapping with when and priority',
    ],
  );
  assert.deepEqual(problems(`${ONE_DESTINATION}  priorityRules: { when: { modality: CT }, priority: STAT }\n`), [
    'edge.priorityRules: expected a list',
  ]);
});

test('priority rules accept the STAT equivalents; priorityHeaderClients takes one string or a list', () => {
  const edge = edgeOf(`${ONE_DESTINATION}  priorityRules:\n    - { when: { station: ER1 }, priority: emergency }\n  priorityHeaderClients: ct-scanner-1\n`);
  assert.deepEqual(edge!.priorityRules, [{ when: { station: ['ER1'] }, priority: 'STAT' }]);
  assert.deepEqual(edge!.priorityHeaderClients, ['ct-scanner-1']);
  assert.deepEqual(edgeOf(`${ONE_DESTINATION}  priorityHeaderClients: []\n`)!.priorityHeaderClients, []);
  assert.deepEqual(problems(`${ONE_DESTINATION}  priorityHeaderClients: [a, 7, {}]\n`), [
    'edge.priorityHeaderClients: expected a list of non-empty strings',
  ]);
});

test('edge problems come with the rest of the config problems, all at once', () => {
  const found = problems('port: 99999\nedge:\n  destinations:\n    - store: nope\n');
  assert.deepEqual(found, [
    'PORT (port): "99999" is not an integer between 0 and 65535',
    'edge.destinations[0] (nope): store: "nope" is not the name of a configured store (edge, archive, cloud)',
  ]);
});
