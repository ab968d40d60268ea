package main

import (
	"flag"
	"fmt"

	"github.com/nequi-platform/wordpress-ecs/restart/engine"
)

// breakerFlags are the circuit breakers' thresholds (engine.Breaker).
type breakerFlags struct {
	maxFailed, accountMaxFailed         *int
	maxFailedPercent, accountMaxPercent *float64
}

func addBreakerFlags(fs *flag.FlagSet) breakerFlags {
	d := engine.DefaultBreaker
	return breakerFlags{
		maxFailed:         fs.Int("breaker-max-failed", d.MaxFailed, "the fleet's circuit breaker trips at this many failed or rolled-back restarts tonight..."),
		maxFailedPercent:  fs.Float64("breaker-max-failed-percent", 100*d.MaxFailedShare, "...making at least this `PERCENT` of the restarts verified tonight, in more than one account"),
		accountMaxFailed:  fs.Int("breaker-account-max-failed", d.AccountMaxFailed, "an account's circuit breaker trips at this many of its restarts failed or rolled back..."),
		accountMaxPercent: fs.Float64("breaker-account-max-failed-percent", 100*d.AccountMaxFailedShare, "...making at least this `PERCENT` of its verified restarts"),
	}
}

func (b breakerFlags) parse() (engine.Breaker, error) {
	for name, n := range map[string]int{"--breaker-max-failed": *b.maxFailed, "--breaker-account-max-failed": *b.accountMaxFailed} {
		if n < 1 {
			return engine.Breaker{}, fmt.Errorf("%s %d: want a number of failures, 1 or more", name, n)
		}
	}
	for name, p := range map[string]float64{"--breaker-max-failed-percent": *b.maxFailedPercent, "--breaker-account-max-failed-percent": *b.accountMaxPercent} {
		if p <= 0 || p > 100 {
			return engine.Breaker{}, fmt.Errorf("%s %v: want a percentage above 0 and at most 100", name, p)
		}
	}
	return engine.Breaker{
		MaxFailed: *b.maxFailed, MaxFailedShare: *b.maxFailedPercent / 100,
		AccountMaxFailed: *b.accountMaxFailed, AccountMaxFailedShare: *b.accountMaxPercent / 100,
	}, nil
}
