/**
 * `npm run audit:verify`: reads the whole audit log (the archive, and Redis for records the archive lacks), checks
 * the hash chain end to end and names the first broken record. Exit code 0 when the chain holds, 1 when it breaks.
 */
import { AuditLog, verifyChain } from '../lib/audit-log';
import { createBlobStore } from '../lib/blob-store';
import { keyRingOf, loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { connectRedis } from '../lib/redis';
import { createTextCipher } from '../lib/text-cipher';

const config = loadConfig();
const logger = createLogger({ level: 'warn', name: 'audit-verify' });
const redis = connectRedis(config.redis, { connectionName: 'audit-verify', logger });
const log = new AuditLog({ redis, blobs: createBlobStore(config), cipher: createTextCipher(keyRingOf(config)), logger }, config.redis.keyPrefix);
try {
  const entries = await log.all();
  const broken = verifyChain(entries);
  if (broken) {
    console.log(`audit chain BROKEN at record ${broken.id}: ${broken.reason} (${entries.length} records read)`);
    process.exitCode = 1;
  } else {
    console.log(`audit chain intact: ${entries.length} records, ${entries.at(-1)?.record?.hash ?? 'none yet'} at its end`);
  }
} finally {
  await log.close();
  redis.disconnect();
}
