import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../gateway/config.ts';
import { startTracing, tracingWanted } from './tracing.ts';

describe('turning tracing on', () => {
  it('is off unless a config endpoint or an OTLP endpoint variable is set, and OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none win', () => {
    expect(tracingWanted(undefined, {})).toBe(false);
    expect(tracingWanted({ sampleRatio: 0.5 }, {})).toBe(false);
    expect(tracingWanted({ endpoint: 'http://127.0.0.1:4318' }, {})).toBe(true);
    expect(tracingWanted(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(true);
    expect(tracingWanted(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(tracingWanted({ endpoint: 'http://127.0.0.1:4318' }, { OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingWanted(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('off, is the API’s no-op tracer: nothing recorded', async () => {
    const t = await startTracing('ratelab-test', undefined, {});
    expect(t.enabled).toBe(false);
    expect(t.tracer.startSpan('x').isRecording()).toBe(false);
  });

  it('refuses a protocol it cannot send, and a sample ratio outside 0–1, naming them', async () => {
    await expect(startTracing('ratelab-test', { endpoint: 'http://127.0.0.1:4318' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).rejects.toThrow(
      'Expected `OTEL_EXPORTER_OTLP_PROTOCOL` to be one of http/protobuf, http/json, got `grpc` (grpc is not bundled: point it at a collector\'s OTLP/HTTP port, 4318)',
    );
    await expect(startTracing('ratelab-test', { endpoint: 'http://127.0.0.1:4318', sampleRatio: 2 }, {})).rejects.toThrow('Expected `otel.sampleRatio` to be a number from 0 to 1, got `2` (number)');
    expect(() => parseGatewayConfig({ otel: { endpoint: 'not a url' } })).toThrow(/otel\.endpoint.*an OTLP\/HTTP base URL like http:\/\/127\.0\.0\.1:4318/);
    expect(() => parseGatewayConfig({ otel: { sampleRatio: 1.5 } })).toThrow(/otel\.sampleRatio.*a number from 0 to 1/);
  });
});
