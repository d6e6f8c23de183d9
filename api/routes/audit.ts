/** GET /api/v1/audit: pages through the audit log, oldest first (admins only; the read is audited too). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { hasRole } from '../../lib/auth';
import { audit } from '../audit';
import { principalOf } from '../auth';
import type { ApiDeps } from '../deps';
import { problemResponse } from '../schemas';

const record = z
  .object({
    id: z.string(),
    at: z.string(),
    actor: z.string(),
    roles: z.array(z.string()),
    action: z.string(),
    target: z.string(),
    outcome: z.enum(['allowed', 'denied', 'done']),
    requestId: z.string(),
    ip: z.string(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditRecord');

export function auditRoutes(deps: ApiDeps, app: OpenAPIHono) {
  const route = createRoute({
    method: 'get',
    path: '/api/v1/audit',
    summary: 'The audit log, oldest first (admin)',
    request: {
      query: z.object({
        after: z.string().regex(/^\d{12}$/, 'a record id such as 000000000042').optional().openapi({ description: 'Records after this id.' }),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
    },
    responses: {
      200: {
        description: 'One page of records; `nextAfter` continues.',
        content: { 'application/json': { schema: z.object({ records: z.array(record), nextAfter: z.string().nullable() }) } },
      },
      403: problemResponse('Only admins read the audit log.'),
      503: problemResponse('The archive is unavailable.'),
    },
  });
  return app.openapi(route, async (c) => {
    if (!hasRole(principalOf(c), 'admin')) {
      audit(c, 'role.denied', 'GET /api/v1/audit', 'denied');
      throw new HTTPException(403, { message: 'Reading the audit log needs the admin role.' });
    }
    const { after, limit } = c.req.valid('query');
    const records = await deps.audit.page(after, limit);
    audit(c, 'audit.read', `${records.length} records after ${after ?? 'the start'}`, 'allowed');
    return c.json({ records, nextAfter: records.length === limit ? records.at(-1)!.id : null }, 200);
  });
}
