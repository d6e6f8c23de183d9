/**
 * A remark plugin that shows HTML in a model's Markdown as the text it is, never as markup: `<b>hi</b>` reads as
 * written, and nothing the model writes can add elements, scripts or styles to the page.
 */

interface MarkdownNode {
  type: string;
  children?: MarkdownNode[];
}

function htmlToText(node: MarkdownNode): void {
  if (node.type === 'html') node.type = 'text';
  node.children?.forEach(htmlToText);
}

export function remarkHtmlAsText() {
  return htmlToText;
}
