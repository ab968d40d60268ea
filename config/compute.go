package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Compute configures the WordPress tier: the load balancer, the firewall,
// the ECS service, its file system and the bastion (wordpress:compute).
type Compute struct {
	// Image is the container image repository. The default is Docker's
	// official wordpress image as mirrored on ECR Public, which spares the
	// tasks Docker Hub's anonymous pull limits.
	Image string `json:"image"`
	// ImageTag pins the image version; "latest" is refused in production.
	ImageTag string `json:"imageTag"`
	// CPU (units, 1024 = 1 vCPU) and Memory (MiB) size each task; the pair
	// must be one Fargate offers.
	CPU    int `json:"cpu"`
	Memory int `json:"memory"`
	// CPUArchitecture is X86_64 or ARM64 (the official image is built for
	// both; ARM64 costs about 20% less on Fargate).
	CPUArchitecture string `json:"cpuArchitecture"`
	// DesiredCount is how many tasks run (the starting count when
	// autoscaling is on).
	DesiredCount int `json:"desiredCount"`
	// HealthCheckPath is what the load balancer requests from each task;
	// any 200-399 answer is healthy (WordPress redirects until installed).
	HealthCheckPath string `json:"healthCheckPath"`
	// HealthCheckGracePeriodSeconds lets a new task finish its first start
	// (copying WordPress onto EFS) before failed health checks count.
	HealthCheckGracePeriodSeconds int `json:"healthCheckGracePeriodSeconds"`
	// Stickiness pins a visitor to one task with a load balancer cookie
	// for StickinessSeconds.
	Stickiness        bool `json:"stickiness"`
	StickinessSeconds int  `json:"stickinessSeconds"`
	// EnableExecuteCommand allows `aws ecs execute-command` into the
	// tasks; refused in production.
	EnableExecuteCommand bool `json:"enableExecuteCommand"`
	// LogRetentionDays keeps WordPress's container logs.
	LogRetentionDays int `json:"logRetentionDays"`
	// HTTPS adds the TLS listener and redirects HTTP to it.
	HTTPS HTTPS `json:"https"`
	// WAF puts a web ACL in front of the load balancer.
	WAF WAF `json:"waf"`
	// AccessLogs writes the load balancer's access logs to S3, kept for
	// AccessLogRetentionDays.
	AccessLogs             bool `json:"accessLogs"`
	AccessLogRetentionDays int  `json:"accessLogRetentionDays"`
	// DeletionProtection stops the load balancer being deleted by a
	// mistaken `pulumi destroy` or console click.
	DeletionProtection bool `json:"deletionProtection"`
	// Autoscaling scales the service between MinCapacity and MaxCapacity.
	Autoscaling Autoscaling `json:"autoscaling"`
	// FileSystem configures the EFS file system holding wp-content.
	FileSystem FileSystem `json:"fileSystem"`
	// Bastion is the Session Manager host for reaching the database.
	Bastion Bastion `json:"bastion"`
	// AdminCIDRs are the address ranges the install pages answer from
	// (/wp-admin/install.php and /wp-admin/setup-config.php): whoever
	// submits the install form first becomes the site's administrator.
	// From anywhere else the load balancer answers 403; empty, from
	// nowhere. The load balancer sees the client's own address (its
	// source-ip condition ignores X-Forwarded-For), so these are the
	// public ranges an office or VPN leaves from.
	AdminCIDRs []string `json:"adminCidrs"`
	// WordPress is how WordPress itself runs in the tasks: what the
	// container's WORDPRESS_CONFIG_EXTRA and PHP settings say.
	WordPress WordPressSettings `json:"wordpress"`
}

// WordPressSettings are WordPress's own settings. Core updates are always
// off: the image's version is the version every task runs.
type WordPressSettings struct {
	// DisallowFileEdit turns off the theme and plugin file editor
	// (DISALLOW_FILE_EDIT): an administrator's session must not be a way
	// to write PHP into the shared wp-content. Refused off in production.
	DisallowFileEdit bool `json:"disallowFileEdit"`
	// DisallowFileMods turns off installing and updating plugins and
	// themes from the dashboard (DISALLOW_FILE_MODS), for sites whose
	// plugins come with the image. The cost: every plugin, theme or
	// translation change is then an image build and a deployment.
	DisallowFileMods bool `json:"disallowFileMods"`
	// UploadMaxMB is PHP's upload_max_filesize (post_max_size is 1 MB
	// more), which PHP leaves at 2 MB.
	UploadMaxMB int `json:"uploadMaxMb"`
}

