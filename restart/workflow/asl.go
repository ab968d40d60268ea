// Package workflow is the nightly restart's Step Functions state machine,
// written as Go values of the Amazon States Language (ASL) rather than as a
// JSON string: the Pulumi program deploys it, asl-validator checks it and
// aws-local-stepfunctions runs the very same definition against the local
// fleet. It also computes the machine's size budget (the largest state
// payload and the number of history events of a night), which AWS caps.
package workflow

import (
	"encoding/json"
	"fmt"
	"slices"
)

// State types of the Amazon States Language.
const (
	TypeTask    = "Task"
	TypePass    = "Pass"
	TypeWait    = "Wait"
	TypeChoice  = "Choice"
	TypeMap     = "Map"
	TypeSucceed = "Succeed"
	TypeFail    = "Fail"
)

// Definition is a state machine (or a Map's item processor, which has the
// same StartAt/States shape).
type Definition struct {
	Comment string `json:"Comment,omitempty"`
	StartAt string `json:"StartAt"`
	// TimeoutSeconds bounds the whole execution (top level only).
	TimeoutSeconds int              `json:"TimeoutSeconds,omitempty"`
	States         map[string]State `json:"States"`
}

// State is one state of any type; the fields a type does not use stay
// empty and are left out of the JSON.
type State struct {
	Type    string `json:"Type"`
	Comment string `json:"Comment,omitempty"`

	// Task.
	Resource       string `json:"Resource,omitempty"`
	TimeoutSeconds int    `json:"TimeoutSeconds,omitempty"`

	// Pass.
	Result any `json:"Result,omitempty"`

	// Input and output processing (JSONPath).
	Parameters     map[string]any  `json:"Parameters,omitempty"`
	ResultSelector map[string]any  `json:"ResultSelector,omitempty"`
	ResultPath     json.RawMessage `json:"ResultPath,omitempty"`
	OutputPath     string          `json:"OutputPath,omitempty"`

	// Map.
	ItemsPath      string         `json:"ItemsPath,omitempty"`
	ItemSelector   map[string]any `json:"ItemSelector,omitempty"`
	ItemProcessor  *Processor     `json:"ItemProcessor,omitempty"`
	MaxConcurrency int            `json:"MaxConcurrency,omitempty"`

	// Wait.
	Seconds       int    `json:"Seconds,omitempty"`
	TimestampPath string `json:"TimestampPath,omitempty"`

	// Choice.
	Choices []Rule `json:"Choices,omitempty"`
	Default string `json:"Default,omitempty"`

	// Fail.
	Error string `json:"Error,omitempty"`
	Cause string `json:"Cause,omitempty"`

	Retry []Retrier `json:"Retry,omitempty"`
	Catch []Catcher `json:"Catch,omitempty"`
	Next  string    `json:"Next,omitempty"`
	End   bool      `json:"End,omitempty"`
}

// Processor is a Map state's item processor: an inline sub-machine run
// once per item.
type Processor struct {
	ProcessorConfig ProcessorConfig  `json:"ProcessorConfig"`
	StartAt         string           `json:"StartAt"`
	States          map[string]State `json:"States"`
}

// ProcessorConfig says how a Map runs its items; INLINE keeps every
// iteration in the parent execution's history.
type ProcessorConfig struct {
	Mode string `json:"Mode"`
}

// Rule is a Choice rule. A top-level rule has Next; rules inside And carry
// only a comparison.
type Rule struct {
	Variable           string   `json:"Variable,omitempty"`
	IsPresent          *bool    `json:"IsPresent,omitempty"`
	StringEquals       *string  `json:"StringEquals,omitempty"`
	BooleanEquals      *bool    `json:"BooleanEquals,omitempty"`
	NumericGreaterThan *float64 `json:"NumericGreaterThan,omitempty"`
	NumericLessThan    *float64 `json:"NumericLessThan,omitempty"`
	And                []Rule   `json:"And,omitempty"`
	Next               string   `json:"Next,omitempty"`
}

// Retrier retries a state on the named errors.
type Retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds"`
	MaxAttempts     int      `json:"MaxAttempts"`
	BackoffRate     float64  `json:"BackoffRate"`
	MaxDelaySeconds int      `json:"MaxDelaySeconds,omitempty"`
	JitterStrategy  string   `json:"JitterStrategy,omitempty"`
}

// Catcher moves to Next on the named errors, with the error placed at
// ResultPath.
type Catcher struct {
	ErrorEquals []string        `json:"ErrorEquals"`
	ResultPath  json.RawMessage `json:"ResultPath,omitempty"`
	Next        string          `json:"Next"`
}

// path is a ResultPath value; discard (JSON null) keeps the state's input
// as its output and drops the result.
func path(p string) json.RawMessage {
	b, _ := json.Marshal(p)
	return b
}

var discard = json.RawMessage("null")

// JSON is the definition as Step Functions takes it, indented.
func (d Definition) JSON() (string, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode state machine: %w", err)
	}
	return string(b), nil
}

// check reports transitions to states that do not exist and states that
// nothing reaches, in a machine and its item processors: mistakes the Go
// compiler cannot see in a map of states.
func check(startAt string, states map[string]State, where string) error {
	targets := []string{startAt}
	for name, s := range states {
		targets = append(targets, s.Next, s.Default)
		for _, c := range s.Choices {
			targets = append(targets, c.Next)
		}
		for _, c := range s.Catch {
			targets = append(targets, c.Next)
		}
		if s.ItemProcessor != nil {
			if err := check(s.ItemProcessor.StartAt, s.ItemProcessor.States, where+" > "+name); err != nil {
				return err
			}
		}
		terminal := s.Type == TypeSucceed || s.Type == TypeFail || s.Type == TypeChoice
		if !terminal && (s.Next == "") == !s.End {
			return fmt.Errorf("%s: state %s needs exactly one of Next and End", where, name)
		}
	}
	reached := map[string]bool{}
	for _, t := range targets {
		if t == "" {
			continue
		}
		if _, ok := states[t]; !ok {
			return fmt.Errorf("%s: transition to %q, which is not a state", where, t)
		}
		reached[t] = true
	}
	for name := range states {
		if !reached[name] {
			return fmt.Errorf("%s: state %s is never reached", where, name)
		}
	}
	return nil
}

// StateNames returns the names of the machine's states, item processors
// included, sorted.
func (d Definition) StateNames() []string {
	var out []string
	var walk func(map[string]State)
	walk = func(states map[string]State) {
		for name, s := range states {
			out = append(out, name)
			if s.ItemProcessor != nil {
				walk(s.ItemProcessor.States)
			}
		}
	}
	walk(d.States)
	slices.Sort(out)
	return out
}
