/**
 * The evaluation CLI as a user runs it (`npm run eval -- …`): a custom KB and cases give the documented
 * JSON report; bad input exits 2 with a message naming the file and line.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'eval-cli-'));
const file = (name: string, lines: readonly object[] | string) => {
  const path = join(dir, name);
  writeFileSync(path, typeof lines === 'string' ? lines : lines.map((l) => JSON.stringify(l)).join('\n'));
  return path;
};
const evalCli = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts', 'eval.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

describe('evaluation CLI', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('evaluates a replacement KB and prints one JSON report', async () => {
    // Prepare
    const kb = file('kb.jsonl', [
      {
        id: 'ship-1',
        question: 'How long does standard shipping take?',
        answer: 'Standard shipping takes 3 to 5 business days within the EU.',
      },
      {
        id: 'ret-1',
        question: 'How do I return an item?',
        answer: 'Start a return from Orders, choose the item and print the prepaid label within 30 days.',
      },
      {
        id: 'pay-1',
        question: 'Which payment methods do you accept?',
        answer: 'We accept Visa, Mastercard, PayPal and bank transfer.',
      },
    ]);
    const cases = file('cases.jsonl', [
      { text: 'how many days until my parcel arrives with normal delivery', faqId: 'ship-1' },
      { text: 'I want to send back a jacket I bought', faqId: 'ret-1' },
      { text: 'can I pay with paypal', faqId: 'pay-1' },
      { text: 'what is the capital of australia', faqId: null },
      { text: 'I was charged twice for my order', intent: 'billing_question' },
    ]);
    // Act
    const result = await evalCli('--kb', kb, '--cases', cases, '--json');
    // Assess
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.intent).toMatchObject({ n: 1 });
    expect(report.retrieval).toMatchObject({ n: 3 });
    expect(report.retrieval.recallAt5).toBe(1);
    expect(report.escalation).toMatchObject({ n: 4 });
    expect(report.escalation.recall).toBe(1);
    expect(report.latencyMs.p95).toBeGreaterThan(0);
  }, 60_000);

  it.each([
    ['an unknown intent label', [{ text: 'hi', intent: 'weather' }], /:1: .*unknown intent label/],
    ['a malformed line', '{"text": "ok", "intent": "general_inquiry"}\n{oops', /:2: not valid JSON/],
    [
      'a case naming a FAQ missing from the KB',
      [{ text: 'hi', faqId: 'no-such-faq' }],
      /:1: .*no-such-faq.*not in the KB/,
    ],
  ])(
    'exits 2 naming the line for %s',
    async (_name, lines, message) => {
      const result = await evalCli('--cases', file('bad.jsonl', lines as object[] | string));
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    },
    60_000,
  );

  it('exits 2 for a missing file and for an unknown option', async () => {
    const missing = await evalCli('--cases', join(dir, 'nope.jsonl'));
    const option = await evalCli('--frobnicate');
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toMatch(/file not found/);
    expect(option).toMatchObject({ code: 2 });
    expect(option.stderr).toMatch(/Unknown option/);
  }, 60_000);
});
