import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const received: { messageId: string; from: string }[] = [];
let nextOutcome: object = { kind: 'delivered' };
vi.mock('#handlers/shared/crmRuntime', () => ({
  emailIntakeChannel: () => ({
    receive: async (email: { messageId: string; from: { address: string } }) => {
      received.push({ messageId: email.messageId, from: email.from.address });
      return nextOutcome;
    },
  }),
}));

const { handler } = await import('#handlers/queue/emailIntake');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'email');
const s3 = mockClient(S3Client);

/** The slice of the SDK's stream body the handler uses. */
const body = (file: string) =>
  ({ transformToByteArray: async () => new Uint8Array(readFileSync(join(FIXTURES, file))) }) as never;
const notification = (key: string, eventName = 'ObjectCreated:Put') =>
  JSON.stringify({ Records: [{ eventName, s3: { bucket: { name: 'mail' }, object: { key } } }] });
const sqsEvent = (...bodies: string[]): SQSEvent =>
  ({
    Records: bodies.map((b, i) => ({ messageId: `sqs-${i}`, body: b })),
  }) as unknown as SQSEvent;
const context = { functionName: 'email-intake', awsRequestId: 'r1' } as Context;

describe('emailIntake (SES → S3 → SQS consumer)', () => {
  beforeEach(() => {
    s3.reset();
    received.length = 0;
    nextOutcome = { kind: 'delivered' };
  });

  it('hands each stored mail to the e-mail channel, decoding the S3 key', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Bucket: 'mail', Key: 'inbound/a b.eml' }).resolves({ Body: body('plain.eml') });

    // Act
    const result = await handler(sqsEvent(notification('inbound/a+b.eml')), context);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(received).toHaveLength(1);
  });

  it('drops malformed mail without retrying it, and ignores S3 test events', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body('no-from.eml') });

    // Act
    const result = await handler(
      sqsEvent(notification('inbound/bad.eml'), JSON.stringify({ Event: 's3:TestEvent' })),
      context,
    );

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(received).toHaveLength(0);
  });

  it('retries a record whose mail is still being processed or cannot be read', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: 'inbound/busy.eml' }).resolves({ Body: body('plain.eml') });
    s3.on(GetObjectCommand, { Key: 'inbound/gone.eml' }).rejects(new Error('NoSuchKey'));
    nextOutcome = { kind: 'duplicate', messageId: '<x@y>', inProgress: true };

    // Act
    const result = await handler(
      sqsEvent(notification('inbound/busy.eml'), notification('inbound/gone.eml')),
      context,
    );

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'sqs-0' }, { itemIdentifier: 'sqs-1' }]);
  });
});
