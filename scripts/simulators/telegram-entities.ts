/**
 * Telegram's message text formatting, reproduced for the local Bot API server: the HTML, MarkdownV2 and legacy
 * Markdown parse modes with the error descriptions tdlib gives (byte offsets included), the entities Telegram
 * finds in a text by itself (URLs, e-mail addresses, commands, mentions, hashtags), and the trimming it applies
 * before checking a text's length. Offsets and lengths are UTF-16 code units, as everywhere in the Bot API.
 *
 * @example
 * parseFormattedText('<b>hi</b> there', 'HTML'); // { text: 'hi there', entities: [{ type: 'bold', offset: 0, length: 2 }] }
 * parseFormattedText('1.5', 'MarkdownV2');       // throws EntityParseError: Character '.' is reserved and must be escaped ...
 */
import type { MessageEntity } from 'grammy/types';

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

export type ParseMode = 'HTML' | 'MarkdownV2' | 'Markdown';

/** Telegram refused the markup; the message is what the API puts after "can't parse entities: ". */
export class EntityParseError extends Error {
  override name = 'EntityParseError';
}

/** Plain text and entities from `source` written in `mode`; throws {@link EntityParseError} like Telegram. */
export function parseFormattedText(source: string, mode: ParseMode): FormattedText {
  const parse = mode === 'HTML' ? parseHtml : mode === 'MarkdownV2' ? parseMarkdownV2 : parseMarkdown;
  const { text, spans } = parse(source);
  return { text, entities: sortEntities(spans.map(toEntity)) };
}

/** Drops surrounding whitespace as Telegram does before storing a text, clipping entities to what remains. */
export function trimFormattedText({ text, entities }: FormattedText): FormattedText {
  const start = text.length - text.trimStart().length;
  const end = Math.max(start, text.trimEnd().length);
  if (start === 0 && end === text.length) return { text, entities };
  const clipped = entities.flatMap((entity) => {
    const from = Math.max(entity.offset, start);
    const to = Math.min(entity.offset + entity.length, end);
    return to > from ? [{ ...entity, offset: from - start, length: to - from }] : [];
  });
  return { text: text.slice(start, end), entities: clipped };
}

/**
 * Adds the entities Telegram detects by itself. They never overlap each other nor an entity whose text is not
 * plain (code, pre, links, mentions, custom emoji); formatting such as bold may wrap them.
 */
export function withDetectedEntities(
  { text, entities }: FormattedText, options: { botCommands: boolean },
): FormattedText {
  const blocked = entities.filter((entity) => !SPLITTABLE.has(entity.type));
  const found: MessageEntity[] = [];
  const free = (offset: number, length: number) =>
    [...blocked, ...found].every((other) => offset + length <= other.offset || other.offset + other.length <= offset);
  for (const [type, pattern] of DETECTORS) {
    if (type === 'bot_command' && !options.botCommands) continue;
    for (const match of text.matchAll(pattern)) {
      const value = type === 'url' ? trimUrl(match[0]) : match[0];
      if (type === 'hashtag' && !/\p{L}/u.test(value)) continue;
      if (free(match.index, value.length)) found.push({ type, offset: match.index, length: value.length });
    }
  }
  return { text, entities: sortEntities([...entities, ...found]) };
}

/** Telegram's order: by offset, longer first, then by a fixed type priority (outer entities first). */
export function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length || priority(a) - priority(b));
}

// ---------------------------------------------------------------------------------------------------------------
// Internals: parsers produce spans named as in tdlib, whose names appear in MarkdownV2 error descriptions.

type SpanKind =
  | 'Bold' | 'Italic' | 'Underline' | 'Strikethrough' | 'Spoiler' | 'Code' | 'Pre' | 'PreCode' | 'TextUrl'
  | 'MentionName' | 'CustomEmoji' | 'BlockQuote' | 'ExpandableBlockQuote';

interface Span {
  kind: SpanKind;
  offset: number;
  length: number;
  /** Link target, user id, custom emoji id or pre language, depending on the kind. */
  argument: string;
}

interface Parsed {
  text: string;
  spans: Span[];
}

