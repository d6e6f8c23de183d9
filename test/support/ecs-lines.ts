/**
 * Reading the launcher's output as Elasticsearch would: the processes' JSON lines (`[api] {…}`, `[worker-1] {…}`) as
 * ECS documents.
 */

export interface LogDocument {
  /** The launcher's name for the process: `api`, `worker-1`, … */
  process: string;
  doc: Record<string, unknown>;
}

/** Fields every ECS log line has (the ecs-logging spec's required ones, and the service that wrote it). */
export const requiredEcsFields = ['@timestamp', 'log.level', 'message', 'ecs.version', 'service.name'] as const;

/** The lines the API and worker processes wrote that are JSON, parsed; the launcher's own lines are skipped. */
export function logDocuments(lines: readonly string[]): LogDocument[] {
  return lines.flatMap((line) => {
    const match = /^\[(api[\w-]*|worker-\d+)\] (\{.*\})$/.exec(line);
    return match ? [{ process: match[1]!, doc: JSON.parse(match[2]!) as Record<string, unknown> }] : [];
  });
}

/** An ECS field by its dotted name, written either dotted (`"trace.id"`) or nested (`trace: { id }`): both are ECS. */
export function ecsField(doc: Record<string, unknown>, name: string): unknown {
  if (name in doc) return doc[name];
  const [head, ...rest] = name.split('.');
  const nested = doc[head!];
  return rest.length > 0 && nested && typeof nested === 'object' ? ecsField(nested as Record<string, unknown>, rest.join('.')) : undefined;
}

/** The required fields `doc` lacks (none for an ECS line). */
export function missingEcsFields(doc: Record<string, unknown>): string[] {
  return requiredEcsFields.filter((name) => ecsField(doc, name) === undefined);
}
