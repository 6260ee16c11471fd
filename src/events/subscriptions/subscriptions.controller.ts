/**
 * /api/subscriptions: webhook subscriptions of AI services (DESIGN.md 6). The secret is in the
 * answer of a create and of a rotation only. Controllers only delegate: validation in
 * subscription-input.ts, the SSRF guard in ssrf-guard.ts, storage in subscription-store.ts.
 */
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../../config/config.module';
import { GatewayConfig } from '../../config/gateway-config';
import { NotFound } from '../../stores/store-errors';
import { checkWebhookUrl } from './ssrf-guard';
import { checkSubscriptionId, parseCreateBody, parseUpdateBody } from './subscription-input';
import { Subscription, SubscriptionStore } from './subscription-store';

@Controller('api/subscriptions')
export class SubscriptionsController {
  constructor(
    private readonly store: SubscriptionStore,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown): Promise<Subscription & { secret: string }> {
    const input = parseCreateBody(body);
    await checkWebhookUrl(input.url, this.config.events.allowPrivateWebhookTargets);
    const { subscription, secret } = this.store.create(input);
    return { ...subscription, secret };
  }

  @Get()
  list(): Subscription[] {
    return this.store.list();
  }

  @Get(':id')
  get(@Param('id') id: string): Subscription {
    return this.existing(id);
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: unknown): Promise<Subscription & { secret?: string }> {
    this.existing(id);
    const { patch, rotate } = parseUpdateBody(body);
    if (patch.url !== undefined) await checkWebhookUrl(patch.url, this.config.events.allowPrivateWebhookTargets);
    let subscription = Object.keys(patch).length > 0 ? this.store.update(id, patch) : this.existing(id);
    if (!rotate) return subscription;
    const { secret } = this.store.rotateSecret(id, rotate.overlapSeconds);
    subscription = this.existing(id);
    return { ...subscription, secret };
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string): void {
    checkSubscriptionId(id);
    if (!this.store.delete(id)) throw new NotFound(`no subscription ${id}`);
  }

  private existing(id: string): Subscription {
    checkSubscriptionId(id);
    const subscription = this.store.get(id);
    if (!subscription) throw new NotFound(`no subscription ${id}`);
    return subscription;
  }
}
