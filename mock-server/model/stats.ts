import type { MockReason } from '../../src/metrics/catalogue.ts';
import type { Dimension } from './limits.ts';

/** Plain counts for `GET /__admin/stats`: what tests and people read without Prometheus. */
export class MockStats {
  total = 0;
  readonly byStatus: Record<string, number> = {};
  readonly byReason: Partial<Record<MockReason, number>> = {};
  readonly limitRejections: Partial<Record<Dimension, number>> = {};
  earlyRetries = 0;
  /** Requests that said they were a retry (X-Stainless-Retry-Count), by that count. */
  readonly clientRetries: Record<string, number> = {};
  images = 0;

  record(status: number, reason: MockReason): void {
    this.total++;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
  }

  toJSON(): Record<string, unknown> {
    const retries = Object.values(this.clientRetries).reduce((a, b) => a + b, 0);
    return {
      total: this.total,
      byStatus: this.byStatus,
      byReason: this.byReason,
      limitRejections: this.limitRejections,
      earlyRetries: this.earlyRetries,
      clientRetries: { total: retries, byRetryCount: this.clientRetries },
      images: this.images,
    };
  }
}
