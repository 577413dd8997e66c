/** The page for people at /dashboard (issue 7 builds it out). */
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.guard';

@ApiExcludeController()
@Controller('dashboard')
export class DashboardPageController {
  @Get()
  @Public()
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    reply.type('text/html; charset=utf-8');
    return '<!doctype html><title>CareLedger</title><p>The service-center dashboard is not built yet.</p>';
  }
}
