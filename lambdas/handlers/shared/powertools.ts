/**
 * One Powertools logger, tracer and metrics instance per process (per Lambda container), shared by every
 * handler in it. Locally POWERTOOLS_METRICS_DISABLED / POWERTOOLS_TRACE_ENABLED keep stdout readable.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRIC_NAMESPACE } from '#core/metricNames';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'supportmax';

export const logger = new Logger({ serviceName });
export const tracer = new Tracer({ serviceName });
// Handlers without metrics are normal here: route Powertools' "no metrics to publish" warning to debug.
export const metrics = new Metrics({
  namespace: METRIC_NAMESPACE,
  serviceName,
  logger: {
    debug: (...args: unknown[]) => logger.debug(String(args[0])),
    info: (...args: unknown[]) => logger.info(String(args[0])),
    warn: (...args: unknown[]) => logger.debug(String(args[0])),
    error: (...args: unknown[]) => logger.error(String(args[0])),
  },
});
