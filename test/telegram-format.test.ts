import { describe, expect, it } from 'vitest';
import { findCodeBlocks, renderTelegramHtml, visibleLength } from '../channels/telegram/markdown-html';
import { splitMessage, telegramTextLimit } from '../channels/telegram/split-message';

// ---- helpers: independent of the implementation, so they can catch it out ----

const fenceLine = /^\s*```/;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function fenceCount(part: string): number {
  return part.split('\n').filter((line) => fenceLine.test(line)).length;
}

/**
 * True when the parts, with the fence lines the splitter added removed, are consecutive pieces of `original`
 * separated only by whitespace. Tries both readings of a trailing fence (original or added) when both fit.
 */
function reassembles(original: string, parts: readonly string[]): boolean {
  const visit = (index: number, cursor: number, reopened: boolean): boolean => {
    if (index === parts.length) return original.slice(cursor).trim() === '';
    let body = parts[index] ?? '';
    if (reopened) {
      const newline = body.indexOf('\n');
      if (newline === -1 || !fenceLine.test(body.slice(0, newline))) return false;
      body = body.slice(newline + 1);
    }
    const readings: [string, boolean][] = [[body, false]];
    const added = /\n`{3,}$/.exec(body);
    if (added) readings.push([body.slice(0, added.index), true]);
    for (let start = cursor; start <= original.length; start++) {
      for (const [content, closedByUs] of readings) {
        if (original.startsWith(content, start) && visit(index + 1, start + content.length, closedByUs)) return true;
      }
      if (!/\s/.test(original[start] ?? '')) break;
    }
    return false;
  };
  return visit(0, 0, false);
}

const telegramTags = new Set(['b', 'i', 'u', 's', 'code', 'pre', 'a', 'blockquote']);

