import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { attachmentKey, FileAttachmentStore, S3AttachmentStore } from '#adapters/emailAttachmentStore';

const invoice = {
  index: 0,
  filename: '../../etc/Invoice May.pdf',
  contentType: 'application/pdf',
  content: Buffer.from('%PDF-1.4 invoice'),
};

describe('e-mail attachment stores', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keys attachments by conversation and mail, with names that cannot climb out of their folder', () => {
    // Act
    const key = attachmentKey('em-abc', '<m1@example.com>', invoice);

    // Assess
    expect(key).toMatch(/^attachments\/em-abc\/[0-9a-f]{24}\/0-__\.\._etc_Invoice_May\.pdf$/);
    expect(key).not.toContain('../');
  });

  it('writes files readable by the owner only, idempotently, and erases a conversation', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 'attachments-'));
    dirs.push(root);
    const store = new FileAttachmentStore(root);

    // Act
    const [key] = await store.save('em-abc', '<m1@example.com>', [invoice]);
    await store.save('em-abc', '<m1@example.com>', [invoice]);
    const path = join(root, key!);
    const stored = readFileSync(path, 'utf8');
    const mode = statSync(path).mode & 0o777;
    await store.eraseConversation('em-abc');

    // Assess
    expect(stored).toBe('%PDF-1.4 invoice');
    expect(mode).toBe(0o600);
    expect(existsSync(path)).toBe(false);
  });

  it('puts attachments into the bucket as downloads and deletes a conversation by prefix', async () => {
    // Prepare
    const s3 = mockClient(S3Client);
    s3.on(ListObjectsV2Command).resolvesOnce({ Contents: [{ Key: 'attachments/em-abc/x/0-a.pdf' }] });
    const store = new S3AttachmentStore(new S3Client({ region: 'us-east-1' }), 'transcripts');

    // Act
    await store.save('em-abc', '<m1@example.com>', [invoice]);
    await store.eraseConversation('em-abc');

    // Assess
    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Bucket: 'transcripts', ContentType: 'application/pdf' });
    expect(put.ContentDisposition).toMatch(/^attachment; filename="/);
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input.Prefix).toBe('attachments/em-abc/');
    expect(s3.commandCalls(DeleteObjectsCommand)[0]!.args[0].input.Delete?.Objects).toEqual([
      { Key: 'attachments/em-abc/x/0-a.pdf' },
    ]);
    s3.restore();
  });
});
