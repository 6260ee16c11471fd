import { Controller, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DICOMWEB_PREFIXES } from '../dicomweb-prefixes';
import { StowService } from './stow.service';

/** STOW-RS routes (PS3.18 10.5). */
@Controller(DICOMWEB_PREFIXES)
export class StowController {
  constructor(private readonly stow: StowService) {}

  @Post('studies')
  storeInstances(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.stow.handle(request, reply);
  }

  @Post('studies/:study')
  storeInstancesInStudy(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('study') study: string,
  ): Promise<void> {
    return this.stow.handle(request, reply, study);
  }
}
