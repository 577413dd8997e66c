/**
 * The page for people at /dashboard (issue 7): plain HTML, one vanilla JS module and one
 * stylesheet, served from files (see assets.ts). The page itself is public; every data call it
 * makes goes to the /v1 API with the agent's Bearer token, kept in sessionStorage only.
 */
import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.guard';
import { problem, ProblemException } from '../http/problem';
import { loadAssets, LoadedAssets } from './assets';

@ApiExcludeController()
@Controller('dashboard')
export class DashboardPageController {
  private readonly assets: LoadedAssets = loadAssets();

  @Get()
  @Public()
  page(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Buffer | string {
    return this.send('index.html', ifNoneMatch, reply);
  }

  @Get('app.js')
  @Public()
  script(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Buffer | string {
    return this.send('app.js', ifNoneMatch, reply);
  }

  @Get('labels.js')
  @Public()
  labels(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Buffer | string {
    return this.send('labels.js', ifNoneMatch, reply);
  }

  @Get('app.css')
  @Public()
  styles(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Buffer | string {
    return this.send('app.css', ifNoneMatch, reply);
  }

  private send(name: string, ifNoneMatch: string | undefined, reply: FastifyReply): Buffer | string {
    if (!this.assets.ok) throw new ProblemException(problem(503, 'DashboardUnavailable', this.assets.error));
    const asset = this.assets.files.get(name)!;
    // revalidate every time: a new build changes the ETag, an unchanged file costs a 304
    reply.header('Cache-Control', 'no-cache');
    reply.header('ETag', asset.etag);
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === asset.etag)) {
      reply.status(304);
      return '';
    }
    reply.type(asset.contentType);
    return asset.body;
  }
}
