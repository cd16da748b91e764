/**
 * Where customers' e-mail attachments are kept (never sent to a model): files under DATA_DIR/attachments
 * locally, the encrypted transcript bucket on AWS. Keys are `attachments/<conversationId>/<hash of the
 * Message-ID>/<index>-<safe filename>`, so a redelivered mail overwrites its own copies and nothing else.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface AttachmentToStore {
  readonly index: number;
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
}

export interface EmailAttachmentStore {
  /** Stores a mail's attachments under its conversation; returns their keys. */
  save(
    conversationId: string,
    messageId: string,
    attachments: readonly AttachmentToStore[],
  ): Promise<string[]>;
  /** Removes every attachment of a conversation (GDPR erasure). */
  eraseConversation(conversationId: string): Promise<void>;
}

const SAFE = /[^A-Za-z0-9._-]+/g;
const segment = (value: string) => value.replace(SAFE, '_').replace(/^\.+/, '_').slice(0, 100) || '_';

export function attachmentKey(
  conversationId: string,
  messageId: string,
  attachment: AttachmentToStore,
): string {
  const mail = createHash('sha256').update(messageId).digest('hex').slice(0, 24);
  return `attachments/${segment(conversationId)}/${mail}/${attachment.index}-${segment(attachment.filename)}`;
}

/** Local face: plain files, written atomically. */
export class FileAttachmentStore implements EmailAttachmentStore {
  constructor(private readonly root: string) {}

  async save(conversationId: string, messageId: string, attachments: readonly AttachmentToStore[]) {
    const keys: string[] = [];
    for (const attachment of attachments) {
      const key = attachmentKey(conversationId, messageId, attachment);
      const path = join(this.root, key);
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, attachment.content, { mode: 0o600 });
      await rename(temporary, path);
      keys.push(key);
    }
    return keys;
  }

  async eraseConversation(conversationId: string) {
    await rm(join(this.root, 'attachments', segment(conversationId)), { recursive: true, force: true });
  }
}

/** AWS: the transcript bucket (KMS-encrypted by its default encryption). */
export class S3AttachmentStore implements EmailAttachmentStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async save(conversationId: string, messageId: string, attachments: readonly AttachmentToStore[]) {
    const keys: string[] = [];
    for (const attachment of attachments) {
      const key = attachmentKey(conversationId, messageId, attachment);
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: attachment.content,
          ContentType: attachment.contentType,
          // Never rendered inline by a browser that opens it from a presigned link.
          ContentDisposition: `attachment; filename="${segment(attachment.filename)}"`,
        }),
      );
      keys.push(key);
    }
    return keys;
  }

  async eraseConversation(conversationId: string) {
    const Prefix = `attachments/${segment(conversationId)}/`;
    // Bounded: 100 pages of 1,000 keys is far more than one conversation's mail holds.
    for (let page = 0; page < 100; page++) {
      const listed = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix }));
      const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length === 0) return;
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys } }));
      if (!listed.IsTruncated) return;
    }
  }
}
