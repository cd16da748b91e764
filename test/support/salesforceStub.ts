/**
 * A local stand-in for the slice of the Salesforce REST API the Salesforce CRM adapter uses, so the real
 * jsforce client (OAuth2 password flow, bearer sessions, error parsing) is exercised without an org.
 * Test-only. It speaks:
 * - POST /services/oauth2/token (grant_type=password; checks client and user credentials)
 * - GET /services/data/vXX.X/query?q= (SELECT … FROM Contact|Case|Account|CaseComment WHERE a = 'x'
 *   [AND|OR …] [LIMIT n], string literals with SOQL's escape sequences, case-insensitive text equality)
 * - POST /services/data/vXX.X/sobjects/{Case|CaseComment}, GET|PATCH …/sobjects/Case/{id}
 * Errors use Salesforce's shapes: 401 INVALID_SESSION_ID, 404 NOT_FOUND, 400 REQUIRED_FIELD_MISSING,
 * INVALID_FIELD, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, FIELD_INTEGRITY_EXCEPTION, MALFORMED_QUERY.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StubSObject = 'Account' | 'Contact' | 'Case' | 'CaseComment';
export type StubRecord = Record<string, unknown> & { readonly Id: string };

export interface RecordedSalesforceRequest {
  readonly method: string;
  /** Path without the query string, e.g. '/services/data/v62.0/sobjects/Case'. */
  readonly path: string;
  /** The decoded `q` parameter of a query request. */
  readonly soql?: string;
  /** Parsed JSON, or the form fields of a token request. */
  readonly body?: unknown;
  status: number;
}

export interface SalesforceStubOptions {
  /** @default 'stub-client-id' */
  readonly clientId?: string;
  /** @default 'stub-client-secret' */
  readonly clientSecret?: string;
  /** @default 'integration@supportmax.example' */
  readonly username?: string;
  /** What the token endpoint expects as password: the password with the security token appended. @default 'stub-password' */
  readonly password?: string;
  readonly accounts?: readonly StubRecord[];
  readonly contacts?: readonly StubRecord[];
  /** Custom fields beyond the SupportMax_* defaults, per object (for renamed-field tests). */
  readonly extraFields?: Partial<Record<StubSObject, readonly string[]>>;
}

export interface SalesforceStub {
  /** Base URL: login URL and instance URL at once. */
  readonly url: string;
  readonly requests: readonly RecordedSalesforceRequest[];
  readonly cases: readonly StubRecord[];
  readonly comments: readonly StubRecord[];
  /** A valid access token without the OAuth flow (for instanceUrl + accessToken credentials). */
  issueToken(): string;
  /** Invalidates every token issued so far (an expired session). */
  expireTokens(): void;
  /** While on, every API request is refused with INVALID_SESSION_ID, even with a fresh token. */
  rejectSessions(reject: boolean): void;
  /** The next `count` API requests are answered `status` (503 SERVER_UNAVAILABLE by default). */
  failNext(count: number, status?: number): void;
  /** While on, API requests are never answered (a hung org); close() releases them. */
  stall(on: boolean): void;
  close(): Promise<void>;
}

const FIELDS: Record<StubSObject, readonly string[]> = {
  Account: ['Id', 'Name', 'SupportMax_Tier__c'],
  Contact: ['Id', 'Name', 'FirstName', 'LastName', 'Email', 'AccountId', 'SupportMax_Customer_Id__c'],
  Case: [
    'Id',
    'CaseNumber',
    'Subject',
    'Description',
    'Priority',
    'Origin',
    'Status',
    'IsClosed',
    'ContactId',
    'AccountId',
    'CreatedDate',
    'SupportMax_Case_Id__c',
    'SupportMax_Intent__c',
    'SupportMax_Product_Area__c',
    'SupportMax_Confidence__c',
    'SupportMax_Queue__c',
    'SupportMax_Escalation_Reason__c',
  ],
  CaseComment: ['Id', 'ParentId', 'CommentBody', 'IsPublished', 'CreatedDate'],
};
const READ_ONLY = new Set(['Id', 'CaseNumber', 'IsClosed', 'CreatedDate']);
const PICKLISTS: Record<string, readonly string[]> = {
  'Case.Status': ['New', 'Working', 'Escalated', 'Closed'],
  'Case.Priority': ['High', 'Medium', 'Low'],
  'Case.Origin': ['Phone', 'Email', 'Web', 'Chat'],
};
const REFERENCES: Record<string, StubSObject> = {
  'Case.ContactId': 'Contact',
  'Case.AccountId': 'Account',
  'CaseComment.ParentId': 'Case',
  'Contact.AccountId': 'Account',
};
const ID_PREFIX: Record<StubSObject, string> = {
  Account: '001',
  Contact: '003',
  Case: '500',
  CaseComment: '00a',
};
const isSObject = (name: string): name is StubSObject => Object.hasOwn(FIELDS, name);

class SalesforceApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startSalesforceStub(options: SalesforceStubOptions = {}): Promise<SalesforceStub> {
  const credentials = {
    clientId: options.clientId ?? 'stub-client-id',
    clientSecret: options.clientSecret ?? 'stub-client-secret',
    username: options.username ?? 'integration@supportmax.example',
    password: options.password ?? 'stub-password',
  };
  const fields = Object.fromEntries(
    (Object.keys(FIELDS) as StubSObject[]).map((type) => [
      type,
      new Set([...FIELDS[type], ...(options.extraFields?.[type] ?? [])]),
    ]),
  ) as Record<StubSObject, Set<string>>;
  const store: Record<StubSObject, Map<string, Record<string, unknown>>> = {
    Account: new Map(),
    Contact: new Map(),
    Case: new Map(),
    CaseComment: new Map(),
  };
  for (const [type, records] of [
    ['Account', options.accounts ?? []],
    ['Contact', options.contacts ?? []],
  ] as const) {
    for (const record of records) {
      for (const key of Object.keys(record)) fields[type].add(key);
      store[type].set(record.Id, { ...record });
    }
  }

  const requests: RecordedSalesforceRequest[] = [];
  const tokens = new Set<string>();
  let rejectAll = false;
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let stalled = false;
  let counter = 0;
  let caseNumber = 1000;
  let url = '';

