/** Model answers the Telegram suites ask for. */

/** About 10,000 characters of Markdown: paragraphs, bold words, and code blocks, one of them longer than a message. */
export const longAnswer = (() => {
  const paragraph = (n: number) =>
    `Paragraph ${n}: **step ${n}** of the plan. ` + Array.from({ length: 24 }, (_, i) => `word${n}x${i}`).join(' ') + '.';
  const code = (name: string, lines: number) =>
    ['```ts', ...Array.from({ length: lines }, (_, i) => `const ${name}${i} = a < b && c > d ? "${i}" : '&amp;';`), '```'].join('\n');
  const blocks = [
    ...Array.from({ length: 6 }, (_, i) => paragraph(i + 1)),
    code('small', 12),
    ...Array.from({ length: 6 }, (_, i) => paragraph(i + 7)),
    // Longer than one Telegram message on its own: it has to be split inside, with the fence closed and reopened.
    code('big', 114),
    ...Array.from({ length: 4 }, (_, i) => paragraph(i + 13)),
  ];
  return blocks.join('\n\n');
})();
