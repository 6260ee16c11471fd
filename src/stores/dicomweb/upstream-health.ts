/**
 * The health of a remote store: the outcome of its client's last call and the state of its
 * circuit, refreshed by a light probe at start and periodically, which never delays the start: an
 * upstream down at start makes its store unhealthy and its requests fail with 503, not the gateway.
 */
import { Logger } from '@nestjs/common';
import { StoreHealth } from '../dicom-store';
import { UpstreamClient } from './upstream-client';

export class UpstreamHealth {
  private readonly timer?: NodeJS.Timeout;

  constructor(
    private readonly client: UpstreamClient,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    void this.probe();
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.probe(), intervalMs);
      this.timer.unref();
    }
  }

  current(): StoreHealth {
    const last = this.client.last;
    const circuit = this.client.breaker.state;
    const failures = { ...this.client.failures };
    if (!last) return { status: 'unknown', detail: 'the upstream has not been reached yet', circuit, failures };
    const healthy = last.ok && circuit !== 'open';
    return {
      status: healthy ? 'healthy' : 'unhealthy',
      detail: healthy ? undefined : (last.detail ?? 'the upstream is failing'),
      checkedAt: last.at.toISOString(),
      circuit,
      failures,
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async probe(): Promise<void> {
    const before = this.client.last?.ok;
    await this.client.probe();
    const now = this.client.last?.ok;
    if (now === false && before !== false) this.logger.warn(`upstream unhealthy: ${this.client.last?.detail}`);
    if (now === true && before === false) this.logger.log('upstream healthy again');
  }
}
