package fleet

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// agreeWithGeneralDecoder checks the fast decoder's promise on one input:
// when it reads the input, the general decoder reads the same services.
func agreeWithGeneralDecoder(t *testing.T, in string) (fastOK bool) {
	t.Helper()
	fast, ok := decodeInventoryFast(in)
	if !ok {
		return false
	}
	general, err := decodeInventory([]byte(in))
	if err != nil {
		t.Fatalf("fast decoder accepted what the general one rejects:\n%s\n%v", in, err)
	}
	if !reflect.DeepEqual(fast, general) {
		t.Fatalf("decoders differ on\n%s\nfast    %+v\ngeneral %+v", in, fast, general)
	}
	return true
}

func TestFastInventoryDecoderReadsWellFormedInventories(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"contract entry", "[" + contractEntry + "]"},
		{"two entries and whitespace", " [\n\t" + contractEntry + " ,\r\n" + contractEntry + "\n] \n"},
		{"empty", "[]"},
		{"empty with spaces", " [ ] "},
		{"optional fields absent", `[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","arn":"arn:aws:ecs:us-east-1:123456789012:service/c/s","desiredCount":0}]`},
		{"optional fields null", `[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","arn":"arn:aws:ecs:us-east-1:123456789012:service/c/s","desiredCount":1,"schedulingStrategy":null,"deploymentController":null,"tags":null}]`},
		{"empty tags", `[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","arn":"arn:aws:ecs:us-east-1:123456789012:service/c/s","desiredCount":1,"tags":{ }}]`},
		{"escapes and UTF-8 in tags", `[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","arn":"arn:aws:ecs:us-east-1:123456789012:service/c/s","desiredCount":1,"tags":{"owner":"Jos\u00e9 \"ops\" <a&b>","team":"équipe","k\\ey":"v\/w"}}]`},
		{"repeated tag key keeps the last", `[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","arn":"arn:aws:ecs:us-east-1:123456789012:service/c/s","desiredCount":1,"tags":{"a":"1","a":"2"}}]`},
		{"escaped field name", `[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","\u0061rn":"arn:aws:ecs:us-east-1:123456789012:service/c/s","desiredCount":1}]`},
		{"escaped field value", `[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","arn":"arn:aws:ecs:us-east-1:123456789012:service\/c\/s","desiredCount":2147483647}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !agreeWithGeneralDecoder(t, tc.in) {
				t.Fatalf("fast decoder declined a well-formed inventory:\n%s", tc.in)
			}
		})
	}
}

// The fast decoder declines, and so leaves to the general decoder (which
// reads them or names the problem), whatever is not a valid entry written
// plainly.
func TestFastInventoryDecoderDeclinesWhatItDoesNotHandle(t *testing.T) {
	entry := func(old, new string) string {
		if !strings.Contains(contractEntry, old) {
			t.Fatalf("%q not in the contract entry", old)
		}
		return "[" + strings.Replace(contractEntry, old, new, 1) + "]"
	}
	for _, tc := range []struct{ name, in string }{
		{"not an array", `{"services":[]}`},
		{"null", `null`},
		{"nothing", ``},
		{"trailing data", `[] []`},
		{"trailing comma", "[" + contractEntry + ",]"},
		{"unterminated", "[" + contractEntry},
		{"entry not an object", `["x"]`},
		{"null entry", `[null]`},
		{"empty object", `[{}]`},
		{"unknown field", entry(`"desiredCount"`, `"desired"`)},
		{"field in the wrong case", entry(`"desiredCount"`, `"desiredcount"`)},
		{"repeated field", entry(`"region":"us-east-1",`, `"region":"eu-west-1","region":"us-east-1",`)},
		{"missing required field", entry(`"desiredCount":2,`, ``)},
		{"required field null", entry(`"arn":"arn:aws:ecs:us-east-1:123456789012:service/web/wordpress"`, `"arn":null`)},
		{"count as a string", entry(`"desiredCount":2`, `"desiredCount":"2"`)},
		{"count with a fraction", entry(`"desiredCount":2`, `"desiredCount":2.0`)},
		{"count with an exponent", entry(`"desiredCount":2`, `"desiredCount":2e0`)},
		{"count with a leading zero", entry(`"desiredCount":2`, `"desiredCount":02`)},
		{"negative count", entry(`"desiredCount":2`, `"desiredCount":-2`)},
		{"count past int32", entry(`"desiredCount":2`, `"desiredCount":2147483648`)},
		{"account as a number", entry(`"account":"123456789012"`, `"account":123456789012`)},
		{"invalid entry", entry(`"account":"123456789012"`, `"account":"12345678901"`)},
		{"tag value null", entry(`"owner":"cms"`, `"owner":null`)},
		{"tag value a number", entry(`"owner":"cms"`, `"owner":7`)},
		{"tags an array", entry(`"tags":{`, `"tags":[],"x":{`)},
		{"control character in a string", entry(`"owner":"cms"`, "\"owner\":\"c\tms\"")},
		{"bad escape", entry(`"owner":"cms"`, `"owner":"c\qms"`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if agreeWithGeneralDecoder(t, tc.in) {
				t.Fatalf("fast decoder accepted\n%s", tc.in)
			}
		})
	}
}

// Invalid UTF-8 decodes to U+FFFD in both decoders.
func TestFastInventoryDecoderReplacesInvalidUTF8AsEncodingJSON(t *testing.T) {
	in := "[" + strings.Replace(contractEntry, `"owner":"cms"`, "\"owner\":\"c\xffms\"", 1) + "]"
	if !agreeWithGeneralDecoder(t, in) {
		t.Fatal("fast decoder declined a valid entry with invalid UTF-8 in a tag")
	}
	got, _ := decodeInventoryFast(in)
	if got[0].Tags["owner"] != "c\uFFFDms" {
		t.Fatalf("owner = %q", got[0].Tags["owner"])
	}
}

func TestFastInventoryDecoderReadsGeneratedFleets(t *testing.T) {
	for seed := range uint64(5) {
		fleet := randomFleet(rand.New(rand.NewPCG(seed, 1)), 300, 7, 40)
		data, err := json.Marshal(fleet)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodeInventoryFast(string(data))
		if !ok {
			t.Fatalf("seed %d: fast decoder declined a generated fleet", seed)
		}
		if !reflect.DeepEqual(got, fleet) {
			t.Fatalf("seed %d: read back a different fleet", seed)
		}
	}
}

// FuzzReadInventoryFast checks that whatever the fast decoder reads, the
// general decoder reads the same.
func FuzzReadInventoryFast(f *testing.F) {
	f.Add("[" + contractEntry + "]")
	f.Add("[" + contractEntry + "," + contractEntry + "]")
	f.Add(`[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","arn":"arn:aws:ecs:us-east-1:123456789012:service/c/s","desiredCount":1,"tags":{"a":"\u00e9","a":"x"}}]`)
	f.Add(`[{"account":"123456789012","region":"us-east-1","cluster":"c","service":"s","arn":"arn:aws:ecs:us-east-1:123456789012:service/c/s","desiredCount":1,"tags":null,"schedulingStrategy":null}]`)
	f.Add(`[{"desiredCount":99999999999}]`)
	f.Add(` [ ] `)
	f.Fuzz(func(t *testing.T, in string) {
		agreeWithGeneralDecoder(t, in)
	})
}

// FuzzPlain checks the eight-bytes-at-a-time test against the byte loop.
func FuzzPlain(f *testing.F) {
	f.Add("arn:aws:ecs:us-east-1:123456789012:service/c/s")
	f.Add("0123456789abcdef\\")
	f.Add("0123456789abcde\x1f")
	f.Add("0123456789abcdef\x80")
	f.Add("\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f ")
	f.Fuzz(func(t *testing.T, s string) {
		want := true
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '\\' {
				want = false
			}
		}
		if got := plain(s); got != want {
			t.Fatalf("plain(%q) = %v, want %v", s, got, want)
		}
	})
}

func TestPlainFindsEveryByteThatIsNot(t *testing.T) {
	for c := range 256 {
		for pos := range 17 {
			b := []byte(strings.Repeat("a", 17))
			b[pos] = byte(c)
			want := c >= 0x20 && c < 0x80 && c != '\\'
			if got := plain(string(b)); got != want {
				t.Fatalf("plain with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}
