import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamoAuditLog';
import { FileAuditArchive } from '#adapters/fileAuditArchive';
import { S3AuditArchive } from '#adapters/s3AuditArchive';
import { TABLES, type TableName } from '#adapters/tableDefinitions';
import {
  type AuditEntry,
  auditEntriesOf,
  auditIdOf,
  auditTrail,
  InvalidAuditCursorError,
  operatorActionEntry,
} from '#core/auditLog';
import { createAuditApi } from '#handlers/api/audit';
import { createAuditRecorder } from '#handlers/events/auditRecorder';
import { type DynamoServer, ensureTables, localAwsClientConfig, startDynamo } from '#local/dynamoServer';

const tableNames = Object.fromEntries(Object.keys(TABLES).map((name) => [name, `test-${name}`])) as Record<
  TableName,
  string
>;

let nextId = 0;
/** An operator action at `at`, with a fresh id unless `requestId` is given. */
const entryAt = (at: string, requestId = `req-${nextId++}`, operator = 'dana'): AuditEntry =>
  operatorActionEntry({ requestId, at, operator, action: 'takeover', caseId: 'CS-ABCD1234' });

/** Class methods besides the constructor: the whole write surface of an adapter. */
const methodsOf = (type: { prototype: object }) =>
  Object.getOwnPropertyNames(type.prototype).filter((name) => name !== 'constructor');

describe('audit adapters: no way to change or remove an entry', () => {
  it.each([
    ['DynamoAuditLog', DynamoAuditLog],
    ['S3AuditArchive', S3AuditArchive],
    ['FileAuditArchive', FileAuditArchive],
  ])('%s offers append and reads only', (_name, type) => {
    // Act
    const methods = methodsOf(type);

    // Assess
    expect(methods).toContain('append');
    expect(methods.filter((m) => /update|delete|remove|overwrite|replace|truncate/i.test(m))).toEqual([]);
  });
});

