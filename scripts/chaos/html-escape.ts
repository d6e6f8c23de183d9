/**
 * Escapes text for HTML and SVG, in element content and in quoted attributes alike. Ids, fault details and drill
 * options come from outside the report code, so every string goes through here before it reaches the page.
 * @example escapeHtml('<script>') // '&lt;script&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
