/**
 * The container files (docker/) cannot be built here (no Docker engine), so they are checked by
 * reading them: compose.yaml parses and names the image the Dockerfile builds, everything it
 * builds from and mounts exists, the Dockerfile has the shape the README promises (multi-stage,
 * non-root, health check, the port compose maps, openapi/ copied), its health check command really
 * tells a live gateway from a dead port, and docker/gateway.yaml with the environment the
 * container gets is accepted by the gateway's own config loader, commented examples included.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../src/config/gateway-config';
import { loadConfig } from '../../src/config/load-config';
import { DicomwebStoreConfig } from '../../src/config/store-config';
import { freePort } from '../helpers/free-port';
import { makeTempDir } from '../helpers/temp-dir';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';

const REPO = resolve(__dirname, '../../..');
const DOCKER = join(REPO, 'docker');
const COMPOSE_FILE = join(DOCKER, 'compose.yaml');
const DOCKERFILE = join(DOCKER, 'Dockerfile');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Dockerfile instructions by stage: comments dropped, `\` continuations joined. */
function readDockerfile(text: string): { stages: Stage[]; globalArgs: Instruction[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && /^\s*(#|$)/.test(line)) continue;
    if (/^\s*#/.test(line)) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) current += line.slice(0, -1) + ' ';
    else {
      logical.push((current + line).trim());
      current = '';
    }
  }
  const stages: Stage[] = [];
  const globalArgs: Instruction[] = [];
  for (const line of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { keyword: m[1].toUpperCase(), args: m[2] };
    if (instruction.keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args)!;
      stages.push({ from: from[1], name: from[2], instructions: [] });
    } else if (stages.length === 0) globalArgs.push(instruction);
    else stages[stages.length - 1].instructions.push(instruction);
  }
  return { stages, globalArgs };
}

/** ENV of a stage (both `KEY=value ...` and the old `KEY value` form). */
function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    if (!i.args.includes('=')) {
      const [key, ...rest] = i.args.split(/\s+/);
      env[key] = rest.join(' ');
      continue;
    }
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return env;
}

/** Compose variable interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, $$) with `vars`. */
function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (all, name: string | undefined, op: string | undefined, fallback: string | undefined) => {
    if (all === '$$') return '$';
    const v = vars[name!];
    if (op === ':-') return v === undefined || v === '' ? fallback! : v;
    if (op === '-') return v === undefined ? fallback! : v;
    return v ?? '';
  });
}

interface Mount {
  source: string;
  target: string;
  bind: boolean;
}

function mountsOf(service: any): Mount[] {
  return (service.volumes ?? []).map((v: any) => {
    if (typeof v === 'string') {
      const [source, target] = v.split(':');
      return { source, target, bind: /^[./~]/.test(source) };
    }
    return { source: v.source, target: v.target, bind: v.type === 'bind' };
  });
}

/** The commented "--- example" blocks of gateway.yaml, uncommented. */
function exampleBlocks(text: string): { title: string; yaml: string }[] {
  const blocks: { title: string; yaml: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^# --- example: (.*)$/.exec(lines[i]);
    if (!head) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i].startsWith('# '); i++) body.push(lines[i].slice(2));
    blocks.push({ title: head[1], yaml: body.join('\n') });
  }
  return blocks;
}

const compose = parseYaml(readFileSync(COMPOSE_FILE, 'utf8'));
const { stages, globalArgs } = readDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const runtime = stages[stages.length - 1];
const runtimeOf = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword);
const gateway = compose.services.gateway;

/** What the gateway process sees in the container, with no variable set on the host. */
function containerEnv(hostVars: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...stageEnv(runtime) };
  for (const [key, value] of Object.entries(gateway.environment ?? {})) env[key] = interpolate(String(value), hostVars);
  return env;
}

