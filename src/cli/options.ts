import { Option } from 'commander';
import { parseGoDuration } from '../core/duration.ts';
import { MAX_TIME_SCALE, MIN_TIME_SCALE } from '../core/time-scale.ts';
import { expectationMessage } from '../core/validation.ts';

/** CLI argument parsers that fail with p-queue-style messages naming the flag. */
export class CliError extends Error {
  override name = 'CliError';
}

export function intOption(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(expectationMessage(flag, `an integer from ${min} to ${max}`, value));
    return n;
  };
}

export function numberOption(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new CliError(expectationMessage(flag, `a number from ${min} to ${max}`, value));
    return n;
  };
}

export function durationOption(flag: string) {
  return (value: string): number => {
    try {
      const ms = parseGoDuration(value);
      if (ms >= 0) return ms;
    } catch {
      // reported below
    }
    throw new CliError(expectationMessage(flag, 'a Go duration like "10m" (0 = off)', value));
  };
}

/** `--time-scale`, defaulting to TIME_SCALE from the environment (checked by the same parser), else 1. */
export function timeScaleOption(description: string): Option {
  return new Option('--time-scale <s>', description)
    .env('TIME_SCALE')
    .argParser(numberOption('--time-scale', MIN_TIME_SCALE, MAX_TIME_SCALE))
    .default(1);
}

/** 127.0.0.0/8, ::1 or localhost: load tests and the mock's default key stay on this machine. */
const LOOPBACK_URL = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/;

export function isLoopbackUrl(url: string): boolean {
  return LOOPBACK_URL.test(url);
}
