/**
 * The Crm port on Salesforce (REST API through jsforce 3). Customers are Contacts (tier on their Account);
 * each SupportMax case is mirrored as a Case found again by its external field SupportMax_Case_Id__c, so
 * upserts are idempotent by caseId; agent replies become CaseComments.
 *
 * jsforce builds the requests, holds the session and parses Salesforce's errors; the HTTP itself goes
 * through SalesforceHttpTransport (see there why). Failures surface as CrmUnavailableError naming the
 * operation and Salesforce's error code.
 */
import { PassThrough } from 'node:stream';
import { Connection, type HttpRequest, type HttpResponse, OAuth2, type StreamPromise } from 'jsforce';
import { z } from 'zod';
import {
  type Crm,
  type CrmCaseUpsert,
  type CustomerProfile,
  type CustomerReference,
  type CustomerTier,
  isCustomerTier,
} from '#core/crm';
import type { CaseStatus, Priority } from '#core/supportRecords';
import { isSessionCredentials, type SalesforceCredentials } from './salesforceCredentials';

export type { SalesforceCredentials } from './salesforceCredentials';

/** API names of the custom fields SupportMax reads and writes; orgs may have named them differently. */
export interface SalesforceFieldNames {
  /** Contact: the SupportMax customer id. */
  readonly contactCustomerId: string;
  /** Account: the support tier (picklist Enterprise / Pro / Basic). */
  readonly accountTier: string;
  /** Case: the SupportMax case id (external id the upsert finds the Case by). */
  readonly caseId: string;
  readonly caseIntent: string;
  readonly caseProductArea: string;
  readonly caseConfidence: string;
  readonly caseQueue: string;
  readonly caseEscalationReason: string;
}

export const DEFAULT_SALESFORCE_FIELDS: SalesforceFieldNames = {
  contactCustomerId: 'SupportMax_Customer_Id__c',
  accountTier: 'SupportMax_Tier__c',
  caseId: 'SupportMax_Case_Id__c',
  caseIntent: 'SupportMax_Intent__c',
  caseProductArea: 'SupportMax_Product_Area__c',
  caseConfidence: 'SupportMax_Confidence__c',
  caseQueue: 'SupportMax_Queue__c',
  caseEscalationReason: 'SupportMax_Escalation_Reason__c',
};

export const DEFAULT_SALESFORCE_API_VERSION = '62.0';

/** Case.Priority is High / Medium / Low in a default org: P1 and P2 both map to High. */
export const SALESFORCE_PRIORITY: Record<Priority, 'High' | 'Medium' | 'Low'> = {
  P1: 'High',
  P2: 'High',
  P3: 'Medium',
  P4: 'Low',
};

export const SALESFORCE_CASE_STATUS: Record<CaseStatus, 'New' | 'Working' | 'Closed'> = {
  open: 'New',
  assigned: 'Working',
  resolved: 'Closed',
  abandoned: 'Closed',
};

export const ABANDONED_CASE_COMMENT = 'Customer left before an agent answered';

/** A Salesforce call failed: unreachable, session rejected after one re-login, or the record refused. */
export class CrmUnavailableError extends Error {
  constructor(
    /** The Crm operation, e.g. 'upsertCase'. */
    readonly operation: string,
    /** Salesforce's errorCode (REQUIRED_FIELD_MISSING, INVALID_SESSION_ID, …) or the network error code. */
    readonly code: string,
    detail?: string,
  ) {
    super(`Salesforce ${operation} failed (${code})${detail ? `: ${detail}` : ''}`);
    this.name = 'CrmUnavailableError';
  }
}

export interface SalesforceCrmOptions {
  readonly connection: Connection;
  /** Overrides of DEFAULT_SALESFORCE_FIELDS. */
  readonly fields?: Partial<SalesforceFieldNames>;
  /** REST API version, e.g. '62.0'. @default the connection's version */
  readonly apiVersion?: string;
  /**
   * Renews the connection's session; called once when Salesforce answers INVALID_SESSION_ID, then the
   * request is retried once. connect() sets it for username-password credentials. @default none
   */
  readonly reauthenticate?: (connection: Connection) => Promise<void>;
  /**
   * Timeout of each HTTP attempt, response body included; a case upsert makes two or three requests, and
   * the escalation intake Lambda has 10 s. @default 4_000
   */
  readonly requestTimeoutMs?: number;
}

