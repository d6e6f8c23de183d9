/**
 * Material UI's theme with light and dark schemes: it follows the system until the user picks one, and remembers
 * the pick (localStorage). System fonts only: the page fetches nothing from the internet.
 */
import CssBaseline from '@mui/material/CssBaseline';
import { createTheme, ThemeProvider } from '@mui/material/styles';
import type { ReactNode } from 'react';

export const systemFonts = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';
export const monospaceFonts = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';

const theme = createTheme({
  colorSchemes: { light: true, dark: true },
  cssVariables: { colorSchemeSelector: 'class' },
  typography: { fontFamily: systemFonts },
});

export function ThemeRoot({ children }: { children: ReactNode }) {
  return (
    <ThemeProvider theme={theme} defaultMode="system" modeStorageKey="aac.color-mode">
      <CssBaseline enableColorScheme />
      {children}
    </ThemeProvider>
  );
}
