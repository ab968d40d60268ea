package network

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/nequi-platform/wordpress-ecs/iam"
)

// interfaceServices are the endpoints ECS tasks and the bastion need to
// work without the NAT: Session Manager (ssm, ssmmessages, ec2messages),
// image pulls (ecr.api, ecr.dkr; layers come through the S3 gateway) and
// task logs.
var interfaceServices = []string{"ssm", "ssmmessages", "ec2messages", "ecr.api", "ecr.dkr", "logs"}

// interfaceEndpoints declares the private endpoints in the private subnets
// behind a security group that admits HTTPS from inside the VPC only. An
// endpoint goes only into the AZs whose zone the service is offered in:
// CreateVpcEndpoint fails for a subnet in any other AZ (VPC guide, "Access
// an AWS service using an interface VPC endpoint": "for each AZ ... the
// service must be available").
func interfaceEndpoints(ctx *pulumi.Context, name string, args NetworkArgs, vpc *ec2.Vpc, private []*ec2.Subnet, tags func(string) pulumi.StringMap, parent pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	sgName := name + "-endpoints"
	sg, err := ec2.NewSecurityGroup(ctx, sgName, &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("HTTPS from inside the VPC to the AWS service endpoints"),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Description: pulumi.String("HTTPS from the VPC"),
			Protocol:    pulumi.String("tcp"),
			FromPort:    pulumi.Int(443),
			ToPort:      pulumi.Int(443),
			CidrBlocks:  pulumi.StringArray{pulumi.String(args.CIDR)},
		}},
		// Endpoints answer; they never open connections.
		Egress: ec2.SecurityGroupEgressArray{},
		Tags:   tags(sgName),
	}, parent)
	if err != nil {
		return nil, err
	}
	for _, svc := range interfaceServices {
		found, err := ec2.LookupVpcEndpointService(ctx, &ec2.LookupVpcEndpointServiceArgs{
			Service:     pulumi.StringRef(svc),
			ServiceType: pulumi.StringRef("Interface"),
		})
		if err != nil {
			return nil, fmt.Errorf("look up the %s endpoint service in %s: %w", svc, args.Env.Region, err)
		}
		var subnets pulumi.StringArray
		var skipped []string
		for i, az := range args.AvailabilityZones {
			if slices.Contains(found.AvailabilityZones, az) {
				subnets = append(subnets, private[i].ID().ToStringOutput())
			} else {
				skipped = append(skipped, az)
			}
		}
		if len(skipped) > 0 {
			// Tasks in those AZs still reach the service through another
			// AZ's endpoint (private DNS answers with every endpoint ENI).
			_ = ctx.Log.Warn(fmt.Sprintf("%s is not offered in %v: its endpoint covers the other zones only", found.ServiceName, skipped), nil)
		}
		if len(subnets) == 0 {
			continue
		}
		en := fmt.Sprintf("%s-%s", name, svc)
		if _, err := ec2.NewVpcEndpoint(ctx, en, &ec2.VpcEndpointArgs{
			VpcId:             vpc.ID(),
			ServiceName:       pulumi.String(found.ServiceName),
			VpcEndpointType:   pulumi.String("Interface"),
			PrivateDnsEnabled: pulumi.Bool(true),
			SubnetIds:         subnets,
			SecurityGroupIds:  pulumi.StringArray{sg.ID().ToStringOutput()},
			Tags:              tags(en),
		}, parent); err != nil {
			return nil, err
		}
	}
	return sg, nil
}

// s3Endpoint declares the S3 gateway endpoint for the private subnets. It
// is not attached to the data tier, which needs no S3 (RDS and EFS reach S3
// for backups through their own service, not the VPC), so the data subnets
// keep no path out at all. Its policy admits this account's buckets and the
// AWS-owned buckets the private tier really reads: ECR image layers ("Amazon
// ECR interface VPC endpoints": the starport layer bucket) and the Amazon
// Linux 2023 package repositories the bastion updates from.
func s3Endpoint(ctx *pulumi.Context, name string, args NetworkArgs, vpc *ec2.Vpc, routeTables pulumi.StringArray, tags func(string) pulumi.StringMap, parent pulumi.ResourceOption) (*ec2.VpcEndpoint, error) {
	found, err := ec2.LookupVpcEndpointService(ctx, &ec2.LookupVpcEndpointServiceArgs{
		Service:     pulumi.StringRef("s3"),
		ServiceType: pulumi.StringRef("Gateway"),
	})
	if err != nil {
		return nil, fmt.Errorf("look up the s3 gateway endpoint service in %s: %w", args.Env.Region, err)
	}
	policy, err := s3EndpointPolicy(args)
	if err != nil {
		return nil, err
	}
	return ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.String(found.ServiceName),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   routeTables,
		Policy:          pulumi.String(policy),
		Tags:            tags(name + "-s3"),
	}, parent)
}

func s3EndpointPolicy(args NetworkArgs) (string, error) {
	e := args.Env
	s3 := func(resource string) string { return fmt.Sprintf("arn:%s:s3:::%s", e.Partition, resource) }
	return iam.Resource(
		iam.AllowStatement("ThisAccountsBuckets", []string{"s3:*"}, "*").By(iam.Anyone()).
			If("StringEquals", "aws:ResourceAccount", e.AccountID),
		iam.AllowStatement("ECRImageLayers", []string{"s3:GetObject"}, s3(fmt.Sprintf("prod-%s-starport-layer-bucket/*", e.Region))).By(iam.Anyone()),
		iam.AllowStatement("AmazonLinuxRepositories", []string{"s3:GetObject"}, s3(fmt.Sprintf("al2023-repos-%s-*/*", e.Region))).By(iam.Anyone()),
	).JSON()
}
