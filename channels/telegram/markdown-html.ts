/**
 * Markdown as LLMs write it, rendered into Telegram's HTML subset (b, i, s, code, pre, a, blockquote).
 * The output is well-formed by construction: every tag is closed by the call that opened it, and a marker
 * without a partner (a lone `*`, snake_case, 2*3*4, an unclosed fence) stays literal text. Rendering only
 * removes characters from what Telegram shows, so a part that fits as Markdown also fits once rendered.
 */

/** A fenced code block as line indexes: `open` and `close` are the fence lines themselves. */
export interface CodeBlock {
  open: number;
  close: number;
  /** The opening run of backticks; the closing fence repeats at least this many. */
  marker: string;
  info: string;
  indent: number;
}

interface Piece {
  html: string;
  end: number;
}

const openingFence = /^(\s*)(`{3,})([^`]*)$/;
const closingFence = /^\s*(`{3,})\s*$/;
// Sticky: matched in place at an index, without slicing the line for every character.
const bareUrl = /https?:\/\/[^\s<>"'`]+/iy;
const trailingUrlPunctuation = /[.,;:!?*_~'"]+$/;
const wordChar = /[\p{L}\p{N}]/u;

/**
 * Pairs each opening fence with the next closing fence; an opening fence that is never closed stays text.
 * The splitter uses the same pairing, so both agree on where code is.
 */
export function findCodeBlocks(lines: readonly string[]): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  // Once a fence of length n finds no closer, no later fence of length >= n can: skip those scans.
  let shortestUnclosed = Infinity;
  for (let open = 0; open < lines.length; open++) {
    const fence = openingFence.exec(lines[open] ?? '');
    const marker = fence?.[2];
    if (!marker || marker.length >= shortestUnclosed) continue;
    const close = closingLine(lines, open + 1, marker.length);
    if (close === undefined) {
      shortestUnclosed = marker.length;
      continue;
    }
    blocks.push({ open, close, marker, info: (fence?.[3] ?? '').trim(), indent: fence?.[1]?.length ?? 0 });
    open = close;
  }
  return blocks;
}

function closingLine(lines: readonly string[], from: number, markerLength: number): number | undefined {
  for (let index = from; index < lines.length; index++) {
    if ((closingFence.exec(lines[index] ?? '')?.[1]?.length ?? 0) >= markerLength) return index;
  }
  return undefined;
}

/**
 * Renders Markdown as Telegram HTML (for `parse_mode: 'HTML'`).
 * @example renderTelegramHtml('**Note:** use `a < b`') // '<b>Note:</b> use <code>a &lt; b</code>'
 */
export function renderTelegramHtml(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const blocks = new Map(findCodeBlocks(lines).map((block) => [block.open, block]));
  const out: string[] = [];
  let quote: string[] = [];
  const endQuote = () => {
    if (quote.length > 0) out.push(`<blockquote>${quote.join('\n')}</blockquote>`);
    quote = [];
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const block = blocks.get(index);
    const quoted = /^\s*(?:>\s?)+/.exec(line);
    if (block) {
      endQuote();
      out.push(renderCodeBlock(lines, block));
      index = block.close;
    } else if (quoted) {
      quote.push(renderLine(line.slice(quoted[0].length)));
    } else {
      endQuote();
      out.push(renderLine(line));
    }
  }
  endQuote();
  return out.join('\n');
}

/** The number of UTF-16 code units Telegram counts for rendered HTML: tags removed, entities decoded. */
export function visibleLength(html: string): number {
  return decodeEntities(html.replace(/<[^>]*>/g, '')).length;
}

