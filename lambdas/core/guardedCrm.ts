/**
 * A CRM behind a circuit breaker and a timeout: when Salesforce is slow or down, calls fail fast instead of
 * holding up agents and workflows (callers treat CRM mirroring as best effort; the case of record is ours).
 */
import { CircuitBreaker } from './circuitBreaker';
import type { Crm } from './crm';
import type { Clock } from './ports';

export interface GuardedCrmOptions {
  readonly clock: Clock;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** Consecutive failures that open the circuit. @default 3 */
  readonly failureThreshold?: number;
  /** @default 30000 */
  readonly cooldownMs?: number;
}

export class CrmTimeoutError extends Error {
  override readonly name = 'CrmTimeoutError';
}

export function guardedCrm(crm: Crm, options: GuardedCrmOptions): Crm {
  const breaker = new CircuitBreaker({
    failureThreshold: options.failureThreshold ?? 3,
    cooldownMs: options.cooldownMs ?? 30_000,
    clock: options.clock,
  });
  const timeoutMs = options.timeoutMs ?? 5000;
  const guarded = <T>(operation: string, call: () => Promise<T>) =>
    breaker.execute(async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new CrmTimeoutError(`${crm.name} ${operation} took longer than ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([call(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    });
  return {
    name: crm.name,
    findCustomer: (reference) => guarded('findCustomer', () => crm.findCustomer(reference)),
    upsertCase: (request) => guarded('upsertCase', () => crm.upsertCase(request)),
    addComment: (crmCaseId, comment) => guarded('addComment', () => crm.addComment(crmCaseId, comment)),
    closeCase: (crmCaseId, resolution) => guarded('closeCase', () => crm.closeCase(crmCaseId, resolution)),
  };
}
