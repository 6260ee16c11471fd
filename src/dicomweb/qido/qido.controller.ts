import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DICOMWEB_PREFIXES } from '../dicomweb-prefixes';
import { QidoService } from './qido.service';

/** QIDO-RS search routes (PS3.18 10.6, Table 10.6.1-1 target resources). */
@Controller(DICOMWEB_PREFIXES)
export class QidoController {
  constructor(private readonly qido: QidoService) {}

  @Get('studies')
  searchForStudies(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.qido.search(request, reply, 'study', {});
  }

  @Get('studies/:study/series')
  searchForStudySeries(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('study') studyUid: string): Promise<void> {
    return this.qido.search(request, reply, 'series', { studyUid });
  }

  @Get('studies/:study/series/:series/instances')
  searchForSeriesInstances(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('study') studyUid: string,
    @Param('series') seriesUid: string,
  ): Promise<void> {
    return this.qido.search(request, reply, 'instance', { studyUid, seriesUid });
  }

  @Get('studies/:study/instances')
  searchForStudyInstances(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('study') studyUid: string): Promise<void> {
    return this.qido.search(request, reply, 'instance', { studyUid });
  }

  @Get('series')
  searchForSeries(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.qido.search(request, reply, 'series', {});
  }

  @Get('instances')
  searchForInstances(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.qido.search(request, reply, 'instance', {});
  }
}
