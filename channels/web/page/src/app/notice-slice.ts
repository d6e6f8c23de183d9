/** The one transient notice the page shows (a snackbar): what an action did, or why it failed. */
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

export interface Notice {
  severity: 'success' | 'info' | 'error';
  text: string;
  /** Distinguishes two notices with the same text. */
  key: number;
}

export const noticeSlice = createSlice({
  name: 'notice',
  initialState: null as Notice | null,
  reducers: {
    noticeShown: {
      reducer: (_state, action: PayloadAction<Notice>) => action.payload,
      prepare: (severity: Notice['severity'], text: string) => ({ payload: { severity, text, key: Date.now() } }),
    },
    noticeDismissed: () => null,
  },
});

export const { noticeShown, noticeDismissed } = noticeSlice.actions;
