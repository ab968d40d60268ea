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
}

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
	// Listeners must exist before the service registers targets.
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

	l.ARN, l.ARNSuffix, l.DNSName = alb.Arn, alb.ArnSuffix, alb.DnsName
	l.TargetGroupARN, l.TargetGroupARNSuffix = tg.Arn, tg.ArnSuffix
	l.URL = pulumi.Sprintf("%s://%s", scheme, host)
	return l, ctx.RegisterResourceOutputs(l, pulumi.Map{
		"arn": l.ARN, "arnSuffix": l.ARNSuffix, "dnsName": l.DNSName, "url": l.URL,
		"targetGroupArn": l.TargetGroupARN, "targetGroupArnSuffix": l.TargetGroupARNSuffix,
	})
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
