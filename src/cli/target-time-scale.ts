import { CliError } from './options.ts';

/**
 * The time scale a running gateway (or mock) says it runs at, on GET /healthz. A load test
 * at another scale than its target would describe a different account: 0.1 against a
 * gateway at 1 sends ten times the scenario's rate.
 */
export async function targetTimeScale(url: string): Promise<number | undefined> {
  const healthz = `${url.replace(/\/$/, '')}/healthz`;
  let res: Response;
  try {
    res = await fetch(healthz, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new CliError(`Expected \`--target\` to answer GET ${healthz}, got ${cause}. Start it first (ratelab stack, or ratelab gateway), or drop --target to start one here`);
  }
  const body = (await res.json().catch(() => undefined)) as { timeScale?: unknown } | undefined;
  return typeof body?.timeScale === 'number' ? body.timeScale : undefined;
}

/**
 * The scale to run at against a target: the target's, unless `--time-scale` was given and
 * differs, which is refused. A target that does not say (an older gateway, another proxy)
 * runs at the scale given.
 */
export function scaleForTarget(given: { value: number; explicit: boolean }, target: number | undefined): number {
  if (target === undefined || target === given.value) return given.value;
  if (!given.explicit) return target;
  throw new CliError(
    `Expected \`--time-scale\` to be the target's time scale, ${target} (its /healthz says so), got \`${given.value}\` (number). Drop --time-scale to run at the target's, or restart the target with TIME_SCALE=${given.value}`,
  );
}
