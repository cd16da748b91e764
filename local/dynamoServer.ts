/**
 * Local face of DynamoDB: dynalite (LevelDB-backed DynamoDB API) on a worker thread, so handlers use the same
 * DynamoDB SDK adapters as on AWS. Imported by the local entry point and integration tests only.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { type KeySpec, TABLES, type TableDefinition, type TableName } from '#adapters/tableDefinitions';

export interface DynamoServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface StartDynamoOptions {
  /** Directory owned by this local instance; the store lives in `${dataDir}/dynamo`. */
  readonly dataDir: string;
  /** @default 0 (a free port) */
  readonly port?: number;
}

const LOCAL_REGION = 'us-east-1';
const TABLE_ACTIVE_TIMEOUT_MS = 10_000;
const TABLE_POLL_MS = 25;

/** SDK client settings for any local server (dynalite, fauxqs): fixed region and dummy credentials. */
export function localAwsClientConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

/** Starts dynalite persisted under `dataDir`, holding `${dataDir}/dynamo.lock` until closed. */
export async function startDynamo({ dataDir, port = 0 }: StartDynamoOptions): Promise<DynamoServer> {
  await mkdir(dataDir, { recursive: true });
  const lockPath = join(dataDir, 'dynamo.lock');
  await acquireLock(lockPath, dataDir);

  // dynalite runs on a worker thread: its CPU work then uses the other core, not the handlers' event loop.
  const worker = new Worker(new URL('./dynamoWorker.mjs', import.meta.url), {
    workerData: { path: join(dataDir, 'dynamo'), port },
  });
  let boundPort: number;
  try {
    boundPort = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (message: { port?: number; error?: string }) =>
        message.port ? resolve(message.port) : reject(new Error(`dynalite: ${message.error}`)),
      );
    });
  } catch (error) {
    await worker.terminate();
    await releaseLock(lockPath);
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${boundPort}`,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          worker.on('message', (message: { closed?: boolean }) => {
            if (message.closed) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
        worker.postMessage('close');
        await closed;
        await worker.terminate();
        await releaseLock(lockPath);
      })();
      return closing;
    },
  };
}

/**
 * Creates every table of TABLES that does not exist yet (physical names from `names`) and waits until
 * each table and its indexes are ACTIVE. TTL is not configured: dynalite has no UpdateTimeToLive, and
 * local readers filter expired items themselves.
 */
export async function ensureTables(client: DynamoDBClient, names: Record<TableName, string>): Promise<void> {
  const entries = Object.entries(TABLES) as [TableName, TableDefinition][];
  await Promise.all(entries.map(([name, definition]) => ensureTable(client, names[name], definition)));
}

async function ensureTable(client: DynamoDBClient, tableName: string, definition: TableDefinition) {
  if (!(await describeTable(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName, definition)));
    } catch (error) {
      // Another process created it between our describe and create: fine, wait for it below.
      if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
    }
  }
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (;;) {
    const table = await describeTable(client, tableName);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new Error(`Table ${tableName} not ACTIVE after ${TABLE_ACTIVE_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, TABLE_POLL_MS));
  }
}

async function describeTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function createTableInput(tableName: string, definition: TableDefinition) {
  const attributes = new Map<string, AttributeDefinition>();
  const keySchema = (partitionKey: KeySpec, sortKey?: KeySpec): KeySchemaElement[] => {
    for (const key of sortKey ? [partitionKey, sortKey] : [partitionKey]) {
      attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
    }
    const schema: KeySchemaElement[] = [{ AttributeName: partitionKey.name, KeyType: 'HASH' }];
    if (sortKey) schema.push({ AttributeName: sortKey.name, KeyType: 'RANGE' });
    return schema;
  };
  const keys = keySchema(definition.partitionKey, definition.sortKey);
  const indexes = (definition.indexes ?? []).map((index) => ({
    IndexName: index.name,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: 'ALL' as const },
  }));
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    KeySchema: keys,
    AttributeDefinitions: [...attributes.values()],
    ...(indexes.length ? { GlobalSecondaryIndexes: indexes } : {}),
  };
}

/** One dynalite per data dir: LevelDB would otherwise fail later, on the first request, less clearly. */
async function acquireLock(lockPath: string, dataDir: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new Error(
        `Local DynamoDB data in ${dataDir} is in use by process ${holder} ` +
          `(lock file ${lockPath}). Stop that process or use another data directory.`,
      );
    }
    // Stale lock of a dead process (or unreadable): take it over.
    await rm(lockPath, { force: true });
  }
  throw new Error(
    `Could not take the lock ${lockPath}: another process is starting on the same data directory`,
  );
}

async function releaseLock(lockPath: string): Promise<void> {
  const holder = await readFile(lockPath, 'utf8').catch(() => '');
  if (holder === String(process.pid)) await rm(lockPath, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
