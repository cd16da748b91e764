/**
 * REST (API Gateway proxy) conventions: JSON bodies validated with zod, errors as
 * {"error":{"code","message"}} with a meaningful status, never a stack trace.
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { MAX_JSON_BYTES, parseLimitedJson } from '#core/jsonLimits';
import { METRICS } from '#core/metricNames';
import { instrumented } from './middleware';
import { logger, metrics } from './powertools';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Bodies must be JSON. A missing content type and text/plain (what fetch sends for a string body) are read
 * as JSON; form, multipart, XML or binary bodies get 415.
 */
const isJsonContentType = (contentType: string | undefined): boolean => {
  const media = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return media === '' || media === 'application/json' || media.endsWith('+json') || media === 'text/plain';
};

const headerOf = (event: APIGatewayProxyEvent, name: string): string | undefined =>
  Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(status: number, code: string, message: string): APIGatewayProxyResult {
  return json(status, { error: { code, message } });
}

/** Parses and validates a JSON request body; bad input becomes a 400 naming the problem. */
export function parseBody<S extends z.ZodTypeAny>(event: APIGatewayProxyEvent, schema: S): z.infer<S> {
  const raw =
    event.isBase64Encoded && event.body
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : (event.body ?? '');
  if (Buffer.byteLength(raw) > MAX_JSON_BYTES)
    throw new ApiError(413, 'PayloadTooLarge', `request body is limited to ${MAX_JSON_BYTES / 1024} KiB`);
  let value: unknown = {};
  if (raw.trim()) {
    if (!isJsonContentType(headerOf(event, 'content-type')))
      throw new ApiError(415, 'UnsupportedMediaType', 'request bodies must be application/json');
    const limited = parseLimitedJson(raw);
    if (!limited.ok) {
      if (limited.code === 'InvalidJson')
        throw new ApiError(400, 'InvalidJson', 'request body is not valid JSON');
      throw new ApiError(limited.code === 'MessageTooLong' ? 413 : 400, limited.code, limited.message);
    }
    value = limited.value;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiError(400, 'ValidationError', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Validates query-string parameters the same way. */
export function parseQuery<S extends z.ZodTypeAny>(event: APIGatewayProxyEvent, schema: S): z.infer<S> {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiError(400, 'ValidationError', `${issue.path.join('.') || 'query'}: ${issue.message}`);
  }
  return parsed.data;
}

export function pathParameter(
  event: APIGatewayProxyEvent,
  name: string,
  pattern = /^[A-Za-z0-9_-]{1,100}$/,
): string {
  const value = event.pathParameters?.[name];
  if (!value || !pattern.test(value)) throw new ApiError(400, 'ValidationError', `invalid ${name}`);
  return value;
}

/** A REST entry point: instrumentation plus mapping of ApiError and unexpected errors to responses. */
export function restHandler(
  fn: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>,
) {
  return instrumented(async (event: APIGatewayProxyEvent, context: Context) => {
    try {
      return await fn(event, context);
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(error.status, error.code, error.message);
      logger.error('unhandled error in REST handler', { error: error as Error, path: event.path });
      metrics.addMetric(METRICS.errors, MetricUnit.Count, 1);
      return errorResponse(500, 'InternalError', 'Internal server error');
    }
  });
}
