/**
 * WebSocket messages ($default and the sendMessage / subscribeConsole routes): validates the frame, hands
 * customer messages to the support desk, and answers bad input with an error frame (connection stays open).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { errorFrame, MAX_MESSAGE_CHARS, sendMessageSchema } from '#core/chatProtocol';
import { METRICS } from '#core/metricNames';
import { optionalEnv } from '../shared/env';
import { instrumented } from '../shared/middleware';
import { logger, metrics } from '../shared/powertools';
import { notifier, supportDesk } from '../shared/runtime';
import type { WebSocketRequest } from './events';

const MAX_FRAME_BYTES = 64 * 1024;

function parseFrame(body: string): { ok: true; value: Record<string, unknown> } | { ok: false } {
  try {
    const value: unknown = JSON.parse(body);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? { ok: true, value: value as Record<string, unknown> }
      : { ok: false };
  } catch {
    return { ok: false };
  }
}

export const handler = instrumented(async (event: WebSocketRequest, _context: Context) => {
  const connectionId = event.requestContext.connectionId;
  const reply = (frame: object) => notifier().send(connectionId, frame);
  const raw =
    event.isBase64Encoded && event.body
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : (event.body ?? '');
  if (Buffer.byteLength(raw) > MAX_FRAME_BYTES) {
    await reply(errorFrame('MessageTooLong', `frames are limited to ${MAX_FRAME_BYTES / 1024} KiB`));
    return { statusCode: 200 };
  }
  const frame = parseFrame(raw);
  if (!frame.ok) {
    await reply(
      errorFrame('InvalidJson', 'frames must be JSON objects, e.g. {"action":"sendMessage","text":"..."}'),
    );
    return { statusCode: 200 };
  }
  const clientMessageId =
    typeof frame.value.clientMessageId === 'string' ? frame.value.clientMessageId.slice(0, 100) : undefined;
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
    case 'subscribeConsole':
      // The live case feed carries customer data. Until operator sign-in reaches the WebSocket it is only
      // open where CONSOLE_FEED=open (the local face); elsewhere consoles poll the authenticated REST API.
      if (optionalEnv('CONSOLE_FEED') !== 'open') {
        await reply(
          errorFrame('Unauthorized', 'the live console feed needs operator sign-in; poll /api/cases instead'),
        );
        return { statusCode: 200 };
      }
      await supportDesk().subscribeOperator(connectionId);
      return { statusCode: 200 };
    default:
      await reply(
        errorFrame(
          'UnknownAction',
          `unknown action ${JSON.stringify(String(frame.value.action ?? '')).slice(0, 60)}; use "sendMessage"`,
          clientMessageId,
        ),
      );
      return { statusCode: 200 };
  }
});
