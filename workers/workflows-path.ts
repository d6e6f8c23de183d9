/** Where the workflow code lives, for the worker and for whoever prebuilds its bundle (the launcher, tests). */
import { fileURLToPath } from 'node:url';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
