/**
 * The public WebSocket protocol (docs/websocket-api.md): client actions validated here, server frames
 * built here, so every handler speaks exactly the documented shapes.
 */
import { z } from 'zod';
import type { Citation } from './conversationEngine';
import type { EscalationReason } from './escalationPolicy';

export const MAX_MESSAGE_CHARS = 4000;
export const CONVERSATION_ID = /^[A-Za-z0-9_-]{8,64}$/;
export const CLIENT_MESSAGE_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
const clientMessageIdSchema = z
  .string()
  .regex(CLIENT_MESSAGE_ID, 'clientMessageId must be 1-100 characters of letters, digits, _ . : -');

// C0/C1 control characters other than tab and newline, bidi embeddings/overrides/isolates (text
// spoofing) and lone surrogates are removed from customer text.
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Whitespace and invisible format characters at either end: a message of only these is empty. */
const INVISIBLE_EDGES =
  /^[\s\u200B-\u200D\u2060-\u2064\uFEFF\u00AD]+|[\s\u200B-\u200D\u2060-\u2064\uFEFF\u00AD]+$/g;
/** Combining marks kept on one base character ("Zalgo" text stacks hundreds). */
const MAX_COMBINING_MARKS = 8;
const EXCESS_COMBINING = new RegExp(`(\\p{M}{${MAX_COMBINING_MARKS}})\\p{M}+`, 'gu');

/**
 * Customer text as it is stored and processed: line breaks as \n, control characters, bidi overrides and
 * lone surrogates removed, Unicode NFC (so "é" typed two ways is one string), combining-mark stacks capped,
 * outer whitespace and invisible characters trimmed.
 */
export const cleanCustomerText = (text: string): string =>
  text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '')
    .normalize('NFC')
    .replace(EXCESS_COMBINING, '$1')
    .replace(INVISIBLE_EDGES, '');

export const sendMessageSchema = z
  .object({
    action: z.literal('sendMessage'),
    text: z
      .string({ invalid_type_error: 'text must be a string', required_error: 'text is required' })
      .transform(cleanCustomerText)
      .pipe(
        z
          .string()
          .min(1, 'text must not be empty')
          .max(MAX_MESSAGE_CHARS, `text must be at most ${MAX_MESSAGE_CHARS} characters`),
      ),
    conversationId: z.string().regex(CONVERSATION_ID, 'conversationId is not a valid id').optional(),
    clientMessageId: clientMessageIdSchema.optional(),
  })
  .strict();
export type SendMessage = z.infer<typeof sendMessageSchema>;

/** The customer ends the conversation ("End chat"): a case nobody answered yet is abandoned. */
export const endConversationSchema = z
  .object({
    action: z.literal('endConversation'),
    conversationId: z.string().regex(CONVERSATION_ID, 'conversationId is not a valid id'),
    clientMessageId: clientMessageIdSchema.optional(),
  })
  .strict();

export interface ConversationEndedFrame {
  readonly type: 'conversationEnded';
  readonly conversationId: string;
  /** False when an agent is already working on the case: it stays open for them. */
  readonly ended: boolean;
  readonly caseId?: string;
}

export const ERROR_CODES = [
  'InvalidJson',
  'ValidationError',
  'MessageTooLong',
  'TooDeep',
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
  /** With `RateLimited`: how long to wait before sending again. */
  readonly retryAfterMs?: number;
}

export type ServerFrame = ReplyFrame | EscalatedFrame | AgentMessageFrame | ErrorFrame;

export const errorFrame = (code: ErrorCode, message: string, clientMessageId?: string): ErrorFrame => ({
  type: 'error',
  code,
  message,
  ...(clientMessageId ? { clientMessageId } : {}),
});
