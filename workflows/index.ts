/** The workflows this project registers (the worker's `workflowsPath`). */
export { conversation } from './conversation';
