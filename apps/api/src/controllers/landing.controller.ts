/**
 * GET / (public): what this node is and where to go. A browser (Accept: text/html) gets a small
 * page linking the service desk, the API documentation and health, styled by the desk's stylesheet
 * (no inline script or style: the strict CSP holds); anything else gets `{ name, version, links }`.
 */
import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.guard';
import { LandingView } from '../dto/landing.dto';
import { appVersion } from '../http/build-info';
import { preferred } from '../http/negotiate';

const LINKS = { dashboard: '/dashboard', docs: '/docs', openapi: '/docs-json', health: '/health' };

@ApiTags('operations')
@ApiExtraModels(LandingView)
@Controller()
export class LandingController {
  private readonly page = landingPage(appVersion());

  @Get()
  @Public()
  @ApiOperation({ summary: 'What this node is and where to go: a page for a browser (Accept: text/html), else `{ name, version, links }`.' })
  @ApiOkResponse({
    description: 'JSON by default; HTML when the client prefers text/html.',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(LandingView) } },
      'text/html': { schema: { type: 'string' }, example: '<!doctype html><html lang="en">…<a href="/dashboard">…' },
    },
  })
  getLanding(@Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): LandingView | string {
    reply.header('Vary', 'Accept');
    if (preferred(accept, ['application/json', 'text/html'] as const) === 'text/html') {
      reply.type('text/html; charset=utf-8');
      return this.page;
    }
    return { name: 'CareLedger', version: appVersion(), links: { ...LINKS } };
  }
}

function landingPage(version: string): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CareLedger</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/dashboard/app.css">
</head>
<body>
  <header class="top">
    <h1>CareLedger <small>${escape(version)}</small></h1>
  </header>
  <main class="intro">
    <p>The ledger of device protection plans: plans, claims, replacements, entitlements as of any time, audit. This node is running.</p>
    <ul>
      <li><a href="${LINKS.dashboard}">Service desk</a>: look units up, open and move claims, read a center's figures (sign in with a token from the node's tokens file).</li>
      <li><a href="${LINKS.docs}">API documentation</a> (the OpenAPI document: <a href="${LINKS.openapi}">${LINKS.openapi}</a>).</li>
      <li><a href="${LINKS.health}">Health</a>: whether this node is ready, and how far its read models are behind the log.</li>
    </ul>
  </main>
</body>
</html>
`;
}
