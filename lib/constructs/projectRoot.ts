/** The repository root: handler entries, models/ and data/kb are found relative to it. */
import { resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');
