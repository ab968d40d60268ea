// Package config reads and validates the stack configuration once, before any
// resource is declared. Components never read config themselves: platform
// passes them the typed values from here.
package config

import (
	"slices"

	"github.com/nequi-platform/wordpress-ecs/cost"
)

// Namespace is this repository's project name in Pulumi.yaml. Load reads
// keys under whatever name the project has; tests and tools that build raw
// config use this one.
const Namespace = "wordpress"

// Environment says which safety rules apply to a stack.
type Environment string

// The environments a stack can be.
const (
	Production  Environment = "production"
	Development Environment = "development"
)

// NATStrategy says how private subnets reach the internet.
type NATStrategy string

// The NAT strategies.
const (
	// NATPerAZ puts a NAT gateway in every AZ and routes each private subnet
	// to the one in its own AZ, so losing an AZ never cuts off the others.
	NATPerAZ NATStrategy = "perAz"
	// NATSingle shares one NAT gateway (in the first AZ) between all AZs:
	// cheaper, but that AZ is a single point of failure for egress.
	NATSingle NATStrategy = "single"
	// NATNone gives private subnets no internet route at all; they reach AWS
	// through VPC endpoints only.
	NATNone NATStrategy = "none"
)

// Config is the whole stack configuration.
type Config struct {
	// Project and Stack name the Pulumi project and stack.
	Project string
	Stack   string
	// Region is aws:region.
	Region string
	// Environment is wordpress:environment.
	Environment Environment
	// Site is wordpress:site: the WordPress tiers (network, data, compute
	// and their alarms). The hub stack, which runs only the nightly
	// restart of the fleet, turns it off.
	Site bool
	// Tags are added to every taggable resource (wordpress:tags).
	Tags map[string]string
	// Network is wordpress:network.
	Network Network
	// Policy is wordpress:policy.
	Policy Policy
	// Cost is wordpress:cost.
	Cost Cost
	// Compute is wordpress:compute.
	Compute Compute
	// Data is wordpress:data, the database.
	Data Data
	// DBPassword is wordpress:dbPassword, the database master password. It
	// is required unless data.manageMasterUserPassword is on.
	DBPassword Secret

	// offline is set when the config was read for the offline plan, which
	// has no secrets provider.
	offline bool
	// warnings are problems the offline plan reports without stopping
	// (example values that a real preview refuses).
	warnings []string

	Airflow Airflow // wordpress:airflow
	// Governance is wordpress:governance.
	Governance Governance
	// Restart is wordpress:restart, the nightly restart pipeline.
	Restart Restart
}

// ReservedTags are the tags the program sets on every resource; the policy
// checks and cost reports rely on them, so stack config may not override
// them.
var ReservedTags = []string{"Project", "Stack", "Environment", "ManagedBy"}

// Production reports whether the stack is held to production rules. It
// comes from wordpress:environment only, never from a tag a user can set.
func (c *Config) Production() bool { return c.Environment == Production }

// Network configures the VPC and its subnet tiers.
type Network struct {
	// CIDR is the VPC's IPv4 block; subnets are carved from it.
	CIDR string `json:"cidr"`
	// AZCount is how many availability zones the network spans.
	AZCount int `json:"azCount"`
	// AvailabilityZones pins the zones by name; empty means the first
	// AZCount zones the region reports as available.
	AvailabilityZones []string `json:"availabilityZones"`
	// NATStrategy is perAz, single or none.
	NATStrategy NATStrategy `json:"natStrategy"`
	// SingleNATReason must explain a production stack that does not use a
	// NAT gateway per AZ; without it such a stack is refused.
	SingleNATReason string `json:"singleNatReason"`
	// PublicSubnetCIDRs, PrivateSubnetCIDRs and DataSubnetCIDRs override
	// the carved subnets, one per AZ in AZ order.
	PublicSubnetCIDRs  []string `json:"publicSubnetCidrs"`
	PrivateSubnetCIDRs []string `json:"privateSubnetCidrs"`
	DataSubnetCIDRs    []string `json:"dataSubnetCidrs"`
	// FlowLogs sends VPC flow logs to a KMS-encrypted CloudWatch log group.
	FlowLogs bool `json:"flowLogs"`
	// FlowLogRetentionDays is the log group's retention.
	FlowLogRetentionDays int `json:"flowLogRetentionDays"`
	// InterfaceEndpoints adds private endpoints for SSM, ECR and CloudWatch
	// Logs so that tasks and the bastion reach AWS without the NAT.
	InterfaceEndpoints bool `json:"interfaceEndpoints"`
}

// Policy configures the offline policy report.
type Policy struct {
	// Waivers maps a check id (e.g. "EC2.6") to the reason it is waived in
	// this stack. A waived failure is reported but does not fail the plan.
	Waivers map[string]string `json:"waivers"`
}

// Defaults returns the configuration a stack gets for every key it does not
// set. The defaults are the production-grade choice; a cheap stack opts out
// explicitly in its own Pulumi.<stack>.yaml.
func Defaults() Config {
	return Config{
		Environment: Production,
		Site:        true,
		Tags:        map[string]string{},
		Network:     DefaultNetwork(),
		Policy:      Policy{Waivers: map[string]string{}},
		Cost:        Cost{Usage: cost.DefaultUsage()},
		Airflow:     DefaultAirflow(),
		Governance:  DefaultGovernance(),
		Restart:     DefaultRestart(),
		Compute:     DefaultCompute(),
		Data:        DefaultData(),
	}
}

// DefaultNetwork is the network a stack gets when it sets nothing.
func DefaultNetwork() Network {
	return Network{
		CIDR:                 "10.0.0.0/16",
		AZCount:              3,
		NATStrategy:          NATPerAZ,
		FlowLogs:             true,
		FlowLogRetentionDays: 365,
		InterfaceEndpoints:   true,
	}
}

// RetentionDays are the values CloudWatch Logs accepts for a log group's
// retention (PutRetentionPolicy).
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func validRetention(days int) bool { return slices.Contains(RetentionDays, days) }
