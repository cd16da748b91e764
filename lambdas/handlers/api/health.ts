/** GET /api/health: 200 with each component's status (503 when one is down). */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { documentClient } from '#adapters/dynamoDocumentClient';
import { TABLES } from '#adapters/tableDefinitions';
import { requireEnv } from '../shared/env';
import { json, restHandler } from '../shared/http';
import { engine } from '../shared/runtime';

async function check(name: string, probe: () => Promise<Record<string, unknown> | undefined>) {
  const started = performance.now();
  try {
    const detail = await probe();
    return { name, status: 'ok' as const, latencyMs: Math.round(performance.now() - started), ...detail };
  } catch (error) {
    return { name, status: 'down' as const, error: (error as Error).message.slice(0, 200) };
  }
}

export const handler = restHandler(async () => {
  const components = await Promise.all([
    check('dynamodb', async () => {
      await documentClient().send(
        new DescribeTableCommand({ TableName: requireEnv(TABLES.conversations.envVar) }),
      );
      return undefined;
    }),
    check('engine', async () => {
      const ready = await engine();
      return { faqs: ready.knowledge.size };
    }),
  ]);
  const healthy = components.every((c) => c.status === 'ok');
  return json(healthy ? 200 : 503, {
    status: healthy ? 'ok' : 'degraded',
    components: Object.fromEntries(components.map(({ name, ...rest }) => [name, rest])),
  });
});
