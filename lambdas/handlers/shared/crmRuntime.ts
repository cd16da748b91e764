/**
 * The CRM side of the runtime, apart from runtime.ts so that only the functions that talk to the CRM bundle
 * its adapters (jsforce is large): the escalation workflow's steps, CRM mirroring of agent replies and
 * closures, and e-mail intake (the sender's address finds the customer).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { BuiltInCrm } from '#adapters/builtInCrm';
import { documentClient } from '#adapters/dynamoDocumentClient';
import { loadSalesforceCredentials } from '#adapters/salesforceCredentials';
import { SalesforceCrm } from '#adapters/salesforceCrm';
import { SfnTaskCallbacks } from '#adapters/sfnTaskCallbacks';
import { TABLES } from '#adapters/tableDefinitions';
import { CaseWorkflow } from '#core/caseWorkflow';
import type { Crm } from '#core/crm';
import { guardedCrm } from '#core/guardedCrm';
import { domainClock } from './clock';
import { numberEnv, optionalEnv, requireEnv } from './env';
import { logger } from './powertools';
import {
  buildEmailChannel,
  caseStore,
  conversationStore,
  eventPublisher,
  once,
  priorityRules,
  slaPolicy,
} from './runtime';

/** A CRM whose adapter is built on first use (Salesforce logs in then), behind a circuit breaker. */
export const crm = once((): Crm => {
  const backend = optionalEnv('CRM_BACKEND') ?? 'builtin';
  let adapter: Promise<Crm> | undefined;
  const build = async (): Promise<Crm> => {
    if (backend === 'builtin') return new BuiltInCrm(documentClient(), requireEnv(TABLES.customers.envVar));
    if (backend === 'salesforce') {
      const credentials = await loadSalesforceCredentials({
        secretArn: optionalEnv('SALESFORCE_SECRET_ARN'),
        env: process.env,
      });
      return SalesforceCrm.connect(credentials);
    }
    throw new Error(`CRM_BACKEND must be builtin or salesforce, got "${backend}"`);
  };
  const ready = () => {
    adapter ??= build().catch((error: unknown) => {
      adapter = undefined; // try again on the next call
      throw error;
    });
    return adapter;
  };
  return guardedCrm(
    {
      name: backend,
      findCustomer: async (reference) => (await ready()).findCustomer(reference),
      upsertCase: async (request) => (await ready()).upsertCase(request),
      addComment: async (crmCaseId, comment) => (await ready()).addComment(crmCaseId, comment),
      closeCase: async (crmCaseId, resolution) => (await ready()).closeCase(crmCaseId, resolution),
    },
    { clock: domainClock, timeoutMs: numberEnv('CRM_TIMEOUT_MS', 5000) },
  );
});

export const caseWorkflow = once(
  () =>
    new CaseWorkflow({
      cases: caseStore(),
      conversations: conversationStore(),
      crm: crm(),
      events: eventPublisher(),
      clock: domainClock,
      sla: slaPolicy(),
      callbacks: new SfnTaskCallbacks(new SFNClient({})),
      priorityRules: priorityRules(),
      logger,
    }),
);

/** E-mail intake: the channel with the CRM lookup of senders. */
export const emailIntakeChannel = once(() =>
  buildEmailChannel(async (email) => (await crm().findCustomer({ email }))?.customerId),
);
