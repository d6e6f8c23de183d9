/**
 * A server span per request, in the caller's trace when it sends `traceparent`, named by the route pattern that
 * answered (`POST /api/v1/chat`); its attributes are method, route and status, never ids or text. What the request
 * does runs inside it: its log lines carry its `trace.id`, and its signal to the conversation carries the trace on.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { failed } from '../lib/spans';
import { routePattern } from './route-pattern';

export function requestSpan(tracer: Tracer): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    const parent = propagation.extract(ROOT_CONTEXT, c.req.header());
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = routePattern(c);
      if (route !== 'unmatched') span.updateName(`${method} ${route}`).setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', c.res.status);
      if (c.res.status >= 500) failed(span, String(c.res.status));
      span.end();
    }
  };
}
