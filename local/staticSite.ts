/**
 * The web console's files (web/) served by the local gateway: named pages, files inside the root only
 * (symlinks resolved), and no path that could climb out of it, raw or percent-encoded.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, isAbsolute, relative, resolve } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export class StaticSite {
  private constructor(
    private readonly root: string,
    private readonly pages: Record<string, string>,
  ) {}

  static async open(config: { dir: string; pages: Record<string, string> }): Promise<StaticSite> {
    try {
      return new StaticSite(await realpath(resolve(config.dir)), config.pages);
    } catch (error) {
      throw new Error(`staticFiles.dir is not readable: ${config.dir} (${(error as Error).message})`);
    }
  }

  /** Serves the page or file for rawPath; false when there is none (or the path tries to escape the dir). */
  async serve(rawPath: string, method: 'GET' | 'HEAD', res: ServerResponse): Promise<boolean> {
    if (escapesRoot(rawPath)) return false;
    const relativeFile = Object.hasOwn(this.pages, rawPath)
      ? this.pages[rawPath]
      : safeDecode(rawPath)?.slice(1);
    if (!relativeFile) return false;
    const file = await this.resolveInside(relativeFile);
    if (!file) return false;
    const body = await readFile(file);
    const extension = extname(file).toLowerCase();
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
      'content-length': body.length,
      'x-content-type-options': 'nosniff',
      ...(extension === '.html' ? { 'cache-control': 'no-cache' } : {}),
    });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  }

  /** The real path of a regular file inside the root (symlinks included), or undefined. */
  private async resolveInside(relativeFile: string): Promise<string | undefined> {
    const candidate = resolve(this.root, relativeFile);
    if (!isInside(this.root, candidate)) return undefined;
    try {
      const real = await realpath(candidate);
      return isInside(this.root, real) && (await stat(real)).isFile() ? real : undefined;
    } catch {
      return undefined;
    }
  }
}

/** '..' segments, raw or percent-encoded (also double-encoded), backslashes and NULs are never served. */
function escapesRoot(rawPath: string): boolean {
  let candidate = rawPath;
  for (let round = 0; round < 3; round++) {
    if (/(^|\/)\.\.(\/|$)/.test(candidate) || candidate.includes('\\') || candidate.includes('\0'))
      return true;
    const decoded = safeDecode(candidate);
    if (decoded === undefined) return true;
    if (decoded === candidate) return false;
    candidate = decoded;
  }
  return true;
}

function isInside(root: string, candidate: string): boolean {
  const path = relative(root, candidate);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
}

/** decodeURIComponent, or undefined for malformed escapes. */
export function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
