package testenv

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
)

// FailingDynamo is an HTTP proxy in front of a DynamoDB-compatible server
// that answers the requests Fail picks with HTTP 500
// InternalServerError, as DynamoDB does when it cannot serve a request:
// a step whose writes keep failing fails after its retries. Serve it with
// httptest.NewServer and point the DynamoDB client at it.
type FailingDynamo struct {
	// Upstream is the DynamoDB endpoint.
	Upstream string
	// Fail picks the requests to fail, by operation (X-Amz-Target
	// without its prefix, e.g. "PutItem") and JSON body.
	Fail func(op string, body []byte) bool

	failed atomic.Int64
}

// Failed returns how many requests were failed.
func (f *FailingDynamo) Failed() int64 { return f.failed.Load() }

// ServeHTTP passes the request on, or fails it.
func (f *FailingDynamo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	if f.Fail != nil && f.Fail(op, body) {
		f.failed.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error (injected)"}`)
		return
	}
	u, err := url.Parse(f.Upstream)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
}
