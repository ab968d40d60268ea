package compute

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LoadBalancerArgs configure the Application Load Balancer.
type LoadBalancerArgs struct {
	// HTTPS, when set, adds the TLS listener and turns the HTTP listener
	// into a permanent redirect to it.
	HTTPS *HTTPSArgs
	// AccessLogs, when set, writes access logs to a private bucket.
	AccessLogs         *AccessLogArgs
	DeletionProtection bool
	// HealthCheckPath is requested from every task; 200-399 is healthy.
	HealthCheckPath string
	// StickinessSeconds above 0 pins a visitor to a task with a load
	// balancer cookie for that long.
	StickinessSeconds int
	// AdminCIDRs are the only sources the install pages answer; every
	// other source gets 403 from the load balancer itself. Empty: none.
	AdminCIDRs []string
}

// InstallPaths are the path patterns of WordPress's first-run pages:
// install.php makes whoever submits it the administrator, and
// setup-config.php writes wp-config.php. Patterns, because Apache serves
// /wp-admin//install.php and /wp-admin/install.php/x as install.php too,
// and a listener rule compares the path as it comes (case-sensitive, "*"
// any characters). Two patterns with two wildcards each stay within a
// rule's five condition wildcards.
var InstallPaths = []string{"*/install.php*", "*/setup-config.php*"}

// adminRangesPerRule is how many source ranges one rule can add to the two
// install paths: five condition values per rule (Elastic Load Balancing
// quotas for Application Load Balancers, "Condition values per rule").
const adminRangesPerRule = 3

// Listener rule priorities: the admins' forward rules first (1..10), the
// 403 for everyone else after them; the default action (forward) is last.
const (
	installAdminPriority  = 1
	installClosedPriority = 100
)

// HTTPSArgs name the certificate: an existing one (CertificateARN), or a
// new DNS-validated one for DomainName in HostedZoneID. With DomainName and
// HostedZoneID the name also gets an alias record to the load balancer.
type HTTPSArgs struct {
	CertificateARN string
	DomainName     string
	HostedZoneID   string
	SSLPolicy      string
}

// AccessLogArgs keep the access logs for RetentionDays.
type AccessLogArgs struct {
	RetentionDays int
	// ServerAccessLogBucket, when set, receives the S3 server access logs
	// of the access-log bucket itself (Security Hub S3.9): the stack's
	// log bucket, whose policy admits S3's logging service.
	ServerAccessLogBucket pulumi.StringInput
}

// loadBalancer is the ALB component's outputs.
type loadBalancer struct {
	pulumi.ResourceState

	ARN                  pulumi.StringOutput
	ARNSuffix            pulumi.StringOutput
	DNSName              pulumi.StringOutput
	URL                  pulumi.StringOutput
	TargetGroupARN       pulumi.StringOutput
	TargetGroupARNSuffix pulumi.StringOutput
	// Listeners, and their install rules, must exist before the service
	// registers targets: the site must never answer before its install
	// pages are closed.
	Listeners []pulumi.Resource
}

