import { Module } from '@nestjs/common';
import { DashboardPageController } from './dashboard.controller';

@Module({ controllers: [DashboardPageController] })
export class AdminDashboardModule {}
