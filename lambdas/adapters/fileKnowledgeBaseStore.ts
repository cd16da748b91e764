/**
 * KnowledgeBaseStore on a JSONL file, written atomically (temp file + rename) so a crash never leaves a
 * half-written knowledge base.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type KnowledgeBaseStore, parseKnowledgeBaseJsonl, toJsonl } from '#core/knowledgeBase';
import type { Faq } from '#core/types';

export class FileKnowledgeBaseStore implements KnowledgeBaseStore {
  constructor(private readonly path: string) {}

  async list(): Promise<Faq[]> {
    if (!existsSync(this.path)) return [];
    const parsed = parseKnowledgeBaseJsonl(readFileSync(this.path, 'utf8'));
    if (parsed.errors.length) {
      throw new Error(`${this.path}:${parsed.errors[0]!.line}: ${parsed.errors[0]!.message}`);
    }
    return parsed.faqs;
  }

  async put(faqs: readonly Faq[]): Promise<void> {
    const byId = new Map((await this.list()).map((f) => [f.id, f]));
    for (const faq of faqs) byId.set(faq.id, faq);
    mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, toJsonl([...byId.values()]));
    renameSync(temp, this.path);
  }
}
