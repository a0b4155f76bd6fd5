/** Two payloads: a small one (per-request overhead dominates) and OpenAI-sized png bytes. */
export const BENCH_PAYLOADS: Record<'webp' | 'png', string> = {
  webp: JSON.stringify({ prompt: 'bench', quality: 'low', output_format: 'webp' }),
  png: JSON.stringify({ prompt: 'bench', quality: 'low', output_format: 'png' }),
};
