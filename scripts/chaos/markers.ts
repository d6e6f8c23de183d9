/**
 * How a Telegram reply says which messages it answers, without asking the engine: every drill message starts with
 * its id in braces, and the drill's model answers by naming the ids of the messages of its turn (the user
 * messages after the last assistant message of the prompt; coalesced messages come together). The chat then
 * shows e.g. `Answer to: {chaos-x-t1-m3} {chaos-x-t1-m4}`, and the accounting credits both from the text alone.
 */
import { defaultAnswer, type AnswerFn } from '../simulators/openai-server';

/** `{id}`: braces are plain text in Telegram Markdown and HTML alike, and a cut-off marker never matches. */
export function marker(messageId: string): string {
  return `{${messageId}}`;
}

/** Every drill message id named in `text`, in order, each once. */
export function markersIn(text: string): string[] {
  return [...new Set([...text.matchAll(/\{([A-Za-z0-9-]+)\}/g)].map((match) => match[1]!))];
}

/**
 * The drill's model: names the messages of the turn when they carry markers (Telegram users); otherwise
 * the test server's default answer (API users, whose replies carry `inReplyTo`). Answers stay short, so a reply
 * never splits into several Telegram messages.
 */
export const drillAnswer: AnswerFn = (body) => {
  const messages = body.messages ?? [];
  const turnStart = messages.map((m) => m.role).lastIndexOf('assistant') + 1;
  // Only a message that starts with a marker: the summary request quotes old messages further in.
  const ids = messages.slice(turnStart)
    .filter((m) => m.role === 'user' && typeof m.content === 'string')
    .flatMap((m) => markersIn(/^\{[A-Za-z0-9-]+\}/.exec(m.content as string)?.[0] ?? ''));
  return ids.length > 0 ? `Answer to: ${ids.map(marker).join(' ')}` : defaultAnswer(body);
};