// HTTPS is the TLS listener. A certificate comes from CertificateARN, or
// is requested from ACM for DomainName and validated in HostedZoneID.
type HTTPS struct {
	Enabled        bool   `json:"enabled"`
	CertificateARN string `json:"certificateArn"`
	// DomainName is the site's name; with HostedZoneID it also gets an
	// alias record pointing at the load balancer.
	DomainName   string `json:"domainName"`
	HostedZoneID string `json:"hostedZoneId"`
	// SSLPolicy is the listener's TLS policy: TLS 1.2 or later only.
	SSLPolicy string `json:"sslPolicy"`
}

// WAF is the web ACL on the load balancer.
type WAF struct {
	Enabled bool `json:"enabled"`
	// RateLimit is the most requests one client IP may send in 5 minutes
	// before it is blocked.
	RateLimit int `json:"rateLimit"`
	// LogRetentionDays keeps the WAF's request logs.
	LogRetentionDays int `json:"logRetentionDays"`
}

// Autoscaling is target tracking on CPU and on requests per task.
type Autoscaling struct {
	Enabled     bool `json:"enabled"`
	MinCapacity int  `json:"minCapacity"`
	MaxCapacity int  `json:"maxCapacity"`
	// CPUTargetPercent is the average CPU the service is kept near.
	CPUTargetPercent int `json:"cpuTargetPercent"`
	// RequestsPerTarget is the load balancer requests per task per minute
	// the service is kept near.
	RequestsPerTarget int `json:"requestsPerTarget"`
}

// FileSystem is the EFS file system for wp-content.
type FileSystem struct {
	// ThroughputMode is elastic or bursting.
	ThroughputMode string `json:"throughputMode"`
	// TransitionToIA moves files unread for that long to Infrequent
	// Access (AFTER_30_DAYS...).
	TransitionToIA string `json:"transitionToIa"`
}

// Bastion is the instance used for Session Manager port forwarding.
type Bastion struct {
	Enabled      bool   `json:"enabled"`
	InstanceType string `json:"instanceType"`
	// SessionLogRetentionDays keeps the Session Manager session logs.
	// The account's Session Manager preferences, which decide whether
	// sessions are logged here, are governance.sessionManagerPreferences.
	SessionLogRetentionDays int `json:"sessionLogRetentionDays"`
}