  const newId = (type: StubSObject) => `${ID_PREFIX[type]}Stub${String(++counter).padStart(8, '0')}AAA`;
  const issueToken = () => {
    const token = `00DStub!${randomBytes(12).toString('hex')}`;
    tokens.add(token);
    return token;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const parsedUrl = new URL(req.url ?? '/', 'http://stub');
    const raw = await readBody(req);
    const method = req.method ?? 'GET';
    const soql = parsedUrl.searchParams.get('q') ?? undefined;
    const recorded: RecordedSalesforceRequest = {
      method,
      path: parsedUrl.pathname,
      ...(soql === undefined ? {} : { soql }),
      status: 0,
    };
    requests.push(recorded);
    const reply = (status: number, body?: unknown) => {
      recorded.status = status;
      if (body === undefined) {
        res.writeHead(status).end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' }).end(JSON.stringify(body));
    };

    if (method === 'POST' && parsedUrl.pathname === '/services/oauth2/token') {
      const form = Object.fromEntries(new URLSearchParams(raw));
      Object.assign(recorded, { body: form });
      const oauthError = tokenError(form, credentials);
      if (oauthError) return reply(400, oauthError);
      return reply(200, {
        access_token: issueToken(),
        instance_url: url,
        id: `${url}/id/00DStub0000000001/005Stub0000000001`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
        signature: 'stub-signature',
      });
    }

    const api = /^\/services\/data\/v\d+\.\d\/(.*)$/.exec(parsedUrl.pathname);
    if (!api)
      return reply(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    if (stalled) return;
    if (failures.count > 0) {
      failures.count--;
      return reply(failures.status, [{ errorCode: 'SERVER_UNAVAILABLE', message: 'Server unavailable' }]);
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (rejectAll || !token || !tokens.has(token)) {
      return reply(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    }

    try {
      const route = api[1] ?? '';
      if (method === 'GET' && (route === 'query' || route === 'query/')) {
        const records = runQuery(soql ?? '', store, fields);
        return reply(200, { totalSize: records.length, done: true, records });
      }
      const sobject = /^sobjects\/([^/]+)(?:\/([^/]+))?$/.exec(route);
      const type = sobject?.[1] ?? '';
      if (!sobject || !isSObject(type)) {
        throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
      }
      const id = sobject[2] ? decodeURIComponent(sobject[2]) : undefined;
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      if (raw) Object.assign(recorded, { body });

      if (method === 'POST' && !id && (type === 'Case' || type === 'CaseComment')) {
        validateFields(type, body, fields, store, 'create');
        const record: Record<string, unknown> = {
          ...body,
          Id: newId(type),
          CreatedDate: new Date().toISOString(),
        };
        if (type === 'Case') {
          record.CaseNumber = String(++caseNumber).padStart(8, '0');
          record.Status ??= 'New';
          record.IsClosed = record.Status === 'Closed';
        }
        store[type].set(record.Id as string, record);
        return reply(201, { id: record.Id, success: true, errors: [] });
      }
      if (id && type === 'Case' && (method === 'GET' || method === 'PATCH')) {
        const existing = store.Case.get(id);
        if (!existing)
          throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
        if (method === 'GET') return reply(200, { attributes: attributes('Case', existing), ...existing });
        validateFields('Case', body, fields, store, 'update');
        Object.assign(existing, body);
        existing.IsClosed = existing.Status === 'Closed';
        return reply(204);
      }
      throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    } catch (error) {
      if (error instanceof SalesforceApiError) {
        return reply(error.status, [{ message: error.message, errorCode: error.errorCode, fields: [] }]);
      }
      if (error instanceof SyntaxError) {
        return reply(400, [{ message: 'Unexpected character in JSON body', errorCode: 'JSON_PARSER_ERROR' }]);
      }
      throw error;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ errorCode: 'UNKNOWN_EXCEPTION', message: String(error) }]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    requests,
    get cases() {
      return [...store.Case.values()] as StubRecord[];
    },
    get comments() {
      return [...store.CaseComment.values()] as StubRecord[];
    },
    issueToken,
    expireTokens: () => tokens.clear(),
    rejectSessions: (reject) => {
      rejectAll = reject;
    },
    failNext: (count, status = 503) => {
      failures = { count, status };
    },
    stall: (on) => {
      stalled = on;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tokenError(form: Record<string, string>, expected: Record<string, string>) {
  if (form.grant_type !== 'password') {
    return { error: 'unsupported_grant_type', error_description: 'grant type not supported' };
  }
  if (form.client_id !== expected.clientId) {
    return { error: 'invalid_client_id', error_description: 'client identifier invalid' };
  }
  if (form.client_secret !== expected.clientSecret) {
    return { error: 'invalid_client', error_description: 'invalid client credentials' };
  }
  if (form.username !== expected.username || form.password !== expected.password) {
    return { error: 'invalid_grant', error_description: 'authentication failure' };
  }
  return undefined;
}

function validateFields(
  type: StubSObject,
  body: Record<string, unknown>,
  fields: Record<StubSObject, Set<string>>,
  store: Record<StubSObject, Map<string, Record<string, unknown>>>,
  mode: 'create' | 'update',
) {
  for (const [field, value] of Object.entries(body)) {
    if (!fields[type].has(field)) {
      throw new SalesforceApiError(
        400,
        'INVALID_FIELD',
        `No such column '${field}' on sobject of type ${type}`,
      );
    }
    if (READ_ONLY.has(field)) {
      throw new SalesforceApiError(
        400,
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${field}. Please check the security settings of this field.`,
      );
    }
    const picklist = PICKLISTS[`${type}.${field}`];
    if (picklist && !picklist.includes(value as string)) {
      throw new SalesforceApiError(
        400,
        'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        `${field}: bad value for restricted picklist field: ${String(value)}`,
      );
    }
    const target = REFERENCES[`${type}.${field}`];
    if (target && value !== null && !store[target].has(value as string)) {
      throw new SalesforceApiError(
        400,
        'FIELD_INTEGRITY_EXCEPTION',
        `${field}: id value of incorrect type: ${String(value)}`,
      );
    }
  }
  const required = type === 'Case' ? ['Subject'] : type === 'CaseComment' ? ['ParentId'] : [];
  const missing = required.filter((field) =>
    mode === 'create' ? body[field] === undefined || body[field] === '' : body[field] === '',
  );
  if (missing.length) {
    throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing}]`);
  }
}

const attributes = (type: string, record: Record<string, unknown>) => ({
  type,
  url: `/services/data/v62.0/sobjects/${type}/${String(record.Id)}`,
});

// ---------------------------------------------------------------------------------------------------------
// A tiny SOQL subset: SELECT f[, Rel.f] FROM T [WHERE cond] [LIMIT n], cond = term (OR term)*,
// term = atom (AND atom)*, atom = '(' cond ')' | field = literal.

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'symbol'; text: string };

type Condition =
  | { kind: 'eq'; field: string; value: unknown }
  | { kind: 'and' | 'or'; left: Condition; right: Condition };

const STRING_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

const malformed = (message: string) => new SalesforceApiError(400, 'MALFORMED_QUERY', message);

/** Splits SOQL into tokens, decoding string literals with SOQL's escape sequences. */
export function tokenizeSoql(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const char = soql[i]!;
    if (/\s/.test(char)) {
      i++;
    } else if (char === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= soql.length) throw malformed('unterminated string literal');
        const c = soql[i]!;
        if (c === "'") break;
        if (c === '\\') {
          const escaped = STRING_ESCAPES[soql[i + 1] ?? ''];
          if (escaped === undefined)
            throw malformed(`Invalid string literal: illegal escape \\${soql[i + 1]}`);
          value += escaped;
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', value });
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(soql.slice(i))![0];
      tokens.push({ kind: 'word', text: match });
      i += match.length;
    } else if (/[0-9-]/.test(char)) {
      const match = /^-?\d+(\.\d+)?/.exec(soql.slice(i))?.[0];
      if (!match) throw malformed(`unexpected token: ${char}`);
      tokens.push({ kind: 'number', value: Number(match) });
      i += match.length;
    } else if (',=()'.includes(char)) {
      tokens.push({ kind: 'symbol', text: char });
      i++;
    } else {
      throw malformed(`unexpected token: ${char}`);
    }
  }
  return tokens;
}

interface ParsedQuery {
  readonly select: string[];
  readonly from: string;
  readonly where?: Condition;
  readonly limit?: number;
}

export function parseSoql(soql: string): ParsedQuery {
  const tokens = tokenizeSoql(soql);
  let position = 0;
  const peek = () => tokens[position];
  const isWord = (token: Token | undefined, word: string): boolean =>
    token?.kind === 'word' && token.text.toUpperCase() === word;
  const expectWord = (word?: string) => {
    const token = tokens[position++];
    if (token?.kind !== 'word' || (word && token.text.toUpperCase() !== word)) {
      throw malformed(`expected ${word ?? 'a field name'}`);
    }
    return token.text;
  };
  const expectSymbol = (symbol: string) => {
    const token = tokens[position++];
    if (token?.kind !== 'symbol' || token.text !== symbol) throw malformed(`expected '${symbol}'`);
  };

  expectWord('SELECT');
  const select = [expectWord()];
  while (peek()?.kind === 'symbol' && (peek() as { text: string }).text === ',') {
    position++;
    select.push(expectWord());
  }
  expectWord('FROM');
  const from = expectWord();

  const atom = (): Condition => {
    const token = peek();
    if (token?.kind === 'symbol' && token.text === '(') {
      position++;
      const inner = condition();
      expectSymbol(')');
      return inner;
    }
    const field = expectWord();
    expectSymbol('=');
    const literal = tokens[position++];
    if (literal?.kind === 'string' || literal?.kind === 'number')
      return { kind: 'eq', field, value: literal.value };
    if (literal?.kind === 'word' && ['NULL', 'TRUE', 'FALSE'].includes(literal.text.toUpperCase())) {
      const word = literal.text.toUpperCase();
      return { kind: 'eq', field, value: word === 'NULL' ? null : word === 'TRUE' };
    }
    throw malformed(`expected a literal after ${field} =`);
  };
  const term = (): Condition => {
    let left = atom();
    while (isWord(peek(), 'AND')) {
      position++;
      left = { kind: 'and', left, right: atom() };
    }
    return left;
  };
  const condition = (): Condition => {
    let left = term();
    while (isWord(peek(), 'OR')) {
      position++;
      left = { kind: 'or', left, right: term() };
    }
    return left;
  };

  let where: Condition | undefined;
  if (isWord(peek(), 'WHERE')) {
    position++;
    where = condition();
  }
  let limit: number | undefined;
  if (isWord(peek(), 'LIMIT')) {
    position++;
    const token = tokens[position++];
    if (token?.kind !== 'number' || !Number.isInteger(token.value) || token.value < 0) {
      throw malformed('LIMIT expects a non-negative integer');
    }
    limit = token.value;
  }
  if (position < tokens.length) throw malformed('unexpected token after the end of the query');
  return { select, from, ...(where ? { where } : {}), ...(limit !== undefined ? { limit } : {}) };
}

function runQuery(
  soql: string,
  store: Record<StubSObject, Map<string, Record<string, unknown>>>,
  fields: Record<StubSObject, Set<string>>,
) {
  const query = parseSoql(soql);
  if (!isSObject(query.from)) {
    throw new SalesforceApiError(400, 'INVALID_TYPE', `sObject type '${query.from}' is not supported.`);
  }
  const type = query.from;
  const relation = (field: string): { target: StubSObject; lookup: string; child: string } | undefined => {
    const [name, child, ...rest] = field.split('.');
    if (!child) return undefined;
    const lookup = `${name}Id`;
    const target = REFERENCES[`${type}.${lookup}`];
    if (rest.length || !target || target !== name || !fields[target].has(child)) {
      throw new SalesforceApiError(400, 'INVALID_FIELD', `No such column '${field}' on entity '${type}'`);
    }
    return { target, lookup, child };
  };
  const checkField = (field: string) => {
    if (!relation(field) && !fields[type].has(field)) {
      throw new SalesforceApiError(400, 'INVALID_FIELD', `No such column '${field}' on entity '${type}'`);
    }
  };
  query.select.forEach(checkField);

  const fieldValue = (record: Record<string, unknown>, field: string) => {
    const related = relation(field);
    if (!related) return record[field];
    return store[related.target].get(record[related.lookup] as string)?.[related.child];
  };
  const matches = (record: Record<string, unknown>, condition: Condition): boolean => {
    if (condition.kind !== 'eq') {
      return condition.kind === 'and'
        ? matches(record, condition.left) && matches(record, condition.right)
        : matches(record, condition.left) || matches(record, condition.right);
    }
    checkField(condition.field);
    const actual = fieldValue(record, condition.field) ?? null;
    // Text comparison in SOQL is case-insensitive.
    if (typeof actual === 'string' && typeof condition.value === 'string') {
      return actual.toLowerCase() === condition.value.toLowerCase();
    }
    return actual === condition.value;
  };

  const rows = [...store[type].values()].filter((record) => !query.where || matches(record, query.where));
  return rows.slice(0, query.limit ?? rows.length).map((record) => {
    const out: Record<string, unknown> = { attributes: attributes(type, record) };
    for (const field of query.select) {
      const related = relation(field);
      if (!related) {
        out[field] = record[field] ?? null;
        continue;
      }
      const parent = store[related.target].get(record[related.lookup] as string);
      const name = field.split('.')[0]!;
      if (!parent) {
        out[name] = null;
        continue;
      }
      const nested = (out[name] as Record<string, unknown> | undefined) ?? {
        attributes: attributes(related.target, parent),
      };
      nested[related.child] = parent[related.child] ?? null;
      out[name] = nested;
    }
    return out;
  });
}
