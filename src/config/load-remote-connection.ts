/**
 * The keys every remote store shares (timeouts, retries, circuit breaker, connections, health
 * probe, duplicate check), read once for all remote kinds.
 */
import { DICOMWEB_DEFAULTS, RemoteConnectionConfig } from './store-config';
import { FieldReader } from './field-reader';

export const REMOTE_CONNECTION_KEYS = ['timeouts', 'retries', 'circuitBreaker', 'connections', 'healthCheckIntervalMs', 'verifyDuplicates'];

export function readRemoteConnection(r: FieldReader, defaults: { verifyDuplicates: boolean } = DICOMWEB_DEFAULTS): RemoteConnectionConfig {
  const d = DICOMWEB_DEFAULTS;
  const timeouts = r.child('timeouts', ['connectMs', 'firstByteMs', 'idleMs']);
  const retries = r.child('retries', ['attempts', 'baseDelayMs', 'maxDelayMs']);
  const breaker = r.child('circuitBreaker', ['failureThreshold', 'openMs']);
  return {
    timeouts: {
      connectMs: timeouts.integer('connectMs', d.timeouts.connectMs, 1, 600_000),
      firstByteMs: timeouts.integer('firstByteMs', d.timeouts.firstByteMs, 1, 3_600_000),
      idleMs: timeouts.integer('idleMs', d.timeouts.idleMs, 1, 3_600_000),
    },
    retries: {
      attempts: retries.integer('attempts', d.retries.attempts, 1, 10),
      baseDelayMs: retries.integer('baseDelayMs', d.retries.baseDelayMs, 0, 60_000),
      maxDelayMs: retries.integer('maxDelayMs', d.retries.maxDelayMs, 0, 600_000),
    },
    circuitBreaker: {
      failureThreshold: breaker.integer('failureThreshold', d.circuitBreaker.failureThreshold, 1, 1000),
      openMs: breaker.integer('openMs', d.circuitBreaker.openMs, 1, 3_600_000),
    },
    connections: r.integer('connections', d.connections, 1, 1024),
    healthCheckIntervalMs: r.integer('healthCheckIntervalMs', d.healthCheckIntervalMs, 0, 86_400_000),
    verifyDuplicates: r.boolean('verifyDuplicates', defaults.verifyDuplicates),
  };
}
