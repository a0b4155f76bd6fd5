import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, parseOrThrow } from '../../src/core/validation.ts';
import { errorResponse, jsonResponse } from './errors.ts';
import type { ScheduledFault } from './faults.ts';
import type { MockModel } from './model.ts';
import { scaleFault } from './scaled.ts';
import { duration, faultSchema } from '../profiles/schema.ts';
import type { MockRequest, MockResponse } from './types.ts';

const tierChangeSchema = z
  .object({
    key: z.string().min(1).optional(),
    org: z.string().min(1).optional(),
    tier: z.number().int().min(0),
    verified: z.boolean().optional(),
    /** Profile time until the change (the seed's 24–48 h), scaled like every duration. */
    after: duration.default(0),
  })
  .strict()
  .refine((b) => b.key !== undefined || b.org !== undefined, { message: 'a `key` or an `org`', path: ['key'] });

const faultsBody = z.union([faultSchema, z.array(faultSchema), z.object({ faults: z.array(faultSchema) }).strict()]);

const adminError = (status: number, message: string): MockResponse =>
  errorResponse(status, { message, type: 'invalid_request_error', param: null, code: null });

function parseJson(req: MockRequest): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(req.body));
  } catch {
    throw new ConfigError('Expected a JSON body');
  }
}

/**
 * Run-time control of the mock: faults, tier changes, stats. Loopback only, and behind a
 * token when one is configured, because it can take the "provider" down.
 */
export async function handleAdmin(model: MockModel, req: MockRequest): Promise<MockResponse> {
  if (!req.loopback) return adminError(403, 'The admin API answers loopback clients only.');
  if (model.adminToken !== undefined && !sameToken(req.headers['x-ratelab-admin-token'], model.adminToken)) {
    return adminError(401, 'Missing or wrong x-ratelab-admin-token.');
  }
  try {
    return route(model, req);
  } catch (error) {
    if (error instanceof ConfigError) return adminError(400, error.message);
    throw error;
  }
}

function route(model: MockModel, req: MockRequest): MockResponse {
  const now = model.clock.now();
  const { method, path } = req;
  if (path === '/__admin/stats' && method === 'GET') return jsonResponse(200, statsOf(model));
  if (path === '/__admin/faults') {
    if (method === 'GET') return jsonResponse(200, { faults: model.faults.list(now).map((f) => describeFault(f, now)) });
    if (method === 'DELETE') return jsonResponse(200, { removed: model.faults.clear(now, new URLSearchParams(req.query).get('all') === 'true') });
    if (method === 'POST') {
      const parsed = parseOrThrow(faultsBody, parseJson(req), 'fault');
      const list = Array.isArray(parsed) ? parsed : 'faults' in parsed ? parsed.faults : [parsed];
      const added = list.map((fault) => model.faults.inject(scaleFault(fault, model.timeScale.factor), now));
      return jsonResponse(201, { faults: added.map((f) => describeFault(f, now)) });
    }
  }
  if (path.startsWith('/__admin/faults/') && method === 'DELETE') {
    const removed = model.faults.remove(path.slice('/__admin/faults/'.length));
    return removed ? jsonResponse(200, { removed: 1 }) : adminError(404, 'No such fault.');
  }
  if (path === '/__admin/tier' && method === 'POST') {
    const change = parseOrThrow(tierChangeSchema, parseJson(req), 'tier change');
    const account = change.key !== undefined ? model.accounts.get(change.key) : model.accounts.findByOrg(change.org!);
    if (!account) return adminError(404, 'No such account (keys look like sk-tier<N>-<anything>; orgs appear in stats once used).');
    model.accounts.scheduleTier(account, change.tier, model.timeScale.toClock(change.after));
    return jsonResponse(200, { org: account.org, tier: account.tier, scheduledIn: model.timeScale.toClock(change.after) });
  }
  return adminError(404, `Invalid admin URL (${method} ${path.slice(0, 200)}).`);
}

function describeFault(f: ScheduledFault, now: number): Record<string, unknown> {
  return {
    id: f.id,
    source: f.source,
    ...f.fault,
    active: now >= f.startsAt,
    startsInMs: Math.max(0, f.startsAt - now),
    endsInMs: f.endsAt === undefined ? null : Math.max(0, f.endsAt - now),
  };
}

function statsOf(model: MockModel): Record<string, unknown> {
  const now = model.clock.now();
  return {
    profile: model.profile.name,
    models: model.served,
    timeScale: model.timeScale.factor,
    seed: model.seed,
    uptimeMs: now - model.startedAt,
    ...model.stats.toJSON(),
    pool: model.pool.state(),
    accounts: model.accounts.all().map((a) => ({
      org: a.org,
      tier: a.tier,
      verified: a.verified,
      remaining: Object.fromEntries(a.usedBuckets().map(([bucket, limits]) => [bucket, limits.remaining(now)])),
    })),
    faults: model.faults.list(now).map((f) => describeFault(f, now)),
  };
}


/**
 * Compares in constant time, so the answer's timing says nothing about how much of a guess
 * was right. Both sides are hashed first: timingSafeEqual needs equal lengths, and a length
 * check would leak the token's length.
 */
export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}
