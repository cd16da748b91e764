/**
 * The audit archive on S3: one JSON Lines object per appended batch, under
 * `audit/YYYY/MM/DD/HH/<auditId of the first entry>.jsonl` (UTC time of that entry). The bucket has object
 * lock in compliance mode with a default retention, so what is written cannot be changed or deleted by
 * anyone until it expires; this class only ever calls PutObject:
 * - with a SHA-256 checksum (object-lock buckets refuse writes without a content checksum), and
 * - with If-None-Match: * so a retried batch (same first entry, same key) never adds a second version:
 *   S3 answers 412 and the batch counts as archived.
 * Retention comes from the bucket's default: no per-object retention, so no PutObjectRetention permission.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditEntry, AuditLog } from '#core/auditLog';

export interface S3AuditArchiveOptions {
  /** Key prefix, ending in '/'. @default 'audit/' */
  readonly prefix?: string;
}

/**
 * S3's answer to If-None-Match when the key exists (412). A 409 (the same key being written concurrently)
 * is thrown: the retry then finds the object and gets 412.
 */
const ALREADY_WRITTEN = new Set(['PreconditionFailed']);

export class S3AuditArchive implements AuditLog {
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    options: S3AuditArchiveOptions = {},
  ) {
    this.prefix = options.prefix ?? 'audit/';
    if (!/^(?:[\w-]+\/)+$/.test(this.prefix)) {
      throw new Error(`prefix must be path segments ending in '/', got '${this.prefix}'`);
    }
  }

  async append(entries: readonly AuditEntry[]): Promise<void> {
    const first = entries[0];
    if (!first) return;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(first),
          Body: `${entries.map((entry) => JSON.stringify(entry)).join('\n')}\n`,
          ContentType: 'application/x-ndjson',
          ChecksumAlgorithm: 'SHA256',
          IfNoneMatch: '*',
        }),
      );
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (ALREADY_WRITTEN.has((error as Error).name) || status === 412) return;
      throw error;
    }
  }

  /** `audit/YYYY/MM/DD/HH/<auditId>.jsonl` of a batch's first entry. */
  keyOf(first: AuditEntry): string {
    const [date = '', time = ''] = first.at.split('T');
    const [year, month, day] = date.split('-');
    return `${this.prefix}${year}/${month}/${day}/${time.slice(0, 2)}/${first.auditId}.jsonl`;
  }
}
