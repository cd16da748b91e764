/**
 * The turn workflow's state (statemachines/turn.asl.json): the input ids plus what each stage added.
 * Validated at every Task so a malformed execution fails loudly at its first step.
 */
import { z } from 'zod';
import type { ClassifiedMessage, RetrievalOutcome } from '#core/conversationEngine';

export const turnInputSchema = z.object({
  conversationId: z.string().min(1).max(100),
  messageId: z.string().min(1).max(100),
  connectionId: z.string().min(1).max(200).optional(),
  receivedAt: z.number().int().nonnegative(),
});

const stageOutput = <T>() => z.custom<T>((value) => typeof value === 'object' && value !== null);

export const turnStateSchema = turnInputSchema.extend({
  classified: stageOutput<ClassifiedMessage>().optional(),
  retrieval: stageOutput<RetrievalOutcome>().optional(),
  failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough().optional(),
});

export type TurnState = z.infer<typeof turnStateSchema>;

export function parseTurnState(event: unknown): TurnState {
  const parsed = turnStateSchema.safeParse(event);
  if (!parsed.success) {
    throw new Error(
      `invalid turn state: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
