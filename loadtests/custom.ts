// k6 run -e RATE=80 -e DURATION=10m loadtests/custom.ts   (or -e VUS=20; k6 >= 0.57; env as the other scripts: BASE_URL, API_KEY, TIME_SCALE, MIX, SUMMARY_PATH)
import { k6Script } from './lib/k6-script.ts';

const script = k6Script('custom');
export const options = script.options;
export default script.iteration;
export const injectOutage = script.injectOutage;
export const handleSummary = script.handleSummary;
