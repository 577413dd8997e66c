import { Module } from '@nestjs/common';
import { DashboardPageController } from './dashboard.controller';

/** The service-center dashboard page at /dashboard (static files; data from the /v1 API). */
@Module({ controllers: [DashboardPageController] })
export class AdminDashboardModule {}
