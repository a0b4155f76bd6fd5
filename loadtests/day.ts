// k6 run loadtests/day.ts  (k6 >= 0.57; env BASE_URL, API_KEY, TIME_SCALE, CAPACITY, MOCK_URL, MIX, SUMMARY_PATH)
import { k6Script } from './lib/k6-script.ts';

const script = k6Script('day');
export const options = script.options;
export default script.iteration;
export const injectOutage = script.injectOutage;
export const handleSummary = script.handleSummary;
