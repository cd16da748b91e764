import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { localAwsClientConfig } from '#local/dynamoServer';
import { ensureQueue, startQueueConsumer, startSqs } from '#local/sqsServer';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('local SQS', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(settings: { maxReceiveCount: number; visibilityTimeoutSeconds: number }) {
    const server = await startSqs();
    const client = new SQSClient(localAwsClientConfig(server.endpoint));
    cleanups.push(async () => {
      client.destroy();
      await server.close();
    });
    const urls = await ensureQueue(client, 'turns', { dlqName: 'turns-dlq', ...settings });
    return { client, ...urls };
  }

  function consume(
    client: SQSClient,
    queueUrl: string,
    handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>,
    onError: (error: unknown) => void = (error) => {
      throw error;
    },
  ) {
    const controller = new AbortController();
    const signal = controller.signal;
    const consumer = startQueueConsumer({ client, queueUrl, handler, waitTimeSeconds: 1, signal, onError });
    const stop = async () => {
      controller.abort();
      await consumer.stopped;
    };
    cleanups.push(stop);
    return stop;
  }

  async function depth(client: SQSClient, queueUrl: string) {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
    );
  }

  it('hands messages to the handler as a Lambda SQSEvent and deletes them once processed', async () => {
    // Prepare
    const { client, queueUrl } = await setUp({ maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
    const seen: SQSRecord[] = [];
    const allSeen = deferred();
    const stop = consume(client, queueUrl, async (event) => {
      seen.push(...event.Records);
      if (seen.length === 3) allSeen.resolve();
      return { batchItemFailures: [] };
    });

    // Act
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ['a', 'b', 'c'].map((body) => ({ Id: body, MessageBody: JSON.stringify({ body }) })),
      }),
    );
    await allSeen.promise;
    await stop();

    // Assess
    expect(seen.map((r) => JSON.parse(r.body).body).sort()).toEqual(['a', 'b', 'c']);
    expect(seen[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:turns',
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1' },
    });
    expect(seen[0]!.messageId).toEqual(expect.any(String));
    expect(seen[0]!.receiptHandle).toEqual(expect.any(String));
    expect(await depth(client, queueUrl)).toBe(0);
  });

  it('redelivers only the records reported in batchItemFailures', async () => {
    // Prepare
    const { client, queueUrl } = await setUp({ maxReceiveCount: 5, visibilityTimeoutSeconds: 1 });
    const deliveries: string[] = [];
    const flakySucceeded = deferred();
    const stop = consume(client, queueUrl, async (event) => {
      const failures: { itemIdentifier: string }[] = [];
      for (const record of event.Records) {
        deliveries.push(`${record.body}#${record.attributes.ApproximateReceiveCount}`);
        if (record.body !== 'flaky') continue;
        if (record.attributes.ApproximateReceiveCount === '1')
          failures.push({ itemIdentifier: record.messageId });
        else flakySucceeded.resolve();
      }
      return { batchItemFailures: failures };
    });

    // Act
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'ok', MessageBody: 'ok' },
          { Id: 'flaky', MessageBody: 'flaky' },
        ],
      }),
    );
    await flakySucceeded.promise;
    await stop();

    // Assess
    expect(deliveries.sort()).toEqual(['flaky#1', 'flaky#2', 'ok#1']);
    expect(await depth(client, queueUrl)).toBe(0);
  });

  it('moves a message that keeps failing to the DLQ after maxReceiveCount receives', async () => {
    // Prepare
    const { client, queueUrl, dlqUrl } = await setUp({ maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
    let attempts = 0;
    const errors: unknown[] = [];
    consume(
      client,
      queueUrl,
      async () => {
        attempts++;
        throw new Error('handler always fails');
      },
      (error) => errors.push(error),
    );

    // Act
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    const dead = await client.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 10, MaxNumberOfMessages: 1 }),
    );

    // Assess
    expect(dead.Messages?.map((m) => m.Body)).toEqual(['poison']);
    expect(attempts).toBe(2);
    expect(errors).toEqual([new Error('handler always fails'), new Error('handler always fails')]);
  });

  it('stops promptly when aborted during an idle long poll', async () => {
    // Prepare
    const { client, queueUrl } = await setUp({ maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
    const polling = deferred();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand') polling.resolve();
        return next(args);
      },
      { step: 'initialize' },
    );
    const controller = new AbortController();
    let calls = 0;
    const consumer = startQueueConsumer({
      client,
      queueUrl,
      waitTimeSeconds: 20,
      signal: controller.signal,
      handler: async () => {
        calls++;
      },
    });
    await polling.promise;

    // Act
    const started = Date.now();
    controller.abort();
    await consumer.stopped;

    // Assess
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toBe(0);
  });
});
