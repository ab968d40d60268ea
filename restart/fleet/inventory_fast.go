package fleet

import (
	"encoding/json"
	"math"
	"strings"
)

// decodeInventoryFast decodes an inventory of well-formed, valid entries,
// the case of every night, about ten times faster than encoding/json's
// reflection: it scans the input once for exactly the contract's schema,
// and the services' strings are substrings of data (one allocation shared
// by all of them, which also keeps them alive together).
//
// It reports ok=false as soon as the input holds anything that is not a
// valid entry written plainly: a syntax error, an unknown, missing,
// repeated or mistyped field, a number that is not a plain whole number,
// an entry that fails Service.Validate. ReadInventory then decodes the
// whole input again with the general decoder, which either reads the same
// services (an input this one does not handle, such as a repeated field)
// or names every problem. So this function never decides an error message
// and never accepts what the general decoder rejects: FuzzReadInventoryFast
// checks that both agree.
func decodeInventoryFast(data string) (services []Service, ok bool) {
	d := fastDecoder{s: data}
	d.space()
	if !d.consume('[') {
		return nil, false
	}
	// A generated entry with four tags is about 370 bytes.
	services = make([]Service, 0, len(data)/300+1)
	d.space()
	if d.consume(']') {
		return services, d.end()
	}
	for {
		services = append(services, Service{})
		if !d.entry(&services[len(services)-1]) {
			return nil, false
		}
		d.space()
		if d.consume(',') {
			d.space()
			continue
		}
		if d.consume(']') {
			return services, d.end()
		}
		return nil, false
	}
}

type fastDecoder struct {
	s string
	i int
}

// space skips JSON whitespace.
func (d *fastDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) consume(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end reports whether nothing but whitespace follows.
func (d *fastDecoder) end() bool {
	d.space()
	return d.i == len(d.s)
}

// null consumes the literal null.
func (d *fastDecoder) null() bool {
	if len(d.s)-d.i >= 4 && d.s[d.i:d.i+4] == "null" {
		d.i += 4
		return true
	}
	return false
}

// Bits of the fields an entry has, to find repeated and missing ones.
const (
	fieldAccount = 1 << iota
	fieldRegion
	fieldCluster
	fieldService
	fieldARN
	fieldDesiredCount
	fieldStrategy
	fieldController
	fieldTags
	requiredFields = fieldAccount | fieldRegion | fieldCluster | fieldService | fieldARN | fieldDesiredCount
)

// entry decodes one object into s.
func (d *fastDecoder) entry(s *Service) bool {
	if !d.consume('{') {
		return false
	}
	seen := 0
	d.space()
	if d.consume('}') {
		return false // every required field is missing
	}
	for {
		key, ok := d.str()
		if !ok {
			return false
		}
		d.space()
		if !d.consume(':') {
			return false
		}
		d.space()
		var bit int
		var dst *string
		switch key {
		case "account":
			bit, dst = fieldAccount, &s.Account
		case "region":
			bit, dst = fieldRegion, &s.Region
		case "cluster":
			bit, dst = fieldCluster, &s.Cluster
		case "service":
			bit, dst = fieldService, &s.Service
		case "arn":
			bit, dst = fieldARN, &s.ARN
		case "schedulingStrategy":
			bit, dst = fieldStrategy, &s.SchedulingStrategy
		case "deploymentController":
			bit, dst = fieldController, &s.DeploymentController
		case "desiredCount":
			bit = fieldDesiredCount
		case "tags":
			bit = fieldTags
		default:
			return false // unknown, or a name written with escapes
		}
		if seen&bit != 0 {
			return false // repeated: the general decoder keeps the last
		}
		seen |= bit
		switch {
		case d.null():
			// Null is absence; a required field then is missing.
			if bit&requiredFields != 0 {
				return false
			}
		case dst != nil:
			if *dst, ok = d.str(); !ok {
				return false
			}
		case bit == fieldDesiredCount:
			if s.DesiredCount, ok = d.count(); !ok {
				return false
			}
		default:
			if !d.tags(s) {
				return false
			}
		}
		d.space()
		if d.consume(',') {
			d.space()
			continue
		}
		if !d.consume('}') {
			return false
		}
		break
	}
	return seen&requiredFields == requiredFields && s.valid()
}

// tags decodes an object of string values.
func (d *fastDecoder) tags(s *Service) bool {
	if !d.consume('{') {
		return false
	}
	s.Tags = make(map[string]string)
	d.space()
	if d.consume('}') {
		return true
	}
	for {
		k, ok := d.str()
		if !ok {
			return false
		}
		d.space()
		if !d.consume(':') {
			return false
		}
		d.space()
		v, ok := d.str()
		if !ok {
			return false // null or another type: the general decoder names it
		}
		// A repeated key keeps the last value, as encoding/json does.
		s.Tags[k] = v
		d.space()
		if d.consume(',') {
			d.space()
			continue
		}
		return d.consume('}')
	}
}

// str decodes a JSON string. A plain one (printable ASCII, no escapes) is
// a substring of the input; any other goes through encoding/json, so that
// escapes and invalid UTF-8 decode exactly as in the general decoder.
func (d *fastDecoder) str() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.i
	end := strings.IndexByte(d.s[start:], '"')
	if end < 0 {
		return "", false
	}
	v := d.s[start : start+end]
	if !plain(v) {
		return d.strSlow(start - 1)
	}
	d.i = start + end + 1
	return v, true
}

// plain reports whether s has only bytes that stand for themselves in a
// JSON string: no backslash, no control character, no byte of a multi-byte
// UTF-8 sequence (which might be invalid). It looks at eight bytes at a
// time, as the strings are most of an inventory.
func plain(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte below 0x20 borrows into its high bit when 0x20 is taken
		// from it; a byte of 0x80 or more has it already; a backslash is a
		// zero byte of x^'\\' (the classic has-zero-byte test).
		y := x ^ (ones * '\\')
		if ((x-ones*0x20)|x|((y-ones)&^y))&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}

func (d *fastDecoder) strSlow(open int) (string, bool) {
	j := open + 1
	for ; j < len(d.s) && d.s[j] != '"'; j++ {
		if d.s[j] == '\\' {
			j++
		}
	}
	if j >= len(d.s) {
		return "", false
	}
	var v string
	if err := json.Unmarshal([]byte(d.s[open:j+1]), &v); err != nil {
		return "", false
	}
	d.i = j + 1
	return v, true
}

// count decodes a desired count written as a plain whole number that fits
// an int32: digits without a sign, a fraction, an exponent or a leading
// zero. A negative count would fail validation anyway.
func (d *fastDecoder) count() (int32, bool) {
	start := d.i
	var n int64
	for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
		n = n*10 + int64(d.s[d.i]-'0')
		if n > math.MaxInt32 {
			return 0, false
		}
		d.i++
	}
	digits := d.i - start
	if digits == 0 || digits > 1 && d.s[start] == '0' {
		return 0, false
	}
	if d.i < len(d.s) {
		switch d.s[d.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return int32(n), true
}
