/**
 * A Lambda layer of npm packages and everything they depend on, copied from node_modules at synth time (no
 * Docker), for the few large dependencies only some handlers need: functions given the layer leave those
 * packages out of their bundle (AppFunction `packageLayers`) and import them from /opt/nodejs/node_modules.
 * Functions without it bundle the package as usual, so a missing layer costs size, never a failed import.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { copiedLayer, packageClosure } from './engineAssets';
import { PROJECT_ROOT } from './projectRoot';

/** What runtime.ts imports for every desk handler: nodemailer composes e-mail replies. */
export const DESK_PACKAGES: readonly string[] = ['nodemailer'];
/** The CRM client crmRuntime.ts imports (case step, CRM sync and e-mail intake only). */
export const CRM_PACKAGES: readonly string[] = ['jsforce'];
/** jsforce's browser bundles and TypeScript sources (32 of its 35 MB): Node loads lib/ only. */
export const CRM_PACKAGES_EXCLUDE: readonly string[] = ['jsforce/dist', 'jsforce/browser', 'jsforce/src'];
/** The MIME parser of e-mail intake (mimeParser.ts). */
export const MAIL_PARSER_PACKAGES: readonly string[] = ['mailparser'];

export interface PackageLayerProps {
  /** Package names the layer provides (their dependencies come along). */
  readonly packages: readonly string[];
  /** What the packages are for, shown in the Lambda console. */
  readonly description: string;
  /**
   * Directories (relative to node_modules, inside one of `packages`) that Node never loads, e.g. browser
   * bundles, left out of the layer. Type-only packages (@types/*) are always left out.
   * @default none
   */
  readonly exclude?: readonly string[];
  /** node_modules holding the packages and their dependencies. @default <repo>/node_modules */
  readonly nodeModulesDir?: string;
}

export class PackageLayer extends Construct {
  readonly layer: ILayerVersion;
  /** The packages functions given this layer leave external. */
  readonly packages: readonly string[];

  constructor(scope: Construct, id: string, props: PackageLayerProps) {
    super(scope, id);
    if (props.packages.length === 0) throw new Error(`PackageLayer ${id}: name at least one package`);
    for (const name of props.packages) {
      if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/.test(name)) {
        throw new Error(`PackageLayer ${id}: "${name}" is not an npm package name`);
      }
    }
    const exclude = props.exclude ?? [];
    for (const path of exclude) {
      if (!props.packages.some((name) => path.startsWith(`${name}/`)) || path.split('/').includes('..')) {
        throw new Error(
          `PackageLayer ${id}: exclude "${path}" is not a directory of ${props.packages.join(', ')}`,
        );
      }
    }
    const nodeModulesDir = props.nodeModulesDir ?? join(PROJECT_ROOT, 'node_modules');
    const directories = packageClosure(nodeModulesDir, props.packages).filter(
      (dir) => !relative(nodeModulesDir, dir).startsWith('@types/'),
    );
    const excluded = new Set(exclude.map((path) => join(nodeModulesDir, path)));
    // The exact versions (lockfile-installed) identify the content; no need to hash every file.
    const hash = createHash('sha256');
    for (const dir of directories) {
      hash.update(relative(nodeModulesDir, dir)).update(readFileSync(join(dir, 'package.json')));
    }
    hash.update(JSON.stringify(exclude));
    this.packages = [...props.packages];
    this.layer = copiedLayer(this, 'Layer', {
      description: props.description,
      assetDir: nodeModulesDir,
      assetHash: hash.digest('hex'),
      copy(outputDir) {
        const target = join(outputDir, 'nodejs', 'node_modules');
        mkdirSync(target, { recursive: true });
        for (const dir of directories) {
          cpSync(dir, join(target, relative(nodeModulesDir, dir)), {
            recursive: true,
            dereference: true,
            filter: (source) => !excluded.has(source),
          });
        }
      },
    });
  }
}