const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const API_VERSION = /^\d{2,3}\.\d$/;
const SALESFORCE_ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;
/** Field lengths of a default org: longer values are refused with STRING_TOO_LONG. */
const SUBJECT_MAX = 255;
const DESCRIPTION_MAX = 32_000;
const COMMENT_MAX = 4_000;

const contactSchema = z
  .object({
    Id: z.string().min(1),
    Name: z.string().nullish(),
    Email: z.string().nullish(),
    AccountId: z.string().nullish(),
    Account: z.object({ Name: z.string().nullish() }).passthrough().nullish(),
  })
  .passthrough();

const queryResultSchema = z.object({ records: z.array(z.object({ Id: z.string() }).passthrough()) });
const saveResultSchema = z.object({ id: z.string().min(1) }).passthrough();

const SOQL_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\f': '\\f',
  '\b': '\\b',
};

/** Quotes a value as a SOQL string literal, escaping with the sequences SOQL defines (one pass). */
export function soqlString(value: string): string {
  return `'${value.replace(/[\\'"\n\r\t\f\b]/g, (char) => SOQL_ESCAPES[char]!)}'`;
}

/** 'Enterprise' / 'PRO' / ' basic ' → the tier; anything else (or nothing) → 'basic'. */
export function salesforceTier(value: unknown): CustomerTier {
  const tier = typeof value === 'string' ? value.trim().toLowerCase() : '';
  return isCustomerTier(tier) ? tier : 'basic';
}

