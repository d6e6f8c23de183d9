/** A conversation's full history as a file to keep: Markdown to read, JSON to process. */
import type { ConversationSummary, HistoryItem } from '../api/types';

export type ExportFormat = 'markdown' | 'json';

export interface ExportFile {
  name: string;
  type: string;
  text: string;
}

/** The export of `messages` (oldest first) in `format`. */
export function exportConversation(conversation: Pick<ConversationSummary, 'id' | 'title'>, messages: HistoryItem[], format: ExportFormat): ExportFile {
  const base = `conversation-${conversation.id.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
  if (format === 'json') {
    const body = { conversationId: conversation.id, title: conversation.title, exportedAt: new Date().toISOString(), messages };
    return { name: `${base}.json`, type: 'application/json', text: `${JSON.stringify(body, null, 2)}\n` };
  }
  const sections = messages.map((message) => {
    const who = message.role === 'user' ? 'You' : `Assistant${message.model ? ` (${message.model})` : ''}`;
    return `### ${who} · ${message.at}\n\n${message.text}\n`;
  });
  const text = [`# ${conversation.title}\n`, `Conversation \`${conversation.id}\`, exported ${new Date().toISOString()}.\n`, ...sections].join('\n');
  return { name: `${base}.md`, type: 'text/markdown', text };
}

/** Hands the file to the browser's download. */
export function download(file: ExportFile): void {
  const url = URL.createObjectURL(new Blob([file.text], { type: file.type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
