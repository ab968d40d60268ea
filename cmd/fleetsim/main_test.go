package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServesUntilInterrupted(t *testing.T) {
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"--addr", "127.0.0.1:0", "--seed", "3", "--accounts", "4", "--clusters", "10", "--services", "50",
			"--deny-accounts", "999999999999", "--fail-rate", "0.1"}, outW, io.Discard)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("first stdout line: %v", err)
	}
	go io.Copy(io.Discard, outR)
	url := strings.TrimSpace(line)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q is not the URL", line)
	}
	resp, err := http.Get(url + "/_fleetsim/accounts")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Accounts []string `json:"accounts"`
		Services int      `json:"services"`
	}
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || len(info.Accounts) != 4 || info.Services != 50 {
		t.Fatalf("accounts %+v, %v", info, err)
	}
	resp, err = http.Get(url + "/_fleetsim/faults")
	if err != nil {
		t.Fatal(err)
	}
	var faults []map[string]any
	json.NewDecoder(resp.Body).Decode(&faults)
	resp.Body.Close()
	if len(faults) != 2 {
		t.Fatalf("faults %v, want deployment-fail and access-denied", faults)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still serving 5s after SIGINT")
	}
}

func TestRejectsBadRates(t *testing.T) {
	err := run([]string{"--fail-rate", "2"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "fail-rate") {
		t.Fatalf("err = %v", err)
	}
}
