/**
 * The audit log of this process: entries are redacted, then written to the audit table (AUDIT_TABLE) and
 * to the archive: S3 with object lock when AUDIT_BUCKET is set (AWS), else append-only files when
 * AUDIT_DIR is set (the local face). A module of its own so handlers that audit do not bundle runtime.ts.
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoAuditLog } from '#adapters/dynamoAuditLog';
import { documentClient } from '#adapters/dynamoDocumentClient';
import { FileAuditArchive } from '#adapters/fileAuditArchive';
import { S3AuditArchive } from '#adapters/s3AuditArchive';
import { TABLES } from '#adapters/tableDefinitions';
import {
  type AuditLog,
  type AuditReader,
  auditTrail,
  type CustomerDataDetails,
  customerDataEntry,
  type OperatorAction,
  operatorActionEntry,
  redactAuditEntry,
} from '#core/auditLog';
import { METRICS } from '#core/metricNames';
import type { Operator } from './authorization';
import { domainClock } from './clock';
import { optionalEnv, requireEnv } from './env';
import { logger, metrics } from './powertools';

let table: DynamoAuditLog | undefined;
let trail: AuditLog | undefined;

const auditTable = (): DynamoAuditLog => {
  table ??= new DynamoAuditLog(documentClient(), requireEnv(TABLES.audit.envVar));
  return table;
};

function archive(): AuditLog | undefined {
  const bucket = optionalEnv('AUDIT_BUCKET');
  if (bucket) return new S3AuditArchive(new S3Client({}), bucket);
  const dir = optionalEnv('AUDIT_DIR');
  if (dir) return new FileAuditArchive(dir);
  logger.warn('neither AUDIT_BUCKET nor AUDIT_DIR is set: audit entries go to the audit table only');
  return undefined;
}

/** Redacts, then appends to the audit table and the archive. */
export function auditLog(): AuditLog {
  if (!trail) {
    const copy = archive();
    trail = auditTrail(copy ? [auditTable(), copy] : [auditTable()]);
  }
  return trail;
}

/** Lists the audit table by day (GET /api/audit). */
export function auditReader(): AuditReader {
  return auditTable();
}

/**
 * Records an operator's REST action under their signed-in identity, after the action succeeded. The
 * action has happened by then, so a failed write does not fail the request: it is logged with the whole
 * (redacted) entry, which holds no PII, and counted as an error, so it can be re-appended from the logs.
 */
export async function recordOperatorAction(
  event: Pick<APIGatewayProxyEvent, 'requestContext'>,
  operator: Operator,
  action: OperatorAction,
  target: { readonly caseId: string; readonly conversationId?: string },
): Promise<void> {
  const entry = operatorActionEntry({
    requestId: event.requestContext?.requestId || crypto.randomUUID(),
    at: new Date(domainClock.now()).toISOString(),
    operator: operator.username,
    action,
    caseId: target.caseId,
    ...(target.conversationId ? { conversationId: target.conversationId } : {}),
  });
  try {
    await auditLog().append([entry]);
  } catch (error) {
    logger.error('audit entry not recorded', { auditEntry: redactAuditEntry(entry), error: error as Error });
    metrics.addMetric(METRICS.errors, MetricUnit.Count, 1);
  }
}

/**
 * Records an export or erasure of a customer's data under the signed-in operator. With `mustRecord` (an
 * export: nobody reads personal data unaccounted) a failed write fails the request; otherwise (an erasure
 * that has happened) it is logged with the redacted entry and counted, like recordOperatorAction.
 */
export async function recordCustomerDataAccess(
  event: Pick<APIGatewayProxyEvent, 'requestContext'>,
  operator: Operator,
  access: {
    readonly operation: CustomerDataDetails['operation'];
    readonly customerId: string;
    readonly counts?: Readonly<Record<string, number>>;
  },
  options: { readonly mustRecord?: boolean } = {},
): Promise<void> {
  const entry = customerDataEntry({
    requestId: event.requestContext?.requestId || crypto.randomUUID(),
    at: new Date(domainClock.now()).toISOString(),
    operator: operator.username,
    ...access,
  });
  try {
    await auditLog().append([entry]);
  } catch (error) {
    if (options.mustRecord) throw error;
    logger.error('audit entry not recorded', { auditEntry: redactAuditEntry(entry), error: error as Error });
    metrics.addMetric(METRICS.errors, MetricUnit.Count, 1);
  }
}
