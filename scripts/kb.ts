/**
 * Knowledge-base import/export.
 *   npm run kb -- validate FILE.jsonl
 *   npm run kb -- import FILE.jsonl [--to STORE.jsonl] [--atomic]
 *   npm run kb -- export FILE.jsonl [--from STORE.jsonl] [--built-in]
 * The default store is the local face's KB overlay, $DATA_DIR/kb.jsonl (DATA_DIR defaults to ./.supportmax).
 * Exit codes: 0 ok, 2 bad input (every bad line is listed with its number).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FileKnowledgeBaseStore } from '#adapters/fileKnowledgeBaseStore';
import { importKnowledgeBase, parseKnowledgeBaseJsonl, toJsonl } from '#core/knowledgeBase';
import { loadBuiltInKnowledgeBase } from './datasets';

const usage =
  'usage: npm run kb -- validate|import|export FILE.jsonl [--to|--from STORE.jsonl] [--atomic] [--built-in]';

function fail(message: string): never {
  console.error(`kb: ${message}`);
  process.exit(2);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      from: { type: 'string' },
      atomic: { type: 'boolean', default: false },
      'built-in': { type: 'boolean', default: false },
    },
  });
  const [command, file] = positionals;
  if (!command || !file) fail(usage);
  const defaultStore = join(resolve(process.env.DATA_DIR ?? '.supportmax'), 'kb.jsonl');
  const progress = (done: number, total: number) => {
    if (total > 2000) process.stderr.write(`\r  ${done}/${total} lines`);
    if (total > 2000 && done === total) process.stderr.write('\n');
  };

  switch (command) {
    case 'validate': {
      if (!existsSync(file)) fail(`${file}: file not found`);
      const parsed = parseKnowledgeBaseJsonl(readFileSync(file, 'utf8'), progress);
      for (const e of parsed.errors) console.error(`${file}:${e.line}: ${e.message}`);
      for (const w of parsed.warnings) console.error(`${file}:${w.line}: warning: ${w.message}`);
      for (const id of parsed.duplicates)
        console.error(`${file}: id ${id} appears more than once (last one wins)`);
      console.log(`${parsed.faqs.length} valid FAQs, ${parsed.errors.length} bad lines`);
      if (parsed.errors.length) process.exit(2);
      return;
    }
    case 'import': {
      if (!existsSync(file)) fail(`${file}: file not found`);
      const store = new FileKnowledgeBaseStore(values.to ?? defaultStore);
      const report = await importKnowledgeBase(readFileSync(file, 'utf8'), store, {
        atomic: values.atomic,
        onProgress: progress,
      });
      for (const e of report.errors) console.error(`${file}:${e.line}: ${e.message}`);
      for (const w of report.warnings) console.error(`${file}:${w.line}: warning: ${w.message}`);
      console.log(
        `imported into ${values.to ?? defaultStore}: ${report.added} added, ${report.updated} updated, ` +
          `${report.unchanged} unchanged, ${report.errors.length} bad lines` +
          (values.atomic && report.errors.length ? ' (nothing written: --atomic)' : ''),
      );
      if (report.errors.length) process.exit(2);
      return;
    }
    case 'export': {
      const faqs = values['built-in']
        ? loadBuiltInKnowledgeBase()
        : await new FileKnowledgeBaseStore(values.from ?? defaultStore).list();
      writeFileSync(file, toJsonl(faqs));
      console.log(`exported ${faqs.length} FAQs to ${file}`);
      return;
    }
    default:
      fail(`unknown command "${command}". ${usage}`);
  }
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)));
