/**
 * A floor worker process: `node --import tsx scripts/bench/floor/worker.ts`, configured by environment
 * (TEMPORAL_ADDRESS, FLOOR_TASK_QUEUE, REDIS_URL, FLOOR_MODEL_URL, FLOOR_MODEL). Default worker settings, like the
 * engine's were before anyone tuned them, except what the bench passes the engine too.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createRedis } from '../../../lib/redis';
import { createFloorActivities } from './activities';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const redis = createRedis(env('REDIS_URL'), { connectionName: 'bench-floor' });
const worker = await Worker.create({
  connection,
  taskQueue: env('FLOOR_TASK_QUEUE'),
  workflowsPath: new URL('./workflow.ts', import.meta.url).pathname,
  activities: createFloorActivities({ baseURL: env('FLOOR_MODEL_URL'), name: env('FLOOR_MODEL') }, redis),
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
console.log('floor worker running');
await worker.run();
await connection.close();
redis.disconnect();
