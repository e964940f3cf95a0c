package forktrace

// AnyInstalled says whether Forkwatch's registry lists at least one tracer
// it installed. It reads one small file and runs nothing, so an idle
// watcher can ask it instead of keeping a timer for a spool nobody writes.
func (m *Manager) AnyInstalled() bool {
	list, err := m.readRegistry()
	return err != nil || len(list) > 0 // an unreadable registry may list some
}