/** The container env with CONFIG_FILE pointing at the host file that compose mounts there. */
function hostConfigEnv(configFile?: string): Record<string, string> {
  const env = containerEnv();
  const mount = mountsOf(gateway).find((m) => m.target === env.CONFIG_FILE);
  assert.ok(mount?.bind, `CONFIG_FILE ${env.CONFIG_FILE} is not a file compose mounts`);
  return { ...env, CONFIG_FILE: configFile ?? resolve(DOCKER, mount.source) };
}

describe('docker/compose.yaml', () => {
  test('has the gateway, Redis and an Orthanc with DICOMweb', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['gateway', 'orthanc', 'redis']);
    assert.match(compose.services.redis.image, /^redis:7(\.|$)/);
    assert.match(compose.services.orthanc.image, /^orthancteam\/orthanc:\d/);
    assert.equal(compose.services.orthanc.environment.DICOM_WEB_PLUGIN_ENABLED, 'true');
  });

  test('builds the gateway from the Dockerfile, and names the image the same everywhere', () => {
    const context = resolve(DOCKER, gateway.build.context);
    assert.equal(context, REPO);
    assert.ok(existsSync(join(context, 'package.json')), 'the build context is the repository root');
    assert.equal(resolve(context, gateway.build.dockerfile), DOCKERFILE);
    assert.equal(gateway.image, 'dicomweb-gateway:latest');
    const [repository] = gateway.image.split(':');
    const label = /org\.opencontainers\.image\.title="([^"]+)"/.exec(runtimeOf('LABEL').map((l) => l.args).join(' '));
    assert.equal(label?.[1], repository, 'the image title label');
    // Every place a tag of the image is written: the Dockerfile's build line, the README, compose.
    const texts = ['docker/Dockerfile', 'docker/README.md', 'docker/compose.yaml'].map((f) => [f, readFileSync(join(REPO, f), 'utf8')]);
    let named = 0;
    for (const [file, text] of texts) {
      for (const m of text.matchAll(new RegExp(`\\b${repository}:[\\w.-]+`, 'g'))) {
        assert.equal(m[0], gateway.image, `${file} names the image ${m[0]}`);
        named++;
      }
      for (const m of text.matchAll(/docker build\s+(?:-f\s+(\S+)\s+)?-t\s+(\S+)/g)) {
        assert.equal(m[1], 'docker/Dockerfile', `${file}: docker build -f`);
        assert.equal(m[2], gateway.image, `${file}: docker build -t`);
      }
    }
    assert.ok(named >= 3, `the image is named in the Dockerfile, its README and compose (${named})`);
  });

  test('every file it mounts exists, every named volume is declared', () => {
    for (const [name, service] of Object.entries<any>(compose.services)) {
      for (const mount of mountsOf(service)) {
        if (mount.bind) assert.ok(existsSync(resolve(DOCKER, mount.source)), `${name}: ${mount.source} does not exist`);
        else assert.ok(compose.volumes && mount.source in compose.volumes, `${name}: volume ${mount.source} is not declared`);
      }
    }
    assert.ok(mountsOf(gateway).some((m) => !m.bind && m.target === '/data'), 'the gateway keeps /data in a volume');
    assert.ok(gateway.volumes.includes('./gateway.yaml:/etc/dicomweb-gateway/gateway.yaml:ro'), 'docker/gateway.yaml, read-only');
  });

  test('the gateway waits for healthy dependencies, each of which has a health check', () => {
    const deps = gateway.depends_on;
    assert.deepEqual(Object.keys(deps).sort(), ['orthanc', 'redis']);
    for (const [name, dep] of Object.entries<any>(deps)) {
      assert.equal(dep.condition, 'service_healthy', name);
      const check = compose.services[name].healthcheck;
      assert.ok(Array.isArray(check?.test) && check.test.length > 1, `${name} has a health check`);
    }
  });

  test('the port it maps is the one the image exposes and listens on', () => {
    const published = gateway.ports.map((p: string) => Number(String(p).split(':').pop()));
    const exposed = runtimeOf('EXPOSE').flatMap((e) => e.args.split(/\s+/)).map((p) => Number(p.replace(/\/tcp$/, '')));
    assert.deepEqual(published, [8080]);
    assert.ok(exposed.includes(8080), `EXPOSE ${exposed.join(' ')}`);
    assert.equal(containerEnv().PORT, '8080');
  });

  test('Redis and Orthanc are named by their compose service names', () => {
    const config = loadConfig(hostConfigEnv());
    assert.equal(new URL(config.redisUrl!).hostname, 'redis');
    const orthanc = config.stores.find((s) => s.name === 'orthanc') as DicomwebStoreConfig;
    assert.equal(new URL(orthanc.url).hostname, 'orthanc');
    assert.equal(new URL(orthanc.url).port, '8042');
    // Orthanc's registered user gets the same password the gateway is given.
    const users = JSON.parse(interpolate(compose.services.orthanc.environment.ORTHANC__REGISTERED_USERS, { ORTHANC_PASSWORD: 'p4ss' }));
    assert.equal(orthanc.auth.type, 'basic');
    assert.equal(users[(orthanc.auth as { username: string }).username], 'p4ss');
    assert.equal(containerEnv({ ORTHANC_PASSWORD: 'p4ss' }).ORTHANC_PASSWORD, 'p4ss');
  });
});

