package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// encodingJSON is what `restartctl plan` printed with encoding/json.
func encodingJSON(t *testing.T, p Plan) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func writeJSON(t *testing.T, p Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPlanWriteJSONWritesWhatEncodingJSONWrites(t *testing.T) {
	planned, err := PlanNight(randomFleet(rand.New(rand.NewPCG(3, 3)), 2000, 5, 60), EnrollTagged, DefaultWindow())
	if err != nil {
		t.Fatal(err)
	}
	odd := []string{`a"b`, `c\d`, "e\nf\tg\x01", "<script>&", "caf\u00e9", "\u2028", "bad\xffutf8", "del\x7f", ""}
	for _, tc := range []struct {
		name string
		plan Plan
	}{
		{"planned night", planned},
		{"empty", Plan{Batches: []Batch{}, Skipped: []Skip{}}},
		{"no skipped", Plan{Batches: []Batch{{Index: 3, Start: "23:50", Services: []string{"x"}}}, Skipped: []Skip{}}},
		{"empty batch", Plan{Batches: []Batch{{Index: 0, Start: "00:00", Services: []string{}}, {Index: 1, Start: "00:10", Services: []string{"y"}}}, Skipped: []Skip{{ARN: "z", Reason: ReasonOptedOut}}}},
		{"strings encoding/json escapes", Plan{Batches: []Batch{{Index: 12, Start: odd[3], Services: odd}}, Skipped: []Skip{{ARN: odd[0], Reason: Reason(odd[4])}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := writeJSON(t, tc.plan), encodingJSON(t, tc.plan); got != want {
				t.Fatalf("WriteJSON wrote\n%s\nencoding/json writes\n%s", got, want)
			}
		})
	}
}

func TestPlanWriteJSONWritesNilAsEmptyArrays(t *testing.T) {
	got := writeJSON(t, Plan{Batches: []Batch{{Index: 0, Start: "00:00"}}})
	want := encodingJSON(t, Plan{Batches: []Batch{{Index: 0, Start: "00:00", Services: []string{}}}, Skipped: []Skip{}})
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "null") {
		t.Fatalf("null in %s", got)
	}
}

// WriteJSON writes the fields it knows; a field added to Plan, Batch or
// Skip must be added to it too, or `restartctl plan` would drop it.
func TestPlanWriteJSONKnowsEveryJSONField(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		want []string
	}{
		{reflect.TypeFor[Plan](), []string{`json:"batches"`, `json:"skipped"`}},
		{reflect.TypeFor[Batch](), []string{`json:"index"`, `json:"start"`, `json:"-"`, `json:"services"`}},
		{reflect.TypeFor[Skip](), []string{`json:"arn"`, `json:"reason"`}},
	} {
		var got []string
		for i := range tc.typ.NumField() {
			got = append(got, string(tc.typ.Field(i).Tag))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s has the fields %q; WriteJSON writes %q: update WriteJSON (and this test) for the new field",
				tc.typ.Name(), got, tc.want)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errTest }

var errTest = errors.New("disk full")

func TestPlanWriteJSONReportsWriteErrors(t *testing.T) {
	if err := (Plan{}).WriteJSON(failingWriter{}); err == nil {
		t.Fatal("write error lost")
	}
}

func TestVerbatimFindsEveryByteEncodingJSONEscapes(t *testing.T) {
	for c := range 256 {
		for pos := range 17 {
			b := []byte(strings.Repeat("a", 17))
			b[pos] = byte(c)
			q, _ := json.Marshal(string(b))
			// DEL, which encoding/json writes as it is, is left to it too.
			want := string(q) == `"`+string(b)+`"` && c != 0x7f
			if got := verbatim(string(b)); got != want {
				t.Fatalf("verbatim with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}

func FuzzVerbatim(f *testing.F) {
	f.Add("arn:aws:ecs:us-east-1:123456789012:service/c/s")
	f.Add("\x7f\xff\xff\xff\xff\xff\xff\xff\xff")
	f.Fuzz(func(t *testing.T, s string) {
		q, _ := json.Marshal(s)
		if got, want := verbatim(s), string(q) == `"`+s+`"`; got && !want {
			t.Fatalf("verbatim(%q) but encoding/json writes %s", s, q)
		}
	})
}
