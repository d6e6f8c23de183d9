/**
 * A reply's Markdown (GitHub flavour), rendered safely: HTML shows as text, links open in a new tab without a
 * referrer, images show as links (the page loads nothing from other sites), code blocks get a copy button.
 */
import Box from '@mui/material/Box';
import Link from '@mui/material/Link';
import Markdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { monospaceFonts } from '../theme/theme-root';
import { CodeBlock } from './code-block';
import { remarkHtmlAsText } from './html-as-text';

const components: Components = {
  pre: ({ children }) => <CodeBlock>{children}</CodeBlock>,
  a: ({ href, children }) => (
    <Link href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </Link>
  ),
  img: ({ src, alt }) => (
    <Link href={typeof src === 'string' ? src : undefined} target="_blank" rel="noopener noreferrer">
      {alt || 'image'}
    </Link>
  ),
};

const remarkPlugins = [remarkGfm, remarkHtmlAsText];

export function MarkdownView({ text }: { text: string }) {
  return (
    <Box
      sx={{
        overflowWrap: 'anywhere',
        '& > :first-child': { mt: 0 },
        '& > :last-child': { mb: 0 },
        '& p, & ul, & ol, & blockquote, & table': { my: 1 },
        '& code': { fontFamily: monospaceFonts, fontSize: '0.875em' },
        '& :not(pre) > code': { px: 0.5, borderRadius: 0.5, bgcolor: 'action.selected' },
        '& pre': { m: 0, my: 1, p: 1.5, pr: 5, overflowX: 'auto', borderRadius: 1, bgcolor: 'action.hover' },
        '& blockquote': { ml: 0, pl: 2, borderLeft: 3, borderColor: 'divider', color: 'text.secondary' },
        '& table': { borderCollapse: 'collapse', display: 'block', overflowX: 'auto' },
        '& th, & td': { border: 1, borderColor: 'divider', px: 1, py: 0.5 },
      }}
    >
      <Markdown remarkPlugins={remarkPlugins} components={components}>
        {text}
      </Markdown>
    </Box>
  );
}
