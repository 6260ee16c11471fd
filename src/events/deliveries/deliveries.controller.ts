/**
 * A subscription's webhook deliveries, for its operator: each with its state and attempt log, and
 * sending one again. Controllers only delegate (delivery.service.ts).
 */
import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { BadRequest } from '../../dicomweb/errors';
import { DeliveryService } from './delivery.service';

@Controller('api/subscriptions')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveryService) {}

  /** Newest first; `limit` 1-500, 50 by default. */
  @Get(':id/deliveries')
  list(@Param('id') id: string, @Query('limit') limit?: string) {
    let n: number | undefined;
    if (limit !== undefined) {
      if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > 500) throw new BadRequest('limit: expected an integer from 1 to 500');
      n = Number(limit);
    }
    return { subscriptionId: id, deliveries: this.deliveries.list(id, n) };
  }

  @Get(':id/deliveries/:deliveryId')
  get(@Param('id') id: string, @Param('deliveryId') deliveryId: string) {
    return this.deliveries.get(id, deliveryId);
  }

  /** A delivered or dead delivery goes again now (its attempt log is kept): 202. */
  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  redeliver(@Param('id') id: string, @Param('deliveryId') deliveryId: string) {
    return this.deliveries.redeliver(id, deliveryId);
  }
}
