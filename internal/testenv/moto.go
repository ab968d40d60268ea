package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// MotoTB is the part of testing.TB that Moto uses.
type MotoTB interface {
	TB
	Cleanup(func())
}

// Moto starts a moto_server (the third-party AWS emulator, `pip install
// 'moto[server]'`) on a free port for one test and returns its endpoint,
// which serves every AWS service moto has (ECS, STS, DynamoDB...). The
// server stops with the test. Without moto_server on PATH the test is
// skipped with the reason.
func Moto(t MotoTB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skipf("moto_server is not on PATH (%v): install it with `pip install 'moto[server]'` to run this test against moto", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// moto runs no tasks: by default every service it creates stays in
	// its first deployment, rolloutState IN_PROGRESS, forever, which the
	// check before a restart rightly refuses to supersede. With this many
	// tasks "running", a service of up to 100 tasks is at its steady
	// state (rolloutState COMPLETED, as in AWS between deployments) and a
	// forced deployment keeps it there (moto's ecs/models.py).
	cmd.Env = append(os.Environ(), "MOTO_ECS_SERVICE_RUNNING=100")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ep := "http://127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get(ep + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return ep
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s", fmt.Sprintf("moto_server did not answer on %s within 30s: %s", ep, out.String()))
	return ""
}

// lockedBuffer is a bytes.Buffer the server's output goroutine and the
// test may use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
