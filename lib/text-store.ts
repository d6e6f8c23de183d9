/**
 * Claim checks for large texts: a message or reply over `inlineTextMaxBytes` is stored once, encrypted, in the
 * archive (S3 or the directory), and conversations carry a {@link TextRef} (key, digest, sizes) and a preview in
 * its place. Whoever needs the words (the model, the event stream, Telegram, the history API) reads them here.
 */
import { createHash } from 'node:crypto';
import type { ContextTurn, TextRef } from '../workflows/messages';
import { fitsInline, previewOf } from '../workflows/payload-budget';
import type { BlobStore } from './blob-store';
import { createLogger, type Logger } from './logger';
import { createTextCipher, type TextCipher } from './text-cipher';

/** A stored text is missing or does not match its digest: the archive lost or altered it. */
export class StoredTextError extends Error {
  override readonly name = 'StoredTextError';
}

/**
 * Keys are `texts/<encodeURIComponent(conversationId)>/<sha256>`: content-addressed, so storing the same text
 * again (a retried request or activity) writes the same object.
 * @example
 * const texts = new TextStore(createBlobStore(config), createTextCipher(keyRingOf(config)));
 * const message = await texts.offload('api:alice:demo', { messageId, text, receivedAt });
 */
export class TextStore {
  private readonly logger: Logger;

  constructor(
    private readonly blobs: BlobStore,
    private readonly cipher: TextCipher = createTextCipher(undefined),
    logger?: Logger,
  ) {
    this.logger = logger ?? createLogger({ level: 'info', name: 'text-store' });
  }

  /** Removes every text stored for the conversation; returns how many. */
  async forget(conversationId: string): Promise<number> {
    const keys = await this.blobs.list(`texts/${encodeURIComponent(conversationId)}/`);
    for (const key of keys) await this.blobs.delete(key);
    return keys.length;
  }

  async put(conversationId: string, text: string): Promise<TextRef> {
    const sha256 = digest(text);
    const key = `texts/${encodeURIComponent(conversationId)}/${sha256}`;
    await this.blobs.put(key, this.cipher.seal(text));
    return { key, sha256, bytes: Buffer.byteLength(text, 'utf8'), chars: text.length };
  }

  /** @throws StoredTextError when the text is gone or altered; UnavailableError when the archive is down. */
  async get(ref: TextRef): Promise<string> {
    const body = await this.blobs.get(ref.key);
    if (body === null) throw new StoredTextError(`stored text ${ref.key} is missing from the archive`);
    const text = this.cipher.open(body);
    if (digest(text) !== ref.sha256) throw new StoredTextError(`stored text ${ref.key} does not match its digest`);
    return text;
  }

  /** The item with its text stored by reference when it is too large to carry inline; unchanged otherwise. */
  async offload<T extends { text: string; textRef?: TextRef }>(conversationId: string, item: T): Promise<T> {
    if (item.textRef || fitsInline(item.text)) return item;
    return { ...item, text: previewOf(item.text), textRef: await this.put(conversationId, item.text) };
  }

  /**
   * The item with its whole text and no reference (items carried inline come back as they are). A text the archive
   * lost comes back as its preview with a note (logged as an error): one lost text must not stop a conversation.
   */
  async resolve<T extends { text: string; textRef?: TextRef }>(item: T): Promise<T> {
    if (!item.textRef) return item;
    const { textRef, ...rest } = item;
    try {
      return { ...rest, text: await this.get(textRef) } as T;
    } catch (error) {
      if (!(error instanceof StoredTextError)) throw error;
      this.logger.error({ key: textRef.key, error: error.message }, 'a stored text is lost; showing its preview');
      return { ...rest, text: `${item.text} [the rest of this text is missing from the archive]` } as T;
    }
  }

  async resolveTurn<T extends ContextTurn>(turn: T): Promise<T> {
    const [messages, reply] = await Promise.all([Promise.all(turn.messages.map((m) => this.resolve(m))), this.resolve(turn.reply)]);
    return { ...turn, messages, reply };
  }

  async resolveTurns<T extends ContextTurn>(turns: T[]): Promise<T[]> {
    return Promise.all(turns.map((turn) => this.resolveTurn(turn)));
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