describe('DynamoAuditLog over dynalite', () => {
  let dataDir: string;
  let server: DynamoServer;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'supportmax-audit-'));
    server = await startDynamo({ dataDir });
    client = new DynamoDBClient(localAwsClientConfig(server.endpoint));
    documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Each test writes its own table, so the tests do not see each other's entries. */
  async function freshLog(): Promise<{ log: DynamoAuditLog; tableName: string }> {
    const tableName = `test-audit-${nextId++}`;
    await ensureTables(client, { ...tableNames, audit: tableName });
    return { log: new DynamoAuditLog(documents, tableName), tableName };
  }

  const scan = async (tableName: string) =>
    (await documents.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? [];

  it('stores an entry appended twice once, and keeps the first write when the retry differs', async () => {
    // Prepare
    const { log, tableName } = await freshLog();
    const entry = entryAt('2026-03-02T09:00:00.000Z', 'req-same');
    const altered = { ...entry, actor: { type: 'operator', id: 'mallory' } } as AuditEntry;

    // Act
    await log.append([entry]);
    await log.append([entry]);
    await Promise.all([log.append([altered]), log.append([altered])]);

    // Assess
    const items = await scan(tableName);
    expect(items).toHaveLength(1);
    expect(items[0]).toEqual({ ...entry, day: '2026-03-02' });
  });

  it("lists a day's entries oldest first, a page at a time, without other days", async () => {
    // Prepare
    const { log } = await freshLog();
    const day = Array.from({ length: 7 }, (_, i) => entryAt(`2026-03-02T0${i}:30:00.000Z`));
    await log.append([...day].reverse());
    await log.append([entryAt('2026-03-01T23:59:59.000Z'), entryAt('2026-03-03T00:00:00.000Z')]);

    // Act
    const pages: AuditEntry[][] = [];
    let cursor: string | undefined;
    do {
      const page = await log.listDay('2026-03-02', { limit: 3, ...(cursor ? { cursor } : {}) });
      pages.push(page.entries);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 10);

    // Assess
    expect(pages.flat()).toEqual(day);
    expect(pages[0]).toHaveLength(3);
    expect(pages.flat()[0]).not.toHaveProperty('day');
  });

  it("refuses a forged cursor or another day's cursor", async () => {
    // Prepare
    const { log } = await freshLog();
    await log.append([entryAt('2026-03-02T01:00:00.000Z'), entryAt('2026-03-02T02:00:00.000Z')]);
    const { nextCursor } = await log.listDay('2026-03-02', { limit: 1 });

    // Act
    const forged = log.listDay('2026-03-02', { limit: 1, cursor: 'not-a-cursor' });
    const otherDay = log.listDay('2026-03-03', { limit: 1, cursor: nextCursor! });

    // Assess
    await expect(forged).rejects.toBeInstanceOf(InvalidAuditCursorError);
    await expect(otherDay).rejects.toBeInstanceOf(InvalidAuditCursorError);
  });

  it('records a redelivered event once in the table and once in the file archive', async () => {
    // Prepare
    const { log, tableName } = await freshLog();
    const dir = join(dataDir, `archive-${nextId++}`);
    const archive = new FileAuditArchive(dir, { now: () => Date.parse('2026-03-02T10:00:00.000Z') });
    const record = createAuditRecorder({ log: auditTrail([log, archive]) });
    const event = {
      id: 'evt-1',
      time: '2026-03-02T09:59:00.000Z',
      'detail-type': 'ConversationEscalated',
      detail: {
        type: 'ConversationEscalated',
        conversationId: 'c-1',
        caseId: 'CS-ABCD1234',
        reason: 'human_requested',
        intent: 'account_access',
        productArea: 'auth',
        confidence: 0.2,
        turnLatencyMs: 400,
        priority: 'P2',
        queue: 'accounts',
      },
    };

    // Act
    await record(event);
    await record({ ...event, id: 'evt-1-replayed' });

    // Assess
    expect(await scan(tableName)).toHaveLength(1);
    const lines = (await readFile(archive.fileOf('2026-03-02'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'escalation', details: { queue: 'accounts' } });
  });

  it('records an operator REST action once under the signed-in operator, in the table and the archive', async () => {
    // Prepare
    const { tableName } = await freshLog();
    const auditDir = join(dataDir, 'rest-audit');
    for (const [name, value] of Object.entries({
      AUDIT_TABLE: tableName,
      AUDIT_DIR: auditDir,
      AUDIT_BUCKET: '',
      AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    })) {
      vi.stubEnv(name, value);
    }
    const { recordOperatorAction } = await import('#handlers/shared/auditTrail');
    const request = { requestContext: { requestId: 'req-42' } } as unknown as APIGatewayProxyEvent;
    const operator = { username: 'dana', roles: ['agent' as const] };
    const target = { caseId: 'CS-ABCD1234', conversationId: 'c-1' };

    // Act
    try {
      await recordOperatorAction(request, operator, 'reply', target);
      await recordOperatorAction(request, operator, 'reply', target);
    } finally {
      vi.unstubAllEnvs();
    }

    // Assess
    const items = await scan(tableName);
    expect(items).toEqual([
      expect.objectContaining({
        auditId: auditIdOf('operator_action:reply:req-42'),
        kind: 'operator_action',
        actor: { type: 'operator', id: 'dana' },
        subject: target,
        details: { action: 'reply', caseId: 'CS-ABCD1234' },
      }),
    ]);
    const [file] = await readdir(auditDir);
    expect((await readFile(join(auditDir, file!), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  describe('GET /api/audit', () => {
    const restEvent = (query: Record<string, string>, groups = 'supervisor') =>
      ({
        httpMethod: 'GET',
        resource: '/api/audit',
        path: '/api/audit',
        queryStringParameters: query,
        requestContext: { authorizer: { claims: { 'cognito:username': 'sam', 'cognito:groups': groups } } },
      }) as unknown as APIGatewayProxyEvent;

    it("returns a supervisor the day's entries with a cursor to the next page", async () => {
      // Prepare
      const { log } = await freshLog();
      const entries = [entryAt('2026-03-02T01:00:00.000Z'), entryAt('2026-03-02T02:00:00.000Z')];
      await log.append(entries);
      const api = createAuditApi(() => log);

      // Act
      const first = await api(restEvent({ day: '2026-03-02', limit: '1' }));
      const body = JSON.parse(first.body) as { entries: AuditEntry[]; nextCursor: string };
      const second = await api(restEvent({ day: '2026-03-02', limit: '1', cursor: body.nextCursor }));

      // Assess
      expect(first.statusCode).toBe(200);
      expect(body).toMatchObject({ day: '2026-03-02', entries: [entries[0]] });
      expect(JSON.parse(second.body).entries).toEqual([entries[1]]);
    });

    it.each([
      [{ day: '2026-02-30' }, /^day: /],
      [{ day: '2026-03-02', limit: '501' }, /^limit: /],
      [{ day: '2026-03-02', cursor: 'forged' }, /^cursor: /],
    ])('answers 400 to %o', async (query, message) => {
      // Prepare
      const { log } = await freshLog();
      const api = createAuditApi(() => log);

      // Act
      const call = api(restEvent(query));

      // Assess
      await expect(call).rejects.toMatchObject({ status: 400, message: expect.stringMatching(message) });
    });

    it('refuses an agent: the audit log needs a supervisor', async () => {
      // Prepare
      const { log } = await freshLog();
      const api = createAuditApi(() => log);

      // Act
      const call = api(restEvent({ day: '2026-03-02' }, '[agent]'));

      // Assess
      await expect(call).rejects.toMatchObject({ status: 403 });
    });
  });
});

describe('FileAuditArchive', () => {
  let dir: string;
  let now = Date.parse('2026-03-02T23:59:00.000Z');
  const clock = { now: () => now };

  beforeAll(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'supportmax-audit-files-')), 'audit');
  });

  afterAll(async () => {
    if (dir) await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it("appends whole lines once, then makes an earlier day's file read-only and writes to today's", async () => {
    // Prepare
    const archive = new FileAuditArchive(dir, clock);
    const first = entryAt('2026-03-02T23:58:00.000Z');
    const late = entryAt('2026-03-02T23:59:30.000Z');

    // Act
    await archive.append([first]);
    await archive.append([first]);
    const dayOne = await readFile(archive.fileOf('2026-03-02'), 'utf8');
    now = Date.parse('2026-03-03T00:00:05.000Z');
    await archive.append([late]);

    // Assess
    expect(
      dayOne
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([first]);
    expect(await readFile(archive.fileOf('2026-03-02'), 'utf8')).toBe(dayOne);
    expect((await stat(archive.fileOf('2026-03-02'))).mode & 0o777).toBe(0o444);
    expect((await stat(archive.fileOf('2026-03-03'))).mode & 0o222).not.toBe(0);
    expect(JSON.parse((await readFile(archive.fileOf('2026-03-03'), 'utf8')).trim())).toEqual(late);
    expect((await readdir(dir)).sort()).toEqual(['2026-03-02.jsonl', '2026-03-03.jsonl']);
  });

  it('keeps a line cut short by a crash as it is and starts the next entry on a new line', async () => {
    // Prepare
    now = Date.parse('2026-03-04T08:00:00.000Z');
    const file = join(dir, '2026-03-04.jsonl');
    await writeFile(file, '{"auditId":"au-trunc', { mode: 0o644 });
    const entry = entryAt('2026-03-04T08:00:00.000Z');

    // Act
    await new FileAuditArchive(dir, clock).append([entry]);

    // Assess
    expect(await readFile(file, 'utf8')).toBe(`{"auditId":"au-trunc\n${JSON.stringify(entry)}\n`);
  });

  it('remembers the entries of an earlier run of the process', async () => {
    // Prepare
    now = Date.parse('2026-03-05T08:00:00.000Z');
    const entry = entryAt('2026-03-05T08:00:00.000Z');
    await new FileAuditArchive(dir, clock).append([entry]);

    // Act
    await new FileAuditArchive(dir, clock).append([entry, entry]);

    // Assess
    expect((await readFile(join(dir, '2026-03-05.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});

describe('S3AuditArchive', () => {
  const s3 = mockClient(S3Client);
  const archive = new S3AuditArchive(new S3Client({ region: 'us-east-1' }), 'audit-bucket');

  it('writes one JSON Lines object per batch under the hour of its first entry, checksummed and create-only', async () => {
    // Prepare
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    const entries = [entryAt('2026-03-02T09:15:00.000Z'), entryAt('2026-03-02T09:16:00.000Z')];

    // Act
    await archive.append(entries);

    // Assess
    const calls = s3.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0]).toBeInstanceOf(PutObjectCommand);
    expect(calls[0]!.args[0].input).toEqual({
      Bucket: 'audit-bucket',
      Key: `audit/2026/03/02/09/${entries[0]!.auditId}.jsonl`,
      Body: `${JSON.stringify(entries[0])}\n${JSON.stringify(entries[1])}\n`,
      ContentType: 'application/x-ndjson',
      ChecksumAlgorithm: 'SHA256',
      IfNoneMatch: '*',
    });
  });

  it('treats an existing object (412 on If-None-Match) as already archived, and other errors as errors', async () => {
    // Prepare
    s3.reset();
    const exists = new S3ServiceException({
      name: 'PreconditionFailed',
      $fault: 'client',
      $metadata: { httpStatusCode: 412 },
      message: 'At least one of the pre-conditions you specified did not hold',
    });
    s3.on(PutObjectCommand).rejectsOnce(exists).rejectsOnce(new Error('network down'));

    // Act
    const retried = archive.append([entryAt('2026-03-02T09:15:00.000Z')]);

    // Assess
    await expect(retried).resolves.toBeUndefined();
    await expect(archive.append([entryAt('2026-03-02T09:15:00.000Z')])).rejects.toThrow('network down');
  });

  it('writes nothing for an empty batch', async () => {
    // Prepare
    s3.reset();

    // Act
    await archive.append([]);

    // Assess
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('audit entry ids across stores', () => {
  it('derives the id of an event entry from the domain, not the store', () => {
    // Prepare
    const detail = {
      type: 'CaseAbandoned' as const,
      conversationId: 'c-1',
      caseId: 'CS-ABCD1234',
      waitedSeconds: 30,
    };

    // Act
    const [entry] = auditEntriesOf({ id: 'evt-9', time: '2026-03-02T09:00:00Z', detail });

    // Assess
    expect(entry!.auditId).toBe(auditIdOf('escalation:abandoned:CS-ABCD1234'));
    expect(entry!.at).toBe('2026-03-02T09:00:00.000Z');
  });
});
