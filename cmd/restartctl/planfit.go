package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nequi-platform/wordpress-ecs/restart/awsfleet"
	"github.com/nequi-platform/wordpress-ecs/restart/fleet"
	"github.com/nequi-platform/wordpress-ecs/restart/setup"
)

// fitFlags are plan's flags for the window fit (fleet.Fit).
type fitFlags struct {
	deploymentTime  *time.Duration
	deploymentTimes *string
	updateRate      *float64
}

func addFitFlags(fs *flag.FlagSet) fitFlags {
	return fitFlags{
		deploymentTime: fs.Duration("deployment-time", fleet.DefaultDeploymentTime,
			"how long a service's restart takes to complete, for the window fit, where --deployment-times says nothing (the stack's restart.expectedDeploymentTime)"),
		deploymentTimes: fs.String("deployment-times", "",
			"JSON `FILE` of observed deployment times: {\"<account>/<region>/<cluster>\": \"25m\", \"<service ARN>\": \"3m\", ...}"),
		updateRate: fs.Float64("update-rate", awsfleet.DefaultLimits().Modify.PerSecond,
			"UpdateService calls per second per account and Region, for the window fit (as run's --update-rate)"),
	}
}

// durations reads the flags into the fit's durations.
func (ff fitFlags) durations(fs *flag.FlagSet, stderr io.Writer) (fleet.Durations, float64, error) {
	if *ff.deploymentTime < time.Second || *ff.deploymentTime > 24*time.Hour {
		return fleet.Durations{}, 0, flagError(fs, stderr, "--deployment-time %v: want a duration from 1s to 24h, such as 10m", *ff.deploymentTime)
	}
	if _, err := setup.ParseUpdateRate(fmt.Sprint(*ff.updateRate)); err != nil {
		return fleet.Durations{}, 0, flagError(fs, stderr, "--update-rate %v", err)
	}
	d := fleet.Durations{Default: *ff.deploymentTime}
	if *ff.deploymentTimes == "" {
		return d, *ff.updateRate, nil
	}
	b, err := os.ReadFile(*ff.deploymentTimes)
	if err != nil {
		return d, 0, fmt.Errorf("--deployment-times: %w", err)
	}
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return d, 0, fmt.Errorf("--deployment-times %s: want an object of durations by cluster or service ARN: %w", *ff.deploymentTimes, err)
	}
	d.Service, d.Cluster = map[string]time.Duration{}, map[string]time.Duration{}
	for k, v := range raw {
		t, err := time.ParseDuration(v)
		if err != nil || t <= 0 {
			return d, 0, fmt.Errorf("--deployment-times %s: %s: %q is not a positive duration such as 25m", *ff.deploymentTimes, k, v)
		}
		switch {
		case strings.HasPrefix(k, "arn:"):
			d.Service[k] = t
		case strings.Count(k, "/") == 2:
			d.Cluster[k] = t
		default:
			return d, 0, fmt.Errorf("--deployment-times %s: %q is neither a service ARN nor <account>/<region>/<cluster>", *ff.deploymentTimes, k)
		}
	}
	return d, *ff.updateRate, nil
}

// writeFitSummary tells the person at the terminal what the JSON's fit
// says: a line, and one per cluster that does not fit.
func writeFitSummary(w io.Writer, f fleet.FitReport) {
	fmt.Fprintf(w, "window fit: %s\n", f.Summary())
	for _, c := range f.NotFitting {
		fmt.Fprintf(w, "  %s\n", c.Reason)
	}
}