func newLoadBalancer(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*loadBalancer, error) {
	l := &loadBalancer{}
	if err := ctx.RegisterComponentResource("wordpress:compute:LoadBalancer", name, l, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(l)
	a := args.LoadBalancer

	lbArgs := &lb.LoadBalancerArgs{
		Name:             pulumi.String(awsName(name+"-alb", 32)),
		LoadBalancerType: pulumi.String("application"),
		Internal:         pulumi.Bool(false),
		Subnets:          args.PublicSubnetIDs,
		SecurityGroups:   pulumi.StringArray{args.SecurityGroups.LoadBalancer},
		// Security Hub ELB.4: headers with invalid characters never reach
		// WordPress.
		DropInvalidHeaderFields: pulumi.Bool(true),
		// Security Hub ELB.12: "defensive" blocks requests that risk HTTP
		// desync and still serves clients with minor RFC slips;
		// "strictest" would refuse those too.
		DesyncMitigationMode:     pulumi.String("defensive"),
		EnableDeletionProtection: pulumi.Bool(a.DeletionProtection),
		EnableHttp2:              pulumi.Bool(true),
		IdleTimeout:              pulumi.Int(60),
		Tags:                     tagged(args.Tags, name+"-alb"),
	}
	var lbOpts []pulumi.ResourceOption
	if a.AccessLogs != nil {
		logs, err := newAccessLogBucket(ctx, name+"-alb-logs", args, parent)
		if err != nil {
			return nil, err
		}
		lbArgs.AccessLogs = &lb.LoadBalancerAccessLogsArgs{
			Bucket:  logs.bucket,
			Prefix:  pulumi.String(accessLogPrefix),
			Enabled: pulumi.Bool(true),
		}
		// ELB checks that it may write to the bucket when logging is
		// turned on, so the bucket policy must exist first.
		lbOpts = append(lbOpts, pulumi.DependsOn([]pulumi.Resource{logs.policy}))
	}
	alb, err := lb.NewLoadBalancer(ctx, name, lbArgs, append(lbOpts, parent)...)
	if err != nil {
		return nil, err
	}

	stickiness := &lb.TargetGroupStickinessArgs{Type: pulumi.String("lb_cookie"), Enabled: pulumi.Bool(false)}
	if a.StickinessSeconds > 0 {
		stickiness = &lb.TargetGroupStickinessArgs{
			Type:           pulumi.String("lb_cookie"),
			Enabled:        pulumi.Bool(true),
			CookieDuration: pulumi.Int(a.StickinessSeconds),
		}
	}
	tg, err := lb.NewTargetGroup(ctx, name+"-wordpress", &lb.TargetGroupArgs{
		// The port leads the name: a new port replaces the target group,
		// and Pulumi creates the new one before deleting the old, which
		// needs a name of its own.
		Name: pulumi.String(awsName(fmt.Sprintf("wp%d-%s", args.AppPort, name), 32)),
		// Fargate tasks register by IP (awsvpc network mode).
		TargetType: pulumi.String("ip"),
		Port:       pulumi.Int(args.AppPort),
		Protocol:   pulumi.String("HTTP"),
		VpcId:      args.VpcID,
		// Deployments replace tasks; 30 s drains a WordPress request
		// without holding a rollout for the default 5 minutes.
		DeregistrationDelay: pulumi.Int(30),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:  pulumi.Bool(true),
			Path:     pulumi.String(a.HealthCheckPath),
			Protocol: pulumi.String("HTTP"),
			// WordPress answers 302 until it is installed and for
			// canonical redirects afterwards: a redirect is alive.
			Matcher:            pulumi.String("200-399"),
			Interval:           pulumi.Int(30),
			Timeout:            pulumi.Int(10),
			HealthyThreshold:   pulumi.Int(2),
			UnhealthyThreshold: pulumi.Int(5),
		},
		Stickiness: stickiness,
		Tags:       tagged(args.Tags, name+"-wordpress"),
	}, parent)
	if err != nil {
		return nil, err
	}

	forward := lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{
		Type:           pulumi.String("forward"),
		TargetGroupArn: tg.Arn,
	}}
	httpAction := forward
	scheme, host := "http", alb.DnsName
	// serving is the listener that forwards to WordPress: HTTPS when there
	// is one (HTTP then only redirects to it), else HTTP.
	var serving *lb.Listener
	if h := a.HTTPS; h != nil {
		certARN, err := certificate(ctx, name, args, parent)
		if err != nil {
			return nil, err
		}
		https, err := lb.NewListener(ctx, name+"-https", &lb.ListenerArgs{
			LoadBalancerArn: alb.Arn,
			Port:            pulumi.Int(443),
			Protocol:        pulumi.String("HTTPS"),
			SslPolicy:       pulumi.String(h.SSLPolicy),
			CertificateArn:  certARN,
			DefaultActions:  forward,
			Tags:            tagged(args.Tags, name+"-https"),
		}, parent)
		if err != nil {
			return nil, err
		}
		l.Listeners = append(l.Listeners, https)
		serving = https
		// Security Hub ELB.1: plain HTTP only ever answers with a
		// permanent redirect to the same URL over HTTPS.
		httpAction = lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: &lb.ListenerDefaultActionRedirectArgs{
				Protocol:   pulumi.String("HTTPS"),
				Port:       pulumi.String("443"),
				StatusCode: pulumi.String("HTTP_301"),
			},
		}}
		scheme = "https"
		if h.DomainName != "" {
			host = pulumi.String(h.DomainName).ToStringOutput()
		}
		if h.DomainName != "" && h.HostedZoneID != "" {
			if _, err := route53.NewRecord(ctx, name+"-site", &route53.RecordArgs{
				ZoneId: pulumi.String(h.HostedZoneID),
				Name:   pulumi.String(h.DomainName),
				Type:   pulumi.String("A"),
				Aliases: route53.RecordAliasArray{&route53.RecordAliasArgs{
					Name:                 alb.DnsName,
					ZoneId:               alb.ZoneId,
					EvaluateTargetHealth: pulumi.Bool(true),
				}},
			}, parent); err != nil {
				return nil, err
			}
		}
	}
	http, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions:  httpAction,
		Tags:            tagged(args.Tags, name+"-http"),
	}, parent)
	if err != nil {
		return nil, err
	}
	l.Listeners = append(l.Listeners, http)

	if serving == nil {
		serving = http
	}
	rules, err := installRules(ctx, name, a.AdminCIDRs, serving, tg, parent)
	if err != nil {
		return nil, err
	}
	l.Listeners = append(l.Listeners, rules...)

	l.ARN, l.ARNSuffix, l.DNSName = alb.Arn, alb.ArnSuffix, alb.DnsName
	l.TargetGroupARN, l.TargetGroupARNSuffix = tg.Arn, tg.ArnSuffix
	l.URL = pulumi.Sprintf("%s://%s", scheme, host)
	return l, ctx.RegisterResourceOutputs(l, pulumi.Map{
		"arn": l.ARN, "arnSuffix": l.ARNSuffix, "dnsName": l.DNSName, "url": l.URL,
		"targetGroupArn": l.TargetGroupARN, "targetGroupArnSuffix": l.TargetGroupARNSuffix,
	})
}

