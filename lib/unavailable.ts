/**
 * Which errors mean "a dependency is down" or "this conversation's workflow is stuck": every edge (HTTP, GraphQL,
 * Socket.IO) answers them the same way, retry later, and nothing was lost.
 */
import { isGrpcServiceError } from '@temporalio/client';
import { UnavailableError } from './errors';
import { isRedisUnavailable } from './redis';

/** The Temporal gRPC error behind an error: itself, or its cause (the client wraps some calls' errors). */
function grpcErrorOf(error: Error) {
  if (isGrpcServiceError(error.cause)) return error.cause;
  return isGrpcServiceError(error) ? error : undefined;
}

/** A query the server refused because the conversation's workflow task keeps failing (FAILED_PRECONDITION). */
export function isStuckWorkflowTask(error: Error): boolean {
  const grpc = grpcErrorOf(error);
  return grpc?.code === 9 && /workflow task in failed state/i.test(grpc.details ?? grpc.message);
}

/** Which dependency an error says is down, if any. */
export function unavailableDependency(error: Error): string | undefined {
  if (error instanceof UnavailableError) return error.dependency;
  if (isRedisUnavailable(error)) return 'redis';
  // UNAVAILABLE (14) and DEADLINE_EXCEEDED (4): the Temporal frontend did not answer in time.
  const grpc = grpcErrorOf(error);
  if (grpc && [4, 14].includes(grpc.code)) return 'Temporal';
  return undefined;
}
