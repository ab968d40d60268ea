package fleet

import "context"

type stepKey struct{}

// WithStep marks ctx as the engine's step (discover, plan, restart,
// verify, report), so that what the step does on AWS can be told apart:
// each step runs as its own Lambda function, under its own role.
func WithStep(ctx context.Context, step string) context.Context {
	return context.WithValue(ctx, stepKey{}, step)
}

// Step is the step ctx was marked with, or "".
func Step(ctx context.Context) string {
	s, _ := ctx.Value(stepKey{}).(string)
	return s
}
