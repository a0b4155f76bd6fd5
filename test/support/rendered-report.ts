import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
/** Like the Redis and Prometheus suites: skipped on a machine without the browser, never in CI (.ci/run installs it). */
export const noChromium = !existsSync(CHROMIUM) && process.env.CI !== 'true';

export interface RenderedChart {
  id: string;
  points: number;
  /** Non-null, non-zero values drawn. */
  values: number;
  /** Canvas pixels with ink. */
  inked: number;
  xMax: number;
  /** Each series as its legend shows it, with its colour. */
  series: { label: string; stroke: string }[];
  /** The legend's text as a person sees it. */
  legend: string;
  /** The y axis's tick labels as drawn. */
  yTicks: string[];
}

/**
 * Opens a report in headless Chromium with no network and reads what a person sees: the
 * page's text and, for each chart, its legend, axis ticks, series and inked pixels.
 * Console errors, page errors and any request for something other than the file fail.
 */
export async function renderReport(file: string): Promise<{ text: string; charts: RenderedChart[] }> {
  expect(existsSync(CHROMIUM), 'CI=true but no Debian chromium: .ci/run must install it').toBe(true);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.route('**/*', (route) => (route.request().url().startsWith('file://') ? route.continue() : (problems.push(route.request().url()), route.abort())));
    await page.goto(`file://${file}`);
    const charts = await page.evaluate(() => {
      interface Plot {
        data: (number | null)[][];
        scales: { x: { max: number } };
        series: { label: string; stroke: () => string }[];
        axes: { _values?: string[] }[];
      }
      const w = window as unknown as { ratelabCharts: { id: string; points: number; plot: Plot }[] };
      return w.ratelabCharts.map((c) => {
        const canvas = document.querySelector(`#${c.id} canvas`) as HTMLCanvasElement;
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) inked++;
        return {
          id: c.id,
          points: c.points,
          values: c.plot.data.slice(1).flat().filter((v) => v !== null && v !== 0).length,
          inked,
          xMax: c.plot.scales.x.max,
          series: c.plot.series.slice(1).map((s) => ({ label: s.label, stroke: s.stroke() })),
          legend: (document.querySelector(`#${c.id} .u-legend`) as HTMLElement).innerText,
          yTicks: (c.plot.axes[1]?._values ?? []).map(String),
        };
      });
    });
    const text = await page.evaluate(() => document.body.innerText);
    expect(problems).toEqual([]);
    return { text, charts };
  } finally {
    await browser.close();
  }
}
