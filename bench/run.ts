import { benchLimiterThroughput } from './limiter-throughput.ts';
import { benchMockHttp } from './mock-http.ts';
import { benchEngineRate } from './engine-rate.ts';
import { benchEngineCold } from './engine-cold.ts';
import { benchSim } from './sim.ts';
import { benchImagesApi } from './images-api.ts';
import { benchEarlyRefusal } from './early-refusal.ts';
import { benchLimiterAb } from './limiter-ab.ts';
import { benchCliStartup } from './cli-startup.ts';
import { benchSimAb } from './sim-ab.ts';
import { benchSimDay } from './sim-day.ts';
import { benchGatewayTracing } from './gateway-tracing.ts';

/** `npm run bench [-- name…]`: every benchmark, or the named ones; each rewrites its section of bench/RESULTS.md. */
const BENCHES: Record<string, () => Promise<unknown>> = {
  'mock-http': benchMockHttp,
  'limiter-throughput': benchLimiterThroughput,
  'engine-rate': benchEngineRate,
  'engine-cold': benchEngineCold,
  sim: benchSim,
  'images-api': benchImagesApi,
  'early-refusal': benchEarlyRefusal,
  'limiter-ab': benchLimiterAb,
  'cli-startup': benchCliStartup,
  'sim-ab': benchSimAb,
  'sim-day': benchSimDay,
  'gateway-tracing': benchGatewayTracing,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted) {
  if (!(name in BENCHES)) {
    console.error(`ratelab bench: Expected a benchmark name (${Object.keys(BENCHES).join(', ')}), got \`${name}\``);
    process.exit(2);
  }
}
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  console.log(`\n== ${name}`);
  console.log(await BENCHES[name]!());
}