const truncate = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export class SalesforceCrm implements Crm {
  readonly name = 'salesforce';
  private readonly connection: Connection;
  private readonly fields: SalesforceFieldNames;
  private readonly apiVersion: string;
  private readonly reauthenticate?: (connection: Connection) => Promise<void>;
  private relogin?: Promise<void>;

  constructor(options: SalesforceCrmOptions) {
    this.connection = options.connection;
    this.fields = { ...DEFAULT_SALESFORCE_FIELDS, ...options.fields };
    // Field names are spliced into SOQL: only plain API names are accepted.
    const badFields = Object.entries(this.fields).filter(([, name]) => !API_NAME.test(name));
    if (badFields.length) {
      throw new Error(
        `SalesforceCrm: invalid field API names for ${badFields.map(([key]) => key).join(', ')} ` +
          '(letters, digits and underscores, starting with a letter)',
      );
    }
    this.apiVersion = options.apiVersion ?? options.connection.version;
    if (!API_VERSION.test(this.apiVersion)) {
      throw new Error(`SalesforceCrm: apiVersion must look like '62.0', got '${this.apiVersion}'`);
    }
    this.reauthenticate = options.reauthenticate;
    // The adapter owns the connection's HTTP: jsforce's own transport can hang (SalesforceHttpTransport).
    this.connection._transport = transportFor(options.requestTimeoutMs);
  }

  /**
   * Logs in and returns a ready adapter. Username-password credentials use the OAuth2 password flow
   * (password + security token) and log in again once when the session expires; a ready session
   * (instanceUrl + accessToken) is used as is.
   */
  static async connect(
    credentials: SalesforceCredentials,
    options: Omit<SalesforceCrmOptions, 'connection' | 'reauthenticate'> = {},
  ): Promise<SalesforceCrm> {
    const version = options.apiVersion ?? DEFAULT_SALESFORCE_API_VERSION;
    if (isSessionCredentials(credentials)) {
      const connection = new Connection({
        instanceUrl: credentials.instanceUrl,
        accessToken: credentials.accessToken,
        version,
      });
      return new SalesforceCrm({ ...options, connection, apiVersion: version });
    }
    // The OAuth2 client stays outside the Connection: given one, jsforce installs its own refresh-token
    // handler, which has no refresh token here and would hide INVALID_SESSION_ID behind a generic error.
    const oauth2 = new OAuth2({
      loginUrl: credentials.loginUrl,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
    });
    oauth2._transport = transportFor(options.requestTimeoutMs);
    const login = async (connection: Connection) => {
      try {
        const token = await oauth2.authenticate(
          credentials.username,
          credentials.password + (credentials.securityToken ?? ''),
        );
        connection.accessToken = token.access_token;
        connection.instanceUrl = token.instance_url;
      } catch (error) {
        throw unavailable('login', error);
      }
    };
    const connection = new Connection({ loginUrl: credentials.loginUrl, version });
    await login(connection);
    return new SalesforceCrm({ ...options, connection, apiVersion: version, reauthenticate: login });
  }

  async findCustomer(reference: CustomerReference): Promise<CustomerProfile | undefined> {
    const customerId = reference.customerId?.trim();
    const email = reference.email?.trim();
    if (!customerId && !email) return undefined;
    const f = this.fields;
    const conditions = [
      ...(customerId ? [`${f.contactCustomerId} = ${soqlString(customerId)}`] : []),
      ...(email ? [`Email = ${soqlString(email)}`] : []),
    ];
    const records = await this.query(
      'findCustomer',
      `SELECT Id, Name, Email, AccountId, Account.Name, Account.${f.accountTier}, ${f.contactCustomerId} ` +
        `FROM Contact WHERE ${conditions.join(' OR ')} LIMIT 10`,
    );
    // The signed customer id outranks the e-mail address (several Contacts may share one).
    const byId = customerId
      ? records.find((record) => record[f.contactCustomerId] === customerId)
      : undefined;
    const chosen = byId ?? records[0];
    if (!chosen) return undefined;
    const parsed = contactSchema.safeParse(chosen);
    if (!parsed.success) {
      throw new CrmUnavailableError('findCustomer', 'MALFORMED_RESPONSE', 'Contact record without an Id');
    }
    const contact = parsed.data;
    const ownId = contact[f.contactCustomerId];
    return {
      // A Contact found by e-mail may carry no SupportMax id yet: its Salesforce id stands in.
      customerId: typeof ownId === 'string' && ownId ? ownId : contact.Id,
      name: contact.Name ?? '',
      email: contact.Email ?? email ?? '',
      tier: salesforceTier(contact.Account?.[f.accountTier]),
      ...(contact.Account?.Name ? { company: contact.Account.Name } : {}),
      crmContactId: contact.Id,
      ...(contact.AccountId ? { crmAccountId: contact.AccountId } : {}),
    };
  }

  async upsertCase({
    record,
    customer,
    description,
  }: CrmCaseUpsert): Promise<{ readonly crmCaseId: string }> {
    const f = this.fields;
    const existing = await this.query(
      'upsertCase',
      `SELECT Id FROM Case WHERE ${f.caseId} = ${soqlString(record.caseId)} LIMIT 1`,
    );
    const fields: Record<string, unknown> = {
      Subject: truncate(record.subject, SUBJECT_MAX),
      Description: truncate(description, DESCRIPTION_MAX),
      Priority: SALESFORCE_PRIORITY[record.priority],
      Status: SALESFORCE_CASE_STATUS[record.status],
      [f.caseIntent]: record.intent,
      [f.caseProductArea]: record.productArea,
      [f.caseConfidence]: Math.round(record.confidence * 1000) / 1000,
      [f.caseQueue]: record.queue,
      [f.caseEscalationReason]: record.reason,
    };
    // Only Salesforce ids: a profile from the built-in CRM carries SupportMax ids in these fields.
    if (customer?.crmContactId && SALESFORCE_ID.test(customer.crmContactId)) {
      fields.ContactId = customer.crmContactId;
    }
    if (customer?.crmAccountId && SALESFORCE_ID.test(customer.crmAccountId)) {
      fields.AccountId = customer.crmAccountId;
    }

    const found = existing[0];
    if (found) {
      await this.send(
        'upsertCase',
        { method: 'PATCH', url: this.path(`sobjects/Case/${encodeURIComponent(found.Id)}`) },
        fields,
      );
      return { crmCaseId: found.Id };
    }
    // The port carries no channel; SupportMax cases start in the chat widget (Origin is set once, on create).
    const created = await this.send(
      'upsertCase',
      { method: 'POST', url: this.path('sobjects/Case') },
      { ...fields, Origin: 'Chat', [f.caseId]: record.caseId },
    );
    return { crmCaseId: this.savedId('upsertCase', created) };
  }

  async addComment(crmCaseId: string, comment: { readonly author: string; readonly text: string }) {
    await this.createComment('addComment', crmCaseId, `${comment.author}: ${comment.text}`);
  }

  async closeCase(crmCaseId: string, resolution: { readonly status: 'resolved' | 'abandoned' }) {
    await this.send(
      'closeCase',
      { method: 'PATCH', url: this.path(`sobjects/Case/${encodeURIComponent(crmCaseId)}`) },
      { Status: SALESFORCE_CASE_STATUS.resolved },
    );
    // After the close: a retried closeCase re-closes harmlessly and adds the note at most once more.
    if (resolution.status === 'abandoned') {
      await this.createComment('closeCase', crmCaseId, ABANDONED_CASE_COMMENT);
    }
  }

  private async createComment(operation: string, crmCaseId: string, body: string) {
    const created = await this.send(
      operation,
      { method: 'POST', url: this.path('sobjects/CaseComment') },
      { ParentId: crmCaseId, CommentBody: truncate(body, COMMENT_MAX), IsPublished: true },
    );
    this.savedId(operation, created);
  }

  private async query(operation: string, soql: string) {
    const result = await this.send(operation, {
      method: 'GET',
      url: this.path(`query?q=${encodeURIComponent(soql)}`),
    });
    const parsed = queryResultSchema.safeParse(result);
    if (!parsed.success) {
      throw new CrmUnavailableError(operation, 'MALFORMED_RESPONSE', 'query result without records');
    }
    return parsed.data.records as (Record<string, unknown> & { Id: string })[];
  }

  private savedId(operation: string, result: unknown): string {
    const parsed = saveResultSchema.safeParse(result);
    if (!parsed.success) {
      throw new CrmUnavailableError(operation, 'MALFORMED_RESPONSE', 'save result without an id');
    }
    return parsed.data.id;
  }

  private path(relative: string) {
    return `/services/data/v${this.apiVersion}/${relative}`;
  }

  /** One REST call; on INVALID_SESSION_ID one re-login (shared by concurrent callers) and one retry. */
  private async send(operation: string, request: Omit<HttpRequest, 'body'>, body?: object) {
    const attempt = () =>
      this.connection.request<unknown>({
        ...request,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    try {
      return await attempt();
    } catch (error) {
      if (!this.reauthenticate || errorCode(error) !== 'INVALID_SESSION_ID') {
        throw unavailable(operation, error);
      }
    }
    this.relogin ??= this.reauthenticate(this.connection).finally(() => {
      this.relogin = undefined;
    });
    await this.relogin;
    try {
      return await attempt();
    } catch (error) {
      throw unavailable(operation, error);
    }
  }
}

/** Salesforce could not be reached, or did not answer in time. */
class SalesforceNetworkError extends Error {
  constructor(readonly code: string) {
    super(code === 'TIMEOUT' ? 'Salesforce did not answer in time' : 'Salesforce is unreachable');
    this.name = 'SalesforceNetworkError';
  }
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

/**
 * The HTTP layer under the adapter's jsforce connection and OAuth2 client: Node's fetch, a timeout per
 * attempt (body included), and one quick retry of reads (GET) on network errors, 429 and 5xx; writes
 * are never retried (a timed-out create is found by caseId at the next upsert, not duplicated). It replaces jsforce 3.10's node-fetch transport, which (a) with node-fetch
 * older than 2.7 — what this lockfile resolves — never settles a request that fails at the network level
 * and raises an unhandled rejection instead (jsforce#1794), and (b) retries a GET for up to 15.5 s with a
 * 30-minute timeout, longer than a Lambda runs. Proxy variables (HTTPS_PROXY) are not honoured.
 */
export class SalesforceHttpTransport {
  constructor(
    private readonly settings: {
      readonly timeoutMs: number;
      readonly maxRetries: number;
      readonly retryDelayMs: number;
    },
  ) {}

  /** jsforce awaits the result and may pipe `stream()`; a promise with that method is all it needs. */
  httpRequest(request: HttpRequest): StreamPromise<HttpResponse> {
    const stream = new PassThrough();
    const promise = this.fetchWithRetries(request).then(
      (response) => {
        stream.end(response.body);
        return response;
      },
      (error: unknown) => {
        stream.destroy();
        throw error;
      },
    );
    return Object.assign(promise, { stream: () => stream }) as StreamPromise<HttpResponse>;
  }

  private async fetchWithRetries(request: HttpRequest): Promise<HttpResponse> {
    if (request.body !== undefined && typeof request.body !== 'string') {
      throw new Error('SalesforceHttpTransport sends string bodies only');
    }
    // fetch computes the length itself; jsforce's precomputed header is dropped.
    const { 'content-length': _length, ...headers } = request.headers ?? {};
    const retries = request.method === 'GET' ? this.settings.maxRetries : 0;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= retries;
      try {
        const response = await fetch(request.url, {
          method: request.method,
          headers,
          ...(request.body === undefined ? {} : { body: request.body }),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.settings.timeoutMs),
        });
        if (last || !RETRY_STATUSES.has(response.status)) {
          return {
            statusCode: response.status,
            headers: Object.fromEntries(response.headers),
            body: await response.text(),
          };
        }
        await response.body?.cancel();
      } catch (error) {
        if (last) throw new SalesforceNetworkError(networkErrorCode(error));
      }
      await new Promise((resolve) => setTimeout(resolve, this.settings.retryDelayMs * 2 ** attempt));
    }
  }
}

function networkErrorCode(error: unknown): string {
  const failure = error as { name?: string; cause?: { code?: unknown } } | undefined;
  if (failure?.name === 'TimeoutError') return 'TIMEOUT';
  return typeof failure?.cause?.code === 'string' ? failure.cause.code : 'NETWORK_ERROR';
}

/** jsforce types the transport as its own (unexported) class; ours has the one method it calls. */
const transportFor = (timeoutMs = 4_000) =>
  new SalesforceHttpTransport({
    timeoutMs,
    maxRetries: 1,
    retryDelayMs: 200,
  }) as unknown as Connection['_transport'];

function errorCode(error: unknown): string {
  const candidate = error as { errorCode?: unknown; code?: unknown; name?: unknown } | undefined;
  for (const code of [candidate?.errorCode, candidate?.code, candidate?.name]) {
    if (typeof code === 'string' && code && code !== 'Error') return code;
  }
  return 'UNKNOWN';
}

/**
 * Salesforce's own message is kept for API and OAuth errors (e.g. "Required fields are missing: [Subject]");
 * other errors keep only their code: their messages may quote a request URL, with a customer's e-mail.
 */
function unavailable(operation: string, error: unknown): CrmUnavailableError {
  if (error instanceof CrmUnavailableError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message.replace(/\s+/g, ' ') : '';
  const isNetworkError = error instanceof SalesforceNetworkError;
  const isApiError = typeof (error as { errorCode?: unknown } | undefined)?.errorCode === 'string';
  const isOAuthError = operation === 'login' && /^[a-z_]+$/.test(code);
  const detail = isApiError || isOAuthError ? truncate(message, 300) : isNetworkError ? message : undefined;
  return new CrmUnavailableError(operation, code, detail);
}
