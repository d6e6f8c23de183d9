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
const wordChar = /[\p{L}\p{N}]/u;

/**
 * Pairs each opening fence with the next closing fence; an opening fence that is never closed stays text.
 * The splitter uses the same pairing, so both agree on where code is.
 */
export function findCodeBlocks(lines: readonly string[]): CodeBlock[] {
  const closers = closingFences(lines);
  const blocks: CodeBlock[] = [];
  // Once a fence of length n finds no closer, no later fence of length >= n can: skip those searches.
  let shortestUnclosed = Infinity;
  for (let open = 0; open < lines.length; open++) {
    const fence = openingFence.exec(lines[open] ?? '');
    const marker = fence?.[2];
    if (!marker || marker.length >= shortestUnclosed) continue;
    const close = closers.next(open + 1, marker.length);
    if (close === undefined) {
      shortestUnclosed = marker.length;
      continue;
    }
    blocks.push({ open, close, marker, info: (fence?.[3] ?? '').trim(), indent: fence?.[1]?.length ?? 0 });
    open = close;
  }
  return blocks;
}

/**
 * Finds the next line closing a fence of a given length without reading every line in between: each line
 * points to the next one with a longer closing fence, and a search follows those pointers, so what it passes
 * only grows. Reading the lines instead cost lines × fence lengths on unclosed fences of decreasing length.
 */
function closingFences(lines: readonly string[]): { next: (from: number, length: number) => number | undefined } {
  const lengths = lines.map((line) => closingFence.exec(line)?.[1]?.length ?? 0);
  const longer = new Int32Array(lines.length);
  const stack: number[] = [];
  for (let index = lines.length - 1; index >= 0; index--) {
    const length = lengths[index] ?? 0;
    while (stack.length > 0 && (lengths[stack.at(-1) ?? 0] ?? 0) <= length) stack.pop();
    longer[index] = stack.at(-1) ?? lines.length;
    stack.push(index);
  }
  return {
    next(from, length) {
      let index = from;
      while (index < lines.length && (lengths[index] ?? 0) < length) index = longer[index] ?? lines.length;
      return index < lines.length ? index : undefined;
    },
  };
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
  const heading = headingText(line);
  if (heading !== undefined) return heading ? `<b>${renderInline(heading, new Set(['b']))}</b>` : '';
  const bullet = /^(\s*)[-*+]\s+/.exec(line);
  if (bullet) return `${bullet[1] ?? ''}• ${renderInline(line.slice(bullet[0].length))}`;
  return renderInline(line);
}

/**
 * The text of an ATX heading (`## Title ##` → `Title`), or undefined for any other line: what
 * /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/ captures, without that lazy regex's time quadratic in runs of spaces.
 */
function headingText(line: string): string | undefined {
  const prefix = /^\s{0,3}#{1,6}\s+/.exec(line);
  if (!prefix) return undefined;
  const text = line.slice(prefix[0].length).trimEnd();
  let hashes = text.length;
  while (hashes > 0 && text[hashes - 1] === '#') hashes -= 1;
  const closed = hashes > 0 && hashes < text.length && /\s/.test(text[hashes - 1] ?? '');
  const heading = closed ? text.slice(0, hashes).trimEnd() : text;
  // `.` matches no line separator, so the regex finds no heading around one.
  return /[\u2028\u2029]/.test(heading) ? undefined : heading;
}

/** `open` holds the tags already open around `text`: they are not opened twice, and no link goes in a link. */
function renderInline(text: string, open: ReadonlySet<string> = new Set()): string {
  const scan = new InlineScan(text, open.has('a'));
  let html = '';
  let plain = 0;
  let index = 0;
  while (index < text.length) {
    const atomEnd = scan.atomEnd(index);
    const piece = atomEnd === undefined ? emphasisAt(scan, index, open) : { html: renderAtom(scan, index, atomEnd, open), end: atomEnd };
    if (piece) {
      html += escapeHtml(text.slice(plain, index)) + piece.html;
      index = plain = piece.end;
    } else {
      index += 1;
    }
  }
  return html + escapeHtml(text.slice(plain));
}

/**
 * One inline text and the answers rendering asks of it again and again, each worked out once. Looking for the
 * partner of every `*` passes every atom after it, and each `[` passed looked for its `]` to the end of the text:
 * cubic, seconds of CPU for a 4 KB line like `*[ *[ *[`. With these tables each question costs constant amortized
 * time (a binary search for code spans), so a text renders in time linear in its length times the nesting depth,
 * and nesting is shallow: an emphasis never nests inside one of its own kind (the outer one would close first).
 * Tables are built on first use, since most texts (the inside of a `**bold**`) need few of them. Memos hold
 * `answer + 2`, so that 0 (a fresh array) is "not asked yet" and 1 is "none".
 */
