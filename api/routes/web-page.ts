/**
 * The chat page (DESIGN §6 "Web"): `/` serves its index.html (revalidated every time), `/assets/*` its hashed
 * files (cached for a year: a new build has new names), `/web/config.json` what the page needs to know to sign in.
 * The page is built by `npm run build:web` (scripts/build-web-page.ts); until then `/` says so (503).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { webPageOutDir } from '../../channels/web/page/paths';
import type { AppConfig } from '../../lib/config';
import type { ApiDeps } from '../deps';
import { problem } from '../problem';
import { StaticFolder } from '../static-files';

/** What the page is told about signing in. */
export interface WebConfig {
  /** Pasting a bearer token is offered: in development, or when there is no identity provider to sign in with. */
  tokenSignIn: boolean;
  oidc?: { authority: string; clientId: string; scope: string };
}

export function webConfigOf({ auth, mode }: Pick<AppConfig, 'auth' | 'mode'>): WebConfig {
  const oidc = auth.issuer && auth.webClientId ? { authority: auth.issuer, clientId: auth.webClientId, scope: auth.webScope } : undefined;
  return { tokenSignIn: mode === 'development' || !oidc, ...(oidc ? { oidc } : {}) };
}

/**
 * Scripts only from this origin and nothing inline (the model's text can never become script); inline styles are
 * allowed because Material UI injects its styles at run time. The page talks to this origin (REST, Socket.IO)
 * and, for OpenID Connect, to the identity provider.
 */
export function contentSecurityPolicy(config: Pick<AppConfig, 'auth' | 'mode'>): string {
  const oidc = webConfigOf(config).oidc;
  const connect = ["'self'", ...(oidc ? [new URL(oidc.authority).origin] : [])].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function webPageRoutes({ config }: Pick<ApiDeps, 'config'>, app: OpenAPIHono, dir = webPageOutDir) {
  const assets = new StaticFolder(join(dir, 'assets'), { headers: { 'cache-control': 'public, max-age=31536000, immutable' } });
  const pageHeaders = {
    'content-type': 'text/html; charset=utf-8',
    // Revalidated on every visit, so that a new build's asset names are picked up at once.
    'cache-control': 'no-cache',
    'content-security-policy': contentSecurityPolicy(config),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  const webConfig = webConfigOf(config);

  return app
    .get('/', async (c) => {
      const page = await readFile(join(dir, 'index.html'), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (page === undefined) {
        return problem(c, 503, 'The chat page is not built: run `npm run build:web` (npm start builds it when it is missing).');
      }
      return c.body(page, 200, pageHeaders);
    })
    .get('/assets/:file', async (c) => (await assets.respond(c, c.req.param('file'))) ?? c.notFound())
    .get('/web/config.json', (c) => c.json(webConfig, 200, { 'cache-control': 'no-cache' }));
}
