import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { Runtime } from '@careledger/runtime';
import { AuthGuard } from './auth/auth.guard';
import { TokenRegistry } from './auth/tokens';
import { AdminDashboardModule } from './dashboard/dashboard.module';
import { AuditController } from './controllers/audit.controller';
import { ClaimsController } from './controllers/claims.controller';
import { CorrectionsController, ServiceCentersController } from './controllers/admin.controller';
import { DevicesController } from './controllers/devices.controller';
import { MeController } from './controllers/me.controller';
import { OpsController } from './controllers/ops.controller';
import { PlansController } from './controllers/plans.controller';
import { CommandsService } from './http/commands.service';
import { MetricsService } from './http/metrics.service';
import { ProblemFilter } from './http/problem';

@Module({})
export class AppModule {
  static create(runtime: Runtime, tokens: TokenRegistry, metrics: MetricsService): DynamicModule {
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
      ],
      providers: [
        { provide: Runtime, useValue: runtime },
        { provide: TokenRegistry, useValue: tokens },
        { provide: MetricsService, useValue: metrics },
        CommandsService,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