/** Describes the first way `html` would be rejected by Telegram's HTML parser, or undefined when it is fine. */
function htmlProblem(html: string): string | undefined {
  const stack: string[] = [];
  const token = /<(\/?)([a-z]+)((?:\s+[a-z]+="[^"<>]*")*)>|&(?:amp|lt|gt|quot|#\d+|#x[\da-f]+);|[<>&]/gi;
  for (const match of html.matchAll(token)) {
    const [whole, slash, name] = match;
    if (name === undefined) {
      if (whole.length === 1) return `stray "${whole}" at ${match.index}`;
      continue;
    }
    if (!telegramTags.has(name)) return `unknown tag <${name}>`;
    if (slash) {
      const top = stack.pop();
      if (top !== name) return `</${name}> closes <${top ?? 'nothing'}>`;
      continue;
    }
    if (stack.includes('code') || (stack.includes('pre') && name !== 'code')) return `<${name}> inside code`;
    if (name === 'pre' && stack.length > 0) return `<pre> inside <${stack.join('><')}>`;
    if (name === 'a' && stack.includes('a')) return 'link inside link';
    if (name === 'code' && stack.includes('a')) return 'code inside link';
    if (name === 'blockquote' && stack.includes('blockquote')) return 'nested blockquote';
    stack.push(name);
  }
  return stack.length > 0 ? `unclosed <${stack.join('><')}>` : undefined;
}

/** mulberry32: a tiny seeded generator, so a failing random case can be reproduced. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectValidSplit(original: string, parts: readonly string[], limit: number): void {
  for (const part of parts) {
    expect(part.length).toBeLessThanOrEqual(limit);
    expect(part.trim()).not.toBe('');
    expect(part).not.toMatch(loneSurrogate);
    const html = renderTelegramHtml(part);
    expect(htmlProblem(html), html).toBeUndefined();
    expect(visibleLength(html)).toBeLessThanOrEqual(part.length);
  }
  expect(reassembles(original, parts)).toBe(true);
}

const prose = (words: number, seed: number): string => {
  const next = random(seed);
  const vocabulary = ['the', 'worker', 'replays', 'history', 'deterministically', 'and', 'signals', 'arrive', 'later', 'so'];
  return Array.from({ length: words }, () => vocabulary[Math.floor(next() * vocabulary.length)]).join(' ') + '.';
};

const codeLines = (count: number, width = 60): string =>
  Array.from({ length: count }, (_, index) => `    result_${index} = compute(${index}) * 2  # ${'x'.repeat(width - 40)}`).join('\n');

// ---- the helpers themselves must be able to fail ----

describe('test helpers', () => {
  it('when html is broken then the checker names the problem', () => {
    expect(htmlProblem('<b><i>x</b></i>')).toMatch(/closes/);
    expect(htmlProblem('<b>x')).toMatch(/unclosed/);
    expect(htmlProblem('a & b')).toMatch(/stray/);
    expect(htmlProblem('<pre><b>x</b></pre>')).toMatch(/inside code/);
    expect(htmlProblem('<b>a &amp; <code>b</code></b>')).toBeUndefined();
  });

  it('when a part drops or reorders text then reassembly fails', () => {
    expect(reassembles('one two three', ['one', 'three'])).toBe(false);
    expect(reassembles('one two', ['two', 'one'])).toBe(false);
    expect(reassembles('one\n\ntwo', ['one', 'two'])).toBe(true);
    expect(reassembles('```js\na\nb\n```', ['```js\na\n```', '```js\nb\n```'])).toBe(true);
  });
});

// ---- splitting ----

describe('splitMessage', () => {
  it('when the input is blank then there are no parts', () => {
    expect(splitMessage('')).toEqual([]);
    expect(splitMessage(' \n\t\n ')).toEqual([]);
  });

  it('when the text fits then it is one part, trimmed and otherwise unchanged', () => {
    expect(splitMessage('  **hi** there\n\n')).toEqual(['**hi** there']);
    const exact = 'y'.repeat(telegramTextLimit);
    expect(splitMessage(exact)).toEqual([exact]);
  });

  it('when a 10,000-character answer has code blocks then parts fit, keep fences balanced and reassemble', () => {
    const smallTs = '```ts\nconst answer = 42;\nif (a < b && c > d) console.log(`**not bold**`);\n```';
    const smallBash = '```bash\nnpm install && npm test\n```';
    const answer = [
      '# Plan', prose(200, 1), smallTs, prose(150, 2),
      'Here is the whole script:', '```python\n' + codeLines(90) + '\n```',
      prose(250, 3), '- first\n- second\n- third', smallBash, prose(180, 4),
    ].join('\n\n');
    expect(answer.length).toBeGreaterThan(10_000);

    const parts = splitMessage(answer);

    expect(parts.length).toBeGreaterThanOrEqual(3);
    expectValidSplit(answer, parts, telegramTextLimit);
    for (const part of parts) expect(fenceCount(part) % 2).toBe(0);
    // Blocks that fit a message are never cut; the long one is, and each piece reopens its language.
    expect(parts.some((part) => part.includes(smallTs))).toBe(true);
    expect(parts.some((part) => part.includes(smallBash))).toBe(true);
    const reopened = parts.filter((part, index) => index > 0 && part.startsWith('```python\n') && parts[index - 1]?.endsWith('\n```'));
    expect(reopened.length).toBeGreaterThanOrEqual(1);
  });

  it('when paragraphs fit two to a message then every split falls between paragraphs', () => {
    const paragraphs = Array.from({ length: 9 }, (_, index) => prose(240, 10 + index).slice(0, 1500));
    const parts = splitMessage(paragraphs.join('\n\n'));
    expect(parts).toEqual([0, 2, 4, 6, 8].map((first) => paragraphs.slice(first, first + 2).join('\n\n')));
  });

  it('when a paragraph is too long then it splits at a line break rather than a space', () => {
    const lines = Array.from({ length: 60 }, (_, index) => `${index}: ${prose(14, 100 + index)}`.padEnd(99, '.'));
    const parts = splitMessage(lines.join('\n'), 1000);
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts) {
      for (const line of part.split('\n')) expect(lines).toContain(line);
    }
    expect(parts.join('\n')).toBe(lines.join('\n'));
  });

  it('when a line is too long then it splits between words', () => {
    const line = prose(3000, 7);
    const parts = splitMessage(line);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join(' ')).toBe(line);
  });

  it('when a huge line has no spaces then it is cut hard at the limit', () => {
    const line = 'x'.repeat(10_000);
    const parts = splitMessage(line);
    expect(parts.map((part) => part.length)).toEqual([4096, 4096, 1808]);
    expect(parts.join('')).toBe(line);
  });

  it('when the limit falls inside an emoji then the cut moves before it', () => {
    const text = 'a' + '😀'.repeat(3000);
    const parts = splitMessage(text);
    expect(parts[0]).toHaveLength(4095);
    for (const part of parts) expect(part).not.toMatch(loneSurrogate);
    expect(parts.join('')).toBe(text);
  });

  it('when a code line of emoji is cut then the pair stays whole and the fence is repeated', () => {
    const text = '```\n' + 'b' + '🎉'.repeat(100) + '\n```';
    const parts = splitMessage(text, 50);
    expectValidSplit(text, parts, 50);
    for (const part of parts) expect(part).toMatch(/^```\n[\s\S]+\n```$/);
  });

  it('when a code block is longer than a part then each piece is closed and reopened with its info string', () => {
    const lines = Array.from({ length: 40 }, (_, index) => `line ${String(index).padStart(2, '0')}`);
    const text = 'Intro.\n```python title="x.py"\n' + lines.join('\n') + '\n```\nOutro.';
    const parts = splitMessage(text, 80);
    expect(parts[0]).toBe('Intro.');
    const code = parts.slice(1);
    expect(code.length).toBeGreaterThan(3);
    for (const part of code) {
      expect(part.length).toBeLessThanOrEqual(80);
      expect(part).toMatch(/^```python title="x.py"\n(line \d\d\n)+```(\nOutro\.)?$/);
    }
    expect(code.flatMap((part) => part.split('\n').filter((line) => line.startsWith('line ')))).toEqual(lines);
    expect(parts.at(-1)).toMatch(/\nOutro\.$/);
  });

  it('when code lines carry indentation then a split inside the block keeps it', () => {
    const text = '```py\n' + codeLines(30) + '\n```';
    const parts = splitMessage(text, 300);
    expectValidSplit(text, parts, 300);
    for (const part of parts.slice(1)) expect(part.split('\n')[1]).toMatch(/^ {4}result_/);
  });

  it('when the limit is too small to make progress then it refuses', () => {
    expect(() => splitMessage('abc', 1)).toThrow(RangeError);
  });
});

// ---- rendering ----

describe('renderTelegramHtml', () => {
  it.each([
    ['**bold**, *it*, _it_ and ~~gone~~', '<b>bold</b>, <i>it</i>, <i>it</i> and <s>gone</s>'],
    ['***both***', '<b><i>both</i></b>'],
    ['*a **b** c*', '<i>a <b>b</b> c</i>'],
    ['use `a<b && c>d` here', 'use <code>a&lt;b &amp;&amp; c&gt;d</code> here'],
    ['**see `x*y` now**', '<b>see <code>x*y</code> now</b>'],
    ['[docs](https://example.com/a_b?x=1&y="2")', '<a href="https://example.com/a_b?x=1&amp;y=&quot;2&quot;">docs</a>'],
    ['[**bold** `link`](https://a.b)', '<a href="https://a.b"><b>bold</b> link</a>'],
    ['[wiki](https://en.wikipedia.org/wiki/Foo_(bar)).', '<a href="https://en.wikipedia.org/wiki/Foo_(bar)">wiki</a>.'],
    ['5 < 6 & 7 > 3 <script>', '5 &lt; 6 &amp; 7 &gt; 3 &lt;script&gt;'],
    ['# Title with **bold** ##', '<b>Title with bold</b>'],
    ['- one\n* two\n  + three\n1. four', '• one\n• two\n  • three\n1. four'],
    ['> quoted *text*\n> > more\n\nafter', '<blockquote>quoted <i>text</i>\nmore</blockquote>\n\nafter'],
    ['```ts\nconst a = x < 1 && **b**;\n```', '<pre><code class="language-ts">const a = x &lt; 1 &amp;&amp; **b**;</code></pre>'],
    ['```\nplain <pre>\n```', '<pre>plain &lt;pre&gt;</pre>'],
    ['1. Run:\n   ```sh\n   npm i\n   ```', '1. Run:\n<pre><code class="language-sh">npm i</code></pre>'],
  ])('when given %j then it renders the Telegram subset', (markdown, html) => {
    expect(renderTelegramHtml(markdown)).toBe(html);
  });

  it.each([
    'snake_case_words and file_name_here.ts',
    '2*3*4 = 24, a * b, lone _ and *',
    '2*x + 3*y = z* and max_len or min_',
    '**unclosed bold and _unclosed italic',
    'https://example.com/_private_/x_y and https://t.me/a__b__c',
    '[run](javascript:alert(1)) and [ftp](ftp://host/file)',
    '~strike~ ~~~ ``',
  ])('when markers have no partner then %j stays literal', (markdown) => {
    expect(renderTelegramHtml(markdown)).toBe(markdown);
  });

  it('when a fence is never closed then it stays text and the rest is still formatted', () => {
    expect(renderTelegramHtml('```js\nlet a = 1 < 2;\n**b**')).toBe('```js\nlet a = 1 &lt; 2;\n<b>b</b>');
  });

  it('when rendered then the visible length counts decoded entities and no tags', () => {
    expect(visibleLength('<b>a &amp; b</b>')).toBe(5);
    expect(visibleLength('<a href="https://x.y">link</a> &#128512; &#x1F600;')).toBe(4 + 1 + 2 + 1 + 2);
    expect(visibleLength(renderTelegramHtml('**x** `<y>`'))).toBe(5);
  });
});

// ---- adversarial input: the work must stay near-linear in the text ----

// Model output is untrusted: a reply made of markers that never pair must not hold a worker's CPU. A renderer that
// rescans the rest of the line for every marker (and every bracket within) took 4 s for `*[ ` at 4096 characters
// and grows with the cube of the length: at four times that, minutes, far past the test timeout.
// No wall-clock time is asserted; a slow implementation shows up as a timeout.
const large = 4 * telegramTextLimit;

const fill = (unit: string, length: number): string => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

describe('renderTelegramHtml on adversarial input', () => {
  it.each([
    ['*[ ', fill.bind(null, '*[ ')],
    ['_[ ', fill.bind(null, '_[ ')],
    ['**[ ', fill.bind(null, '**[ ')],
    ['~~[ ', fill.bind(null, '~~[ ')],
    ['[**', fill.bind(null, '[**')],
    ['`*[', fill.bind(null, '`*[')],
    ['*`a` ', fill.bind(null, '*`a` ')],
    ['[*](', fill.bind(null, '[*](')],
    ['*http://x ', fill.bind(null, '*http://x ')],
    ['nested brackets', (length: number) => '['.repeat(length / 2) + ']'.repeat(length / 2)],
    ['nested links', (length: number) => fill('[*a ', length / 2) + fill(' a*](https://x.io)', length / 2)],
    ['a heading of spaces', (length: number) => `# a${' '.repeat(length - 4)}b`],
  ])('when %j fills a message, and four, then it renders well-formed', (_, make) => {
    for (const length of [telegramTextLimit, large]) {
      const markdown = make(length);
      const html = renderTelegramHtml(markdown);
      expect(htmlProblem(html)).toBeUndefined();
      expect(visibleLength(html)).toBeLessThanOrEqual(markdown.length);
    }
  });

  it('when markers and brackets never pair then they stay literal, and the ones that pair still do', () => {
    for (const unit of ['*[ ', '_[ ', '**[ ', '~~[ ']) expect(renderTelegramHtml(fill(unit, large))).toBe(fill(unit, large));
    const brackets = '['.repeat(large / 2) + ']'.repeat(large / 2);
    expect(renderTelegramHtml(brackets)).toBe(brackets);
    expect(renderTelegramHtml('[**'.repeat(6_000))).toBe('[<b>[</b>'.repeat(3_000));
    expect(renderTelegramHtml('`*['.repeat(6_000))).toBe('<code>*[</code><i>[<code>*[</code></i>['.repeat(1_500));
    expect(renderTelegramHtml(`# a${' '.repeat(large)}b ##  `)).toBe(`<b>a${' '.repeat(large)}b</b>`);
  });
});

describe('findCodeBlocks on adversarial input', () => {
  it('when unclosed fences of decreasing length precede many lines then each line is read a few times only', () => {
    // Each fence finds no closer, and each is shorter than the last, so no search can be skipped as hopeless.
    const fences = Array.from({ length: 60 }, (_, index) => `${'`'.repeat(63 - index)}js`);
    const lines = [...fences, ...Array.from({ length: 5_000 }, (_, index) => (index % 2 ? 'text' : '``'))];
    let reads = 0;
    const counted = new Proxy(lines, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads += 1;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    expect(findCodeBlocks(counted)).toEqual([]);
    // Scanning ahead from every fence would read 60 × 5,000 lines.
    expect(reads).toBeLessThanOrEqual(3 * lines.length);

    const text = lines.join('\n');
    const parts = splitMessage(text);
    expectValidSplit(text, parts, telegramTextLimit);
  });
});

// ---- randomized properties ----

function generateAnswer(next: () => number): { text: string; balancedFences: boolean } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const inline = [
    'word', 'words', '**bold**', '*it*', '_it_', '***both***', '~~gone~~', '`a < b`', '`x*y_z`', '<tag>', 'a & b', '😀', '👨‍👩‍👧',
    '[link](https://example.com/a_b)', '[bad](javascript:x)', 'snake_case_name', '2*3*4', '*', '_', '**', 'https://x.io/_a_',
    '**bold `code` more**', '[**b**](https://e.com)', '&amp;', '>', 'x'.repeat(Math.floor(next() * 300)),
  ];
  const sentence = () => Array.from({ length: 1 + Math.floor(next() * 25) }, () => pick(inline)).join(pick([' ', ' ', ' ', '']));
  const code = () => {
    const fence = pick(['```', '```ts', '```python', '````md', '   ```sh']);
    const body = Array.from({ length: 1 + Math.floor(next() * 40) }, () => pick(['  if (a < b && c) {', '', '**not** _bold_', '😀'.repeat(20), 'x'.repeat(Math.floor(next() * 200))])).join('\n');
    return `${fence}\n${body}\n${fence.trim().replace(/[^`]/g, '')}`;
  };
  const blocks = [
    sentence, code, () => `# ${sentence()}`, () => `- ${sentence()}\n- ${sentence()}`, () => `1. ${sentence()}`,
    () => `> ${sentence()}\n> ${sentence()}`, () => '  ', () => 'y'.repeat(Math.floor(next() * 500)),
  ];
  const balancedFences = next() > 0.1;
  const parts = Array.from({ length: 1 + Math.floor(next() * 14) }, () => pick(blocks)());
  if (!balancedFences) parts.splice(Math.floor(next() * parts.length), 0, '```js');
  return { text: parts.join(pick(['\n', '\n\n', '\n\n\n'])), balancedFences };
}

describe('splitMessage with renderTelegramHtml on generated answers', () => {
  it('when any generated answer is split then parts fit, reassemble, and render well-formed and no longer', () => {
    const next = random(20_240_611);
    for (let run = 0; run < 400; run++) {
      const { text, balancedFences } = generateAnswer(next);
      const limit = run % 10 === 0 ? telegramTextLimit : 40 + Math.floor(next() * 700);
      const parts = splitMessage(text, limit);
      expectValidSplit(text, parts, limit);
      if (balancedFences) for (const part of parts) expect(fenceCount(part) % 2, `run ${run}: ${part}`).toBe(0);
      const html = renderTelegramHtml(text);
      expect(htmlProblem(html), `run ${run}`).toBeUndefined();
      expect(visibleLength(html)).toBeLessThanOrEqual(text.length);
    }
  });
});
