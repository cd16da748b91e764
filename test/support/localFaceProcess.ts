/**
 * Runs `npm start`'s entry point (local/main.ts) as a child process on a free port, the way a user runs
 * it, and resolves once it prints its URLs. Test-only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface LocalFaceProcess {
  readonly url: string;
  readonly wsUrl: string;
  /** The SMTP port of the e-mail intake. */
  readonly smtpPort: number;
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM and wait (or SIGKILL with `kill -9` semantics when `hard`). */
  stop(hard?: boolean): Promise<void>;
}

export async function startLocalFaceProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<LocalFaceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'local', 'main.ts')], {
    cwd: ROOT,
    // SMTP on a free port too: parallel test files each run their own face.
    env: { ...process.env, PORT: '0', SMTP_PORT: '0', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`local face did not start within 60 s:\n${output}`)),
      60_000,
    );
    const onData = () => {
      const match = /chat:\s+(http:\/\/[\d.]+:\d+)\//.exec(output);
      // The e-mail line is printed last: once it is there, every address is known.
      if (match && /e-mail:\s+smtp:/.test(output)) {
        clearTimeout(timer);
        resolvePromise(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local face exited with ${code} before starting:\n${output}`));
    });
  });
  return {
    url,
    wsUrl: `${url.replace('http', 'ws')}/ws`,
    smtpPort: Number(/e-mail:\s+smtp:\/\/[\d.]+:(\d+)/.exec(output)?.[1] ?? 0),
    child,
    output: () => output,
    async stop(hard = false) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
  };
}