function renderCodeBlock(lines: readonly string[], block: CodeBlock): string {
  const indent = new RegExp(`^ {0,${block.indent}}`);
  const body = lines
    .slice(block.open + 1, block.close)
    .map((line) => line.replace(indent, ''))
    .join('\n');
  const language = /^[\w#+.-]+/.exec(block.info)?.[0];
  const code = escapeHtml(body);
  return language ? `<pre><code class="language-${escapeHtml(language)}">${code}</code></pre>` : `<pre>${code}</pre>`;
}

/** Headings become bold lines and bullets become "•"; everything else is inline Markdown. */
function renderLine(line: string): string {
  const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
  if (heading) return heading[1] ? `<b>${renderInline(heading[1], new Set(['b']))}</b>` : '';
  const bullet = /^(\s*)[-*+]\s+/.exec(line);
  if (bullet) return `${bullet[1] ?? ''}• ${renderInline(line.slice(bullet[0].length))}`;
  return renderInline(line);
}

/** `open` holds the tags already open around `text`: they are not opened twice, and no link goes in a link. */
function renderInline(text: string, open: ReadonlySet<string> = new Set()): string {
  let html = '';
  let index = 0;
  while (index < text.length) {
    const piece = atomAt(text, index, open) ?? emphasisAt(text, index, open);
    html += piece ? piece.html : escapeHtml(text[index] ?? '');
    index = piece ? piece.end : index + 1;
  }
  return html;
}

/** Code spans, links and bare URLs: their insides are never searched for emphasis markers. */
function atomAt(text: string, index: number, open: ReadonlySet<string>): Piece | undefined {
  return codeSpanAt(text, index, open) ?? linkAt(text, index, open) ?? bareUrlAt(text, index);
}

function codeSpanAt(text: string, index: number, open: ReadonlySet<string>): Piece | undefined {
  if (text[index] !== '`') return undefined;
  const ticks = runLength(text, index);
  for (let end = text.indexOf('`', index + ticks); end !== -1; end = text.indexOf('`', end + runLength(text, end))) {
    if (runLength(text, end) !== ticks) continue;
    const code = escapeHtml(text.slice(index + ticks, end));
    // Telegram allows no code entity inside a link: there the span shows as plain text.
    return { html: open.has('a') ? code : `<code>${code}</code>`, end: end + ticks };
  }
  return { html: escapeHtml(text.slice(index, index + ticks)), end: index + ticks };
}

function linkAt(text: string, index: number, open: ReadonlySet<string>): Piece | undefined {
  if (text[index] !== '[' || open.has('a')) return undefined;
  const labelEnd = matchingBracket(text, index, '[', ']');
  if (labelEnd === undefined || text[labelEnd + 1] !== '(') return undefined;
  const urlEnd = matchingBracket(text, labelEnd + 1, '(', ')');
  if (urlEnd === undefined) return undefined;
  const label = text.slice(index + 1, labelEnd);
  const url = text.slice(labelEnd + 2, urlEnd);
  if (label.trim() === '' || !/^https?:\/\/\S+$/i.test(url)) return undefined;
  const inner = renderInline(label, new Set([...open, 'a']));
  return { html: `<a href="${escapeHtml(url).replace(/"/g, '&quot;')}">${inner}</a>`, end: urlEnd + 1 };
}

/** Bare URLs stay literal (Telegram links them itself), so underscores in them never become italics. */
function bareUrlAt(text: string, index: number): Piece | undefined {
  if (text[index] !== 'h' && text[index] !== 'H') return undefined;
  if (index > 0 && wordChar.test(text[index - 1] ?? '')) return undefined;
  bareUrl.lastIndex = index;
  const match = bareUrl.exec(text)?.[0].replace(trailingUrlPunctuation, '');
  if (!match) return undefined;
  const url = countOf(match, ')') > countOf(match, '(') ? match.replace(/\)+$/, '') : match;
  return { html: escapeHtml(url), end: index + url.length };
}

/** `*i*`, `_i_`, `**b**`, `__b__`, `***bi***`, `~~s~~`; a run without a partner is returned as literal text. */
function emphasisAt(text: string, index: number, open: ReadonlySet<string>): Piece | undefined {
  const marker = text[index];
  if (marker !== '*' && marker !== '_' && marker !== '~') return undefined;
  const length = runLength(text, index);
  const literal = { html: escapeHtml(text.slice(index, index + length)), end: index + length };
  const tags = marker === '~' ? (length === 2 ? ['s'] : undefined) : [['i'], ['b'], ['b', 'i']][length - 1];
  if (!tags || !canOpen(text, index, length)) return literal;
  const close = findCloser(text, index + length, length, open);
  if (close === undefined) return literal;
  const fresh = tags.filter((tag) => !open.has(tag));
  const inner = renderInline(text.slice(index + length, close), new Set([...open, ...tags]));
  const html = fresh.map((tag) => `<${tag}>`).join('') + inner + [...fresh].reverse().map((tag) => `</${tag}>`).join('');
  return { html, end: close + length };
}

/** The next run of exactly `length` copies of the opening marker that can close it, skipping atoms. */
function findCloser(text: string, from: number, length: number, open: ReadonlySet<string>): number | undefined {
  const marker = text[from - 1];
  let index = from;
  while (index < text.length) {
    const atom = atomAt(text, index, open);
    if (atom) {
      index = atom.end;
    } else if (text[index] === marker) {
      const run = runLength(text, index);
      if (run === length && index > from && canClose(text, index, length)) return index;
      index += run;
    } else {
      index += 1;
    }
  }
  return undefined;
}

// Flanking rules stricter than CommonMark: a marker touching a letter or digit on its outer side is text,
// which keeps snake_case, 2*3*4 and file_names_like_this literal.
function canOpen(text: string, index: number, length: number): boolean {
  const after = text[index + length];
  return after !== undefined && !/\s/.test(after) && !wordChar.test(text[index - 1] ?? '');
}

function canClose(text: string, index: number, length: number): boolean {
  return !/\s/.test(text[index - 1] ?? ' ') && !wordChar.test(text[index + length] ?? '');
}

function matchingBracket(text: string, index: number, opening: string, closing: string): number | undefined {
  let depth = 0;
  for (let at = index; at < text.length; at++) {
    if (text[at] === opening) depth += 1;
    else if (text[at] === closing && --depth === 0) return at;
  }
  return undefined;
}

function runLength(text: string, index: number): number {
  let end = index;
  while (text[end] === text[index]) end += 1;
  return end - index;
}

function countOf(text: string, char: string): number {
  return text.split(char).length - 1;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;'));
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
  return text.replace(/&(?:#(\d+)|#x([\da-f]+)|(amp|lt|gt|quot));/gi, (entity, decimal?: string, hex?: string, name?: string) => {
    const code = decimal !== undefined ? Number(decimal) : hex !== undefined ? parseInt(hex, 16) : undefined;
    if (code === undefined) return named[name?.toLowerCase() ?? ''] ?? entity;
    return code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}
