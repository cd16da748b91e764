/**
 * WebSocket messages ($default and the sendMessage / subscribeConsole routes): validates the frame, hands
 * customer messages to the support desk, and answers bad input with an error frame (connection stays open).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import {
  CLIENT_MESSAGE_ID,
  type ConversationEndedFrame,
  endConversationSchema,
  errorFrame,
  MAX_MESSAGE_CHARS,
  sendMessageSchema,
} from '#core/chatProtocol';
import { MAX_JSON_BYTES, parseLimitedJson } from '#core/jsonLimits';
import { METRICS } from '#core/metricNames';
import { hasRole } from '#core/operatorAuth';
import { instrumented } from '../shared/middleware';
import { logger, metrics } from '../shared/powertools';
import { connectionStore, notifier, supportDesk } from '../shared/runtime';
import type { WebSocketRequest } from './events';

/** A frame within the size and depth limits that is a JSON object, or the error frame that says why not. */
function parseFrame(
  body: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; error: ReturnType<typeof errorFrame> } {
  const parsed = parseLimitedJson(body);
  if (!parsed.ok) {
    if (parsed.code === 'MessageTooLong')
      return {
        ok: false,
        error: errorFrame('MessageTooLong', `frames are limited to ${MAX_JSON_BYTES / 1024} KiB`),
      };
    if (parsed.code !== 'InvalidJson') return { ok: false, error: errorFrame(parsed.code, parsed.message) };
  }
  const value = parsed.ok ? parsed.value : undefined;
  return value && typeof value === 'object' && !Array.isArray(value)
    ? { ok: true, value: value as Record<string, unknown> }
    : {
        ok: false,
        error: errorFrame(
          'InvalidJson',
          'frames must be JSON objects, e.g. {"action":"sendMessage","text":"..."}',
        ),
      };
}

/** Only a well-formed id is echoed back: anything else could carry markup into the client. */
const echoedClientMessageId = (value: unknown): string | undefined =>
  typeof value === 'string' && CLIENT_MESSAGE_ID.test(value) ? value : undefined;

export const handler = instrumented(async (event: WebSocketRequest, _context: Context) => {
  const connectionId = event.requestContext.connectionId;
  const reply = (frame: object) => notifier().send(connectionId, frame);
  const raw =
    event.isBase64Encoded && event.body
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : (event.body ?? '');
  const frame = parseFrame(raw);
  if (!frame.ok) {
    await reply(frame.error);
    return { statusCode: 200 };
  }
  const clientMessageId = echoedClientMessageId(frame.value.clientMessageId);
  switch (frame.value.action) {
    case 'sendMessage': {
      const parsed = sendMessageSchema.safeParse(frame.value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const tooLong = issue.path[0] === 'text' && issue.code === 'too_big';
        await reply(
          errorFrame(
            tooLong ? 'MessageTooLong' : 'ValidationError',
            tooLong
              ? `text must be at most ${MAX_MESSAGE_CHARS} characters`
              : `${issue.path.join('.') || 'frame'}: ${issue.message}`,
            clientMessageId,
          ),
        );
        return { statusCode: 200 };
      }
      try {
        const outcome = await supportDesk().receiveMessage(connectionId, parsed.data);
        if (outcome.kind === 'rejected')
          await reply(errorFrame(outcome.code, outcome.message, clientMessageId));
        if (outcome.kind === 'forwarded')
          await supportDesk().broadcastMessage(outcome.conversationId, outcome.messageId);
      } catch (error) {
        logger.error('sendMessage failed', { error: error as Error });
        metrics.addMetric(METRICS.errors, MetricUnit.Count, 1);
        await reply(
          errorFrame(
            'InternalError',
            'Sorry, something went wrong on our side. Please try again.',
            clientMessageId,
          ),
        );
      }
      return { statusCode: 200 };
    }
    case 'endConversation': {
      const parsed = endConversationSchema.safeParse(frame.value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        await reply(errorFrame('ValidationError', `${issue.path.join('.') || 'frame'}: ${issue.message}`));
        return { statusCode: 200 };
      }
      try {
        const outcome = await supportDesk().endConversation(connectionId, parsed.data.conversationId);
        const ended: ConversationEndedFrame = {
          type: 'conversationEnded',
          conversationId: parsed.data.conversationId,
          ...outcome,
        };
        await reply(ended);
      } catch (error) {
        if ((error as Error).name !== 'NotFoundError') throw error;
        await reply(errorFrame('UnknownConversation', 'this connection has no such conversation'));
      }
      return { statusCode: 200 };
    }
    case 'subscribeConsole': {
      // The live case feed carries customer data: only connections opened with an agent's session get it.
      const connection = await connectionStore().getConnection(connectionId);
      if (!hasRole(connection?.operatorRoles, 'agent')) {
        await reply(
          errorFrame(
            'Unauthorized',
            connection?.operatorRoles?.length
              ? 'the live console feed requires role agent'
              : 'the live console feed needs operator sign-in: sign in, then reconnect',
          ),
        );
        return { statusCode: 200 };
      }
      await supportDesk().subscribeOperator(connectionId);
      return { statusCode: 200 };
    }
    default:
      await reply(
        errorFrame(
          'UnknownAction',
          typeof frame.value.action === 'string' && /^[A-Za-z0-9_$.-]{1,40}$/.test(frame.value.action)
            ? `unknown action "${frame.value.action}"; use "sendMessage"`
            : 'the frame needs an "action", e.g. "sendMessage"',
          clientMessageId,
        ),
      );
      return { statusCode: 200 };
  }
});
