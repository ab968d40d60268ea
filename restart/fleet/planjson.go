package fleet

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
)

// WriteJSON writes the plan in the form `restartctl plan` prints: the bytes
// encoding/json's Encoder writes with two-space indentation, except that a
// nil Batches, Skipped or Services is written as [] (the contract has
// arrays, never null). It writes without reflection through one buffer, as
// a plan of 100,000 services is about 10 MB.
func (p Plan) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var b []byte // one line at a time
	flush := func() {
		bw.Write(b)
		b = b[:0]
	}
	b = append(b, "{\n  \"batches\": ["...)
	for i, batch := range p.Batches {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    {\n      \"index\": "...)
		b = strconv.AppendInt(b, int64(batch.Index), 10)
		b = append(b, ",\n      \"start\": "...)
		b = appendJSONString(b, batch.Start)
		b = append(b, ",\n      \"services\": ["...)
		for k, arn := range batch.Services {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b = appendJSONString(b, arn)
			if len(b) > 32<<10 {
				flush()
			}
		}
		if len(batch.Services) > 0 {
			b = append(b, "\n      "...)
		}
		b = append(b, "]\n    }"...)
	}
	if len(p.Batches) > 0 {
		b = append(b, "\n  "...)
	}
	b = append(b, "],\n  \"skipped\": ["...)
	for i, s := range p.Skipped {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    {\n      \"arn\": "...)
		b = appendJSONString(b, s.ARN)
		b = append(b, ",\n      \"reason\": "...)
		b = appendJSONString(b, string(s.Reason))
		b = append(b, "\n    }"...)
		if len(b) > 32<<10 {
			flush()
		}
	}
	if len(p.Skipped) > 0 {
		b = append(b, "\n  "...)
	}
	b = append(b, "]\n}\n"...)
	flush()
	return bw.Flush()
}

// appendJSONString appends s quoted as encoding/json quotes it. ARNs,
// times and reasons are plain ASCII, written as they are; anything that
// encoding/json would escape (quotes, backslashes, control characters,
// <, > and &, non-ASCII) is left to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