describe('docker/Dockerfile', () => {
  test('is multi-stage: npm ci, build, prune in a build stage; a slim runtime copies its output', () => {
    assert.ok(stages.length >= 2, `${stages.length} stage(s)`);
    const build = stages.find((s) => s.name === 'build');
    assert.ok(build, 'a stage named build');
    const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' && ');
    const at = (what: RegExp) => runs.search(what);
    assert.ok(at(/npm ci\b/) >= 0 && at(/npm run build\b/) > at(/npm ci\b/) && at(/npm prune --omit=dev\b/) > at(/npm run build\b/), runs);
    assert.match(runs, /npm rebuild better-sqlite3/);
    const base = (from: string) => from.replace(/^\$\{(\w+)\}$/, (_, arg: string) => /=(.*)$/.exec(globalArgs.find((a) => a.args.startsWith(`${arg}=`))!.args)![1]);
    assert.match(base(runtime.from), /^node:20[\w.-]*-slim$/);
    const copied = runtimeOf('COPY').map((c) => c.args);
    assert.ok(copied.some((c) => /--from=build\s+\/app\/dist\s/.test(c)), 'dist from the build stage');
    assert.ok(copied.some((c) => /--from=build\s+\/app\/node_modules\s/.test(c)), 'production node_modules from the build stage');
  });

  test('runs as a non-root user, with HOST=0.0.0.0 and a volume at /data', () => {
    const users = runtimeOf('USER').map((u) => u.args.split(':')[0]);
    assert.ok(users.length > 0, 'a USER instruction');
    assert.ok(!['root', '0'].includes(users[users.length - 1]), `USER ${users[users.length - 1]}`);
    const env = stageEnv(runtime);
    assert.equal(env.HOST, '0.0.0.0');
    assert.equal(env.DATA_DIR, '/data');
    assert.ok(runtimeOf('VOLUME').some((v) => v.args.includes('/data')));
  });

  test('copies openapi/ and everything it copies is in the build context', () => {
    assert.ok(runtimeOf('COPY').some((c) => /^openapi\s/.test(c.args)), 'COPY openapi');
    assert.ok(existsSync(join(REPO, 'openapi', 'openapi.yaml')));
    const ignore = readFileSync(join(DOCKER, 'Dockerfile.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const stage of stages) {
      for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        for (const source of sources) {
          assert.ok(existsSync(join(REPO, source)), `COPY ${source}: not in the repository`);
          assert.ok(ignore.includes(`!${source.replace(/\/$/, '')}`), `COPY ${source}: excluded by Dockerfile.dockerignore`);
        }
      }
    }
  });

  test('starts the compiled entry point; the CLI it documents is compiled beside it', () => {
    const cmd = JSON.parse(runtimeOf('CMD').pop()!.args);
    assert.deepEqual(cmd, ['node', 'dist/src/main.js']);
    assert.ok(existsSync(join(REPO, 'dist', 'src', 'main.js')));
    assert.ok(existsSync(join(REPO, 'dist', 'src', 'cli.js')));
    assert.match(readFileSync(join(DOCKER, 'README.md'), 'utf8'), /exec gateway \\\n\s+node dist\/src\/cli\.js keys create --name viewer --scopes dicomweb:read/);
  });

  describe('HEALTHCHECK', () => {
    let gw: RunningGateway;
    before(async () => {
      gw = await startInProcessGateway();
    });
    after(() => gw.stop());

    const healthcheck = () => {
      const line = runtimeOf('HEALTHCHECK').pop();
      assert.ok(line, 'a HEALTHCHECK');
      const m = /\bCMD\s+(\[.*\])$/.exec(line.args);
      assert.ok(m, `HEALTHCHECK ... CMD [exec form]: ${line.args}`);
      return JSON.parse(m[1]) as string[];
    };
    const run = (port: string) =>
      new Promise<number>((res) => {
        const [program, ...args] = healthcheck();
        assert.equal(program, 'node');
        execFile(process.execPath, args, { env: { ...process.env, PORT: port }, timeout: 10_000 }, (error) => res(error ? (typeof error.code === 'number' ? error.code : -1) : 0));
      });

    test('asks /health/live of the port the gateway listens on', async () => {
      assert.ok(healthcheck().join(' ').includes('/health/live'));
      assert.equal(await run(new URL(gw.baseUrl).port), 0);
    });

    test('fails when nothing answers there', async () => {
      assert.equal(await run(String(await freePort())), 1);
    });
  });
});

