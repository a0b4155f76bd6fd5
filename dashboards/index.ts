import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { gatewayDashboard } from './gateway.ts';
import { loadtestDashboard } from './loadtest.ts';
import { upstreamDashboard } from './upstream.ts';

/** Every dashboard, by the file name of its generated JSON. */
export const DASHBOARDS: Record<string, () => Dashboard> = {
  'ratelab-gateway': gatewayDashboard,
  'ratelab-upstream': upstreamDashboard,
  'ratelab-loadtest': loadtestDashboard,
};

export const dashboardJson = (build: () => Dashboard): string => `${JSON.stringify(build(), null, 2)}\n`;
