/** Says so while the live connection is down: messages typed meanwhile go out when it is back. */
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import CircularProgress from '@mui/material/CircularProgress';
import { useAppSelector } from '../app/hooks';

const labels = { connecting: 'Connecting…', reconnecting: 'Reconnecting…' } as const;

export function ConnectionStatus() {
  const connection = useAppSelector((state) => state.live.connection);
  return (
    <Box role="status" sx={{ display: 'flex' }}>
      {connection !== 'online' && (
        <Chip
          size="small"
          color="warning"
          icon={<CircularProgress size={14} color="inherit" aria-hidden />}
          label={labels[connection]}
        />
      )}
    </Box>
  );
}