describe('docker/gateway.yaml', () => {
  test('is accepted by the config loader with the container environment', () => {
    const config = loadConfig(hostConfigEnv());
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, '/data');
    assert.equal(config.security.auth.mode, 'required');
    assert.equal(config.security.auth.apiKeys, true);
    assert.equal(config.defaultStore, 'local');
    assert.deepEqual(config.stores.map((s) => [s.name, s.kind]), [['local', 'local'], ['orthanc', 'dicomweb']]);
    assert.equal(config.stores[0].kind === 'local' && config.stores[0].path, '/data/stores/local');
    const orthanc = config.stores[1] as DicomwebStoreConfig;
    assert.equal(orthanc.url, 'http://orthanc:8042/dicom-web');
    assert.equal(orthanc.percentEncodeQuery, false);
  });

  test('in the container, authentication cannot be turned off', () => {
    assert.throws(() => loadConfig({ ...hostConfigEnv(), AUTH_MODE: 'off' }), (e: unknown) => e instanceof ConfigError && /0\.0\.0\.0/.test(e.message));
  });

  test('every commented example is valid once uncommented', () => {
    const text = readFileSync(join(DOCKER, 'gateway.yaml'), 'utf8');
    const blocks = exampleBlocks(text);
    assert.deepEqual(blocks.map((b) => Object.keys(parseYaml(b.yaml))[0]).sort(), ['auth', 'cors', 'edge', 'rateLimits']);
    const dir = makeTempDir('docker-config');
    try {
      for (const block of blocks) {
        const file = join(dir.path, 'gateway.yaml');
        writeFileSync(file, `${text}\n${block.yaml}\n`);
        let config;
        try {
          config = loadConfig(hostConfigEnv(file));
        } catch (e) {
          assert.fail(`example "${block.title}": ${(e as Error).message}`);
        }
        const key = Object.keys(parseYaml(block.yaml))[0];
        if (key === 'auth') assert.equal(config.security.auth.jwt?.issuer, 'https://idp.example.org/realms/radiology');
        if (key === 'cors') assert.deepEqual(config.security.cors.origins, ['http://localhost:3000']);
        if (key === 'rateLimits') assert.equal(config.security.rateLimits.concurrentUploads, 4);
        if (key === 'edge') assert.deepEqual(config.edge?.destinations.map((d) => d.store), ['orthanc']);
      }
    } finally {
      dir.remove();
    }
  });
});
