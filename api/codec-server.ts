/**
 * The codec server on a listener of its own (CODEC_LISTEN, default 127.0.0.1:3001 in development, off in
 * production), never on the API's public port: whoever may call it reads every payload. With `codec.requireToken`
 * each call needs an operator's bearer token, which the Temporal UI forwards with `codec.passAccessToken` when it
 * signs operators in with the same identity provider. The browser calls it across origins: CORS for the UI's.
 */
import type { PayloadCodec } from '@temporalio/common';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import type { AuditLog } from '../lib/audit-log';
import { hasRole, type Verifier } from '../lib/auth';
import type { Logger } from '../lib/logger';
import { audit, withAudit } from './audit';
import { authenticate, principalOf } from './auth';
import { listen } from './listen';
import { problem, problemErrorHandler } from './problem';
import { codecRoutes } from './routes/codec';

/** The UI sends a page of history at a time; payloads over ~2 MB are offloaded to the archive anyway. */
const maxBodyBytes = 8 * 1024 * 1024;

export interface CodecServerOptions {
  audit: AuditLog;
  host: string;
  port: number;
  codec: PayloadCodec;
  corsOrigins: readonly string[];
  /** Set: every call needs an operator's token. */
  verify?: Verifier;
  logger: Logger;
}

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const app = new Hono();
  app.use(requestId());
  app.use(withAudit(options.audit));
  app.use(
    '*',
    cors({
      origin: [...options.corsOrigins],
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['content-type', 'x-namespace', 'authorization'],
      credentials: true,
      maxAge: 600,
    }),
  );
  if (options.verify) {
    app.use('/codec/*', authenticate(options.verify));
    app.use('/codec/*', async (c, next) => {
      if (!hasRole(principalOf(c), 'operator')) {
        audit(c, 'role.denied', `POST ${c.req.path}`, 'denied');
        return problem(c, 403, `Decoding payloads needs the operator role; your token grants ${principalOf(c).role}.`);
      }
      await next();
    });
  }
  app.use('/codec/*', bodyLimit({ maxSize: maxBodyBytes, onError: (c) => problem(c, 413, `The body is larger than ${maxBodyBytes} bytes.`) }));
  app.onError(problemErrorHandler(options.logger));
  app.notFound((c) => problem(c, 404, 'The codec server answers POST /codec/encode and POST /codec/decode only.'));
  codecRoutes({ codec: options.codec }, app);

  const { port, origin, close } = await listen(app.fetch, options.host, options.port);
  options.logger.info({ 'server.address': options.host, 'server.port': port, requireToken: Boolean(options.verify) }, 'codec server listening');
  return { url: `${origin}/codec`, close: () => close() };
}
