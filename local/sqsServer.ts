/**
 * Local face of SQS: fauxqs in-process plus a consumer loop that drives a Lambda SQS handler the way
 * the Lambda event source mapping does (batches, partial batch responses, redelivery, DLQ by
 * maxReceiveCount). Imported by the local entry point and integration tests only.
 */
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { buildApp } from 'fauxqs';

export interface SqsServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Starts fauxqs on 127.0.0.1 and a free port (startFauxqs would bind 0.0.0.0). State is in memory only. */
export async function startSqs(): Promise<SqsServer> {
  const app = buildApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close() {
      closing ??= (async () => {
        await app.close();
      })();
      return closing;
    },
  };
}

export interface QueueSettings {
  readonly dlqName: string;
  /** Receives before SQS moves a message to the DLQ. */
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
}

export interface QueueUrls {
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/** Creates (idempotently) the DLQ and the queue redriving to it. */
export async function ensureQueue(
  client: SQSClient,
  name: string,
  settings: QueueSettings,
): Promise<QueueUrls> {
  if (!Number.isInteger(settings.maxReceiveCount) || settings.maxReceiveCount < 1) {
    throw new Error(`maxReceiveCount must be a positive integer, got ${settings.maxReceiveCount}`);
  }
  const dlq = await client.send(new CreateQueueCommand({ QueueName: settings.dlqName }));
  const dlqUrl = dlq.QueueUrl!;
  const dlqArn = await queueArn(client, dlqUrl);
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: settings.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, dlqUrl };
}

async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`Queue ${queueUrl} has no QueueArn attribute`);
  return arn;
}

// biome-ignore lint/suspicious/noConfusingVoidType: the return type of @types/aws-lambda's SQSHandler.
export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface QueueConsumerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly handler: SqsBatchHandler;
  /** @default 10 (the SQS maximum per receive) */
  readonly batchSize?: number;
  /** Long-poll duration; also bounds how long an idle consumer takes to notice nothing. @default 5 */
  readonly waitTimeSeconds?: number;
  /** Aborting stops the loop after the batch in hand is settled. */
  readonly signal: AbortSignal;
  /** Receives handler and SQS errors; the loop keeps going. @default console.error */
  readonly onError?: (error: unknown) => void;
}

export interface QueueConsumer {
  /** Resolves once the loop has exited after `signal` aborted. */
  readonly stopped: Promise<void>;
}

const MAX_ERROR_BACKOFF_MS = 5_000;

/**
 * Long-polls `queueUrl` and hands each batch to `handler` as a Lambda SQSEvent. Like the Lambda event
 * source mapping: successful records are deleted; records listed in `batchItemFailures`, or the whole
 * batch if the handler throws, are left to reappear after the visibility timeout.
 */
export function startQueueConsumer(options: QueueConsumerOptions): QueueConsumer {
  const { batchSize = 10, waitTimeSeconds = 5 } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
    throw new Error(`batchSize must be an integer from 1 to 10, got ${batchSize}`);
  }
  // A zero wait would make an idle consumer spin on empty receives.
  if (!Number.isInteger(waitTimeSeconds) || waitTimeSeconds < 1 || waitTimeSeconds > 20) {
    throw new Error(`waitTimeSeconds must be an integer from 1 to 20, got ${waitTimeSeconds}`);
  }
  return { stopped: consume({ ...options, batchSize, waitTimeSeconds }) };
}

async function consume(options: QueueConsumerOptions & { batchSize: number; waitTimeSeconds: number }) {
  const { client, queueUrl, signal, onError = (error: unknown) => console.error(error) } = options;
  let eventSourceARN: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    let messages: Message[];
    try {
      eventSourceARN ??= await queueArn(client, queueUrl);
      const received = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: options.batchSize,
          WaitTimeSeconds: options.waitTimeSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      );
      messages = received.Messages ?? [];
      failures = 0;
    } catch (error) {
      if (signal.aborted) break;
      onError(error);
      failures++;
      await pause(Math.min(100 * 2 ** failures, MAX_ERROR_BACKOFF_MS), signal);
      continue;
    }
    if (messages.length === 0) continue;

    const records = messages.map((message) => toRecord(message, eventSourceARN!));
    const failed = await failedMessageIds(records, options.handler, onError);
    const done = records.filter((record) => !failed.has(record.messageId));
    if (done.length === 0) continue;
    try {
      // Not tied to `signal`: finishing the batch in hand is what makes the stop clean.
      const deleted = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((record, i) => ({ Id: String(i), ReceiptHandle: record.receiptHandle })),
        }),
      );
      if (deleted.Failed?.length) {
        onError(new Error(`Could not delete ${deleted.Failed.length} processed message(s) from ${queueUrl}`));
      }
    } catch (error) {
      onError(error);
    }
  }
}

async function failedMessageIds(
  records: SQSRecord[],
  handler: SqsBatchHandler,
  onError: (error: unknown) => void,
): Promise<Set<string>> {
  const all = new Set(records.map((record) => record.messageId));
  try {
    const response = await handler({ Records: records });
    const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    for (const id of failed) {
      if (!all.has(id)) {
        // Lambda treats an unknown or empty itemIdentifier as a failure of the whole batch.
        onError(new Error(`batchItemFailures names unknown message id "${id}"; failing the whole batch`));
        return all;
      }
    }
    return failed;
  } catch (error) {
    onError(error);
    return all;
  }
}

function toRecord(message: Message, eventSourceARN: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId
        ? { MessageDeduplicationId: attributes.MessageDeduplicationId }
        : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
    },
    messageAttributes: toRecordAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion: eventSourceARN.split(':')[3] ?? 'us-east-1',
  };
}

function toRecordAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        dataType: value.DataType ?? 'String',
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined
          ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
          : {}),
        stringListValues: [],
        binaryListValues: [],
      },
    ]),
  );
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
