package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// validatePlacement checks the settings that decide what the stack is and
// where it lives in the account: the WordPress tiers, the account-wide
// services that depend on them, and the restart pipeline's reach.
func (c *Config) validatePlacement() Problems {
	var p Problems
	g := c.Governance
	if g.SessionManagerPreferences.Mode.Creates() && (!c.Site || !c.Compute.Bastion.Enabled) {
		p.addf("governance.sessionManagerPreferences.mode is create, but the stack has no bastion (site or compute.bastion.enabled is false), whose encrypted log group the preferences send every session to; set it to existing or off")
	}

	r := c.Restart
	if !r.Enabled {
		return p
	}
	if !strings.Contains(r.MemberRoleName, c.Stack) {
		p.addf("restart.memberRoleName: %q does not carry the stack's name %q, so another stack's member role in the same account could take the same name (IAM names are unique per account); leave it unset for %q, or put %q in it", r.MemberRoleName, c.Stack, c.Project+"-"+c.Stack+memberRoleSuffix, c.Stack)
	}
	if r.MemberRoleDeployment == DeployDirect {
		if !c.Site {
			p.addf("restart.memberRoleDeployment: direct restarts this stack's own cluster only, and site is false, so there is none; use memberRoleDeployment stackSet to restart the fleet's accounts")
		}
		if c.Region != "" && !slices.Equal(r.Regions, []string{c.Region}) {
			p.addf("restart.regions: direct restarts this stack's own cluster, which is in %s; set regions to [%s], got %v", c.Region, c.Region, r.Regions)
		}
	}
	return p
}

// exampleValues are the settings that still hold an example from the
// stack files or AWS's documentation: a real apply fails on them
// (NoSuchHostedZone for the certificate's validation record, an
// organization that is not the account's) or, for member accounts,
// discovery reports them as failed every night. Each names the key to set.
func (c *Config) exampleValues() Problems {
	var p Problems
	set := func(key, value, what, fix string) {
		p.addf("%s: %q is an example %s; %s: `pulumi config set --path '%s:%s' <value> -s %s`", key, value, what, fix, c.Project, key, c.Stack)
	}
	r := c.Restart
	if r.Enabled {
		for i, a := range r.MemberAccounts {
			if exampleAccount(a) {
				set(fmt.Sprintf("restart.memberAccounts[%d]", i), a, "account id", "list the fleet's member accounts")
			}
		}
		if r.OrganizationID != "" && exampleID(r.OrganizationID) {
			set("restart.organizationId", r.OrganizationID, "organization id", "set the organization's id (aws organizations describe-organization)")
		}
		for i, ou := range r.OrganizationalUnits {
			if exampleID(ou) {
				set(fmt.Sprintf("restart.organizationalUnits[%d]", i), ou, "organizational unit id", "list the OUs of the fleet's accounts (aws organizations list-organizational-units-for-parent)")
			}
		}
	}
	if h := c.Compute.HTTPS; c.Site && h.Enabled {
		if h.DomainName != "" && exampleDomain(h.DomainName) {
			set("compute.https.domainName", h.DomainName, "domain (reserved for documentation, RFC 2606)", "set the site's name in your hosted zone")
		}
		if h.HostedZoneID != "" && exampleID(h.HostedZoneID) {
			set("compute.https.hostedZoneId", h.HostedZoneID, "hosted zone id", "set the id of the Route 53 zone that holds the site's name (aws route53 list-hosted-zones)")
		}
		if h.CertificateARN != "" && (exampleID(h.CertificateARN) || exampleAccount(strings.Split(h.CertificateARN+":::::", ":")[4])) {
			set("compute.https.certificateArn", h.CertificateARN, "certificate", "set the ARN of an ACM certificate of the site's name")
		}
	}
	for i, e := range c.Governance.AlarmEmails {
		if at := strings.LastIndex(e, "@"); at >= 0 && exampleDomain(e[at+1:]) {
			set(fmt.Sprintf("governance.alarmEmails[%d]", i), e, "address, which no one reads", "subscribe your on-call address")
		}
	}
	return p
}

// exampleAccounts are the account ids AWS's documentation uses.
var exampleAccounts = []string{"123456789012", "012345678901", "111122223333", "444455556666", "777788889999", "210987654321"}

var sameDigit = regexp.MustCompile(`^(0{12}|1{12}|2{12}|3{12}|4{12}|5{12}|6{12}|7{12}|8{12}|9{12})$`)

func exampleAccount(id string) bool {
	return sameDigit.MatchString(id) || slices.Contains(exampleAccounts, id)
}

// exampleIDs are ids from AWS's documentation that do not say "example".
var exampleIDs = []string{"o-a1b2c3d4e5", "r-a1b2"}

func exampleID(id string) bool {
	return strings.Contains(strings.ToLower(id), "example") || slices.Contains(exampleIDs, id)
}

// exampleDomain reports names reserved for documentation and tests: the
// example.com/.net/.org domains and the .example, .test, .invalid and
// .localhost top-level domains (RFC 2606, RFC 6761).
func exampleDomain(name string) bool {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	for _, d := range []string{"example.com", "example.net", "example.org", "example", "test", "invalid", "localhost"} {
		if n == d || strings.HasSuffix(n, "."+d) {
			return true
		}
	}
	return false
}
