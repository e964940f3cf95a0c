package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// CoreExecutable finds the executable of the process that left a core
// file, from the crash report recorded for the same pid: the core file's
// row gives the pid (or pid, from its name, when the core was never
// recorded), and the crash of that pid nearest in time gives the report's
// executable path and the report itself. Empty strings when the history
// has no such crash.
func (r *Reader) CoreExecutable(ctx context.Context, corePath string, pid int) (exe, reportPath string, err error) {
	var found sql.NullInt64
	var rowPID int
	err = r.db.QueryRowContext(ctx, `SELECT pid, found_at FROM core_files WHERE path = ? ORDER BY id DESC LIMIT 1`, corePath).Scan(&rowPID, &found)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return "", "", fmt.Errorf("history: core file %s: %w", corePath, err)
	case rowPID > 0:
		pid = rowPID
	}
	if pid <= 0 {
		return "", "", nil
	}
	// Nearest the core's arrival when it was recorded, else the newest.
	err = r.db.QueryRowContext(ctx, `SELECT exe_path, report_path FROM crashes WHERE pid = ? AND exe_path != ''
		ORDER BY CASE WHEN ? = 0 THEN -time ELSE abs(time - ?) END LIMIT 1`, pid, found.Int64, found.Int64).Scan(&exe, &reportPath)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("history: crash of pid %d: %w", pid, err)
	}
	return exe, reportPath, nil
}
