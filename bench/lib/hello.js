/**
 * The baseline: a bare NestJS hello-world on @nestjs/platform-fastify (what `nest new` serves,
 * on the fastest Nest platform), no guards, pipes, hooks or logging. PORT from the environment.
 */
'use strict';
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

class AppController {
  getHello() {
    return 'Hello World!';
  }
}
Controller()(AppController);
Get()(AppController.prototype, 'getHello', Object.getOwnPropertyDescriptor(AppController.prototype, 'getHello'));

class AppModule {}
Module({ controllers: [AppController] })(AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
  process.once('SIGTERM', () => process.exit(0));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
