import type { ImageModel } from 'openai/resources/images';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/validation.ts';
import { Catalogue, CATALOGUE } from './catalogue.ts';
import { estimateTokens, imageCost } from './cost.ts';
import { MODELS } from './models.ts';
import { priceOf } from './prices.ts';
import { checkSize, sizeLabel } from './sizes.ts';
import { outputTokens } from './tokens.ts';

/** SDK 7.59's `ImageModel`, every one: the type check below fails when the SDK names a model the catalogue lacks. */
const SDK_MODELS = [
  'gpt-image-1.5',
  'gpt-image-2',
  'gpt-image-2-2026-04-21',
  'gpt-image-2.5-sunburst',
  'gpt-image-2.5-sunburst-2026-09-08',
  'gpt-image-2.5-flare',
  'gpt-image-2.5-flare-2026-09-08',
  'gpt-image-2.6-sunburst',
  'gpt-image-2.6-flare',
  'gpt-image-1',
  'gpt-image-1-mini',
  'chatgpt-image-latest',
  'dall-e-2',
  'dall-e-3',
] as const satisfies readonly ImageModel[];
type Missing = Exclude<ImageModel, (typeof SDK_MODELS)[number]>;
const everySdkModelListed: [Missing] extends [never] ? true : Missing = true;

describe('the model catalogue', () => {
  it("holds every model of SDK 7's ImageModel, and marks the shut-down ones", () => {
    expect(everySdkModelListed).toBe(true);
    expect(CATALOGUE.ids().sort()).toEqual([...SDK_MODELS].sort());
    expect(CATALOGUE.get('gpt-image-1')!.status).toEqual({ state: 'retired', since: '2026-10-23', use: 'gpt-image-2.5-sunburst or gpt-image-2.5-flare' });
    expect(CATALOGUE.get('dall-e-3')!.status).toMatchObject({ state: 'retired', since: '2026-05-12' });
    expect(CATALOGUE.active()).not.toContain('gpt-image-1');
    expect(CATALOGUE.active()).toHaveLength(11);
  });

  it('gives snapshots their family (and so its rate-limit bucket)', () => {
    expect(CATALOGUE.get('gpt-image-2-2026-04-21')!.family).toBe('gpt-image-2');
    expect(CATALOGUE.get('gpt-image-2.5-flare-2026-09-08')!.family).toBe('gpt-image-2.5-flare');
    expect(CATALOGUE.get('gpt-image-2.5-flare')!.family).toBe('gpt-image-2.5-flare');
  });

  it('says where each number comes from', () => {
    const source = (id: string) => {
      const m = CATALOGUE.get(id)!;
      return [m.tokens.source, m.prices.source, m.tiers.source];
    };
    expect(source('gpt-image-1')).toEqual(['documented', 'documented', 'documented']);
    expect(source('gpt-image-2')).toEqual(['reported', 'documented', 'estimated']);
    expect(source('gpt-image-2.5-flare')).toEqual(['estimated', 'estimated', 'documented']);
    expect(source('gpt-image-1.5')).toEqual(['estimated', 'estimated', 'documented']);
    for (const id of CATALOGUE.ids()) expect(CATALOGUE.get(id)!.inputImageTokens.source).toBe('estimated');
  });

  it("has gpt-image-1's documented token table", () => {
    const t = CATALOGUE.get('gpt-image-1')!.tokens;
    expect(outputTokens(t, 'low', { width: 1024, height: 1024 })).toBe(272);
    expect(outputTokens(t, 'medium', { width: 1024, height: 1536 })).toBe(1584);
    expect(outputTokens(t, 'high', { width: 1536, height: 1024 })).toBe(6208);
  });

  it("fits gpt-image-2's tokens to the community figures: exact at 1024², 4K within 10 %, growing with pixels and quality", () => {
    const t = CATALOGUE.get('gpt-image-2')!.tokens;
    if (t.kind !== 'pixels') throw new Error('gpt-image-2 is priced by pixels');
    const errors = t.calibration.map(([size, q, reported]) => {
      const [w, h] = size.split('x').map(Number) as [number, number];
      return outputTokens(t, q, { width: w, height: h }) / reported - 1;
    });
    expect(errors.slice(0, 3)).toEqual([0, 0, 0]);
    // 1536x1024 high is reported *below* 1024² high: no function growing with pixels fits it (+43 %).
    expect(errors[3]).toBeCloseTo(0.43, 1);
    expect(Math.abs(errors[4]!)).toBeLessThan(0.1);
    let last = 0;
    for (const px of [[1024, 640], [1024, 1024], [1536, 864], [2560, 1440], [3840, 2160]] as const) {
      const tokens = outputTokens(t, 'high', { width: px[0], height: px[1] });
      expect(tokens).toBeGreaterThan(last);
      last = tokens;
    }
    const flare = CATALOGUE.get('gpt-image-2.5-flare')!.tokens;
    const q = (quality: 'low' | 'medium' | 'high' | 'xhigh' | 'max') => outputTokens(flare, quality, { width: 1024, height: 1024 });
    expect([q('low'), q('medium'), q('high'), q('xhigh'), q('max')]).toEqual([200, 1767, 7024, 10_536, 14_048]);
  });

  it('applies overrides, validates them, and adds a model `like` another', () => {
    const c = new Catalogue(MODELS, { 'gpt-image-1': { status: { state: 'active' } }, 'house-model': { like: 'gpt-image-2-2026-04-21', qualities: ['low'] } }, 'test');
    expect(c.active()).toContain('gpt-image-1');
    expect(c.get('house-model')).toMatchObject({ family: 'house-model', qualities: ['low'], sizes: { freeForm: { multipleOf: 16 } } });
    expect(() => new Catalogue(MODELS, { nope: { qualities: ['low'] } }, 'profile "x"')).toThrow(/Expected `models\.nope\.like` in profile "x" to name a catalogue model/);
    expect(() => new Catalogue(MODELS, { 'gpt-image-2': { qualities: ['ultra'] as never } }, 'profile "x"')).toThrow(ConfigError);
    expect(() => new Catalogue(MODELS, { 'gpt-image-2': { qualities: ['ultra'] as never } }, 'profile "x"')).toThrow(/models\.gpt-image-2\.qualities\.0/);
    expect(() => new Catalogue(MODELS, { 'gpt-image-2': { sizes: { sideways: true } as never } }, 'x')).toThrow(/Unknown field `sideways` in models\.gpt-image-2\.sizes/);
    expect(CATALOGUE.with({}, 'x')).toBe(CATALOGUE);
    expect(CATALOGUE.with({ 'gpt-image-2': { markup: true } }, 'x').get('gpt-image-2')!.markup).toBe(true);
  });
});