class InlineScan {
  /** Memo of `atomEnd`. */
  private atomEnds?: Int32Array;
  /** The `]` that closes each `[` and the `)` that closes each `(`, nesting counted, as memo values. */
  private partners?: Int32Array;
  /** How many whitespace characters come before each index. */
  private spacesBefore?: Int32Array;
  /** The starts of whole backtick runs, grouped by run length, in order. */
  private ticks?: Map<number, number[]>;
  /** Memo of `closerFrom`, one per marker and run length: the closer found from each index passed. */
  private readonly closers = new Map<string, Int32Array>();

  constructor(
    readonly text: string,
    /** Inside a link label, where no link may start. */
    private readonly inLink: boolean,
  ) {}

  /** How many copies of the character at `index` follow from there on. */
  runLength(index: number): number {
    let end = index + 1;
    while (end < this.text.length && this.text[end] === this.text[index]) end += 1;
    return end - index;
  }

  /** The end of the code span, link or bare URL starting at `index`, if one does. */
  atomEnd(index: number): number | undefined {
    const char = this.text[index];
    if (char !== '`' && char !== '[' && char !== 'h' && char !== 'H') return undefined;
    this.atomEnds ??= new Int32Array(this.text.length);
    let memo = this.atomEnds[index] ?? 0;
    if (memo === 0) {
      const end = char === '`' ? this.codeSpanEnd(index) : char === '[' ? this.linkEnd(index) : this.bareUrlEnd(index);
      memo = (end ?? -1) + 2;
      this.atomEnds[index] = memo;
    }
    return memo === 1 ? undefined : memo - 2;
  }

  /** The run of backticks at `index` closes at the next run of the same length; without one it is literal. */
  private codeSpanEnd(index: number): number {
    const ticks = this.runLength(index);
    const closer = firstAtLeast(this.tickRuns().get(ticks) ?? [], index + ticks);
    return closer === undefined ? index + ticks : closer + ticks;
  }

  /** `[label](http…)` with a label that is not blank and an http(s) URL without spaces. */
  private linkEnd(index: number): number | undefined {
    if (this.inLink) return undefined;
    const labelEnd = this.partner(index);
    if (labelEnd === undefined || this.text[labelEnd + 1] !== '(') return undefined;
    const urlEnd = this.partner(labelEnd + 1);
    if (urlEnd === undefined || this.spacesIn(index + 1, labelEnd) === labelEnd - index - 1) return undefined;
    httpPrefix.lastIndex = labelEnd + 2;
    const scheme = httpPrefix.exec(this.text)?.[0].length ?? 0;
    return scheme > 0 && labelEnd + 2 + scheme < urlEnd && this.spacesIn(labelEnd + 2, urlEnd) === 0 ? urlEnd + 1 : undefined;
  }

  /** Bare URLs stay literal (Telegram links them itself), so underscores in them never become italics. */
  private bareUrlEnd(index: number): number | undefined {
    const text = this.text;
    if (index > 0 && wordChar.test(text[index - 1] ?? '')) return undefined;
    bareUrl.lastIndex = index;
    const match = bareUrl.exec(text);
    if (!match) return undefined;
    // Trailing punctuation is the sentence's, not the URL's (a loop: the regex for it is quadratic in long runs).
    let end = index + match[0].length;
    while (urlPunctuation.has(text[end - 1] ?? '')) end -= 1;
    const url = text.slice(index, end);
    if (countOf(url, ')') <= countOf(url, '(')) return end;
    while (text[end - 1] === ')') end -= 1;
    return end;
  }

  /**
   * Where the emphasis whose opening run ends at `from` closes: the next run of exactly `length` copies of its
   * marker that can close it, skipping atoms and other runs of that marker. Every index passed on the way gets
   * the answer, so a later search reaching one of them stops there.
   */
  closerFrom(from: number, length: number): number | undefined {
    const text = this.text;
    const marker = text[from - 1] ?? '';
    const key = `${marker}${length}`;
    const memo = this.closers.get(key) ?? new Int32Array(text.length + 1);
    this.closers.set(key, memo);
    const passed: number[] = [];
    let index = text[from] === marker ? from + this.runLength(from) : from;
    let found = memo[index] ?? 0;
    while (found === 0) {
      const run = text[index] === marker ? this.runLength(index) : 0;
      if (index >= text.length) {
        found = 1;
      } else if (run === length && canClose(text, index, length)) {
        found = index + 2;
      } else {
        passed.push(index);
        index = this.atomEnd(index) ?? index + Math.max(run, 1);
        found = memo[index] ?? 0;
      }
    }
    for (const at of passed) memo[at] = found;
    return found === 1 ? undefined : found - 2;
  }

