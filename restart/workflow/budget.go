package workflow

import "fmt"

// Step Functions quotas of a Standard workflow ("Step Functions service
// quotas", AWS developer guide): an execution's history holds at most
// 25,000 events (an inline Map's iterations count in the parent's
// history), and a state's input or output, like every history event's
// payload, is at most 256 KiB of UTF-8.
const (
	MaxHistoryEvents = 25000
	MaxPayloadBytes  = 256 * 1024
)

// History events each state adds to an execution's history (the event
// types of the GetExecutionHistory API): a Task calling a Lambda function
// by ARN logs TaskStateEntered, LambdaFunctionScheduled,
// LambdaFunctionStarted, LambdaFunctionSucceeded and TaskStateExited, and
// each retried attempt adds Scheduled, Started and Failed; every other
// state logs its Entered and Exited events; an inline Map adds
// MapStateStarted and MapStateSucceeded, and MapIterationStarted and
// MapIterationSucceeded per item; the execution adds ExecutionStarted and
// its end event.
const (
	eventsPerTask      = 5
	eventsPerRetry     = 3
	eventsPerState     = 2
	eventsPerMap       = 4
	eventsPerIteration = 2
	eventsOfExecution  = 2
)

// Night is the shape of one night for the history budget.
type Night struct {
	// Batches is how many batches the plan made.
	Batches int
	// RetriesPerTask is how many failed attempts each Lambda call makes
	// before it succeeds.
	RetriesPerTask int
}

// HistoryEvents counts the history events of an execution of d that takes
// the longest path a successful night can take: every batch waits for its
// slot and is verified as many times as the machine allows (the work is
// still rolling out at every check), the final verify loop runs to its
// bound, and every Lambda call fails RetriesPerTask times first. It walks
// the definition itself, so a change to the machine changes the count.
func HistoryEvents(d Definition, n Night) (int, error) {
	w := walker{night: n}
	events, err := w.walk(d.StartAt, d.States)
	if err != nil {
		return 0, err
	}
	return events + eventsOfExecution, nil
}

type walker struct {
	night Night
}

// walk follows one pass through states from start. Choice states whose
// first rule bounds a loop by $.checks.n are taken as long as the bound
// allows; other Choice states take their Default.
func (w walker) walk(start string, states map[string]State) (int, error) {
	events := 0
	visits := map[string]int{}
	for name := start; name != ""; {
		s, ok := states[name]
		if !ok {
			return 0, fmt.Errorf("history: no state %q", name)
		}
		visits[name]++
		if visits[name] > 10000 {
			return 0, fmt.Errorf("history: state %s loops without a bound", name)
		}
		switch s.Type {
		case TypeTask:
			events += eventsPerTask + w.night.RetriesPerTask*eventsPerRetry
		case TypeMap:
			per, err := w.walk(s.ItemProcessor.StartAt, s.ItemProcessor.States)
			if err != nil {
				return 0, err
			}
			events += eventsPerMap + w.night.Batches*(eventsPerIteration+per)
		default:
			events += eventsPerState
		}
		switch {
		case s.Type == TypeChoice:
			name = s.Default
			if i, bound, ok := loopBound(s); ok && visits[s.Choices[i].Next] < bound {
				name = s.Choices[i].Next
			}
		case s.End || s.Type == TypeSucceed || s.Type == TypeFail:
			name = ""
		default:
			name = s.Next
		}
	}
	return events, nil
}

// loopBound returns which rule of a verify loop's Choice sends the run
// back, and how many times (the NumericLessThan on $.checks.n), if s is
// one.
func loopBound(s State) (rule, bound int, ok bool) {
	for i, c := range s.Choices {
		for _, r := range c.And {
			if r.Variable == "$.checks.n" && r.NumericLessThan != nil {
				return i, int(*r.NumericLessThan), true
			}
		}
	}
	return 0, 0, false
}
