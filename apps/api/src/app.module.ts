import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { Runtime } from '@careledger/runtime';
import { AuthGuard, AuthOptions } from './auth/auth.guard';
import { TokenRegistry } from './auth/tokens';
import { AdminDashboardModule } from './dashboard/dashboard.module';
import { AuditController } from './controllers/audit.controller';
import { ClaimsController } from './controllers/claims.controller';
import { CorrectionsController, ServiceCentersController } from './controllers/admin.controller';
import { DevicesController } from './controllers/devices.controller';
import { CorrectionPreviewController, StatementController } from './controllers/evidence.controller';
import { IntegrationController } from './controllers/integration.controller';
import { LandingController } from './controllers/landing.controller';
import { MeController } from './controllers/me.controller';
import { OpsController } from './controllers/ops.controller';
import { PlansController } from './controllers/plans.controller';
import { CommandRunner } from './http/command-runner';
import { AppLogger } from './http/logger';
import { MetricsService } from './http/metrics.service';
import { ProblemFilter } from './http/problem';
import { Directory, LedgerCommands, LedgerQueries, Operations } from './ports/ports';
import { RuntimeCommands, RuntimeDirectory, RuntimeOperations, RuntimeQueries } from './ports/runtime-ports';
import { CorrectionPreviews, Statements } from './ports/evidence-ports';
import { RuntimeCorrectionPreviews, RuntimeStatements } from './ports/evidence-runtime-ports';
import { EventFeed, WebhookDirectory } from './ports/integration-ports';
import { RuntimeEventFeed, RuntimeWebhookDirectory } from './ports/runtime-integration-ports';

@Module({})
export class AppModule {
  static create(runtime: Runtime, tokens: TokenRegistry, metrics: MetricsService, logger: AppLogger, auth = new AuthOptions()): DynamicModule {
    return {
      module: AppModule,
      imports: [AdminDashboardModule],
      controllers: [
        DevicesController,
        PlansController,
        ClaimsController,
        ServiceCentersController,
        CorrectionsController,
        AuditController,
        OpsController,
        MeController,
        CorrectionPreviewController,
        StatementController,
        IntegrationController,
        LandingController,
      ],
      providers: [
        { provide: LedgerCommands, useValue: new RuntimeCommands(runtime) },
        { provide: LedgerQueries, useValue: new RuntimeQueries(runtime) },
        { provide: Directory, useValue: new RuntimeDirectory(runtime) },
        { provide: Operations, useValue: new RuntimeOperations(runtime) },
        { provide: CorrectionPreviews, useValue: new RuntimeCorrectionPreviews(runtime) },
        { provide: Statements, useValue: new RuntimeStatements(runtime) },
        { provide: EventFeed, useValue: new RuntimeEventFeed(runtime) },
        { provide: WebhookDirectory, useValue: new RuntimeWebhookDirectory(runtime) },
        { provide: TokenRegistry, useValue: tokens },
        { provide: AuthOptions, useValue: auth },
        { provide: MetricsService, useValue: metrics },
        { provide: AppLogger, useValue: logger },
        CommandRunner,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
