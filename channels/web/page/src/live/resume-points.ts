/**
 * Each conversation's resume point in sessionStorage, so that a reloaded tab resubscribes from where its reply
 * started streaming and shows that reply whole, not from the middle.
 */

const prefix = 'aac.resume.';

export function loadResumePoint(conversationId: string): string | undefined {
  return sessionStorage.getItem(prefix + conversationId) ?? undefined;
}

export function saveResumePoint(conversationId: string, eventId: string | undefined): void {
  if (eventId === undefined) sessionStorage.removeItem(prefix + conversationId);
  else sessionStorage.setItem(prefix + conversationId, eventId);
}