// installRules keep the install pages from the internet: a rule per three
// admin ranges forwards those pages to WordPress, and a rule after them
// answers 403 to every other source. Before the first install WordPress
// redirects every page to install.php, and whoever submits it first
// becomes the administrator.
func installRules(ctx *pulumi.Context, name string, admins []string, listener *lb.Listener, tg *lb.TargetGroup, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
	paths := &lb.ListenerRuleConditionArgs{PathPattern: &lb.ListenerRuleConditionPathPatternArgs{Values: pulumi.ToStringArray(InstallPaths)}}
	var out []pulumi.Resource
	for i := 0; i*adminRangesPerRule < len(admins); i++ {
		chunk := admins[i*adminRangesPerRule : min(len(admins), (i+1)*adminRangesPerRule)]
		r, err := lb.NewListenerRule(ctx, fmt.Sprintf("%s-install-admins-%d", name, i+1), &lb.ListenerRuleArgs{
			ListenerArn: listener.Arn,
			Priority:    pulumi.Int(installAdminPriority + i),
			Conditions: lb.ListenerRuleConditionArray{paths, &lb.ListenerRuleConditionArgs{
				SourceIp: &lb.ListenerRuleConditionSourceIpArgs{Values: pulumi.ToStringArray(chunk)},
			}},
			Actions: lb.ListenerRuleActionArray{&lb.ListenerRuleActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn}},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("install rule for admins %d: %w", i+1, err)
		}
		out = append(out, r)
	}
	closed, err := lb.NewListenerRule(ctx, name+"-install-closed", &lb.ListenerRuleArgs{
		ListenerArn: listener.Arn,
		Priority:    pulumi.Int(installClosedPriority),
		Conditions:  lb.ListenerRuleConditionArray{paths},
		Actions: lb.ListenerRuleActionArray{&lb.ListenerRuleActionArgs{
			Type: pulumi.String("fixed-response"),
			FixedResponse: &lb.ListenerRuleActionFixedResponseArgs{
				StatusCode:  pulumi.String("403"),
				ContentType: pulumi.String("text/plain"),
				MessageBody: pulumi.String("The WordPress install pages answer only from compute.adminCidrs.\n"),
			},
		}},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("install rule: %w", err)
	}
	return append(out, closed), nil
}

// certificate returns the ARN of the listener's certificate: the one
// given, or a new ACM certificate for the domain, validated by DNS records
// in the hosted zone. The ARN it returns comes from the validation, so the
// listener waits until ACM has issued the certificate.
func certificate(ctx *pulumi.Context, name string, args Args, parent pulumi.ResourceOption) (pulumi.StringInput, error) {
	h := args.LoadBalancer.HTTPS
	if h.CertificateARN != "" {
		return pulumi.String(h.CertificateARN), nil
	}
	cert, err := acm.NewCertificate(ctx, name+"-site", &acm.CertificateArgs{
		DomainName:       pulumi.String(h.DomainName),
		ValidationMethod: pulumi.String("DNS"),
		Tags:             tagged(args.Tags, name+"-site"),
	}, parent)
	if err != nil {
		return nil, err
	}
	// One domain, so ACM asks for one CNAME (ACM User Guide, "DNS
	// validation").
	dvo := cert.DomainValidationOptions.Index(pulumi.Int(0))
	record, err := route53.NewRecord(ctx, name+"-site-validation", &route53.RecordArgs{
		ZoneId:  pulumi.String(h.HostedZoneID),
		Name:    dvo.ResourceRecordName().Elem(),
		Type:    dvo.ResourceRecordType().Elem(),
		Records: pulumi.StringArray{dvo.ResourceRecordValue().Elem()},
		Ttl:     pulumi.Int(300),
		// A re-created certificate for the same name asks for the same
		// record.
		AllowOverwrite: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}
	valid, err := acm.NewCertificateValidation(ctx, name+"-site", &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: pulumi.StringArray{record.Fqdn},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("certificate validation: %w", err)
	}
	return valid.CertificateArn, nil
}
