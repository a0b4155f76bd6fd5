/**
 * Go's time.Duration text form, which OpenAI uses in x-ratelimit-reset-* ("1s", "6m0s",
 * "12ms"). Hand-written: npm's duration parsers (ms, parse-duration) accept a different
 * grammar and do not print Go's form.
 */
const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const TERM = /^(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/;

/** Parses a Go duration ("1h2m3.5s", "250ms", "0") into milliseconds. Throws on bad input. */
export function parseGoDuration(text: string): number {
  const original = text;
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new Error(`Expected a Go duration like "1m30s", got \`${original}\``);
  let ns = 0;
  while (rest.length > 0) {
    const match = TERM.exec(rest);
    if (match === null || match[1] === '' || match[1] === '.') {
      throw new Error(`Expected a Go duration like "1m30s", got \`${original}\``);
    }
    ns += Number(match[1]) * UNIT_NS[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return (sign * ns) / 1e6;
}

function trimFraction(whole: number, fraction: number, digits: number): string {
  if (fraction === 0) return String(whole);
  return `${whole}.${String(fraction).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** Formats milliseconds exactly as Go's Duration.String() would (nanosecond precision). */
export function formatGoDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  if (ns < 1e3) return `${sign}${ns}ns`;
  if (ns < 1e6) return `${sign}${trimFraction(Math.floor(ns / 1e3), ns % 1e3, 3)}µs`;
  if (ns < 1e9) return `${sign}${trimFraction(Math.floor(ns / 1e6), ns % 1e6, 6)}ms`;
  const hours = Math.floor(ns / 3600e9);
  const minutes = Math.floor((ns % 3600e9) / 60e9);
  const secondsNs = ns % 60e9;
  const seconds = trimFraction(Math.floor(secondsNs / 1e9), secondsNs % 1e9, 9);
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/** A duration as a person writes it, to a tenth of a second: 6m, 1m30s, 4m44.2s, 2h (Go's form without trailing zero units). */
export function humanDuration(ms: number): string {
  return formatGoDuration(Math.round(ms / 100) * 100).replace(/(\d)m0s$/, '$1m').replace(/(\d)h0m$/, '$1h');
}

/** Accepts a Go duration string or a number of milliseconds (config files allow both). */
export function toMs(value: string | number): number {
  return typeof value === 'number' ? value : parseGoDuration(value);
}

/** Rounds up to whole milliseconds, ignoring float noise (2000.0000001 → 2000, not 2001). */
export function ceilMs(ms: number): number {
  return Math.ceil(ms - 1e-6);
}