  /** The bracket closing the `[` or `(` at `index`, if any. */
  partner(index: number): number | undefined {
    if (!this.partners) {
      this.partners = new Int32Array(this.text.length);
      const squares: number[] = [];
      const rounds: number[] = [];
      for (let at = 0; at < this.text.length; at++) {
        const char = this.text[at];
        if (char === '[') squares.push(at);
        else if (char === '(') rounds.push(at);
        const opener = char === ']' ? squares.pop() : char === ')' ? rounds.pop() : undefined;
        if (opener !== undefined) this.partners[opener] = at + 2;
      }
    }
    const memo = this.partners[index] ?? 0;
    return memo === 0 ? undefined : memo - 2;
  }

  /** How many whitespace characters `text[from, to)` holds. */
  private spacesIn(from: number, to: number): number {
    if (!this.spacesBefore) {
      this.spacesBefore = new Int32Array(this.text.length + 1);
      for (let at = 0; at < this.text.length; at++) {
        this.spacesBefore[at + 1] = (this.spacesBefore[at] ?? 0) + (isSpace(this.text, at) ? 1 : 0);
      }
    }
    return (this.spacesBefore[to] ?? 0) - (this.spacesBefore[from] ?? 0);
  }

  private tickRuns(): Map<number, number[]> {
    if (this.ticks) return this.ticks;
    this.ticks = new Map();
    for (let at = this.text.indexOf('`'); at !== -1; at = this.text.indexOf('`', at + this.runLength(at))) {
      const runs = this.ticks.get(this.runLength(at)) ?? [];
      runs.push(at);
      this.ticks.set(this.runLength(at), runs);
    }
    return this.ticks;
  }
}

/** `/\s/.test(text[index])`, without running a regex for the common characters. */
function isSpace(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code === 32 || (code >= 9 && code <= 13) || (code >= 0xa0 && /\s/.test(text[index] ?? ''));
}

const httpPrefix = /https?:\/\//iy;
const urlPunctuation = new Set('.,;:!?*_~\'"');

/** The first of the ascending `values` that is at least `min`. */
function firstAtLeast(values: readonly number[], min: number): number | undefined {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((values[middle] ?? 0) < min) low = middle + 1;
    else high = middle;
  }
  return values[low];
}

/** Code spans, links and bare URLs: their insides are never searched for emphasis markers. */
function renderAtom(scan: InlineScan, index: number, end: number, open: ReadonlySet<string>): string {
  const text = scan.text;
  if (text[index] === '`') {
    const ticks = scan.runLength(index);
    if (end === index + ticks) return escapeHtml(text.slice(index, end));
    const code = escapeHtml(text.slice(index + ticks, end - ticks));
    // Telegram allows no code entity inside a link: there the span shows as plain text.
    return open.has('a') ? code : `<code>${code}</code>`;
  }
  if (text[index] === '[') {
    const labelEnd = scan.partner(index) ?? end;
    const inner = renderInline(text.slice(index + 1, labelEnd), new Set([...open, 'a']));
    return `<a href="${escapeHtml(text.slice(labelEnd + 2, end - 1)).replace(/"/g, '&quot;')}">${inner}</a>`;
  }
  return escapeHtml(text.slice(index, end));
}

/** `*i*`, `_i_`, `**b**`, `__b__`, `***bi***`, `~~s~~`; a run without a partner is returned as literal text. */
function emphasisAt(scan: InlineScan, index: number, open: ReadonlySet<string>): Piece | undefined {
  const text = scan.text;
  const marker = text[index];
  if (marker !== '*' && marker !== '_' && marker !== '~') return undefined;
  const length = scan.runLength(index);
  const literal = { html: escapeHtml(text.slice(index, index + length)), end: index + length };
  const tags = marker === '~' ? (length === 2 ? ['s'] : undefined) : [['i'], ['b'], ['b', 'i']][length - 1];
  if (!tags || !canOpen(text, index, length)) return literal;
  const close = scan.closerFrom(index + length, length);
  if (close === undefined) return literal;
  const fresh = tags.filter((tag) => !open.has(tag));
  const inner = renderInline(text.slice(index + length, close), new Set([...open, ...tags]));
  const html = fresh.map((tag) => `<${tag}>`).join('') + inner + [...fresh].reverse().map((tag) => `</${tag}>`).join('');
  return { html, end: close + length };
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