const SPLITTABLE = new Set<string>(['bold', 'italic', 'underline', 'strikethrough', 'spoiler', 'blockquote', 'expandable_blockquote']);

const DETECTORS: [MessageEntity.CommonMessageEntity['type'], RegExp][] = [
  ['url', /(?<![\p{L}\p{N}_@./:-])(?:https?:\/\/|www\.)[^\s<>"]+/giu],
  ['email', /(?<![\p{L}\p{N}_.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\p{L}\p{N}_])/gu],
  ['bot_command', /(?<![\p{L}\p{N}_/<>])\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\p{L}\p{N}_/<>])/gu],
  ['mention', /(?<![\p{L}\p{N}_])@[A-Za-z0-9_]{4,32}(?![\p{L}\p{N}_])/gu],
  ['hashtag', /(?<![\p{L}\p{N}_#])#[\p{L}\p{N}_]{1,256}(?![\p{L}\p{N}_#])/gu],
];

const PRIORITY: Partial<Record<MessageEntity['type'], number>> = {
  blockquote: 0, expandable_blockquote: 0, code: 20, text_link: 49, text_mention: 49,
  bold: 90, italic: 91, underline: 92, strikethrough: 93, spoiler: 94, custom_emoji: 99,
};

function priority(entity: MessageEntity): number {
  if (entity.type === 'pre') return entity.language ? 10 : 11;
  return PRIORITY[entity.type] ?? 50;
}

const SIMPLE_TYPES = {
  Bold: 'bold', Italic: 'italic', Underline: 'underline', Strikethrough: 'strikethrough', Spoiler: 'spoiler',
  Code: 'code', BlockQuote: 'blockquote', ExpandableBlockQuote: 'expandable_blockquote',
} as const;

function toEntity({ kind, offset, length, argument }: Span): MessageEntity {
  switch (kind) {
    case 'Pre':
      return { type: 'pre', offset, length };
    case 'PreCode':
      return { type: 'pre', offset, length, language: argument };
    case 'TextUrl':
      return { type: 'text_link', offset, length, url: argument };
    case 'MentionName':
      // The server replaces this placeholder with the user it knows (or drops the entity).
      return { type: 'text_mention', offset, length, user: { id: Number(argument), is_bot: false, first_name: '' } };
    case 'CustomEmoji':
      return { type: 'custom_emoji', offset, length, custom_emoji_id: argument };
    default:
      return { type: SIMPLE_TYPES[kind], offset, length };
  }
}

function fail(message: string): never {
  throw new EntityParseError(message);
}

/** tdlib reports positions as byte offsets into the UTF-8 source. */
function byteOffset(source: string, index: number): number {
  return Buffer.byteLength(source.slice(0, index), 'utf8');
}

function isSpace(c: string | undefined): boolean {
  return c !== undefined && c !== '' && ' \t\r\n\v\f'.includes(c);
}

/** A link target as Telegram keeps it (normalized), or undefined when Telegram would drop the entity. */
function checkedLink(raw: string): string | undefined {
  const url = raw.trim();
  if (!url || /\s/.test(url)) return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'tg' || scheme === 'ton') return url;
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return undefined;
  try {
    const parsed = new URL(scheme ? url : `http://${url}`);
    return parsed.hostname.includes('.') || parsed.hostname === 'localhost' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function linkSpan(target: string, offset: number, length: number): Span | undefined {
  const userId = /^tg:(?:\/\/)?user\?id=(\d+)$/i.exec(target.trim())?.[1];
  if (userId) return { kind: 'MentionName', offset, length, argument: userId };
  const url = checkedLink(target);
  return url === undefined ? undefined : { kind: 'TextUrl', offset, length, argument: url };
}

/** Trailing punctuation ends a sentence, not the URL; a `)` stays when it closes a `(` inside the URL. */
function trimUrl(url: string): string {
  const count = (text: string, char: string) => text.split(char).length - 1;
  let end = url.length;
  while (end > 0 && ".,:;!?'\")]".includes(url[end - 1]!)) {
    const head = url.slice(0, end);
    if (head.endsWith(')') && count(head, '(') >= count(head, ')')) break;
    end -= 1;
  }
  return url.slice(0, end);
}

// --- HTML --------------------------------------------------------------------------------------------------------

const HTML_TAGS = new Set([
  'a', 'b', 'strong', 'i', 'em', 's', 'strike', 'del', 'u', 'ins', 'tg-spoiler', 'tg-emoji', 'span', 'pre', 'code',
  'blockquote',
]);

const NAMED_HTML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** `&lt;`, `&#60;`, `&#x3c;` (the `;` is optional); unknown names decode to nothing and stay literal text. */
function decodeHtmlEntity(source: string, position: number): { char: string; end: number } | undefined {
  let end = position + 1;
  let char: string | undefined;
  if (source[end] === '#') {
    end += 1;
    const hex = source[end] === 'x';
    if (hex) end += 1;
    const digitsStart = end;
    while (end < source.length && (hex ? /[0-9a-f]/i : /[0-9]/).test(source[end]!)) end += 1;
    const code = end > digitsStart ? parseInt(source.slice(digitsStart, end), hex ? 16 : 10) : 0;
    if (code === 0 || code >= 0x10ffff || end - position >= 10) return undefined;
    char = String.fromCodePoint(code);
  } else {
    while (end < source.length && /[a-z]/i.test(source[end]!)) end += 1;
    char = NAMED_HTML_ENTITIES[source.slice(position + 1, end)];
    if (char === undefined) return undefined;
  }
  if (source[end] === ';') end += 1;
  return { char, end };
}

function htmlArgument(tag: string, attribute: string, value: string): string | undefined {
  if (tag === 'a' && attribute === 'href') return value;
  if (tag === 'code' && attribute === 'class' && value.startsWith('language-')) return value.slice('language-'.length);
  if (tag === 'span' && attribute === 'class' && value.startsWith('tg-')) return value.slice('tg-'.length);
  if (tag === 'tg-emoji' && attribute === 'emoji-id') return value;
  return undefined;
}

function parseHtml(source: string): Parsed {
  const at = (index: number) => source[index] ?? '';
  const bytes = (index: number) => byteOffset(source, index);
  let text = '';
  const spans: Span[] = [];
  const open: { tag: string; argument: string; offset: number }[] = [];
  let i = 0;
  while (i < source.length) {
    const c = at(i);
    if (c === '&') {
      const decoded = decodeHtmlEntity(source, i);
      if (decoded) {
        text += decoded.char;
        i = decoded.end;
        continue;
      }
    }
    if (c !== '<') {
      text += c;
      i += 1;
      continue;
    }
    const begin = i;
    i += 1;
    if (at(i) === '/') {
      if (open.length === 0) fail(`Unexpected end tag at byte offset ${bytes(begin)}`);
      i += 1;
      const nameStart = i;
      while (at(i) !== '' && !isSpace(at(i)) && at(i) !== '>') i += 1;
      const endTag = source.slice(nameStart, i).toLowerCase();
      while (isSpace(at(i))) i += 1;
      if (at(i) !== '>') fail(`Unclosed end tag at byte offset ${bytes(begin)}`);
      i += 1;
      const top = open.pop()!;
      if (endTag && endTag !== top.tag) {
        fail(`Unmatched end tag at byte offset ${bytes(begin)}, expected "</${top.tag}>", found "</${endTag}>"`);
      }
      if (text.length > top.offset) closeHtmlTag(top, text, spans);
      continue;
    }

    while (at(i) !== '' && !isSpace(at(i)) && at(i) !== '>') i += 1;
    if (at(i) === '') fail(`Unclosed start tag at byte offset ${bytes(begin)}`);
    const tag = source.slice(begin + 1, i).toLowerCase();
    if (!HTML_TAGS.has(tag)) fail(`Unsupported start tag "${tag}" at byte offset ${bytes(begin)}`);
    let argument = '';
    while (at(i) !== '>') {
      while (isSpace(at(i))) i += 1;
      if (at(i) === '>') break;
      if (at(i) === '') fail(`Unclosed start tag "${tag}" at byte offset ${bytes(begin)}`);
      const nameStart = i;
      while (at(i) !== '' && !isSpace(at(i)) && at(i) !== '=' && at(i) !== '>') i += 1;
      const attribute = source.slice(nameStart, i);
      if (!attribute) fail(`Empty attribute name in the tag "${tag}" at byte offset ${bytes(begin)}`);
      while (isSpace(at(i))) i += 1;
      if (at(i) !== '=') {
        if (tag === 'blockquote' && attribute === 'expandable') {
          argument = 'expandable';
          continue;
        }
        fail(`Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${bytes(begin)}`);
      }
      i += 1;
      while (isSpace(at(i))) i += 1;
      if (at(i) === '') fail(`Unclosed start tag "${tag}" at byte offset ${bytes(begin)}`);
      let value = '';
      if (at(i) !== '"' && at(i) !== "'") {
        // An unquoted name token: letters, digits, periods and hyphens, case-insensitive.
        const tokenStart = i;
        while (/^[A-Za-z0-9.-]$/.test(at(i))) i += 1;
        value = source.slice(tokenStart, i).toLowerCase();
        if (!isSpace(at(i)) && at(i) !== '>') fail(`Unexpected end of name token at byte offset ${bytes(tokenStart)}`);
      } else {
        const quote = at(i);
        i += 1;
        while (at(i) !== quote && at(i) !== '') {
          const decoded = at(i) === '&' ? decodeHtmlEntity(source, i) : undefined;
          value += decoded?.char ?? at(i);
          i = decoded?.end ?? i + 1;
        }
        if (at(i) === quote) i += 1;
      }
      if (at(i) === '') fail(`Unclosed start tag at byte offset ${bytes(begin)}`);
      argument = htmlArgument(tag, attribute, value) ?? argument;
    }
    if (tag === 'span' && argument !== 'spoiler') fail(`Tag "span" must have class "tg-spoiler" at byte offset ${bytes(begin)}`);
    i += 1;
    open.push({ tag, argument, offset: text.length });
  }
  const unclosed = open.at(-1);
  if (unclosed) fail(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) {
    fail('Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units');
  }
  return { text, spans };
}

function closeHtmlTag(top: { tag: string; argument: string; offset: number }, text: string, spans: Span[]): void {
  const { offset, argument } = top;
  const length = text.length - offset;
  const push = (kind: SpanKind, value = '') => spans.push({ kind, offset, length, argument: value });
  const last = spans.at(-1);
  const sameSpan = last !== undefined && last.offset === offset && last.length === length;
  switch (top.tag) {
    case 'b': case 'strong': return void push('Bold');
    case 'i': case 'em': return void push('Italic');
    case 'u': case 'ins': return void push('Underline');
    case 's': case 'strike': case 'del': return void push('Strikethrough');
    case 'tg-spoiler': case 'span': return void push('Spoiler');
    case 'blockquote': return void push(argument === 'expandable' ? 'ExpandableBlockQuote' : 'BlockQuote');
    case 'tg-emoji':
      if (!/^\d{1,19}$/.test(argument) || BigInt(argument) === 0n || BigInt(argument) > 2n ** 63n - 1n) {
        fail('Invalid custom emoji identifier specified');
      }
      return void push('CustomEmoji', argument);
    case 'a': {
      const span = linkSpan(argument || text.slice(offset), offset, length);
      if (span) spans.push(span);
      return;
    }
    case 'pre':
      // <pre><code class="language-x">…</code></pre>: the inner code carries the language.
      if (sameSpan && last.kind === 'Code' && last.argument) return void (last.kind = 'PreCode');
      return void push('Pre');
    case 'code':
      if (sameSpan && last.kind === 'Pre' && argument) {
        last.kind = 'PreCode';
        last.argument = argument;
        return;
      }
      return void push('Code', argument);
  }
}

// --- MarkdownV2 --------------------------------------------------------------------------------------------------

const isEscapable = (c: string | undefined) => c !== undefined && c !== '' && c.charCodeAt(0) > 0 && c.charCodeAt(0) <= 126;

function reserved(c: string): never {
  return fail(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
}

function parseMarkdownV2(source: string): Parsed {
  const at = (index: number) => source[index] ?? '';
  const bytes = (index: number) => byteOffset(source, index);
  let text = '';
  const spans: Span[] = [];
  const open: { kind: SpanKind; argument: string; offset: number; byte: number }[] = [];
  let inBlockQuote = false;

  /** A URL in `(…)` after `]`, backslash escapes removed; `i` ends on the closing parenthesis. */
  const readUrl = (start: number, what: string): { url: string; end: number } => {
    let i = start;
    let url = '';
    while (i < source.length && at(i) !== ')') {
      if (at(i) === '\\' && isEscapable(at(i + 1))) {
        url += at(i + 1);
        i += 2;
        continue;
      }
      url += at(i);
      i += 1;
    }
    if (at(i) !== ')') fail(`Can't find end of ${what} at byte offset ${bytes(start)}`);
    return { url, end: i };
  };

  for (let i = 0; i < source.length; i++) {
    const c = at(i);
    if (c === '\\' && isEscapable(at(i + 1))) {
      text += at(i + 1);
      i += 1;
      continue;
    }
    const top = open.at(-1);
    const inCode = top?.kind === 'Code' || top?.kind === 'Pre' || top?.kind === 'PreCode';
    if (!(inCode ? '`' : '_*[]()~`>#+-=|{}.!\n').includes(c)) {
      text += c;
      continue;
    }

    const ends = top !== undefined && (
      (inBlockQuote && c === '\n' && at(i + 1) !== '>') || closesSpan(top.kind, c, at(i + 1), at(i + 2)));
    if (!ends) {
      const byte = bytes(i);
      let kind: SpanKind | undefined;
      let argument = '';
      switch (c) {
        case '_':
          kind = at(i + 1) === '_' ? 'Underline' : 'Italic';
          if (kind === 'Underline') i += 1;
          break;
        case '*': kind = 'Bold'; break;
        case '~': kind = 'Strikethrough'; break;
        case '[': kind = 'TextUrl'; break;
        case '|':
          if (at(i + 1) !== '|') reserved(c);
          i += 1;
          kind = 'Spoiler';
          break;
        case '!':
          if (at(i + 1) !== '[') reserved(c);
          i += 1;
          kind = 'CustomEmoji';
          break;
        case '`':
          if (at(i + 1) !== '`' || at(i + 2) !== '`') {
            kind = 'Code';
            break;
          }
          i += 3;
          kind = 'Pre';
          {
            let languageEnd = i;
            while (languageEnd < source.length && !isSpace(at(languageEnd)) && at(languageEnd) !== '`') languageEnd += 1;
            if (languageEnd !== i && languageEnd < source.length && at(languageEnd) !== '`') {
              kind = 'PreCode';
              argument = source.slice(i, languageEnd);
              i = languageEnd;
            }
          }
          i = skipOneNewline(source, i) - 1;
          break;
        case '\n':
          text += '\n';
          if (at(i + 1) === '>') {
            i += 1;
            if (!inBlockQuote) kind = 'BlockQuote';
          }
          break;
        case '>':
          if (i !== 0) reserved(c);
          kind = 'BlockQuote';
          break;
        default:
          reserved(c);
      }
      if (kind === 'BlockQuote') inBlockQuote = true;
      if (kind) open.push({ kind, argument, offset: text.length, byte });
      continue;
    }

    const closing = open.pop()!;
    if (c === '\n' && closing.kind !== 'BlockQuote') {
      fail(`Can't find end of ${closing.kind} entity at byte offset ${closing.byte}`);
    }
    let span: Span | undefined = { kind: closing.kind, offset: closing.offset, length: 0, argument: closing.argument };
    const empty = text.length === closing.offset;
    switch (closing.kind) {
      case 'Underline': case 'Spoiler': i += 1; break;
      case 'Pre': case 'PreCode': i += 2; break;
      case 'TextUrl': {
        let target = text.slice(closing.offset);
        if (at(i + 1) === '(') ({ url: target, end: i } = readUrl(i + 2, 'a URL'));
        span = linkSpan(target, closing.offset, 0);
        break;
      }
      case 'CustomEmoji': {
        if (at(i + 1) !== '(') fail('Custom emoji entity must contain a tg://emoji URL');
        const { url, end } = readUrl(i + 2, 'a custom emoji URL');
        i = end;
        const id = /^tg:(?:\/\/)?emoji\?id=(\d{1,19})$/i.exec(url)?.[1];
        if (!id || BigInt(id) === 0n) fail('Invalid custom emoji identifier specified');
        span.argument = id;
        break;
      }
      case 'BlockQuote':
        inBlockQuote = false;
        text += '\n';
        break;
      default:
        break;
    }
    if (span && !empty) spans.push({ ...span, length: text.length - span.offset });
  }
  const quote = open.at(-1);
  if (inBlockQuote && quote?.kind === 'BlockQuote') {
    open.pop();
    if (text.length > quote.offset) spans.push({ kind: 'BlockQuote', offset: quote.offset, length: text.length - quote.offset, argument: '' });
  }
  const unclosed = open.at(-1);
  if (unclosed) fail(`Can't find end of ${unclosed.kind} entity at byte offset ${unclosed.byte}`);
  return { text, spans };
}

function closesSpan(kind: SpanKind, c: string, next: string, afterNext: string): boolean {
  switch (kind) {
    case 'Bold': return c === '*';
    case 'Italic': return c === '_' && next !== '_';
    case 'Underline': return c === '_' && next === '_';
    case 'Strikethrough': return c === '~';
    case 'Spoiler': return c === '|' && next === '|';
    case 'Code': return c === '`';
    case 'Pre': case 'PreCode': return c === '`' && next === '`' && afterNext === '`';
    case 'TextUrl': case 'CustomEmoji': return c === ']';
    default: return false;
  }
}

/** After an opening ``` (and language), one line break belongs to the markup, not to the text. */
function skipOneNewline(source: string, i: number): number {
  const c = source[i];
  if (c !== '\n' && c !== '\r') return i;
  const next = source[i + 1];
  return (next === '\n' || next === '\r') && next !== c ? i + 2 : i + 1;
}

// --- legacy Markdown ---------------------------------------------------------------------------------------------

function parseMarkdown(source: string): Parsed {
  let text = '';
  const spans: Span[] = [];
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && '_*`['.includes(source[i + 1] ?? '.')) {
      text += source[i + 1];
      i += 1;
      continue;
    }
    if (!'_*`['.includes(c)) {
      text += c;
      continue;
    }
    const begin = i;
    const endCharacter = c === '[' ? ']' : c;
    let isPre = false;
    let language = '';
    i += 1;
    if (c === '`' && source[i] === '`' && source[i + 1] === '`') {
      i += 2;
      isPre = true;
      let languageEnd = i;
      while (languageEnd < source.length && !isSpace(source[languageEnd]) && source[languageEnd] !== '`') languageEnd += 1;
      if (languageEnd !== i && languageEnd < source.length && source[languageEnd] !== '`') {
        language = source.slice(i, languageEnd);
        i = languageEnd;
      }
      i = skipOneNewline(source, i);
    }
    const offset = text.length;
    while (i < source.length && (source[i] !== endCharacter || (isPre && !(source[i + 1] === '`' && source[i + 2] === '`')))) {
      text += source[i];
      i += 1;
    }
    if (i === source.length) fail(`Can't find end of the entity starting at byte offset ${byteOffset(source, begin)}`);
    const length = text.length - offset;
    if (length > 0) {
      if (c === '_') spans.push({ kind: 'Italic', offset, length, argument: '' });
      if (c === '*') spans.push({ kind: 'Bold', offset, length, argument: '' });
      if (c === '`') spans.push({ kind: isPre ? (language ? 'PreCode' : 'Pre') : 'Code', offset, length, argument: language });
      if (c === '[') {
        let target = source.slice(begin + 1, i);
        if (source[i + 1] === '(') {
          const close = source.indexOf(')', i + 2);
          target = source.slice(i + 2, close === -1 ? source.length : close);
          i = close === -1 ? source.length : close;
        }
        const span = linkSpan(target, offset, length);
        if (span) spans.push(span);
      }
    }
    if (isPre) i += 2;
  }
  return { text, spans };
}
