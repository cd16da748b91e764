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

/** Reads KB JSONL files in order (later ids replace earlier ones); any bad line throws naming file and line. */
export function loadKnowledgeBaseFiles(paths: readonly string[]): Faq[] {
  const byId = new Map<string, Faq>();
  for (const path of paths) {
    if (!existsSync(path)) throw new Error(`${path}: file not found`);
    const parsed = parseKnowledgeBaseJsonl(readFileSync(path, 'utf8'));
    if (parsed.errors.length) {
      const first = parsed.errors.slice(0, 5).map((e) => `${path}:${e.line}: ${e.message}`);
      throw new Error(`${parsed.errors.length} invalid KB line(s):\n${first.join('\n')}`);
    }
    for (const faq of parsed.faqs) byId.set(faq.id, faq);
  }
  return [...byId.values()];
}
