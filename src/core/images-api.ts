/**
 * Facts of OpenAI's images API, shared by the mock, the limiter and the gateway: the
 * accepted values and the output tokens per image by quality × size (OpenAI's
 * image-generation guide).
 */
export const SIZES = ['1024x1024', '1536x1024', '1024x1536'] as const;
export const QUALITIES = ['low', 'medium', 'high'] as const;
export const FORMATS = ['png', 'jpeg', 'webp'] as const;
export const BACKGROUNDS = ['transparent', 'opaque'] as const;

export type Size = (typeof SIZES)[number];
export type Quality = (typeof QUALITIES)[number];
export type OutputFormat = (typeof FORMATS)[number];
export type Background = (typeof BACKGROUNDS)[number];

export const OUTPUT_TOKENS: Record<Quality, Record<Size, number>> = {
  low: { '1024x1024': 272, '1024x1536': 408, '1536x1024': 400 },
  medium: { '1024x1024': 1056, '1024x1536': 1584, '1536x1024': 1568 },
  high: { '1024x1024': 4160, '1024x1536': 6240, '1536x1024': 6208 },
};

export const MAX_PROMPT_CHARS = 32_000;

/** OpenAI bills prompt text by tokens; ~4 characters a token is its documented rule of thumb. */
export function estimatePromptTokens(prompt: string): number {
  return Math.max(1, Math.ceil(prompt.length / 4));
}

export function sizeDimensions(size: Size): { width: number; height: number } {
  const [width, height] = size.split('x').map(Number) as [number, number];
  return { width, height };
}
