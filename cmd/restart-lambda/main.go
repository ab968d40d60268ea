// Command restart-lambda is the bootstrap of the daily restart's Lambda
// functions (runtime provided.al2023). One binary serves every step: the
// function's handler setting (_HANDLER) picks it, one of discover, plan,
// restart, verify or report. Settings come from the environment (see
// setup.FromEnv). Build with:
//
//	CGO_ENABLED=0 GOOS=linux go build -tags lambda.norpc -ldflags="-s -w" -o bootstrap ./cmd/restart-lambda
package main

import (
	"context"
	"fmt"
	"os"
	_ "time/tzdata" // TIME_ZONE must resolve whatever the runtime image holds

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/nequi-platform/wordpress-ecs/restart/setup"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "restart-lambda:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	s, err := setup.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	e, err := setup.Build(ctx, s)
	if err != nil {
		return err
	}
	h, err := e.Handler(os.Getenv("_HANDLER"))
	if err != nil {
		return fmt.Errorf("_HANDLER: %w", err)
	}
	lambda.Start(h)
	return nil
}
