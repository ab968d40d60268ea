package config

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Airflow configures the optional managed Airflow (Amazon MWAA) environment
// that runs the DAGs under airflow/dags/. It is off unless a stack turns it
// on: MWAA bills every hour the environment exists, whether DAGs run or not.
type Airflow struct {
	// Enabled creates the environment, its DAG bucket, key and role.
	Enabled bool `json:"enabled"`
	// EnvironmentName is the MWAA environment's name; empty means
	// "<project>-<stack>".
	EnvironmentName string `json:"environmentName"`
	// AirflowVersion is one of AirflowVersions.
	AirflowVersion string `json:"airflowVersion"`
	// EnvironmentClass is one of EnvironmentClasses.
	EnvironmentClass string `json:"environmentClass"`
	// WebserverAccessMode is PRIVATE_ONLY (the UI is reachable only from
	// inside the VPC) or PUBLIC_ONLY.
	WebserverAccessMode string `json:"webserverAccessMode"`
	// WebserverClientCIDRs may reach the private web server's endpoint on
	// port 443: the subnet of a bastion, or of a Client VPN's network
	// associations. Empty means only the environment itself.
	WebserverClientCIDRs []string `json:"webserverClientCidrs"`
	// LogRetentionDays is how long the environment's CloudWatch logs are
	// kept.
	LogRetentionDays int `json:"logRetentionDays"`
}

// The values MWAA accepts, from the CreateEnvironment API reference
// (https://docs.aws.amazon.com/mwaa/latest/API/API_CreateEnvironment.html,
// "Valid values" of AirflowVersion and EnvironmentClass, as of 2026-11) and
// the user guide pages it links:
// https://docs.aws.amazon.com/mwaa/latest/userguide/airflow-versions.html and
// https://docs.aws.amazon.com/mwaa/latest/userguide/environment-class.html.
// Versions before 2.7.2 reached end of support on 2025-12-30 and can no
// longer be created. Update these lists when MWAA adds a version.
var (
	AirflowVersions    = []string{"2.7.2", "2.8.1", "2.9.2", "2.10.1", "2.10.3", "2.11.0", "3.0.6"}
	EnvironmentClasses = []string{"mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"}
	// WebserverAccessModes leaves out PUBLIC_AND_PRIVATE (added to the API in
	// 2026-05): the pulumi-aws provider this program pins accepts only these.
	WebserverAccessModes = []string{"PRIVATE_ONLY", "PUBLIC_ONLY"}
)

// mwaaNamePattern and maxMWAANameLength are the Name constraints of
// CreateEnvironment (same page as above): a letter, then letters, digits,
// hyphens and underscores, 1 to 80 characters.
var mwaaNamePattern = regexp.MustCompile(`^[a-zA-Z][0-9a-zA-Z_-]*$`)

const maxMWAANameLength = 80

// DefaultAirflow is the Airflow setting a stack gets when it sets nothing:
// off, and when turned on the smallest general-purpose class, the newest
// version and a web server reachable only from inside the VPC.
func DefaultAirflow() Airflow {
	return Airflow{
		Enabled:             false,
		AirflowVersion:      "3.0.6",
		EnvironmentClass:    "mw1.small",
		WebserverAccessMode: "PRIVATE_ONLY",
		LogRetentionDays:    365,
	}
}

// Name is the MWAA environment's name for the stack.
func (a Airflow) Name(project, stack string) string {
	if a.EnvironmentName != "" {
		return a.EnvironmentName
	}
	return project + "-" + stack
}

// validateAirflow checks the settings whether or not the environment is on,
// so that a typo is caught before the day someone turns it on.
func (c *Config) validateAirflow() Problems {
	var p Problems
	a := c.Airflow
	if !slices.Contains(AirflowVersions, a.AirflowVersion) {
		p.addf("airflow.airflowVersion: MWAA accepts %s, got %q", strings.Join(AirflowVersions, ", "), a.AirflowVersion)
	}
	if !slices.Contains(EnvironmentClasses, a.EnvironmentClass) {
		p.addf("airflow.environmentClass: MWAA accepts %s, got %q", strings.Join(EnvironmentClasses, ", "), a.EnvironmentClass)
	}
	if !slices.Contains(WebserverAccessModes, a.WebserverAccessMode) {
		p.addf("airflow.webserverAccessMode: must be %s, got %q", strings.Join(WebserverAccessModes, " or "), a.WebserverAccessMode)
	}
	for i, c := range a.WebserverClientCIDRs {
		pfx, err := netip.ParsePrefix(c)
		switch {
		case err != nil || !pfx.Addr().Is4():
			p.addf("airflow.webserverClientCidrs[%d]: %q is not an IPv4 CIDR block such as 10.10.0.0/19", i, c)
		case pfx.Masked() != pfx:
			p.addf("airflow.webserverClientCidrs[%d]: %q has host bits set; did you mean %s?", i, c, pfx.Masked())
		case !slices.ContainsFunc(privateRanges, func(r netip.Prefix) bool { return r.Contains(pfx.Addr()) && r.Bits() <= pfx.Bits() }):
			p.addf("airflow.webserverClientCidrs[%d]: %s is not a private range; the web server's endpoint is reached from inside the VPC (a bastion or VPN subnet)", i, c)
		}
	}
	if !validRetention(a.LogRetentionDays) {
		p.addf("airflow.logRetentionDays: CloudWatch Logs accepts %v, got %d", RetentionDays, a.LogRetentionDays)
	}
	name := a.Name(c.Project, c.Stack)
	switch {
	case len(name) > maxMWAANameLength:
		p.addf("airflow.environmentName: MWAA allows at most %d characters, %q has %d", maxMWAANameLength, name, len(name))
	case !mwaaNamePattern.MatchString(name):
		p.addf("airflow.environmentName: %q is not an MWAA environment name: start with a letter, then use letters, digits, hyphens and underscores", name)
	}
	// MWAA's private subnets reach SQS, CloudWatch, KMS and its own API
	// through a NAT gateway, or else through interface endpoints this
	// program does not create ("About networking on Amazon MWAA",
	// https://docs.aws.amazon.com/mwaa/latest/userguide/networking-about.html).
	if a.Enabled && c.Network.NATStrategy == NATNone {
		p.addf("airflow.enabled is true but network.natStrategy is \"none\": MWAA needs its private subnets to reach AWS services through a NAT gateway; use \"single\" or \"perAz\", or keep airflow off")
	}
	return p
}
