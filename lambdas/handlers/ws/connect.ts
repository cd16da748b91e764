/**
 * WebSocket $connect: registers the connection with who opened it. A customer token (`?token=<HS256 JWT>`,
 * signed by the company's backend) that does not verify refuses the connection with 401; a valid one ties
 * the connection to its customer id (and records `transcript_consent: false`); none means an anonymous
 * customer. An operator's session (checked by the $connect authorizer) records the operator's roles, which
 * the console feed requires.
 */
import type { Context } from 'aws-lambda';
import { type CustomerIdentity, InvalidCustomerTokenError, verifyCustomerToken } from '#core/customerToken';
import { operatorOf } from '../shared/authorization';
import { customerTokenSecret } from '../shared/customerTokenSecret';
import { instrumented } from '../shared/middleware';
import { logger } from '../shared/powertools';
import { supportDesk } from '../shared/runtime';
import type { WebSocketRequest } from './events';

const refused = (message: string) => ({ statusCode: 401, body: JSON.stringify({ message }) });

export const handler = instrumented(async (event: WebSocketRequest, _context: Context) => {
  const token = event.queryStringParameters?.token;
  let customer: CustomerIdentity | undefined;
  if (token !== undefined) {
    const secret = await customerTokenSecret();
    if (!secret) {
      logger.warn(
        'customer token refused: neither CUSTOMER_TOKEN_SECRET nor CUSTOMER_TOKEN_SECRET_ARN is set',
      );
      return refused('Unauthorized');
    }
    try {
      customer = verifyCustomerToken(token, secret, Date.now());
    } catch (error) {
      if (!(error instanceof InvalidCustomerTokenError)) throw error;
      logger.info('customer token refused', { reason: error.message });
      return refused('Unauthorized');
    }
  }
  await supportDesk().customerConnected(
    event.requestContext.connectionId,
    event.requestContext.identity?.sourceIp,
    {
      customerId: customer?.customerId,
      ...(customer?.consent === false ? { consentToStoreTranscripts: false as const } : {}),
      operatorRoles: operatorOf(event)?.roles,
    },
  );
  return { statusCode: 200 };
});