// DefaultCompute is the WordPress tier a stack gets when it sets nothing:
// every protection on, except HTTPS, which needs a domain or certificate
// only the stack can name (a production stack without it fails policy
// check ELB.1).
func DefaultCompute() Compute {
	return Compute{
		Image:                         "public.ecr.aws/docker/library/wordpress",
		ImageTag:                      "6.8.3-php8.3-apache",
		CPU:                           512,
		Memory:                        1024,
		CPUArchitecture:               "X86_64",
		DesiredCount:                  3,
		HealthCheckPath:               "/",
		HealthCheckGracePeriodSeconds: 300,
		StickinessSeconds:             86400,
		LogRetentionDays:              365,
		HTTPS:                         HTTPS{SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06"},
		WAF:                           WAF{Enabled: true, RateLimit: 2000, LogRetentionDays: 365},
		AccessLogs:                    true,
		AccessLogRetentionDays:        365,
		DeletionProtection:            true,
		Autoscaling:                   Autoscaling{Enabled: true, MinCapacity: 3, MaxCapacity: 12, CPUTargetPercent: 60, RequestsPerTarget: 1000},
		FileSystem:                    FileSystem{ThroughputMode: "elastic", TransitionToIA: "AFTER_30_DAYS"},
		Bastion:                       Bastion{Enabled: true, InstanceType: "t4g.nano", SessionLogRetentionDays: 365},
		AdminCIDRs:                    []string{},
		WordPress:                     WordPressSettings{DisallowFileEdit: true, UploadMaxMB: 64},
	}
}

// fargateMemory lists, per CPU value, the memory sizes (MiB) Fargate
// accepts for a Linux task. Source: Amazon ECS Developer Guide, "Amazon ECS
// task definition parameters for Fargate", section "Task size"
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
var fargateMemory = map[int][]int{
	256:   {512, 1024, 2048},
	512:   steps(1024, 4096, 1024),
	1024:  steps(2048, 8192, 1024),
	2048:  steps(4096, 16384, 1024),
	4096:  steps(8192, 30720, 1024),
	8192:  steps(16384, 61440, 4096),
	16384: steps(32768, 122880, 8192),
}

func steps(from, to, by int) []int {
	var out []int
	for v := from; v <= to; v += by {
		out = append(out, v)
	}
	return out
}

// FargateMemory returns the memory sizes Fargate accepts with cpu units.
func FargateMemory(cpu int) []int { return fargateMemory[cpu] }

// tlsPolicies are the load balancer security policies that refuse
// anything older than TLS 1.2 (Elastic Load Balancing User Guide for ALBs,
// "Security policies for your Application Load Balancer").
var tlsPolicies = []string{
	"ELBSecurityPolicy-TLS13-1-2-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
	"ELBSecurityPolicy-TLS13-1-3-2021-06",
	"ELBSecurityPolicy-TLS-1-2-2017-01",
	"ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
	"ELBSecurityPolicy-FS-1-2-2019-08",
	"ELBSecurityPolicy-FS-1-2-Res-2019-08",
	"ELBSecurityPolicy-FS-1-2-Res-2020-10",
}

// iaTransitions are the values EFS accepts for TransitionToIA
// (PutLifecycleConfiguration).
var iaTransitions = []string{"AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS", "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS"}

var (
	// A Docker tag: word characters, dots and dashes, at most 128, not
	// starting with a dot or dash (Docker's reference grammar).
	imageTagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	domainPattern   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	zoneIDPattern   = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	acmARNPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$`)
	// family.size, e.g. t4g.nano, m7i.large.
	instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	// Graviton families carry a "g" after the generation (t4g, m7gd, c6gn).
	gravitonPattern = regexp.MustCompile(`^[a-z]+\d+g[a-z]*\.`)
)

// Architecture is the AMI architecture the bastion's instance type
// runs: arm64 for Graviton families, x86_64 otherwise.
func (b Bastion) Architecture() string {
	if gravitonPattern.MatchString(b.InstanceType) {
		return "arm64"
	}
	return "x86_64"
}

// privateECR matches an image in an account's private ECR registry, which
// the ecr.api and ecr.dkr endpoints serve without the internet.
var privateECR = regexp.MustCompile(`^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/`)

func (c *Config) validateCompute() Problems {
	p := c.Compute.validate(c.Environment, c.Region)
	if c.Network.NATStrategy == NATNone && !privateECR.MatchString(c.Compute.Image) {
		p.addf("compute.image: %q is pulled over the internet, but network.natStrategy is \"none\"; copy the image to your private ECR and set compute.image to it, or choose natStrategy \"single\" or \"perAz\"", c.Compute.Image)
	}
	return p
}

func (c Compute) validate(env Environment, region string) Problems {
	var p Problems
	const k = "compute"
	if strings.TrimSpace(c.Image) == "" {
		p.addf("%s.image: is empty; use %q (the official image) or your registry's copy", k, DefaultCompute().Image)
	}
	switch {
	case !imageTagPattern.MatchString(c.ImageTag):
		p.addf("%s.imageTag: %q is not a Docker tag; pin a version such as %q", k, c.ImageTag, DefaultCompute().ImageTag)
	case env == Production && c.ImageTag == "latest":
		p.addf("%s.imageTag: \"latest\" is refused in a production stack: every task start could run a different WordPress; pin a version such as %q", k, DefaultCompute().ImageTag)
	}
	if mem, ok := fargateMemory[c.CPU]; !ok {
		p.addf("%s.cpu: Fargate offers 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units, got %d", k, c.CPU)
	} else if !slices.Contains(mem, c.Memory) {
		p.addf("%s.memory: Fargate does not run %d CPU units with %d MiB; with cpu %d choose memory from %s", k, c.CPU, c.Memory, c.CPU, ranges(mem))
	}
	switch c.CPUArchitecture {
	case "X86_64", "ARM64":
	default:
		p.addf("%s.cpuArchitecture: must be \"X86_64\" or \"ARM64\", got %q", k, c.CPUArchitecture)
	}
	if c.DesiredCount < 0 {
		p.addf("%s.desiredCount: must be 0 or more, got %d", k, c.DesiredCount)
	}
	if !strings.HasPrefix(c.HealthCheckPath, "/") || len(c.HealthCheckPath) > 1024 {
		p.addf("%s.healthCheckPath: must start with \"/\" and be at most 1024 characters (target group health check), got %q", k, c.HealthCheckPath)
	}
	if c.HealthCheckGracePeriodSeconds < 0 || c.HealthCheckGracePeriodSeconds > 2147483647 {
		p.addf("%s.healthCheckGracePeriodSeconds: ECS accepts 0..2147483647, got %d", k, c.HealthCheckGracePeriodSeconds)
	}
	// Load balancer cookie duration: 1 second to 7 days (target group
	// attribute stickiness.lb_cookie.duration_seconds).
	if c.Stickiness && (c.StickinessSeconds < 1 || c.StickinessSeconds > 604800) {
		p.addf("%s.stickinessSeconds: the load balancer accepts 1..604800 (7 days), got %d", k, c.StickinessSeconds)
	}
	if c.EnableExecuteCommand && env == Production {
		p.addf("%s.enableExecuteCommand: is on in a production stack: it opens a shell into running tasks; turn it off and reach the database through the bastion", k)
	}
	if !validRetention(c.LogRetentionDays) {
		p.addf("%s.logRetentionDays: CloudWatch Logs accepts %v, got %d", k, RetentionDays, c.LogRetentionDays)
	}
	p = append(p, c.HTTPS.validate(region)...)
	if c.WAF.Enabled {
		// Rate-based rule limits (AWS WAF Developer Guide, "Rate-based
		// rule statement"): 10 to 2,000,000,000 requests per window.
		if c.WAF.RateLimit < 10 || c.WAF.RateLimit > 2000000000 {
			p.addf("%s.waf.rateLimit: AWS WAF accepts 10..2000000000 requests per 5 minutes, got %d", k, c.WAF.RateLimit)
		}
		if !validRetention(c.WAF.LogRetentionDays) {
			p.addf("%s.waf.logRetentionDays: CloudWatch Logs accepts %v, got %d", k, RetentionDays, c.WAF.LogRetentionDays)
		}
	}
	if c.AccessLogs && c.AccessLogRetentionDays < 1 {
		p.addf("%s.accessLogRetentionDays: must be at least 1 day (an S3 lifecycle expiration), got %d", k, c.AccessLogRetentionDays)
	}
	if a := c.Autoscaling; a.Enabled {
		switch {
		case a.MinCapacity < 1:
			p.addf("%s.autoscaling.minCapacity: must be at least 1, got %d", k, a.MinCapacity)
		case a.MaxCapacity < a.MinCapacity:
			p.addf("%s.autoscaling.maxCapacity (%d) is below minCapacity (%d)", k, a.MaxCapacity, a.MinCapacity)
		case c.DesiredCount < a.MinCapacity || c.DesiredCount > a.MaxCapacity:
			p.addf("%s.desiredCount (%d) is outside autoscaling.minCapacity..maxCapacity (%d..%d); the first scaling action would move it at once", k, c.DesiredCount, a.MinCapacity, a.MaxCapacity)
		}
		if a.CPUTargetPercent < 1 || a.CPUTargetPercent > 100 {
			p.addf("%s.autoscaling.cpuTargetPercent: must be 1..100, got %d", k, a.CPUTargetPercent)
		}
		if a.RequestsPerTarget < 1 {
			p.addf("%s.autoscaling.requestsPerTarget: must be at least 1, got %d", k, a.RequestsPerTarget)
		}
	}
	switch c.FileSystem.ThroughputMode {
	case "elastic", "bursting":
	default:
		p.addf("%s.fileSystem.throughputMode: must be \"elastic\" or \"bursting\", got %q", k, c.FileSystem.ThroughputMode)
	}
	if !slices.Contains(iaTransitions, c.FileSystem.TransitionToIA) {
		p.addf("%s.fileSystem.transitionToIa: EFS accepts %s, got %q", k, strings.Join(iaTransitions, ", "), c.FileSystem.TransitionToIA)
	}
	p = append(p, validateAdminCIDRs(c.AdminCIDRs)...)
	p = append(p, c.WordPress.validate(env)...)
	if b := c.Bastion; b.Enabled {
		if !instanceTypePattern.MatchString(b.InstanceType) {
			p.addf("%s.bastion.instanceType: %q is not an EC2 instance type such as t4g.nano", k, b.InstanceType)
		}
		if !validRetention(b.SessionLogRetentionDays) {
			p.addf("%s.bastion.sessionLogRetentionDays: CloudWatch Logs accepts %v, got %d", k, RetentionDays, b.SessionLogRetentionDays)
		}
	}
	return p
}

// maxAdminCIDRs is what the install rules can carry: a listener rule
// holds at most five condition values (Elastic Load Balancing quotas for
// Application Load Balancers, "Condition values per rule"), two of which
// are the install paths, so each rule admits three ranges; ten rules is a
// tenth of the 100 rules a load balancer may have.
const maxAdminCIDRs = 30

func validateAdminCIDRs(cidrs []string) Problems {
	var p Problems
	const k = "compute.adminCidrs"
	if len(cidrs) > maxAdminCIDRs {
		p.addf("%s: %d ranges given, at most %d (three per load balancer rule, ten rules); merge neighbouring ranges", k, len(cidrs), maxAdminCIDRs)
	}
	seen := map[netip.Prefix]bool{}
	for i, s := range cidrs {
		prefix, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			p.addf("%s[%d]: %q is not an address range such as 203.0.113.7/32", k, i, s)
			continue
		case prefix != prefix.Masked():
			p.addf("%s[%d]: %q has host bits set; write it as %s", k, i, s, prefix.Masked())
		case prefix.Bits() == 0:
			p.addf("%s[%d]: %q is the whole internet: whoever submits the install form first owns the site; give your office's or VPN's egress range, or leave the list empty", k, i, s)
		}
		if seen[prefix.Masked()] {
			p.addf("%s[%d]: %q is listed twice", k, i, s)
		}
		seen[prefix.Masked()] = true
	}
	return p
}

// maxUploadMB bounds compute.wordpress.uploadMaxMb: a request must reach
// the task within the load balancer's idle timeout (60 s here), and the
// upload waits in the task's ephemeral storage (20 GiB on Fargate) before
// WordPress moves it to wp-content.
const maxUploadMB = 2048

func (w WordPressSettings) validate(env Environment) Problems {
	var p Problems
	const k = "compute.wordpress"
	if !w.DisallowFileEdit && env == Production {
		p.addf("%s.disallowFileEdit: is false in a production stack: the theme and plugin editor lets any administrator session write PHP that every task runs; set it to true and change code through the image or wp-content's deployment", k)
	}
	if w.UploadMaxMB < 1 || w.UploadMaxMB > maxUploadMB {
		p.addf("%s.uploadMaxMb: must be 1..%d MB, got %d", k, maxUploadMB, w.UploadMaxMB)
	}
	return p
}

func (h HTTPS) validate(region string) Problems {
	var p Problems
	const k = "compute.https"
	if !h.Enabled {
		return p
	}
	if h.CertificateARN == "" && h.DomainName == "" {
		p.addf("%s: is enabled without a certificate: set %s.certificateArn to an ACM certificate in %s, or %s.domainName and %s.hostedZoneId to request one validated in Route 53", k, k, region, k, k)
	}
	if h.CertificateARN != "" {
		if !acmARNPattern.MatchString(h.CertificateARN) {
			p.addf("%s.certificateArn: %q is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)", k, h.CertificateARN)
		} else if parts := strings.Split(h.CertificateARN, ":"); region != "" && parts[3] != region {
			// A load balancer can only use a certificate from its own
			// Region (ACM User Guide, "Integrated services").
			p.addf("%s.certificateArn: the certificate is in %s but the stack deploys to %s; a load balancer uses certificates of its own Region", k, parts[3], region)
		}
	}
	if h.DomainName != "" && !domainPattern.MatchString(h.DomainName) {
		p.addf("%s.domainName: %q is not a lowercase DNS name such as www.example.com", k, h.DomainName)
	}
	if h.CertificateARN == "" && h.DomainName != "" && h.HostedZoneID == "" {
		p.addf("%s.hostedZoneId: a new certificate for %s is validated with DNS records in its Route 53 hosted zone; set the zone's id (Z...) or give certificateArn", k, h.DomainName)
	}
	if h.HostedZoneID != "" && !zoneIDPattern.MatchString(h.HostedZoneID) {
		p.addf("%s.hostedZoneId: %q is not a Route 53 hosted zone id (Z followed by capitals and digits)", k, h.HostedZoneID)
	}
	if h.HostedZoneID != "" && h.DomainName == "" {
		p.addf("%s.hostedZoneId: is set without domainName; name the record to create", k)
	}
	if !slices.Contains(tlsPolicies, h.SSLPolicy) {
		p.addf("%s.sslPolicy: %q is not a load balancer policy limited to TLS 1.2 and later; use one of %s", k, h.SSLPolicy, strings.Join(tlsPolicies, ", "))
	}
	return p
}

// ranges prints a sorted list of sizes compactly: "1024-4096 in steps of
// 1024" when evenly spaced, else the list.
func ranges(v []int) string {
	if len(v) > 2 {
		step := v[1] - v[0]
		even := true
		for i := 2; i < len(v); i++ {
			even = even && v[i]-v[i-1] == step
		}
		if even {
			return fmt.Sprintf("%d-%d in steps of %d", v[0], v[len(v)-1], step)
		}
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
