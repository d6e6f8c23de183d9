/** The chat page's entry point: store, theme and app, mounted on #root of index.html. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'react-redux';
import { App } from './app/app';
import { createStore } from './app/store';
import { ThemeRoot } from './theme/theme-root';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <Provider store={createStore()}>
      <ThemeRoot>
        <App />
      </ThemeRoot>
    </Provider>
  </StrictMode>,
);
