/**
 * The public WebSocket protocol (docs/websocket-api.md): client actions validated here, server frames
 * built here, so every handler speaks exactly the documented shapes.
 */
import { z } from 'zod';
import type { Citation } from './conversationEngine';
import type { EscalationReason } from './escalationPolicy';

export const MAX_MESSAGE_CHARS = 4000;
export const CONVERSATION_ID = /^[A-Za-z0-9_-]{8,64}$/;

// C0/C1 control characters other than tab and newlines, bidi overrides (text spoofing) and lone
// surrogates are removed from customer text.
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const sendMessageSchema = z
  .object({
    action: z.literal('sendMessage'),
    text: z
      .string({ invalid_type_error: 'text must be a string', required_error: 'text is required' })
      .transform((t) => t.replace(CONTROL, '').trim())
      .pipe(
        z
          .string()
          .min(1, 'text must not be empty')
          .max(MAX_MESSAGE_CHARS, `text must be at most ${MAX_MESSAGE_CHARS} characters`),
      ),
    conversationId: z.string().regex(CONVERSATION_ID, 'conversationId is not a valid id').optional(),
    clientMessageId: z
      .string()
      .regex(
        /^[A-Za-z0-9_.:-]{1,100}$/,
        'clientMessageId must be 1-100 characters of letters, digits, _ . : -',
      )
      .optional(),
  })
  .strict();
export type SendMessage = z.infer<typeof sendMessageSchema>;

export const ERROR_CODES = [
  'InvalidJson',
  'ValidationError',
  'MessageTooLong',
  'UnknownAction',
  'UnknownConversation',
  'ConversationClosed',
  'RateLimited',
  'Unauthorized',
  'InternalError',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ReplyFrame {
  readonly type: 'reply';
  readonly conversationId: string;
  readonly messageId: string;
  readonly text: string;
  readonly intent: string;
  readonly productArea: string;
  readonly confidence: number;
  readonly citations: readonly Citation[];
  readonly escalated: false;
  readonly clientMessageId?: string;
}

export interface EscalatedFrame {
  readonly type: 'escalated';
  readonly conversationId: string;
  readonly caseId: string;
  readonly reason: EscalationReason;
  readonly text: string;
  readonly clientMessageId?: string;
}

export interface AgentMessageFrame {
  readonly type: 'agentMessage';
  readonly conversationId: string;
  readonly text: string;
  readonly agentName: string;
}

export interface ErrorFrame {
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly message: string;
  readonly clientMessageId?: string;
}

export type ServerFrame = ReplyFrame | EscalatedFrame | AgentMessageFrame | ErrorFrame;

export const errorFrame = (code: ErrorCode, message: string, clientMessageId?: string): ErrorFrame => ({
  type: 'error',
  code,
  message,
  ...(clientMessageId ? { clientMessageId } : {}),
});
