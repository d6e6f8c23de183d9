/**
 * /docs: Swagger UI for /openapi.json, served from the swagger-ui-dist package on this server (no CDN: the docs
 * work on a network without internet), drawn as @hono/swagger-ui drew it. Its assets sit under a path that names
 * their version, so they are cached for good.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { StaticFolder } from '../static-files';

const packageFile = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
const { version } = JSON.parse(readFileSync(packageFile, 'utf8')) as { version: string };
const assetsPath = `/docs/assets/${version}`;

/** Swagger UI's own scripts and styles, nothing inline; its styles set inline styles, and images come as data: URLs. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>ai-assistant-core API</title>
    <link rel="stylesheet" href="${assetsPath}/swagger-ui.css" />
    <link rel="icon" type="image/png" href="${assetsPath}/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${assetsPath}/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

// validatorUrl: null, or Swagger UI shows a badge fetched from validator.swagger.io.
const init = "window.ui = SwaggerUIBundle({ dom_id: '#swagger-ui', url: '/openapi.json', validatorUrl: null });\n";

export function docsRoutes(app: OpenAPIHono) {
  const assets = new StaticFolder(dirname(packageFile), {
    headers: { 'cache-control': 'public, max-age=31536000, immutable' },
    only: ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'],
  });
  const headers = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
  return app
    .get('/docs', (c) => c.html(page, 200, { ...headers, 'content-security-policy': contentSecurityPolicy }))
    .get('/docs/init.js', (c) => c.body(init, 200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' }))
    .get(`${assetsPath}/:file`, async (c) => (await assets.respond(c, c.req.param('file'))) ?? c.notFound());
}
