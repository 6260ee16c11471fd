import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DICOMWEB_PREFIXES } from '../dicomweb-prefixes';
import { refuseUnmatchedPath } from './unmatched-path';
import { instanceScope, seriesScope, studyScope, WadoParams } from './wado-request';
import { WadoService } from './wado.service';
import { RenderedService } from './rendered.service';

/** WADO-RS routes (PS3.18 10.4). */
@Controller(DICOMWEB_PREFIXES)
export class WadoController {
  constructor(
    private readonly wado: WadoService,
    private readonly renderedImages: RenderedService,
  ) {}

  @Get('studies/:study')
  study(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.wado.instances(req, reply, studyScope(p));
  }

  @Get('studies/:study/series/:series')
  series(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.wado.instances(req, reply, seriesScope(p));
  }

  @Get('studies/:study/series/:series/instances/:instance')
  instance(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.wado.instances(req, reply, instanceScope(p));
  }

  @Get('studies/:study/metadata')
  studyMetadata(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.wado.metadata(req, reply, studyScope(p));
  }

  @Get('studies/:study/series/:series/metadata')
  seriesMetadata(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.wado.metadata(req, reply, seriesScope(p));
  }

  @Get('studies/:study/series/:series/instances/:instance/metadata')
  instanceMetadata(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.wado.metadata(req, reply, instanceScope(p));
  }

  @Get('studies/:study/series/:series/instances/:instance/frames/:frames')
  frames(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.wado.frames(req, reply, p);
  }

  @Get('studies/:study/series/:series/instances/:instance/rendered')
  renderedInstance(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.renderedImages.rendered(req, reply, p);
  }

  @Get('studies/:study/series/:series/instances/:instance/frames/:frames/rendered')
  renderedFrame(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.renderedImages.rendered(req, reply, p);
  }

  @Get('studies/:study/thumbnail')
  studyThumbnail(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.renderedImages.thumbnail(req, reply, studyScope(p));
  }

  @Get('studies/:study/series/:series/thumbnail')
  seriesThumbnail(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.renderedImages.thumbnail(req, reply, seriesScope(p));
  }

  @Get('studies/:study/series/:series/instances/:instance/thumbnail')
  instanceThumbnail(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.renderedImages.thumbnail(req, reply, instanceScope(p));
  }

  @Get('studies/:study/series/:series/instances/:instance/frames/:frames/thumbnail')
  frameThumbnail(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.renderedImages.thumbnail(req, reply, instanceScope(p), p.frames);
  }

  @Get('studies/:study/series/:series/instances/:instance/bulkdata/*')
  bulkdata(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param() p: WadoParams): Promise<void> {
    return this.wado.bulkdata(req, reply, p);
  }

  /** Anything else under /dicomweb: 400 for a malformed path, 404 otherwise; never a store access. */
  @Get('*')
  unmatched(@Req() req: FastifyRequest): never {
    return refuseUnmatchedPath(req.url);
  }
}
