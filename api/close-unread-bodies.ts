import type { MiddlewareHandler } from 'hono';

/**
 * A response sent before the request's body was read (401, 413, 415…) closes the connection: the unread rest of
 * the body would otherwise be taken for the next request on it, and a client's next request fails on a dead socket.
 */
export const closeUnreadBodies: MiddlewareHandler = async (c, next) => {
  await next();
  const declaresBody = Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;
  if (declaresBody && !c.req.raw.bodyUsed) c.res.headers.set('connection', 'close');
};
