package fleet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// WriteJSON writes the plan in the form `restartctl plan` prints: the bytes
// encoding/json's Encoder writes with two-space indentation, except that a
// nil Batches, Skipped or Services is written as [] (the contract has
// arrays, never null). It writes without reflection through one buffer, as
// a plan of 100,000 services is about 10 MB. Fields, when given, follow
// the contract's two, each value written by encoding/json at the same
// indentation (small values, such as the plan's window fit).
func (p Plan) WriteJSON(w io.Writer, fields ...JSONField) error {
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
	b = append(b, ']')
	for _, f := range fields {
		v, err := json.MarshalIndent(f.Value, "  ", "  ")
		if err != nil {
			return fmt.Errorf("plan JSON: %s: %w", f.Name, err)
		}
		b = append(b, ",\n  "...)
		b = appendJSONString(b, f.Name)
		b = append(b, ": "...)
		b = append(b, v...)
	}
	b = append(b, "\n}\n"...)
	flush()
	return bw.Flush()
}

// JSONField is a field WriteJSON adds to the plan's object.
type JSONField struct {
	Name  string
	Value any
}

// appendJSONString appends s quoted as encoding/json quotes it. ARNs,
// times and reasons are plain ASCII, written as they are; anything that
// encoding/json would escape (quotes, backslashes, control characters,
// <, > and &, non-ASCII) is left to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	if !verbatim(s) {
		q, _ := json.Marshal(s) // a string always marshals
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// verbatim reports whether s is printable ASCII other than " \\ < > &, which
// encoding/json writes as it is (DEL too, which is left to it). It looks at eight bytes at a time
// (see plain), as the plan's ARNs are most of what it writes.
func verbatim(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// Below 0x20 borrows into the high bit, 0x7f carries into it (a
		// carry out of 0xff only follows a high bit already set), and
		// each of the five characters is a zero byte of x^c.
		bad := (x - ones*0x20) | (x + ones) | x
		for _, c := range [...]uint64{'"', '\\', '<', '>', '&'} {
			y := x ^ (ones * c)
			bad |= (y - ones) &^ y
		}
		if bad&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
