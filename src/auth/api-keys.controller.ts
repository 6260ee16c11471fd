/**
 * /api/keys (admin): create an API key (answered once with the key itself), list them (never the
 * keys), revoke one. The CLI (src/cli.ts) does the same on the data folder, for the first key.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BadRequest, ResourceNotFound } from '../dicomweb/errors';
import { ApiKeyRecord, ApiKeys, InvalidApiKeyRequest } from './api-keys';
import { principalOf } from './principal';

@Controller('api/keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeys) {}

  @Post()
  @HttpCode(201)
  create(@Req() request: FastifyRequest, @Body() body: unknown): { key: string; apiKey: ApiKeyRecord } {
    const input = (typeof body === 'object' && body !== null ? body : {}) as { name?: unknown; scopes?: unknown };
    try {
      const { record, key } = this.keys.create(String(input.name ?? ''), input.scopes as string[], principalOf(request)?.id ?? 'anonymous');
      return { key, apiKey: record };
    } catch (e) {
      if (e instanceof InvalidApiKeyRequest) throw new BadRequest(e.message);
      throw e;
    }
  }

  @Get()
  list(): { apiKeys: ApiKeyRecord[] } {
    return { apiKeys: this.keys.list() };
  }

  @Delete(':id')
  @HttpCode(204)
  revoke(@Param('id') id: string): void {
    if (!/^[0-9a-f-]{36}$/.test(id) || !this.keys.revoke(id)) throw new ResourceNotFound('no API key of that id');
  }
}
