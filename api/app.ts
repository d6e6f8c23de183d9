/**
 * The Hono app: feature routers mounted on one OpenAPIHono, one error handler, OpenAPI document and docs.
 * Routes only translate HTTP into conversation calls; nothing here talks to a model or waits on a turn
 * except through the reply reader.
 */
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { activeSpanContext } from '../lib/spans';
import { audit, withAudit } from './audit';
import { authenticate } from './auth';
import { closeUnreadBodies } from './close-unread-bodies';
import type { ApiDeps } from './deps';
import { graphqlRoutes } from './graphql/routes';
import { httpMetrics } from './http-metrics';
import { problem, problemErrorHandler } from './problem';
import { requestSpan } from './request-span';
import { auditRoutes } from './routes/audit';
import { chatRoutes } from './routes/chat';
import { conversationRoutes } from './routes/conversations';
import { docsRoutes } from './routes/docs';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { telegramWebhookRoutes } from './routes/telegram-webhook';
import { webPageRoutes } from './routes/web-page';
import { requireJson, validationProblem } from './validation';

export function createApp(deps: ApiDeps): OpenAPIHono {
  const { config, logger } = deps;
  const app = new OpenAPIHono({ defaultHook: validationProblem });

  app.use(requestSpan(deps.tracer));
  // With tracing on, a request's id is its trace id: the one id its log lines, the worker's and the audit log share.
  app.use(requestId({ generator: () => activeSpanContext()?.traceId ?? randomUUID() }));
  app.use(closeUnreadBodies);
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const fields = {
      'http.request.id': c.get('requestId'),
      'http.request.method': c.req.method,
      'url.path': c.req.path,
      'http.response.status_code': c.res.status,
      'event.duration': Math.round((performance.now() - started) * 1e6), // ECS: nanoseconds
    };
    logger.info(fields, 'request');
  });
  app.use(httpMetrics(deps.metrics.http));
  app.use(withAudit(deps.audit));
  // Authentication before the body is read: a caller without a valid token gets nothing else.
  app.use('/api/*', authenticate(deps.verify));
  app.use('/api/*', async (c, next) => {
    await next();
    if (c.res.status === 429) audit(c, 'limit.exceeded', `${c.req.method} ${c.req.path}`, 'denied');
  });
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: config.api.maxBodyBytes,
      onError: (c) => problem(c, 413, `The body is larger than ${config.api.maxBodyBytes} bytes.`),
    }),
  );
  app.post('/api/v1/chat', requireJson);
  app.onError(problemErrorHandler(logger));
  app.notFound((c) => problem(c, 404, `No route for ${c.req.method} ${c.req.path}; see /docs.`));

  chatRoutes(deps, app);
  conversationRoutes(deps, app);
  eventRoutes(deps, app);
  auditRoutes(deps, app);
  healthRoutes(deps, app);
  metricsRoutes(deps, app);
  webPageRoutes(deps, app);
  graphqlRoutes(deps, app);
  if (deps.telegramWebhook) telegramWebhookRoutes(deps.telegramWebhook, app);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'ai-assistant-core', version: '1', description: 'Durable conversations with an AI assistant.' },
    // Every documented route is under /api and needs a token; /healthz, /readyz, /metrics and /docs are not documented here.
    security: [{ bearer: [] }],
  });
  docsRoutes(app);
  return app;
}
