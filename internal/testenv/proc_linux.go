package testenv

import "syscall"

// dieWithParent makes the child get SIGKILL when the test binary exits,
// even when it exits without running Cleanup.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
