/**
 * The local model provider: deterministic, grounded answers composed from the retrieved FAQ text.
 * Used whenever Bedrock is not configured, and as the fallback when it fails.
 */
import type { AnswerRequest, AnswerResult, Clock, ModelProvider } from './ports';
import { systemClock } from './ports';

export const LOCAL_MODEL_ID = 'local';

export class ExtractiveAnswerer implements ModelProvider {
  readonly name = 'local';

  constructor(private readonly clock: Clock = systemClock) {}

  async answer(request: AnswerRequest): Promise<AnswerResult> {
    const started = this.clock.now();
    const [best, ...others] = request.passages;
    if (!best) throw new Error('ExtractiveAnswerer needs at least one passage');
    const related = others.slice(0, 2).map((p) => `- ${p.question}`);
    const text = related.length
      ? `${best.answer.trim()}\n\nRelated articles:\n${related.join('\n')}`
      : best.answer.trim();
    return {
      text,
      citedFaqIds: [best.faqId, ...others.slice(0, 2).map((p) => p.faqId)],
      provider: this.name,
      usage: {
        modelId: LOCAL_MODEL_ID,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        latencyMs: this.clock.now() - started,
      },
    };
  }
}
