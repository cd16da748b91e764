/**
 * The audit archive of the local face (AUDIT_DIR, DATA_DIR/audit by default): append-only JSON Lines, one
 * file per UTC day of archiving, `YYYY-MM-DD.jsonl`. Each append is written, fsynced and closed before it
 * resolves; an entry already in today's file is not written again. Once a day is over its file is made
 * read-only (0444) and never opened for writing again: a late entry lands in today's file, with its own
 * `at`. The stand-in for the S3 archive with object lock; there is no method that changes or removes data.
 */
import { chmod, mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEntry, AuditLog } from '#core/auditLog';
import { type Clock, systemClock } from '#core/ports';

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
const READ_ONLY = 0o444;

export class FileAuditArchive implements AuditLog {
  /** Appends run one after another: lines never interleave and the id cache stays exact. */
  private queue: Promise<void> = Promise.resolve();
  /** Audit ids in the current day's file, read once per process and day. */
  private today?: { readonly day: string; readonly ids: Set<string>; endsWithNewline: boolean };

  constructor(
    readonly dir: string,
    private readonly clock: Clock = systemClock,
  ) {}

  append(entries: readonly AuditEntry[]): Promise<void> {
    const run = this.queue.then(() => this.write(entries));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The file entries appended now go to. */
  fileOf(day: string): string {
    return join(this.dir, `${day}.jsonl`);
  }

  private async write(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const day = new Date(this.clock.now()).toISOString().slice(0, 10);
    const today = await this.open(day);
    const fresh = entries.filter((entry) => {
      if (today.ids.has(entry.auditId)) return false;
      today.ids.add(entry.auditId);
      return true;
    });
    if (fresh.length === 0) return;
    // A line cut short by a crash is closed first, so the new lines stay whole.
    const text = `${today.endsWithNewline ? '' : '\n'}${fresh.map((e) => JSON.stringify(e)).join('\n')}\n`;
    try {
      const handle = await open(this.fileOf(day), 'a', 0o644);
      try {
        await handle.appendFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      today.endsWithNewline = true;
    } catch (error) {
      for (const entry of fresh) today.ids.delete(entry.auditId);
      throw error;
    }
  }

  /** Today's state; on a new day, earlier files are sealed and today's file's ids are read. */
  private async open(day: string) {
    if (this.today?.day === day) return this.today;
    await mkdir(this.dir, { recursive: true });
    await this.sealBefore(day);
    const ids = new Set<string>();
    let endsWithNewline = true;
    const existing = await readFile(this.fileOf(day), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    for (const line of existing.split('\n')) {
      if (!line.trim()) continue;
      try {
        const { auditId } = JSON.parse(line) as { auditId?: unknown };
        if (typeof auditId === 'string') ids.add(auditId);
      } catch {
        // A partial last line of an interrupted write: kept as is, never rewritten.
      }
    }
    if (existing && !existing.endsWith('\n')) endsWithNewline = false;
    this.today = { day, ids, endsWithNewline };
    return this.today;
  }

  /** Makes every day file older than `day` read-only. */
  private async sealBefore(day: string): Promise<void> {
    for (const name of await readdir(this.dir)) {
      const fileDay = DAY_FILE.exec(name)?.[1];
      if (!fileDay || fileDay >= day) continue;
      const path = join(this.dir, name);
      if (((await stat(path)).mode & 0o777) !== READ_ONLY) await chmod(path, READ_ONLY);
    }
  }
}
