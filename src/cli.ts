/**
 * The operator's command line, on the data folder of the configured gateway (same environment and
 * CONFIG_FILE as the server): API keys, so that the first key of a gateway that requires
 * authentication can be made without one.
 *
 *   node dist/src/cli.js keys create --name <name> --scopes <scope,scope...>
 *   node dist/src/cli.js keys list
 *   node dist/src/cli.js keys revoke <id>
 *
 * Output is JSON on stdout; a mistake is a message on stderr and exit code 2.
 */
import { ApiKeys, InvalidApiKeyRequest } from './auth/api-keys';
import { openSecurityDatabase } from './auth/security-database';
import { ConfigError } from './config/gateway-config';
import { loadConfig } from './config/load-config';

const USAGE = `usage:
  keys create --name <name> --scopes <scope>[,<scope>...]
  keys list
  keys revoke <id>`;

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
  return value;
}

export function runCli(argv: string[], env: Record<string, string | undefined>, out: (text: string) => void): number {
  const [group, command, ...rest] = argv;
  if (group !== 'keys' || !command) throw new UsageError(USAGE);
  const config = loadConfig({ ...env, AUTH_MODE: env.AUTH_MODE ?? 'required', HOST: env.HOST ?? '127.0.0.1' });
  const database = openSecurityDatabase(config.dataDir);
  try {
    const keys = new ApiKeys(database, config.security.auth.scopePrefix);
    switch (command) {
      case 'create': {
        const name = option(rest, 'name');
        const scopes = option(rest, 'scopes');
        if (!name || !scopes) throw new UsageError(`keys create needs --name and --scopes\n${USAGE}`);
        const { record, key } = keys.create(name, scopes.split(',').map((s) => s.trim()).filter((s) => s !== ''), 'cli');
        out(JSON.stringify({ key, apiKey: record, note: 'the key is shown once: keep it now' }, null, 2));
        return 0;
      }
      case 'list':
        out(JSON.stringify({ apiKeys: keys.list() }, null, 2));
        return 0;
      case 'revoke': {
        const id = rest[0];
        if (!id) throw new UsageError(`keys revoke needs the key's id\n${USAGE}`);
        if (!keys.revoke(id)) throw new UsageError(`no API key with id ${id}`);
        out(JSON.stringify({ revoked: id }));
        return 0;
      }
      default:
        throw new UsageError(USAGE);
    }
  } finally {
    database.close();
  }
}

if (require.main === module) {
  try {
    process.exitCode = runCli(process.argv.slice(2), process.env, (text) => process.stdout.write(`${text}\n`));
  } catch (e) {
    if (e instanceof UsageError || e instanceof InvalidApiKeyRequest || e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 2;
    } else {
      throw e;
    }
  }
}
