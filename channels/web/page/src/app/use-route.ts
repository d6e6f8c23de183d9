/**
 * The open conversation lives in the URL's hash (`#/c/web%3Aalice%3Ax`): reloads, bookmarks and the back button
 * keep it, and the server only ever serves `/`.
 */
import { useCallback, useSyncExternalStore } from 'react';

const prefix = '#/c/';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

function openConversation(): string | undefined {
  const { hash } = window.location;
  if (!hash.startsWith(prefix)) return undefined;
  try {
    return decodeURIComponent(hash.slice(prefix.length)) || undefined;
  } catch {
    return undefined;
  }
}

/** The open conversation's full id, and a function that opens another (or none). */
export function useOpenConversation(): [string | undefined, (id: string | undefined) => void] {
  const id = useSyncExternalStore(subscribe, openConversation);
  const open = useCallback((next: string | undefined) => {
    window.location.hash = next === undefined ? '' : `${prefix}${encodeURIComponent(next)}`;
  }, []);
  return [id, open];
}
