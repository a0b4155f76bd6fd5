import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * OpenTelemetry's own protobuf definitions of OTLP, compiled by the OpenTelemetry JS project
 * (`@opentelemetry/otlp-transformer` 0.57, installed as `otlp-proto-definitions`: later
 * versions write protobuf by hand and no longer carry a decoder). The receiver decodes with
 * them, not with a parser of ours.
 */
interface Decoder {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: { longs: typeof String; bytes: typeof String; defaults: boolean; enums: typeof String }): RawRequest;
}
const root = createRequire(import.meta.url)('otlp-proto-definitions/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: Decoder } } } } };
};
const REQUEST = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

interface RawValue {
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface RawSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: RawValue }[];
  events: { name: string; timeUnixNano: string; attributes: { key: string; value: RawValue }[] }[];
  links: { traceId: string; spanId: string }[];
  status?: { code?: string; message?: string };
}
interface RawRequest {
  resourceSpans: { resource?: { attributes: { key: string; value: RawValue }[] }; scopeSpans: { scope?: { name: string }; spans: RawSpan[] }[] }[];
}

/** A received span, ids in hex, times in epoch ms, attributes as plain values. */
export interface ReceivedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; atMs: number }[];
  links: { traceId: string; spanId: string }[];
  status: string;
}

const hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');
const value = (v: RawValue): string | number | boolean => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? ''));
const attrs = (list: { key: string; value: RawValue }[] = []): Record<string, string | number | boolean> => Object.fromEntries(list.map((a) => [a.key, value(a.value)]));

/** Decodes one OTLP/HTTP protobuf export request into its spans. */
export function decodeTraces(body: Uint8Array): ReceivedSpan[] {
  const raw = REQUEST.toObject(REQUEST.decode(body), { longs: String, bytes: String, defaults: true, enums: String });
  return raw.resourceSpans.flatMap((rs) => {
    const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
    return rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((s) => ({
        service,
        scope: ss.scope?.name ?? '',
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: s.parentSpanId ? hex(s.parentSpanId) || undefined : undefined,
        name: s.name,
        kind: s.kind,
        startMs: Number(BigInt(s.startTimeUnixNano) / 1000n) / 1000,
        endMs: Number(BigInt(s.endTimeUnixNano) / 1000n) / 1000,
        attributes: attrs(s.attributes),
        events: s.events.map((e) => ({ name: e.name, atMs: Number(BigInt(e.timeUnixNano) / 1000n) / 1000 })),
        links: s.links.map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
        status: s.status?.code ?? 'STATUS_CODE_UNSET',
      })),
    );
  });
}

/** An OTLP/HTTP receiver (POST /v1/traces, protobuf) on a free loopback port, keeping every span it is sent. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests that were not protobuf OTLP: the test fails on any. */
  readonly refused: string[] = [];
  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/x-protobuf') {
          receiver!.refused.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
          res.writeHead(415).end();
          return;
        }
        receiver!.spans.push(...decodeTraces(Buffer.concat(chunks)));
        // An empty ExportTraceServiceResponse: everything accepted.
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  /** Waits until `done(spans)` holds (spans come in batches, a few hundred ms apart), or throws after `ms`. */
  async until(done: (spans: ReceivedSpan[]) => boolean, ms = 10_000): Promise<ReceivedSpan[]> {
    const end = Date.now() + ms;
    while (!done(this.spans)) {
      if (Date.now() > end) throw new Error(`OTLP receiver: condition not met after ${ms} ms; got ${this.spans.length} spans: ${this.spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.spans;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