describe('free-form sizes (gpt-image-2 and 2.5)', () => {
  const sizes = CATALOGUE.get('gpt-image-2')!.sizes;
  it.each(['1536x864', '864x1536', '3840x2160', '1024x640', '2048x2048', '1024x1024', 'auto'])('accepts %s', (size) => {
    expect(checkSize(size, 'gpt-image-2', sizes)).toHaveProperty('width');
  });
  it.each([
    ['1000x1000', /divisible by 16/],
    ['4000x1000', /aspect ratio/],
    ['3072x976', /aspect ratio/],
    ['3856x2160', /maximum supported resolution/],
    ['2176x2176', /maximum supported resolution/],
    ['768x768', /total pixels/],
    ['big', /Supported values for gpt-image-2/],
  ])('refuses %s', (size, message) => {
    const result = checkSize(size, 'gpt-image-2', sizes);
    expect(result).not.toHaveProperty('width');
    expect((result as { body: { message: string; param: string } }).body).toMatchObject({ param: 'size', message: expect.stringMatching(message) });
  });
  it('labels sizes for metrics with a bounded set', () => {
    expect(sizeLabel(1024, 1024)).toBe('1024x1024');
    expect(sizeLabel(1536, 864)).toBe('custom-2mp');
    expect(sizeLabel(3840, 2160)).toBe('custom-8mp');
  });
});

describe('cost and price from the catalogue', () => {
  it('charges every billed token: output by quality × pixels, the prompt, and input images of an edit', () => {
    const plain = imageCost({ model: 'gpt-image-2', prompt: 'x'.repeat(40), quality: 'high', size: '1024x1024', n: 2 });
    expect(plain).toEqual({ rpm: 1, ipm: 2, tpm: 2 * 7024 + 10 });
    const edit = estimateTokens({ model: 'gpt-image-1.5', prompt: 'x', quality: 'low', inputImages: [{ width: 1024, height: 1024 }, { width: 4096, height: 2048 }], input_fidelity: 'high' });
    // 1024² → 2×2 tiles; 4096×2048 fitted into 2048 → 2048×1024 → 4×2 tiles; high fidelity adds 4096 each (estimates).
    expect(edit.imageInputTokens).toBe(65 + 129 * 4 + 4096 + (65 + 129 * 8 + 4096));
    expect(imageCost({ model: 'gpt-image-1.5', image: ['a', 'b'] }).tpm).toBeGreaterThan(imageCost({ model: 'gpt-image-1.5' }).tpm);
  });

  it('prices per token where the model is billed so, per image for gpt-image-1', () => {
    // 7024 output tokens × $30/M + 1 text token × $5/M.
    expect(priceOf({ model: 'gpt-image-2', prompt: 'abc', quality: 'high', size: '1024x1024' })).toBeCloseTo((7024 * 30 + 1 * 5) / 1e6, 9);
    expect(priceOf({ model: 'gpt-image-1', quality: 'high', size: '1536x1024', n: 2 })).toBeCloseTo(0.5, 9);
    // An unknown model is priced as the default model (an estimate), never as free.
    expect(priceOf({ model: 'gpt-image-9', quality: 'low' })).toBeGreaterThan(0);
  });
});
