/** Shows the current notice for a few seconds (errors until dismissed). */
import Alert from '@mui/material/Alert';
import Snackbar from '@mui/material/Snackbar';
import { useAppDispatch, useAppSelector } from './hooks';
import { noticeDismissed } from './notice-slice';

const shownMs = 5000;

export function NoticeSnackbar() {
  const notice = useAppSelector((state) => state.notice);
  const dispatch = useAppDispatch();
  const close = () => dispatch(noticeDismissed());
  return (
    <Snackbar
      key={notice?.key}
      open={notice !== null}
      autoHideDuration={notice?.severity === 'error' ? null : shownMs}
      onClose={(_event, reason) => reason !== 'clickaway' && close()}
      anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
    >
      {notice ? (
        <Alert severity={notice.severity} onClose={close} variant="filled" sx={{ width: '100%' }}>
          {notice.text}
        </Alert>
      ) : undefined}
    </Snackbar>
  );
}
