/**
 * Customer personal data API (REST, role admin): the GDPR access and erasure requests of one customer id.
 * Both leave a customer_data audit entry under the signed-in admin (ids and counts only).
 *   GET    /api/customers/{customerId} → 200 CustomerExport (empty for an unknown customer)
 *   DELETE /api/customers/{customerId} → 200 ErasureReceipt (zero counts when nothing is left)
 * An invalid customer id is a 400. Unknown and already erased customers look the same: an empty export and
 * a zero-count receipt, so the API tells nobody more than "nothing is held".
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { EMAIL_TABLE } from '#adapters/emailTableDefinition';
import { CUSTOMER_ID_PATTERN, CustomerData } from '#core/customerData';
import { recordCustomerDataAccess } from '../shared/auditTrail';
import { requireRole } from '../shared/authorization';
import { domainClock } from '../shared/clock';
import { optionalEnv } from '../shared/env';
import { ApiError, json, pathParameter, restHandler } from '../shared/http';
import {
  attachmentStore,
  caseStore,
  caseWaits,
  connectionStore,
  conversationStore,
  emailStore,
  once,
} from '../shared/runtime';

const customerData = once(
  () =>
    new CustomerData({
      conversations: conversationStore(),
      cases: caseStore(),
      connections: connectionStore(),
      ...(optionalEnv(EMAIL_TABLE.envVar) ? { emailThreads: emailStore() } : {}),
      caseWorkflow: caseWaits(),
      ...(attachmentStore() ? { attachments: attachmentStore()! } : {}),
      clock: domainClock,
    }),
);

async function route(event: APIGatewayProxyEvent) {
  const operator = requireRole(event, 'admin');
  const key = `${event.httpMethod} ${event.resource}`;
  if (key !== 'GET /api/customers/{customerId}' && key !== 'DELETE /api/customers/{customerId}') {
    throw new ApiError(404, 'NotFound', `no route for ${event.httpMethod} ${event.path}`);
  }
  const customerId = pathParameter(event, 'customerId', CUSTOMER_ID_PATTERN);
  if (event.httpMethod === 'GET') {
    const exported = await customerData().exportCustomer(customerId);
    // Recorded before the data leaves: an export that cannot be audited is not handed out.
    await recordCustomerDataAccess(
      event,
      operator,
      { operation: 'export', customerId, counts: exported.counts },
      { mustRecord: true },
    );
    return json(200, exported);
  }
  const receipt = await customerData().eraseCustomer(customerId);
  await recordCustomerDataAccess(event, operator, { operation: 'erase', customerId, counts: receipt.counts });
  return json(200, receipt);
}

export const handler = restHandler(route);
