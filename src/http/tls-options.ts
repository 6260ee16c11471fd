/**
 * The HTTPS listener's key and certificate (TLS_CERT_FILE, TLS_KEY_FILE): read and checked once at
 * start, so that a missing, unreadable or mismatched file stops the start as a configuration
 * problem naming the file (exit code 2), instead of a stack trace or a listener nobody can reach.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../config/gateway-config';
import { ServerConfig } from '../config/security-config';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export function readTlsFiles(tls: NonNullable<ServerConfig['tls']>): TlsFiles {
  const problems: string[] = [];
  const read = (path: string, setting: string): Buffer | undefined => {
    try {
      return readFileSync(path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      problems.push(`${setting}: cannot read ${path} (${err.code ?? err.message})`);
      return undefined;
    }
  };
  const cert = read(tls.certFile, 'TLS_CERT_FILE (tls.certFile)');
  const key = read(tls.keyFile, 'TLS_KEY_FILE (tls.keyFile)');
  if (!cert || !key) throw new ConfigError(problems);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new ConfigError([`TLS_CERT_FILE, TLS_KEY_FILE (tls.certFile, tls.keyFile): ${tls.certFile} and ${tls.keyFile} are not a PEM certificate and its private key (${(e as Error).message})`]);
  }
  return { cert, key };
}
