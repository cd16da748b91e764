/**
 * Wraps a handler with middy + Powertools (context-enriched logs, X-Ray tracing, EMF metrics flush) and
 * counts every failed invocation in the shared Errors metric (dimension `handler`). Every Lambda entry point
 * goes through `instrumented`, so the wiring lives in one place.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { METRICS } from '#core/metricNames';
import { logger, metrics, tracer } from './powertools';

/** Runs before logMetrics flushes on error (middy runs onError hooks last-registered first). */
const countErrors: middy.MiddlewareObj<unknown, unknown, Error, Context> = {
  onError: async (request) => {
    const failed = metrics.singleMetric();
    failed.addDimension('handler', request.context.functionName || 'unknown');
    failed.addMetric(METRICS.errors, MetricUnit.Count, 1);
  },
};

export function instrumented<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return middy(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(countErrors as middy.MiddlewareObj);
}
