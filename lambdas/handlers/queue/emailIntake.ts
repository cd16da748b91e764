/**
 * Inbound e-mail on AWS: SES receipt rule → raw MIME in the (KMS-encrypted) mail bucket → S3 notification
 * on SQS → this consumer. Each mail is parsed (SES's own Authentication-Results and spam/virus verdicts,
 * never a sender's forged copies) and handed to the e-mail channel, which threads it, drops automated mail
 * and answers through the support desk. Malformed mail is logged and dropped, never retried; a mail still
 * being processed elsewhere, or any other failure, is retried (partial batch response), then dead-lettered.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context, S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { InvalidEmailError } from '#adapters/mimeParser';
import { numberEnv } from '../shared/env';
import { takeInboundEmail } from '../shared/inboundEmail';
import { instrumented } from '../shared/middleware';
import { logger } from '../shared/powertools';

const s3Notification = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string(),
        s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string() }) }),
      }),
    )
    .default([]),
});

let s3: S3Client | undefined;

async function readMail(bucket: string, key: string): Promise<Buffer> {
  s3 ??= new S3Client({});
  const object = await s3.send(
    // S3 event keys are URL-encoded with '+' for spaces.
    new GetObjectCommand({ Bucket: bucket, Key: decodeURIComponent(key.replace(/\+/g, ' ')) }),
  );
  return Buffer.from(await object.Body!.transformToByteArray());
}

export const handler = instrumented(async (event: SQSEvent, _context: Context): Promise<SQSBatchResponse> => {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      // S3 sends a TestEvent when the notification is created: nothing to read.
      const notification = s3Notification.parse(JSON.parse(record.body)) as Pick<S3Event, 'Records'>;
      for (const entry of notification.Records.filter((r) => r.eventName.startsWith('ObjectCreated'))) {
        const raw = await readMail(entry.s3.bucket.name, entry.s3.object.key);
        try {
          const outcome = await takeInboundEmail(raw, {
            sesReceiptHeaders: true,
            maxAttachmentBytes: numberEnv('EMAIL_MAX_ATTACHMENT_BYTES', 10 * 1024 * 1024),
          });
          if (outcome.kind === 'duplicate' && outcome.inProgress) {
            throw new Error(`mail ${outcome.messageId} is still being processed; retrying later`);
          }
          logger.info('inbound e-mail', { key: entry.s3.object.key, outcome: outcome.kind });
        } catch (error) {
          if (!(error instanceof InvalidEmailError)) throw error;
          logger.warn('malformed e-mail dropped', { key: entry.s3.object.key, reason: error.reason });
        }
      }
    } catch (error) {
      logger.error('inbound e-mail failed', { error: error as Error, messageId: record.messageId });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
});
